"""predict and big-file compute against polars and duckdb, whole process, same CSV.

    python benchmarks/bench_io.py                       # predict 1M×20, compute 20M rows
    python benchmarks/bench_io.py --compute-rows 50000000 --reps 5
    python benchmarks/bench_io.py --peers /work/perf-venv/bin/python --markdown

Every command is a child process started through ``/usr/bin/time -f %M``,
which execs it, so each peak RSS is that child's own (not the parent's at
fork time).  The commands of one case run interleaved (A B C, A B C, ...)
and each figure is the median of ``--reps`` runs; the ratios to the peers
are what to quote: the machine these run on is shared, and absolute seconds
drift with its load while same-run ratios hold.

The peers (polars, duckdb, numpy) run from ``--peers``, a Python with them
installed (a scratch venv: they are never dependencies of losscli).  The
generated data goes to ``--data`` and is deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEATURES = 20
SEED = 20261201

PEER_PREDICT = """
import json, sys
import numpy as np, polars as pl
model = json.load(open(sys.argv[1]))
feats = model["features"]
w = np.asarray(model["coef"], dtype=np.float64)
df = pl.read_csv(sys.argv[2])
x = df.select(feats).to_numpy()
pred = x @ w + model["intercept"]
out = pl.DataFrame({"y_true": df[model["target"]], "y_pred": pred})
out.write_csv(sys.stdout.buffer)
"""

PEER_COMPUTE = {
    ("polars", "mse"): "import sys, polars as pl; print(pl.read_csv(sys.argv[1])"
    ".select(((pl.col('y_pred') - pl.col('y_true')) ** 2).mean()).item())",
    ("polars", "mae"): "import sys, polars as pl; print(pl.read_csv(sys.argv[1])"
    ".select((pl.col('y_pred') - pl.col('y_true')).abs().mean()).item())",
    ("duckdb", "mse"): 'import sys, duckdb; print(duckdb.sql("SELECT avg((y_pred - y_true)^2) '
    'FROM read_csv(\'" + sys.argv[1] + "\')").fetchall()[0][0])',
    ("duckdb", "mae"): 'import sys, duckdb; print(duckdb.sql("SELECT avg(abs(y_pred - y_true)) '
    'FROM read_csv(\'" + sys.argv[1] + "\')").fetchall()[0][0])',
}


BEFORE: str | None = None  # --before DIR: another checkout, run interleaved as "before"


def losscli_argv(*args: str, checkout: str | None = None) -> list[str]:
    if checkout:
        return ["env", f"PYTHONPATH={checkout}", sys.executable, "-m", "losscli", *args]
    return [sys.executable, "-m", "losscli", *args]


def with_before(cases: dict[str, list[str]], *args: str) -> dict[str, list[str]]:
    """The cases plus, with --before, the same losscli command from that checkout."""
    if BEFORE:
        cases["before"] = losscli_argv(*args, checkout=BEFORE)
    return cases


def run_once(cmd: list[str], stdout: Path | None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run; the time launcher execs the command."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        sink = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                ["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd],
                stdout=sink,
                stderr=subprocess.PIPE,
                check=False,
                cwd=tempfile.gettempdir(),  # not a checkout: `python -m` puts the cwd first
            )
        finally:
            if stdout:
                sink.close()  # type: ignore[union-attr]
        elapsed = time.perf_counter() - start
        if proc.returncode:
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
        return elapsed, int(rss.read().split()[-1]) / 1024


def measure(cases: dict[str, list[str]], reps: int, stdout: Path | None) -> dict[str, dict]:
    """Interleaved runs; medians of time and of peak RSS per command."""
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
    for _ in range(reps):
        for key, cmd in cases.items():
            runs[key].append(run_once(cmd, stdout))
    return {
        k: {
            "time": statistics.median(t for t, _ in v),
            "rss": statistics.median(m for _, m in v),
            "times": [round(t, 3) for t, _ in v],
        }
        for k, v in runs.items()
    }


def generate_predict(path: Path, rows: int) -> None:
    import numpy as np

    rng = np.random.default_rng(SEED)
    w = rng.normal(size=FEATURES)
    names = [f"x{j}" for j in range(FEATURES)]
    with open(path, "w") as out:
        out.write(",".join([*names, "y"]) + "\n")
        for first in range(0, rows, 200_000):
            m = min(200_000, rows - first)
            x = rng.normal(size=(m, FEATURES))
            y = x @ w + rng.normal(size=m)
            np.savetxt(out, np.column_stack([x, y]), fmt="%.6f", delimiter=",")


def generate_compute(path: Path, rows: int) -> None:
    import numpy as np

    rng = np.random.default_rng(SEED + 1)
    with open(path, "w") as out:
        out.write("y_true,y_pred\n")
        step = 1 << 20
        for first in range(0, rows, step):
            m = min(step, rows - first)
            y = rng.normal(size=m)
            block = np.column_stack([y, y + rng.normal(scale=0.5, size=m)])
            np.savetxt(out, block, fmt="%.6f", delimiter=",")


def same_predictions(ours: Path, peer: Path) -> float:
    """The largest relative difference between our y_pred and the peer's (same rows)."""
    import numpy as np
    import pandas as pd

    a, b = pd.read_csv(ours), pd.read_csv(peer)
    assert list(a.columns) == ["y_true", "y_pred"] and len(a) == len(b), (a.columns, len(a))
    assert np.array_equal(a.y_true.to_numpy(), b.y_true.to_numpy())
    return float(np.max(np.abs(a.y_pred - b.y_pred) / np.maximum(1.0, np.abs(b.y_pred))))


