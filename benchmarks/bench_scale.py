"""Scale benchmarks: out-of-core training and the Dask engine, against the local in-memory run.

    python benchmarks/bench_scale.py outofcore [--rows 5000000] [--reps 3]
    python benchmarks/bench_scale.py dask [--rows 10000000] [--workers 2] [--steps 10]

``outofcore`` (whole processes, interleaved, medians): ``losscli train`` on
an N × 20 CSV in memory and with ``--memory-limit 200MB``: wall time and
peak RSS; then, in this process, the time of one full-batch pass (value and
gradient) over the in-memory matrix and over the on-disk cache while it
sits in the page cache — the "time per epoch" of every full-batch solver.

``dask``: a LocalCluster of ``--workers`` single-threaded processes on
127.0.0.1.  The matrix is persisted on the workers; a step is one
value-and-gradient reduce (what every full-batch solver iteration costs),
timed against the same reduce on the local engine; the bytes a step moves
(the pickled task function out, the partial sums back) are measured from
the pickles; the peak memory per worker is read from the workers.
Reported: time per step for both engines, the scheduler overhead (the
time of an empty reduce), the bytes per step, peak RSS per worker.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
FEATURES = 20
SEED = 20261201
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from run import run_once  # noqa: E402  (the whole-process timer of the main benchmarks)

from losscli.engine.dask import LOOPBACK_HTTP  # noqa: E402


def design_csv(rows: int, features: int = FEATURES) -> Path:
    """An N × d regression CSV (x1…xd, y), written with pyarrow 1M rows at a time; cached."""
    path = DATA / f"design_{rows}x{features}_s{SEED}.csv"
    if path.exists():
        return path
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    DATA.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.name} ...", file=sys.stderr, flush=True)
    rng = np.random.default_rng(SEED)
    beta = rng.normal(size=features)
    tmp = path.with_suffix(".part")
    names = [f"x{j + 1}" for j in range(features)] + ["y"]
    with pacsv.CSVWriter(str(tmp), pa.schema([(n, pa.float64()) for n in names])) as out:
        for first in range(0, rows, 1 << 20):
            m = min(1 << 20, rows - first)
            x = rng.normal(size=(m, features)) * np.linspace(0.5, 5, features) + 1.0
            y = x @ beta + rng.normal(size=m)
            cols = [pa.array(x[:, j]) for j in range(features)] + [pa.array(y)]
            out.write(pa.RecordBatch.from_arrays(cols, names=names))
    tmp.replace(path)
    return path


def _median(values: list[float]) -> float:
    return statistics.median(values)


# --------------------------------------------------------------------------- out of core


def bench_outofcore(rows: int, reps: int, limit: str) -> None:
    path = design_csv(rows)
    size = path.stat().st_size / 1e6
    base = [sys.executable, "-m", "losscli", "train", str(path), "-f", "json", "-q"]
    runs: dict[str, tuple[list[float], list[float]]] = {"memory": ([], []), "spilled": ([], [])}
    for _ in range(reps):  # interleaved
        for label, extra in (("memory", []), ("spilled", ["--memory-limit", limit])):
            seconds, rss = run_once([*base, *extra])
            runs[label][0].append(seconds)
            runs[label][1].append(rss)
    print(f"\nout of core: train (mse, auto) on {rows:,} × {FEATURES} ({size:.0f} MB of CSV)")
    print(f"{'run':<26}{'time s':>10}{'peak RSS MB':>14}")
    for label, (secs, rss) in runs.items():
        name = "in memory" if label == "memory" else f"--memory-limit {limit}"
        print(f"{name:<26}{_median(secs):>10.2f}{_median(rss):>14.0f}")
    epoch_times(path, rows)


def epoch_times(path: Path, rows: int, repeats: int = 5) -> None:
    """One value+gradient pass in memory vs over the page-cached disk cache (same process)."""
    import contextlib

    import numpy as np

    from losscli.engine.cache import LazyFolder
    from losscli.fit.data import InMemory
    from losscli.fit.objective import Objective
    from losscli.losses import make_loss
    from losscli.train import TrainRequest, prepare

    loss = make_loss("mse")
    with contextlib.ExitStack() as stack:
        folder = LazyFolder(None, stack)
        request = TrainRequest(str(path), loss, memory_limit=1_000_000)
        data = prepare(request, folder)
        assert data.spilled is not None and data.spilled.cache is not None
        cache = data.spilled.cache
        x, y = cache.take_all()  # the same matrix in memory
        obj = Objective(loss=loss, n_features=x.shape[1])
        theta = np.full(obj.size, 0.01)
        sources = {"in memory": InMemory(x, y), "on-disk cache": cache}
        times: dict[str, list[float]] = {k: [] for k in sources}
        for _ in range(repeats):
            for label, source in sources.items():
                start = time.perf_counter()
                obj.data_smooth_value_and_grad(theta, source)
                times[label].append(time.perf_counter() - start)
    memory = _median(times["in memory"])
    disk = _median(times["on-disk cache"])
    print(f"\none full-batch pass (value + gradient), {rows:,} × {x.shape[1]}, median of {repeats}")
    print(f"  in memory {memory * 1e3:8.1f} ms")
    print(f"  on-disk   {disk * 1e3:8.1f} ms   ratio {disk / memory:.2f}×")


# --------------------------------------------------------------------------- dask


def bench_dask(rows: int, workers: int, steps: int, files: int) -> None:
    import pickle

    import cloudpickle
    import numpy as np
    from distributed import Client, LocalCluster

    from losscli.engine.dask import DaskSource
    from losscli.fit.data import InMemory
    from losscli.fit.objective import Objective
    from losscli.losses import make_loss

    rng = np.random.default_rng(SEED)
    beta = rng.normal(size=FEATURES)
    loss = make_loss("mse")
    obj = Objective(loss=loss, n_features=FEATURES)
    theta = np.full(obj.size, 0.01)
    per = rows // files

    def make(i: int) -> tuple[object, object, None]:
        r = np.random.default_rng([SEED, i])
        x = r.normal(size=(per, FEATURES)) + 1.0
        return x, x @ beta + r.normal(size=per), None

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=LOOPBACK_HTTP,
        memory_limit=0,
    )
    client = Client(cluster)
    try:
        parts = client.map(make, range(files), pure=False)
        client.gather(parts)  # materialised, held on the workers
        source = DaskSource(client, parts, per * files, FEATURES)
        pieces = [make(i) for i in range(files)]
        local = InMemory(
            np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])
        )
        del pieces

        def empty(x: object, y: object, w: object) -> tuple[float]:
            return (0.0,)

        def step(src: object) -> float:
            start = time.perf_counter()
            obj.data_smooth_value_and_grad(theta, src)  # type: ignore[arg-type]
            return time.perf_counter() - start

        timings: dict[str, list[float]] = {"local": [], "dask": [], "dask empty": []}
        for _ in range(steps):
            timings["local"].append(step(local))
            timings["dask"].append(step(source))
            start = time.perf_counter()
            source.reduce(empty)
            timings["dask empty"].append(time.perf_counter() - start)

        # a step's task function is a closure over the objective and θ
        sent = len(cloudpickle.dumps(lambda x, y, w: obj.scores(theta, x)))
        back = len(pickle.dumps((1.0, 1.0, np.zeros(obj.size))))
        peaks = client.run(_peak_rss_mb)
    finally:
        client.close()
        cluster.close()
    print(f"\ndask: {workers} workers, {files} partitions of {per:,} × {FEATURES}")
    for label, values in timings.items():
        print(f"  {label:<12} {_median(values) * 1e3:8.1f} ms per step (median of {steps})")
    ratio = _median(timings["dask"]) / _median(timings["local"])
    print(f"  dask / local {ratio:.2f}×")
    print(f"  bytes per step ≈ {files} × ({sent} out + {back} back) = {files * (sent + back):,}")
    print("  peak RSS per worker MB:", json.dumps({k: round(v) for k, v in peaks.items()}))


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    # One BLAS thread, as the command line sets it (losscli._process): the
    # in-process passes below are then timed as train runs them.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    ooc = sub.add_parser("outofcore")
    ooc.add_argument("--rows", type=int, default=5_000_000)
    ooc.add_argument("--reps", type=int, default=3)
    ooc.add_argument("--limit", default="200MB")
    dk = sub.add_parser("dask")
    dk.add_argument("--rows", type=int, default=10_000_000)
    dk.add_argument("--workers", type=int, default=2)
    dk.add_argument("--steps", type=int, default=10)
    dk.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    if args.what == "outofcore":
        bench_outofcore(args.rows, args.reps, args.limit)
    else:
        bench_dask(args.rows, args.workers, args.steps, args.files)


if __name__ == "__main__":
    main()
