"""losscli benchmarks: whole-process time and peak memory against same-run baselines.

Run from the repository root::

    python benchmarks/run.py            # 1M and 10M rows (about 15-25 minutes the first time)
    python benchmarks/run.py --quick    # 100k and 1M rows, a few minutes on a laptop
    python benchmarks/run.py --huge     # adds the 100M-row peak-memory check (2 GB of CSV)

The data is synthetic and seeded, generated once under ``benchmarks/data/``.
Every figure is the median of ``--reps`` runs (default 5), and each is
printed next to the baseline measured in the same run, as a ratio: the
machine this runs on is shared and noisy, so absolute seconds mean little
from one run to the next, while ratios taken minutes apart do.  Runs of the
commands being compared are interleaved (A B C, A B C, ...) so that a noisy
minute hits all of them alike.

Sections: compute (vs the pandas parse floor, a pandas + NumPy one-liner,
the pandas + scikit-learn script, and a polars one-liner when polars is
installed), growth from the small to the large file, start-up, the loss
kernels against the parse time, and training epochs (gd against X·w + Xᵀr,
sgd against scikit-learn's SGDRegressor).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import run_measured  # noqa: E402

ROOT = HERE.parent
DATA = HERE / "data"
SEED = 20260425
FORMAT_VERSION = 1  # bump when the generated files change, so stale caches are not reused
EPS = sys.float_info.epsilon
CLASSES = 10

# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Dataset:
    """One synthetic CSV: ``kind`` is reg (y_true,y_pred), bin (0/1, P) or mc (index, p_0..p_9)."""

    kind: str
    rows: int

    @property
    def path(self) -> Path:
        return DATA / f"{self.kind}_{self.rows}_s{SEED}_v{FORMAT_VERSION}.csv"


def _human(rows: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if rows >= size and rows % size == 0:
            return f"{rows // size}{unit}"
    return str(rows)


def generate(ds: Dataset) -> Path:
    """Write the CSV (1M rows at a time, so generation memory stays small); cached by name."""
    if ds.path.exists():
        return ds.path
    import numpy as np
    import pandas as pd

    DATA.mkdir(parents=True, exist_ok=True)
    print(f"generating {ds.path.name} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    rng = np.random.default_rng([SEED, {"reg": 0, "bin": 1, "mc": 2}[ds.kind], ds.rows])
    tmp = ds.path.with_suffix(".part")
    step = 1 << 20
    with open(tmp, "w", newline="") as out:
        for first in range(0, ds.rows, step):
            m = min(step, ds.rows - first)
            if ds.kind == "reg":
                y = rng.normal(size=m)
                frame = pd.DataFrame({"y_true": y, "y_pred": y + rng.normal(scale=0.5, size=m)})
            elif ds.kind == "bin":
                y = rng.integers(0, 2, size=m)
                logit = rng.normal(loc=2.0 * y - 1.0, scale=1.5)
                frame = pd.DataFrame({"y_true": y, "y_pred": 1.0 / (1.0 + np.exp(-logit))})
            else:
                y = rng.integers(0, CLASSES, size=m)
                z = rng.normal(size=(m, CLASSES))
                z[np.arange(m), y] += 2.0
                p = np.exp(z - z.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                frame = pd.DataFrame(p, columns=[f"p_{c}" for c in range(CLASSES)])
                frame.insert(0, "y_true", y)
            # 6 decimals: what a model's CSV export typically holds; the rows of
            # probabilities still sum to 1 within losscli's 1e-4 tolerance.
            frame.to_csv(out, index=False, header=first == 0, float_format="%.6f")
    tmp.replace(ds.path)
    size = ds.path.stat().st_size / 1e6
    print(f"  {size:.0f} MB in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return ds.path


def tiny_file() -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / "tiny.csv"
    path.write_text("y_true,y_pred\n1.0,1.5\n2.0,2.0\n3.0,2.5\n")
    return path


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    failed: str | None = None

    @property
    def time(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rss(self) -> float:
        return statistics.median(self.rss_mb)


def run_once(cmd: Sequence[str], stdin_path: Path | None = None) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of one process.

    Through ``/usr/bin/time`` (benchmarks/_measure.py): ``wait4``'s rusage of a
    forked child counted this script's own memory at the fork, so every small
    command used to look as big as the benchmark process.
    """
    elapsed, rss, _ = run_measured(cmd, stdin_path=stdin_path, cwd=ROOT)
    return elapsed, rss


