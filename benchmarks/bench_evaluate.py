"""Cost of the evaluate options as ratios to plain ``compute``, and their peak memory.

Run from the repository root::

    python benchmarks/bench_evaluate.py              # 10M rows, 3 interleaved repeats
    python benchmarks/bench_evaluate.py --rows 1000000 --reps 5

One synthetic, seeded CSV (y_true, y_pred, m2, g) is generated once under
``benchmarks/data/``.  Each case runs as its own process, started by a tiny
launcher that ``exec``s the console script, so the wall time is the whole
command's and the peak RSS (``wait4``'s ``ru_maxrss``) is that process's
alone.  Cases are interleaved (A B C, A B C, …) after one warm-up round and
each figure is the median of the repeats, printed beside plain ``compute``
of the same run as a ratio — absolute seconds on a shared machine mean
little, ratios taken seconds apart do.

Targets: ``--bootstrap 1000`` within 10× plain compute (the issue's bar,
stated there for 1M rows); the others are reported, not judged.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
SEED = 20261201
GROUPS = 10
LAUNCHER = "import os, sys; os.execv(sys.argv[1], sys.argv[1:])"


def data_path(rows: int) -> Path:
    return DATA / f"evaluate_{rows}_s{SEED}.csv"


def generate(rows: int) -> Path:
    """y_true ~ N(0, 1), two models' predictions, a group column; 1M rows at a time.

    Runs in a child process (``--generate``): a parent holding pandas would
    lend its resident pages to every child it forks, and ``ru_maxrss`` would
    report the parent's size instead of the command's.
    """
    path = data_path(rows)
    if path.exists():
        return path
    import numpy as np
    import pandas as pd

    DATA.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.name} ...", file=sys.stderr, flush=True)
    rng = np.random.default_rng(SEED)
    tmp = path.with_suffix(".part")
    step = 1 << 20
    with open(tmp, "w", newline="") as out:
        for first in range(0, rows, step):
            m = min(step, rows - first)
            y = rng.normal(size=m)
            frame = pd.DataFrame(
                {
                    "y_true": y,
                    "y_pred": y + rng.normal(scale=0.5, size=m),
                    "m2": y + rng.normal(scale=0.49, size=m),
                }
            )
            frame["g"] = rng.integers(0, GROUPS, size=m)
            frame.to_csv(out, index=False, header=first == 0, float_format="%.6f")
    tmp.replace(path)
    return path


def losscli(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("losscli")
    return [sys.executable, "-c", LAUNCHER, str(script), *args]


def run_once(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of the exec'd child, from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {err.decode()[-400:]}")
    return elapsed, usage.ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.rows)
        return 0
    if not data_path(args.rows).exists():
        subprocess.run(
            [sys.executable, __file__, "--generate", "--rows", str(args.rows)], check=True
        )
    path = str(data_path(args.rows))
    cases = {
        "compute -l mse": losscli("compute", "-l", "mse", path),
        "compute -l mse --baseline": losscli("compute", "-l", "mse", "--baseline", path),
        "compute -l mae": losscli("compute", "-l", "mae", path),
        "compute -l mae --baseline": losscli("compute", "-l", "mae", "--baseline", path),
        "compute -l huber": losscli("compute", "-l", "huber", path),
        "compute -l huber --baseline": losscli("compute", "-l", "huber", "--baseline", path),
        "compute -l mse --bootstrap 1000": losscli(
            "compute", "-l", "mse", "--bootstrap", "1000", path
        ),
        "compute -l mse --by g": losscli("compute", "-l", "mse", "--by", "g", path),
        "compare -l mse --pred y_pred,m2": losscli(
            "compare", "-l", "mse", "--pred", "y_pred,m2", path
        ),
    }
    plain = {
        "compute -l mse --baseline": "compute -l mse",
        "compute -l mae --baseline": "compute -l mae",
        "compute -l huber --baseline": "compute -l huber",
    }
    seconds: dict[str, list[float]] = {k: [] for k in cases}
    rss: dict[str, list[float]] = {k: [] for k in cases}
    for round_no in range(args.reps + 1):  # round 0 warms the page cache
        for label, cmd in cases.items():
            t, mb = run_once(cmd)
            if round_no:
                seconds[label].append(t)
                rss[label].append(mb)
        print(f"round {round_no} done", file=sys.stderr, flush=True)
    print(f"{args.rows:,} rows, median of {args.reps} interleaved runs")
    print(f"{'case':<36} {'median s':>9} {'ratio':>7} {'vs':<16} {'peak MB':>8}")
    verdict = True
    for label in cases:
        base = plain.get(label, "compute -l mse")
        t = statistics.median(seconds[label])
        ratio = t / statistics.median(seconds[base])
        mb = statistics.median(rss[label])
        note = ""
        if label == "compute -l mse --bootstrap 1000":
            ok = ratio <= 10.0
            verdict &= ok
            note = "  (target ≤ 10×: " + ("ok" if ok else "MISSED") + ")"
        print(f"{label:<36} {t:>9.2f} {ratio:>6.2f}× {base:<16} {mb:>8.0f}{note}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