def bench_predict(data: Path, rows: int, reps: int, peers: str) -> list[dict]:
    path = data / f"predict_{rows}.csv"
    train = data / "predict_train.csv"
    model = data / "model.json"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr, flush=True)
        generate_predict(path, rows)
    with open(path) as src, open(train, "w") as dst:
        for i, line in enumerate(src):
            if i > 100_000:
                break
            dst.write(line)
    subprocess.run(
        losscli_argv("train", str(train), "--target", "y", "--save", str(model), "-q"),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    ours_out, peer_out = data / "ours.csv", data / "peer.csv"
    args = ("predict", "-m", str(model), str(path))
    cases = {
        "losscli": losscli_argv(*args),
        "polars": [peers, "-c", PEER_PREDICT, str(model), str(path)],
    }
    # checked once (outside the timing): the same rows and numbers as the peer's
    run_once(cases["losscli"], ours_out)
    run_once(cases["polars"], peer_out)
    diff = same_predictions(ours_out, peer_out)
    res = measure(with_before(cases, *args), reps, data / "timed_out.csv")
    return [
        {
            "case": f"predict {rows // 1_000_000}M×{FEATURES} to a file",
            "peer": "polars read_csv + X·w + write_csv",
            "ours": res["losscli"],
            "theirs": res["polars"],
            "before": res.get("before"),
            "note": f"max rel. diff of y_pred vs peer {diff:.1e}",
        }
    ]


def bench_compute(data: Path, rows: int, reps: int, peers: str) -> list[dict]:
    path = data / f"compute_{rows}.csv"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr, flush=True)
        generate_compute(path, rows)
    out = []
    for loss in ("mse", "mae"):
        args = ("compute", "-l", loss, str(path), "--format", "json")
        cases = {
            "losscli": losscli_argv(*args),
            "polars": [peers, "-c", PEER_COMPUTE[("polars", loss)], str(path)],
            "duckdb": [peers, "-c", PEER_COMPUTE[("duckdb", loss)], str(path)],
        }
        res = measure(with_before(cases, *args), reps, None)
        for peer in ("polars", "duckdb"):
            out.append(
                {
                    "case": f"compute -l {loss}, {rows // 1_000_000}M rows",
                    "peer": {"polars": "polars one-liner", "duckdb": "duckdb SQL"}[peer],
                    "ours": res["losscli"],
                    "theirs": res[peer],
                    "before": res.get("before"),
                    "note": "",
                }
            )
    return out


def markdown(rows: list[dict]) -> str:
    lines = [
        "| case | peer | losscli / peer, time | before / peer | losscli MB | peer MB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        o, t, b = r["ours"], r["theirs"], r.get("before")
        was = f"{b['time'] / t['time']:.2f}×" if b else "–"
        lines.append(
            f"| {r['case']} | {r['peer']} | **{o['time'] / t['time']:.2f}×** | {was} | "
            f"{o['rss']:.0f} | {t['rss']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--predict-rows", type=int, default=1_000_000)
    ap.add_argument("--compute-rows", type=int, default=20_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", choices=("predict", "compute"))
    ap.add_argument("--peers", default=os.environ.get("PEER_PYTHON", "/work/perf-venv/bin/python"))
    ap.add_argument("--data", type=Path, default=HERE / "data" / "io")
    ap.add_argument("--keep", action="store_true", help="keep the generated CSVs")
    ap.add_argument("--json", type=Path, help="write the results here too")
    ap.add_argument("--markdown", action="store_true", help="print a README table")
    ap.add_argument("--before", help="also run losscli from this checkout, interleaved")
    args = ap.parse_args()
    global BEFORE
    BEFORE = args.before
    args.data.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    try:
        if args.only in (None, "predict"):
            rows += bench_predict(args.data, args.predict_rows, args.reps, args.peers)
        if args.only in (None, "compute"):
            rows += bench_compute(args.data, args.compute_rows, args.reps, args.peers)
    finally:
        if not args.keep:
            shutil.rmtree(args.data, ignore_errors=True)
    for r in rows:
        o, t = r["ours"], r["theirs"]
        print(
            f"{r['case']:<34} vs {r['peer']:<36} time {o['time']:7.2f} s / {t['time']:7.2f} s "
            f"= {o['time'] / t['time']:.2f}×   peak {o['rss']:6.0f} MB / {t['rss']:6.0f} MB"
            + (f"   ({r['note']})" if r["note"] else "")
        )
        if b := r.get("before"):
            print(
                f"{'':<34}    before: {b['time']:7.2f} s = {b['time'] / t['time']:.2f}× the peer,"
                f" peak {b['rss']:6.0f} MB"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if args.markdown:
        print("\n" + markdown(rows))
    print(
        f"\n(whole processes, medians of {args.reps} interleaved runs on a shared, loaded machine)"
    )


if __name__ == "__main__":
    main()