@dataclass(frozen=True)
class Command:
    label: str
    argv: tuple[str, ...]
    stdin: Path | None = None


def measure(commands: Sequence[Command], reps: int) -> dict[str, Sample]:
    """Interleaved runs: one warm-up round (page cache, .pyc), then ``reps`` rounds."""
    samples = {c.label: Sample() for c in commands}
    for round_no in range(reps + 1):
        for c in commands:
            s = samples[c.label]
            if s.failed:
                continue
            try:
                t, rss = run_once(c.argv, c.stdin)
            except RuntimeError as exc:
                s.failed = str(exc)
                print(f"  {c.label}: {exc}", file=sys.stderr)
                continue
            if round_no:
                s.seconds.append(t)
                s.rss_mb.append(rss)
    return samples


# --------------------------------------------------------------------------- the table


@dataclass
class Row:
    section: str
    case: str
    seconds: float | None
    rss: float | None
    baseline: str = ""
    ratio: float | None = None
    rss_ratio: float | None = None
    target: str = ""
    ok: bool | None = None


ROWS: list[Row] = []


def add(row: Row) -> None:
    ROWS.append(row)
    print(_format(row), flush=True)


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


HEADER = (
    f"{'section':<9} {'case':<40} {'median s':>9} {'peak MB':>8}  "
    f"{'vs baseline':<26} {'time×':>6} {'mem×':>6}  target"
)


def _format(r: Row) -> str:
    verdict = "" if r.ok is None else ("  ok" if r.ok else "  MISSED")
    return (
        f"{r.section:<9} {r.case:<40} {_num(r.seconds, '9.3f')} {_num(r.rss, '8.0f')}  "
        f"{r.baseline:<26} {_num(r.ratio, '6.2f')} {_num(r.rss_ratio, '6.2f')}  "
        f"{r.target}{verdict}"
    )


def print_table() -> None:
    print("\n" + HEADER)
    print("-" * len(HEADER))
    for r in ROWS:
        print(_format(r))


# --------------------------------------------------------------------------- commands

PY = sys.executable


def losscli_argv(*args: str) -> tuple[str, ...]:
    """The installed console script (as a user runs it), else ``python -m losscli``."""
    script = Path(PY).with_name("losscli")
    if script.exists():
        return (str(script), *args)
    return (PY, "-m", "losscli", *args)


def py(code: str, *args: str) -> tuple[str, ...]:
    return (PY, "-c", code, *args)


FLOOR = "import sys, pandas as pd; pd.read_csv(sys.argv[1], dtype='float64')"

# What a user writes instead: pandas to read, the formula in NumPy.
ONE_LINERS = {
    "mse": "import sys, pandas as pd; d = pd.read_csv(sys.argv[1]); "
    "print(((d.y_pred - d.y_true) ** 2).mean())",
    "bce": "import sys, numpy as np, pandas as pd; d = pd.read_csv(sys.argv[1]); "
    f"p = np.clip(d.y_pred.to_numpy(), {EPS!r}, 1 - {EPS!r}); y = d.y_true.to_numpy(); "
    "print(-(y * np.log(p) + (1 - y) * np.log1p(-p)).mean())",
    "focal": "import sys, numpy as np, pandas as pd; d = pd.read_csv(sys.argv[1]); "
    f"p = np.clip(d.y_pred.to_numpy(), {EPS!r}, 1 - {EPS!r}); y = d.y_true.to_numpy(); "
    "pt = np.where(y == 1, p, 1 - p); a = np.where(y == 1, 0.25, 0.75); "
    "print((-a * (1 - pt) ** 2 * np.log(pt)).mean())",
    "cross_entropy": "import sys, numpy as np, pandas as pd; d = pd.read_csv(sys.argv[1]); "
    "P = d.filter(like='p_').to_numpy(); y = d.y_true.to_numpy(); "
    f"print(-np.log(np.clip(P[np.arange(len(y)), y], {EPS!r}, 1)).mean())",
}

