"""One big CSV on --engine dask: one task per file (before) vs partitions within it (after).

Before this change a file was one partition, read by one worker; now a CSV
is cut into byte ranges of ``--partition-size`` (``0`` restores one per
file, which is what "before" runs).  Commands run interleaved against one
LocalCluster (started here, so its start-up is not timed), medians of
``--reps``; ratios are to the local engine in the same round.

    python benchmarks/bench_partitions.py [--rows 4000000] [--reps 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _write(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    with path.open("w") as f:
        f.write("y_true,y_pred,w\n")
        for start in range(0, rows, 500_000):
            k = min(500_000, rows - start)
            block = np.column_stack(
                [rng.integers(0, 2, k), rng.uniform(0.01, 0.99, k), rng.uniform(0.5, 2, k)]
            )
            np.savetxt(f, block, delimiter=",", fmt=["%d", "%.17g", "%.17g"])


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import distributed

    from losscli.engine.dask import LOOPBACK_HTTP

    exe = [sys.executable, "-m", "losscli"]
    with tempfile.TemporaryDirectory(prefix="bench-parts-") as tmp:
        data = Path(tmp) / "big.csv"
        _write(data, args.rows)
        size_mb = data.stat().st_size / 1e6
        cluster = distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=LOOPBACK_HTTP,
            silence_logs=50,
        )
        dask = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
        base = ["compute", "-l", "bce,mse", "--weight", "w", str(data)]
        rows_dir = str(Path(tmp) / "rows") + "/"
        cases = {
            "local engine": [*base],
            "dask, one partition per file (before)": [*base, *dask, "--partition-size", "0"],
            "dask, 64MB partitions (after)": [*base, *dask],
            "local --grad-out FILE": [*base, "--grad-out", str(Path(tmp) / "g.csv")],
            "dask --grad-out DIR/ (after)": [*base, *dask, "--grad-out", rows_dir],
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        try:
            for _ in range(args.reps):
                for name, cmd in cases.items():
                    times[name].append(_time([*exe, *cmd]))
        finally:
            cluster.close()
    print(f"{args.rows:,} rows, {size_mb:.0f} MB of CSV, {args.workers} workers, "
          f"medians of {args.reps}")  # fmt: skip
    first = statistics.median(times["local engine"])
    for name, values in times.items():
        t = statistics.median(values)
        print(f"{name:42s} {t:7.2f} s  {t / first:5.2f}x the local engine")


if __name__ == "__main__":
    main()
