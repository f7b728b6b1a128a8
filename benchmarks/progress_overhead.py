"""What the progress hook costs: compute with a progress callback against none.

    python benchmarks/progress_overhead.py [ROWS]

The callback counts the raw bytes read through the reader's tee, which adds
one copy of each block; this prints the ratio of the two medians (runs
interleaved, 5 each) on a generated CSV of ROWS rows (default 2,000,000).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from losscli.compute import ComputeRequest, compute_session
from losscli.losses import make_loss


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    rng = np.random.default_rng(0)
    y = rng.normal(size=rows)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("y_true,y_pred\n")
        np.savetxt(f, np.c_[y, y + rng.normal(size=rows) * 0.1], fmt="%.9g", delimiter=",")
    times: dict[str, list[float]] = {"none": [], "callback": []}
    with compute_session(ComputeRequest(source=f.name, losses=(make_loss("mse"),))):
        pass  # warm-up: imports, the parser, the page cache
    for _ in range(5):
        for name, hook in (("none", None), ("callback", lambda p: None)):
            request = ComputeRequest(source=f.name, losses=(make_loss("mse"),), progress=hook)
            started = time.perf_counter()
            with compute_session(request):
                pass
            times[name].append(time.perf_counter() - started)
    base, bar = statistics.median(times["none"]), statistics.median(times["callback"])
    print(
        f"{rows:,} rows: no progress {base:.3f} s, progress callback {bar:.3f} s, "
        f"ratio {bar / base:.3f}"
    )
    Path(f.name).unlink()


if __name__ == "__main__":
    main()
