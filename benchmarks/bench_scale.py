"""Scale benchmarks: out-of-core training and the Dask engine, against the local in-memory run.

    python benchmarks/bench_scale.py outofcore [--rows 5000000] [--reps 3]
    python benchmarks/bench_scale.py dask [--rows 10000000] [--workers 2] [--reps 3] [--files 20]

``outofcore`` (whole processes, interleaved, medians): ``losscli train`` on
an N × 20 CSV in memory and with ``--memory-limit 200MB``: wall time and
peak RSS; then, in this process, the time of one full-batch pass (value and
gradient) over the in-memory matrix and over the on-disk cache while it
sits in the page cache — the "time per epoch" of every full-batch solver.

``dask``: a LocalCluster of ``--workers`` single-threaded processes on
127.0.0.1 and a glob of ``--files`` Parquet files (cached under
``benchmarks/data/``).  ``losscli.train`` runs on the glob with each
engine (interleaved, medians of ``--reps``): the whole run, and the fit
alone — the time to the optimum with the data read and standardized, the
same solver (auto: Newton) and tolerance — with the number of reduces
(round trips) the Dask fit made.  Then one step, a value-and-gradient
reduce (what every full-batch iteration costs), on the same standardized
partitions against the same matrix in memory, and an empty reduce (the
scheduler's overhead); the bytes a step moves are measured from what a
task carries and returns, pickled as Dask pickles them; the peak RSS of
each worker is read from the workers at the end.
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


def design_parquet(rows: int, files: int, features: int = FEATURES) -> Path:
    """A folder of ``files`` Parquet files, N × d in all (x1…xd, y, cls); cached.

    y is linear in x plus noise (mse); cls a logistic draw on the same score (bce).
    """
    folder = DATA / f"glob_{rows}x{features}_{files}f_s{SEED}"
    if (folder / "done").exists():
        return folder
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating {folder.name}/ ...", file=sys.stderr, flush=True)
    beta = np.random.default_rng(SEED).normal(size=features) / np.sqrt(features)
    per = rows // files
    names = [f"x{j + 1}" for j in range(features)]
    for i in range(files):
        rng = np.random.default_rng([SEED, i])
        x = rng.normal(size=(per, features)) * np.linspace(0.5, 5, features) + 1.0
        score = (x - 1.0) / np.linspace(0.5, 5, features) @ beta
        columns = {n: x[:, j] for j, n in enumerate(names)}
        columns["y"] = score + rng.normal(size=per)
        columns["cls"] = (score + rng.logistic(size=per) > 0).astype(np.int64)
        pq.write_table(pa.table(columns), folder / f"part-{i:03d}.parquet", row_group_size=1 << 18)
    (folder / "done").write_text("")
    return folder


FITS = {  # the same solver and tolerance on both engines (auto: Newton for both)
    "mse": {"loss": "mse", "target": "y"},
    "bce --l2 1e-4": {"loss": "bce", "target": "cls", "l2": 1e-4},
}


def _timed_fit() -> dict[str, float]:
    """Wrap losscli.train's fit so that its wall time (the time to the optimum, the
    data already read and standardized) is recorded."""
    import losscli.train as trainer

    seen: dict[str, float] = {}
    inner = trainer.fit

    def timed(*args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        out = inner(*args, **kwargs)  # type: ignore[arg-type]
        seen["fit"] = time.perf_counter() - start
        seen["steps"] = float(getattr(args[1], "steps", 0))  # DaskSource: reduces
        return out

    trainer.fit = timed  # type: ignore[assignment]
    return seen


def bench_dask(rows: int, workers: int, reps: int, files: int, steps: int) -> None:
    """Time per step and to the optimum, both engines on the same glob; bytes; worker RSS."""
    import pickle

    import cloudpickle
    import numpy as np
    from distributed import Client, LocalCluster

    from losscli.engine.dask_train import read_on_workers
    from losscli.fit.data import InMemory
    from losscli.fit.loop import TrainConfig
    from losscli.fit.objective import Objective
    from losscli.losses import make_loss
    from losscli.train import TrainRequest, train

    folder = design_parquet(rows, files)
    glob = str(folder / "*.parquet")
    features = ",".join(f"x{j + 1}" for j in range(FEATURES))
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=LOOPBACK_HTTP,
        memory_limit=0,
    )
    address = cluster.scheduler_address
    seen = _timed_fit()
    results: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    try:
        for _ in range(reps):  # interleaved: engine by engine, fit by fit
            for name, fit in FITS.items():
                for engine in ("local", "dask"):
                    request = TrainRequest(
                        glob,
                        make_loss(str(fit["loss"])),
                        TrainConfig(),
                        target=str(fit["target"]),
                        features=features,
                        l2=float(fit.get("l2", 0.0)),
                        engine=engine,
                        scheduler=address if engine == "dask" else None,
                        memory_limit=64 << 30,  # in memory: the local engine's fast path
                    )
                    start = time.perf_counter()
                    report = train(request)
                    total = time.perf_counter() - start
                    results.setdefault((name, engine), []).append(
                        (total, seen["fit"], seen["steps"], report.fit.objective)
                    )
                    del report
        # one step (value + gradient reduce) over the same standardized data
        loss = make_loss("mse")
        obj = Objective(loss=loss, n_features=FEATURES)
        theta = np.full(obj.size, 0.01)
        request = TrainRequest(glob, loss, target="y", features=features)
        timings: dict[str, list[float]] = {"local": [], "dask": [], "dask empty": []}
        with Client(address) as client:
            streamed = read_on_workers(client, request, classification=False)
            arranged = streamed.cache.arrange(
                streamed.stats, np.zeros(0, dtype=np.intp), center=True, widen=lambda s: s
            )
            source = arranged.train
            x = np.concatenate(source.map(lambda x, y, w: x))
            local = InMemory(x, arranged.y_train)
            del x

            def empty(x: object, y: object, w: object) -> tuple[float]:
                return (0.0,)

            def step(src: object) -> float:
                start = time.perf_counter()
                obj.data_smooth_value_and_grad(theta, src)  # type: ignore[arg-type]
                return time.perf_counter() - start

            for _ in range(steps):
                timings["local"].append(step(local))
                timings["dask"].append(step(source))
                start = time.perf_counter()
                source.reduce(empty)
                timings["dask empty"].append(time.perf_counter() - start)
            del local
            # what one step's task carries out (a closure over the objective and θ)
            # and what it returns (value, normaliser, gradient), pickled as Dask does
            sent = len(cloudpickle.dumps(lambda x, y, w: obj.scores(theta, x)))
            back = len(pickle.dumps((1.0, 1.0, np.zeros(obj.size))))
            peaks = client.run(_peak_rss_mb)
            tasks = len(source.parts)  # partitions (--partition-size default), one task each
    finally:
        trainer_restore()
        cluster.close()
    print(f"\ndask: {workers} workers, {files} Parquet files, {rows:,} × {FEATURES} in all")
    print(f"{tasks} partitions: one task each per reduce")
    print(f"train, medians of {reps} (interleaved); fit = time to the optimum, data in place")
    print(f"{'fit':<16}{'engine':<8}{'total s':>9}{'fit s':>8}{'reduces':>9}  objective")
    for (name, engine), runs in results.items():
        total, fit_s, count, objective = (
            _median([r[0] for r in runs]),
            _median([r[1] for r in runs]),
            _median([r[2] for r in runs]),
            runs[0][3],
        )
        shown = f"{count:>9.0f}" if engine == "dask" else f"{'':>9}"
        print(f"{name:<16}{engine:<8}{total:>9.2f}{fit_s:>8.2f}{shown}  {objective!r}")
    print(f"\none step (value + gradient), median of {steps}")
    for label, values in timings.items():
        print(f"  {label:<12} {_median(values) * 1e3:8.1f} ms")
    ratio = _median(timings["dask"]) / _median(timings["local"])
    print(f"  dask / local {ratio:.2f}×")
    print(f"  bytes per step ≈ {tasks} × ({sent} out + {back} back) = {tasks * (sent + back):,}")
    print("  peak RSS per worker MB:", json.dumps({k: round(v) for k, v in peaks.items()}))


def trainer_restore() -> None:
    """Undo :func:`_timed_fit`."""
    import losscli.fit.loop as loop
    import losscli.train as trainer

    trainer.fit = loop.fit  # type: ignore[assignment]


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
    dk.add_argument("--reps", type=int, default=3)
    dk.add_argument("--steps", type=int, default=10)
    dk.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    if args.what == "outofcore":
        bench_outofcore(args.rows, args.reps, args.limit)
    else:
        bench_dask(args.rows, args.workers, args.reps, args.files, args.steps)


if __name__ == "__main__":
    main()