# The same with scikit-learn's metric (focal has none there).
SKLEARN = {
    "mse": "import sys, pandas as pd; from sklearn.metrics import mean_squared_error; "
    "d = pd.read_csv(sys.argv[1]); print(mean_squared_error(d.y_true, d.y_pred))",
    "bce": "import sys, pandas as pd; from sklearn.metrics import log_loss; "
    "d = pd.read_csv(sys.argv[1]); print(log_loss(d.y_true, d.y_pred))",
    "cross_entropy": "import sys, pandas as pd; from sklearn.metrics import log_loss; "
    "d = pd.read_csv(sys.argv[1]); "
    "print(log_loss(d.y_true, d.filter(like='p_'), labels=list(range(10))))",
}

POLARS = {
    "mse": "import sys, polars as pl; print(pl.read_csv(sys.argv[1])"
    ".select(((pl.col('y_pred') - pl.col('y_true')) ** 2).mean()).item())",
}

CASES = (("mse", "reg"), ("bce", "bin"), ("focal", "bin"), ("cross_entropy", "mc"))


def _have(module: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([PY, "-c", code], check=False).returncode == 0


# --------------------------------------------------------------------------- sections


def bench_compute(sizes: Sequence[int], reps: int) -> dict[tuple[str, int], Sample]:
    """losscli compute vs the parse floor, the one-liners and (when installed) sklearn/polars."""
    have_sklearn, have_polars = _have("sklearn"), _have("polars")
    if not have_sklearn:
        print("(scikit-learn not installed: its rows are skipped)", file=sys.stderr)
    if not have_polars:
        print("(polars not installed: its rows are skipped)", file=sys.stderr)
    ours: dict[tuple[str, int], Sample] = {}
    for rows in sizes:
        for loss, kind in CASES:
            path = str(generate(Dataset(kind, rows)))
            cmds = [
                Command("losscli", losscli_argv("compute", "-l", loss, "-f", "value", path)),
                Command("floor", py(FLOOR, path)),
                Command("numpy", py(ONE_LINERS[loss], path)),
            ]
            if have_sklearn and loss in SKLEARN:
                cmds.append(Command("sklearn", py(SKLEARN[loss], path)))
            if have_polars and loss in POLARS:
                cmds.append(Command("polars", py(POLARS[loss], path)))
            if loss == "mse":
                cmds.append(
                    Command(
                        "stdin",
                        losscli_argv("compute", "-l", loss, "-f", "value", "-"),
                        stdin=Path(path),
                    )
                )
            res = measure(cmds, reps)
            _compute_rows(loss, rows, res)
            ours[(loss, rows)] = res["losscli"]
    return ours


def _compute_rows(loss: str, rows: int, res: dict[str, Sample]) -> None:
    big = rows >= 10_000_000
    me, floor = res["losscli"], res["floor"]
    case = f"{loss} {_human(rows)}"
    if me.failed or floor.failed:
        add(Row("compute", case + " (failed)", None, None))
        return
    add(Row("compute", f"parse floor {_human(rows)} ({loss} file)", floor.time, floor.rss))
    mem_target = "≤200 MB" if big else ""
    add(
        Row(
            "compute",
            f"losscli {case}",
            me.time,
            me.rss,
            "parse floor",
            me.time / floor.time,
            me.rss / floor.rss,
            ("≤1.15×, " if big and loss == "mse" else "") + mem_target,
            ((me.time / floor.time <= 1.15) if loss == "mse" else True) and me.rss <= 200
            if big
            else None,
        )
    )
    for label, name in (("numpy", "pandas+numpy 1-liner"), ("sklearn", "pandas+sklearn script")):
        other = res.get(label)
        if other and not other.failed:
            target, ok = "", None
            if label == "sklearn" and big and loss == "mse":
                target, ok = "≤0.5×", me.time / other.time <= 0.5
            add(
                Row(
                    "compute",
                    f"  vs {name}",
                    other.time,
                    other.rss,
                    name,
                    me.time / other.time,
                    me.rss / other.rss,
                    target,
                    ok,
                )
            )
    pol = res.get("polars")
    if pol and not pol.failed:
        add(
            Row(
                "compute",
                "  vs polars 1-liner",
                pol.time,
                pol.rss,
                "polars 1-liner",
                me.time / pol.time,
                me.rss / pol.rss,
                "≤1.4× (stretch)" if big else "",
                me.time / pol.time <= 1.4 if big else None,
            )
        )
    std = res.get("stdin")
    if std and not std.failed:
        add(
            Row(
                "compute",
                f"losscli {case} from stdin",
                std.time,
                std.rss,
                "losscli on the path",
                std.time / me.time,
                std.rss / me.rss,
                "≤200 MB" if big else "",
                std.rss <= 200 if big else None,
            )
        )


def bench_growth(
    ours: dict[tuple[str, int], Sample], small: int, large: int, fixed: float | None
) -> None:
    """Time per row should stay flat (linear time) and peak memory flat (streaming).

    ``fixed`` is the start-up (compute on three rows, same run): taken off
    both times, so that time× compares the per-row cost at the two sizes
    (1.0 = linear).  Without it the whole-process ratio is shown.
    """
    factor = large / small
    base = fixed or 0.0
    from losscli.io.csvblocks import DEFAULT_BLOCK_BYTES

    for loss, kind in CASES:
        a, b = ours.get((loss, small)), ours.get((loss, large))
        if not a or not b or a.failed or b.failed:
            continue
        per_row = (b.time - base) / (a.time - base) / factor
        # A small file of a few blocks shows start-up and one block's memory,
        # not growth: judged only from four blocks up (the full run's 1M rows).
        judged = Dataset(kind, small).path.stat().st_size >= 4 * DEFAULT_BLOCK_BYTES
        add(
            Row(
                "growth",
                f"{loss} {_human(small)} → {_human(large)}",
                b.time,
                b.rss,
                f"losscli {_human(small)}",
                per_row,
                b.rss / a.rss,
                "time/row× ≈1, mem× ≈1" if judged else "(small file: not judged)",
                per_row <= 1.15 and b.rss / a.rss <= 1.25 if judged else None,
            )
        )


def bench_huge(reps: int, base: dict[tuple[str, int], Sample]) -> None:
    """Peak memory on 100M rows must stay within 1.1× of 10M rows."""
    path = str(generate(Dataset("reg", 100_000_000)))
    argv = losscli_argv("compute", "-l", "mse", "-f", "value", path)
    res = measure([Command("losscli", argv)], reps)
    me = res["losscli"]
    ref = base.get(("mse", 10_000_000))
    if me.failed:
        add(Row("huge", "mse 100M (failed)", None, None))
        return
    add(
        Row(
            "huge",
            "losscli mse 100M",
            me.time,
            me.rss,
            "losscli mse 10M" if ref else "",
            me.time / ref.time / 10 if ref else None,
            me.rss / ref.rss if ref else None,
            "mem× ≤1.1",
            me.rss / ref.rss <= 1.1 if ref else None,
        )
    )


def bench_startup(reps: int) -> float | None:
    """Start-up: commands that compute nothing must not import pandas or NumPy.

    Returns the median time of compute on three rows (the fixed cost).
    """
    tiny = str(tiny_file())
    cmds = [
        Command("pass", py("pass")),
        Command("click", py("import click")),
        Command("--help", losscli_argv("--help")),
        Command("--version", losscli_argv("--version")),
        Command("losses", losscli_argv("losses")),
        Command("train --help", losscli_argv("train", "--help")),
        Command("import losscli", py("import losscli")),
        Command("compute3", losscli_argv("compute", "-l", "mse", "-f", "value", tiny)),
        Command("pandas", py("import pandas")),
    ]
    res = measure(cmds, max(reps, 10))
    base, click_base = res["pass"], res["click"]
    add(Row("startup", "python -c pass", base.time, base.rss))
    add(Row("startup", "python -c 'import click'", click_base.time, click_base.rss))
    add(Row("startup", "python -c 'import pandas'", res["pandas"].time, res["pandas"].rss))
    for label, case, target in (
        ("--help", "losscli --help", 2.5),
        ("--version", "losscli --version", 2.5),
        ("losses", "losscli losses", None),
        ("train --help", "losscli train --help", 2.5),
        ("import losscli", "python -c 'import losscli' (the API)", 2.5),
        ("compute3", "losscli compute (3 rows)", None),
    ):
        s = res[label]
        if s.failed:
            add(Row("startup", case + " (failed)", None, None))
            continue
        add(
            Row(
                "startup",
                case,
                s.time,
                s.rss,
                "python -c pass",
                s.time / base.time,
                s.rss / base.rss,
            )
        )
        add(
            Row(
                "startup",
                "  same",
                s.time,
                s.rss,
                "python -c 'import click'",
                s.time / click_base.time,
                s.rss / click_base.rss,
                f"≤{target}×" if target else "",
                s.time / click_base.time <= target if target else None,
            )
        )
    three = res["compute3"]
    return None if three.failed else three.time


KERNEL_CODE = r"""
import json, os, statistics, sys, time
try:  # the process settings the command line makes (heap reuse), where they exist
    from losscli._process import tune_process
    tune_process()
except ImportError:
    pass
import numpy as np, pandas as pd
from losscli.io import columns as dataio
from losscli.io.csvblocks import DEFAULT_BLOCK_BYTES
from losscli.losses import make_loss, weighted_totals
path, name, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
logits = False
parse = []
for _ in range(reps):
    t = time.perf_counter()
    frame = pd.read_csv(path, dtype="float64")
    parse.append(time.perf_counter() - t)
header = list(frame.columns)
cols = dataio.resolve_columns(header, dataio.ColumnRequest())
y_true = frame[cols.true[0]].to_numpy()
y_pred = frame[list(cols.pred)].to_numpy() if len(cols.pred) > 1 else frame[cols.pred[0]].to_numpy()
del frame
loss = make_loss(name)
# rows per kernel call: what one parsed block of the file holds, as in compute
step = max(1, len(y_true) * DEFAULT_BLOCK_BYTES // os.path.getsize(path))
kern = []
for _ in range(reps):
    t = time.perf_counter()
    for i in range(0, len(y_true), step):
        weighted_totals(loss.pointwise(y_true[i:i + step], y_pred[i:i + step]), None)
    kern.append(time.perf_counter() - t)
print(json.dumps({"parse": statistics.median(parse), "kernel": statistics.median(kern)}))
"""


def bench_kernels(rows: int, reps: int) -> None:
    """Loss kernels (loss + gradient, chunk by chunk, in-process) against parsing the same file."""
    import json

    for loss, kind in CASES:
        path = str(generate(Dataset(kind, rows)))
        out = subprocess.run(
            [PY, "-c", KERNEL_CODE, path, loss, str(reps)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        got = json.loads(out.stdout)
        big = rows >= 10_000_000 and loss in ("focal", "cross_entropy")
        share = got["kernel"] / got["parse"]
        add(
            Row(
                "kernel",
                f"{loss} {_human(rows)} loss+grad",
                got["kernel"],
                None,
                "pd.read_csv in-process",
                share,
                None,
                "≤0.25×" if big else "",
                share <= 0.25 if big else None,
            )
        )


TRAIN_CODE = r"""
import json, statistics, sys, time
from losscli._process import tune_process
tune_process()  # the CLI's process settings (heap reuse; BLAS threads come from the env)
import numpy as np
from losscli.losses import make_loss
from losscli.fit.objective import Objective
from losscli.fit.loop import TrainConfig, fit

what, rows, reps, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(seed)
d = 20
x = rng.standard_normal((rows, d))
y = x @ rng.standard_normal(d) + rng.standard_normal(rows)
labels = (y > 0).astype(float)
resid = rng.standard_normal(rows)


def median(f):
    f()  # warm-up: page faults, caches
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def epochs(obj, target, k, **cfg):
    # One epoch = (fit(1 + k epochs) - fit(1 epoch)) / k: set-up costs cancel out.
    def run(n):
        return lambda: fit(obj, x, target, TrainConfig(epochs=n, tol=0.0, **cfg))
    return (median(run(1 + k)) - median(run(1))) / k


w = rng.standard_normal(d)
out = {"floor": median(lambda: (x @ w, resid @ x))}  # one X·w plus one Xᵀr
if what == "gd":
    for loss, target in (("mse", y), ("bce", labels)):
        obj = Objective(make_loss(loss), d, logits=loss == "bce")
        out[loss] = epochs(obj, target, 10, optimizer="gd", lr=0.01)
elif what.startswith("sgd"):
    batch = int(what[3:])
    obj = Objective(make_loss("mse"), d)
    out["sgd"] = epochs(obj, y, 2, optimizer="sgd", lr=0.001, batch_size=batch)
elif what == "sklearn":
    from sklearn.linear_model import SGDRegressor
    import warnings
    warnings.simplefilter("ignore")
    out["sklearn"] = median(lambda: SGDRegressor(max_iter=1, tol=None, eta0=0.001,
                                                 learning_rate="constant").fit(x, y))
print(json.dumps(out))
"""


def _train_run(what: str, rows: int, reps: int, threads: int) -> dict[str, float]:
    import json

    env = {**os.environ, **{v: str(threads) for v in BLAS_VARS}}
    out = subprocess.run(
        [PY, "-c", TRAIN_CODE, what, str(rows), str(reps), str(SEED)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def bench_train(reps: int, quick: bool) -> None:
    """In-process epochs on synthetic 1M×20 data (100k×20 with --quick).

    gd: one full-batch epoch (fixed --lr, so one loss+gradient evaluation)
    against one X·w plus one Xᵀr at the better of 1 and 2 BLAS threads.  sgd:
    one epoch at batch sizes 1 (on a tenth of the rows), 32, 256 and 4096,
    against scikit-learn's SGDRegressor epoch on the same data when it is
    installed.  The CLI runs BLAS on one thread (losscli/_runtime.py); so do
    these, except for the 2-thread floor.  The targets are set for 1M rows,
    so ``--quick`` prints the figures without verdicts.
    """
    rows = 100_000 if quick else 1_000_000
    one, two = _train_run("gd", rows, reps, 1), _train_run("gd", rows, reps, 2)
    floor = min(one["floor"], two["floor"])
    threads = 1 if one["floor"] <= two["floor"] else 2
    add(
        Row(
            "train",
            f"X·w + Xᵀr {_human(rows)}×20, 2 BLAS threads",
            two["floor"],
            None,
            "1 BLAS thread",
            two["floor"] / one["floor"],
            None,
        )
    )
    for loss, target in (("mse", 1.3), ("bce", 2.0)):
        ratio = one[loss] / floor
        add(
            Row(
                "train",
                f"gd epoch {loss} {_human(rows)}×20",
                one[loss],
                None,
                f"X·w + Xᵀr ({threads} thread)",
                ratio,
                None,
                "" if quick else f"≤{target}×",
                None if quick else ratio <= target,
            )
        )
    sk = None
    if _have("sklearn"):
        sk = _train_run("sklearn", rows, reps, 1)["sklearn"]
        add(Row("train", f"sklearn SGDRegressor epoch {_human(rows)}×20", sk, None))
    for batch in (1, 32, 256, 4096):
        n = rows // 10 if batch == 1 else rows
        got = _train_run(f"sgd{batch}", n, reps, 1)["sgd"]
        goals = {} if quick else {256: ("<1× sklearn", 1.0), 32: ("≤1.5× sklearn", 1.5)}
        target, limit = goals.get(batch, ("", None))
        ratio = got / sk if sk and n == rows else None
        add(
            Row(
                "train",
                f"sgd epoch batch {batch} {_human(n)}×20",
                got,
                None,
                "SGDRegressor epoch" if ratio else "",
                ratio,
                None,
                target,
                None if ratio is None or limit is None else ratio <= limit,
            )
        )


# --------------------------------------------------------------------------- main

SECTIONS = ("compute", "startup", "kernels", "train")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k and 1M rows (minutes)")
    parser.add_argument("--huge", action="store_true", help="add the 100M-row memory check")
    parser.add_argument("--reps", type=int, default=5, help="runs per figure (median; ≥5)")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}"
    )
    parser.add_argument("--clean", action="store_true", help="delete benchmarks/data and exit")
    args = parser.parse_args(argv)
    if args.clean:
        shutil.rmtree(DATA, ignore_errors=True)
        return 0
    sections = {s.strip() for s in args.only.split(",")}
    small, large = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, medians of {args.reps} runs")
    print(HEADER, flush=True)
    steps: list[tuple[str, Callable[[], None]]] = []
    ours: dict[tuple[str, int], Sample] = {}

    fixed: list[float | None] = [None]

    def startup() -> None:
        fixed[0] = bench_startup(args.reps)

    def compute() -> None:
        ours.update(bench_compute((small, large), args.reps))
        bench_growth(ours, small, large, fixed[0])
        if args.huge:
            bench_huge(args.reps, ours)

    steps = [
        ("startup", startup),
        ("compute", compute),
        ("kernels", lambda: bench_kernels(large, args.reps)),
        ("train", lambda: bench_train(args.reps, args.quick)),
    ]
    for name, step in steps:
        if name in sections:
            step()
    print_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
