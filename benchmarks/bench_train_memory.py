"""Peak memory of ``losscli train``: one float64 matrix, not a DataFrame and copies.

    python benchmarks/bench_train_memory.py             # 1M × 20 (CSV and Parquet)
    python benchmarks/bench_train_memory.py --big       # adds 5M × 20 (~2 GB of CSV)
    python benchmarks/bench_train_memory.py --baseline /path/to/old/checkout

Each figure is the peak RSS of a fresh child process (``os.wait4``'s
``ru_maxrss`` of exactly that child: the launcher execs nothing else), median
of ``--reps`` runs.  The goal (issue 8): peak ≤ 2 × the matrix + 150 MB, where
the matrix is n × 20 × 8 bytes (160 MB for 1M rows).  With ``--baseline``, the
same command runs against another checkout's ``losscli`` (put first on
PYTHONPATH), interleaved with this one, for a before/after in one run.
The training itself is cut to a few epochs: reading and the matrix are
what is measured, not the optimizer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
FEATURES = 20


def generate(rows: int, fmt: str) -> Path:
    """Seeded n × 20 features and a linear target, as CSV or Parquet (cached)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"train_{rows}x{FEATURES}.{fmt}"
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    w = rng.normal(size=FEATURES)
    part = DATA / (path.name + ".part")
    writer = None
    for start in range(0, rows, 500_000):
        m = min(500_000, rows - start)
        x = rng.normal(size=(m, FEATURES))
        y = x @ w + rng.normal(size=m)
        columns = {f"x{j + 1}": x[:, j] for j in range(FEATURES)} | {"y": y}
        table = pa.table(columns)
        if writer is None:
            writer = (
                pacsv.CSVWriter(str(part), table.schema)
                if fmt == "csv"
                else pq.ParquetWriter(str(part), table.schema)
            )
        writer.write_table(table)
    assert writer is not None
    writer.close()
    part.rename(path)
    return path


def peak_mb(argv: list[str], root: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one fresh child running ``argv`` on ``root``'s losscli."""
    env = {**os.environ, "PYTHONPATH": root}
    start = time.perf_counter()
    proc = subprocess.Popen(  # cwd = root: ``python -c`` imports from there first
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=root
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {err.decode()[-400:]}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024.0


def command(path: Path) -> list[str]:
    code = "import sys; from losscli.cli import main; sys.argv[0] = 'losscli'; main()"
    return [sys.executable, "-c", code, "train", "-q", "-f", "json", "--epochs", "3", str(path)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="add 5M rows")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    sizes = [1_000_000, *([5_000_000] if args.big else [])]
    variants = {"this": str(ROOT)}
    if args.baseline:
        variants["baseline"] = str(args.baseline.resolve())
    print(f"{'input':<28} {'code':<9} {'peak MB':>9} {'seconds':>8} {'matrix MB':>9} "
          f"{'goal MB':>8}  verdict")  # fmt: skip
    failed = False
    for rows in sizes:
        for fmt in ("csv", "parquet"):
            path = generate(rows, fmt)
            matrix = rows * FEATURES * 8 / 2**20
            goal = 2 * matrix + 150
            samples: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
            for _ in range(args.reps):  # interleaved: the same machine load for both
                for name, root in variants.items():
                    if name == "baseline" and fmt != "csv":
                        continue  # the old code reads CSV only
                    samples[name].append(peak_mb(command(path), root))
            for name, runs in samples.items():
                if not runs:
                    continue
                rss = statistics.median(r[1] for r in runs)
                secs = statistics.median(r[0] for r in runs)
                verdict = ("ok" if rss <= goal else "OVER") if name == "this" else ""
                failed |= verdict == "OVER"
                print(f"{path.name:<28} {name:<9} {rss:>9.0f} {secs:>8.1f} {matrix:>9.0f} "
                      f"{goal:>8.0f}  {verdict} ({rss / matrix:.2f}× the matrix)")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
