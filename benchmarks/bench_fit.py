"""Fits to the optimum against scikit-learn: whole process, same CSV, same objective.

Run from the repository root (the peer is scikit-learn from /work/oracle-venv,
or ``--peer-python``, run as a separate process that reads the CSV with pandas)::

    python benchmarks/bench_fit.py             # the issue's sizes (1M×20, 200k×50, 100k×20)
    python benchmarks/bench_fit.py --quick     # a tenth of the rows, to try it out
    python benchmarks/bench_fit.py --reps 5 --only mse,bce_l2

For every fit: one selection round runs each scikit-learn variant (solvers)
at 1 and 2 BLAS threads and keeps the fastest; then ``--reps`` interleaved
runs of losscli and that peer (A B, A B, …) give median wall times.  Peak
memory is each command's own (``/usr/bin/time``, see ``_measure.py``).  The
achieved objective of both sides is computed here, by one function, from the
coefficients each side printed: a faster fit to a worse optimum is no win.
The table is printed as Markdown; ``--write-readme`` stores the measured rows
in ``benchmarks/fit_results.json`` and rebuilds the table between the marker
comments of README.md and ``benchmarks/fit_results.md`` from that store alone
(``--only a,b --write-readme`` re-measures rows a and b, keeps the others;
``--rebuild-readme`` measures nothing and only rebuilds the tables).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _measure import run_measured  # noqa: E402

DATA = HERE / "data"
SEED = 20261201
PEER_PYTHON = "/work/oracle-venv/bin/python"
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# --------------------------------------------------------------------------- data


def dataset(kind: str, rows: int, d: int) -> Path:
    """A seeded CSV of features x0.. and target y; written once, cached by name."""
    path = DATA / f"fit_{kind}_{rows}x{d}_s{SEED}.csv"
    if path.exists():
        return path
    import pandas as pd

    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([SEED, rows, d, sum(map(ord, kind))])
    # Features on different scales and offsets, some correlated: what raw data looks like.
    scale = rng.uniform(0.5, 20.0, size=d)
    x = rng.normal(size=(rows, d))
    x[:, 1::3] += 0.6 * x[:, 0::3][:, : x[:, 1::3].shape[1]]
    x = x * scale + rng.normal(scale=5.0, size=d)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    beta = rng.normal(size=d) / np.sqrt(d)
    if kind == "reg":
        y: Any = z @ beta * 3.0 + 10.0 + rng.normal(size=rows)
    elif kind == "quant":
        y = z @ beta * 3.0 + 10.0 + rng.standard_t(3, size=rows)
    elif kind == "bin":
        y = (rng.random(rows) < 1 / (1 + np.exp(-(1.5 * z @ beta - 0.3)))).astype(np.int64)
    elif kind == "pois":
        y = rng.poisson(np.exp(0.5 * z @ beta + 1.0))
    elif kind == "mc":
        b = rng.normal(size=(d, 10)) / np.sqrt(d)
        logits = 1.5 * z @ b
        g = rng.gumbel(size=logits.shape)
        y = np.argmax(logits + g, axis=1)
    else:
        raise ValueError(kind)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(d)])
    frame["y"] = y
    tmp = path.with_suffix(".part")
    frame.to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(path)
    return path


def load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    frame = pd.read_csv(path, engine="pyarrow")
    y = frame.pop("y").to_numpy()
    return frame.to_numpy(dtype=np.float64), y


# --------------------------------------------------------------------------- the objective


def objective(kind: str, lam: float, x: np.ndarray, y: np.ndarray, fit: dict[str, Any]) -> float:
    """mean loss + λ/2 ‖σ⊙w‖² (the penalty on standardized coefficients), from original-scale w."""
    w = np.asarray(fit["coef"], dtype=np.float64)
    b = np.asarray(fit["intercept"], dtype=np.float64)
    if w.ndim == 2 and kind != "ce":
        w = w.reshape(-1)
    if kind == "ce" and w.shape[0] != x.shape[1]:
        w = w.T  # (classes, features) → (features, classes)
    sigma = x.std(axis=0)
    s = x @ w + b
    if kind == "mse":
        loss = np.mean((s - y) ** 2)
    elif kind == "bce":
        loss = np.mean(np.logaddexp(0.0, s) - y * s)
    elif kind == "poisson":
        loss = np.mean(np.exp(s) - y * s)
    elif kind == "quantile":
        r = y - s
        loss = np.mean(np.maximum(0.8 * r, (0.8 - 1.0) * r))
    elif kind == "hinge":
        loss = np.mean(np.maximum(0.0, 1.0 - (2.0 * y - 1.0) * s))
    elif kind == "ce":
        top = s.max(axis=1, keepdims=True)
        lse = top[:, 0] + np.log(np.exp(s - top).sum(axis=1))
        loss = np.mean(lse - s[np.arange(len(y)), y.astype(np.int64)])
    else:
        raise ValueError(kind)
    sw = (w.T * sigma).T
    return float(loss + 0.5 * lam * float((sw * sw).sum()))


# --------------------------------------------------------------------------- the peer

PEER = r"""
import json, sys, warnings
import numpy as np, pandas as pd
from sklearn.preprocessing import StandardScaler
path, kind, lam, variant = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
frame = pd.read_csv(path)
y = frame.pop("y").to_numpy()
x = frame.to_numpy(dtype=np.float64)
n = len(y)
warnings.simplefilter("ignore")
if kind == "mse":
    from sklearn.linear_model import LinearRegression
    m = LinearRegression().fit(x, y)
    out = {"coef": m.coef_.tolist(), "intercept": [float(m.intercept_)]}
elif kind == "quantile":
    from sklearn.linear_model import QuantileRegressor
    m = QuantileRegressor(quantile=0.8, alpha=0.0, solver="highs").fit(x, y)
    out = {"coef": m.coef_.tolist(), "intercept": [float(m.intercept_)]}
elif kind == "quantile_qp":
    # No scikit-learn estimator fits quantile + L2: the peer is an independent
    # exact QP (clarabel's interior point, pip-installed into the oracle venv)
    # on the epigraph form  min (1/n)Σξ + λ/2‖w‖²,  ξ ≥ q·r, ξ ≥ (q−1)·r,
    # r = y − Zw − b, on standardized Z like losscli's penalty.
    import clarabel
    from scipy import sparse
    scaler = StandardScaler()
    z = scaler.fit_transform(x)
    d, q = z.shape[1], 0.8
    a = sparse.hstack([sparse.csc_matrix(z), sparse.csc_matrix(np.ones((n, 1)))])
    eye = sparse.identity(n, format="csc")
    g = sparse.vstack([sparse.hstack([-q * a, -eye]), sparse.hstack([(1 - q) * a, -eye])]).tocsc()
    h = np.concatenate([-q * y, (1 - q) * y]).astype(np.float64)
    p = sparse.diags(np.concatenate([np.full(d, lam), np.zeros(1 + n)])).tocsc()
    c = np.concatenate([np.zeros(d + 1), np.full(n, 1.0 / n)])
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    sol = clarabel.DefaultSolver(p, c, g, h, [clarabel.NonnegativeConeT(2 * n)], settings).solve()
    v = np.asarray(sol.x)
    coef = v[:d] / scaler.scale_
    out = {"coef": coef.tolist(), "intercept": [float(v[d] - coef @ scaler.mean_)]}
else:
    scaler = StandardScaler()
    z = scaler.fit_transform(x)
    if kind in ("bce", "ce"):
        from sklearn.linear_model import LogisticRegression
        m = LogisticRegression(C=1.0 / (n * lam), solver=variant, max_iter=1000).fit(z, y)
    elif kind == "poisson":
        from sklearn.linear_model import PoissonRegressor
        m = PoissonRegressor(alpha=lam, solver=variant, max_iter=1000).fit(z, y)
    elif kind == "sgd":
        from sklearn.linear_model import SGDClassifier
        m = SGDClassifier(loss="log_loss", alpha=lam, early_stopping=True, random_state=0)
        m.fit(z, y)
    elif kind == "hinge":
        # The same problem as mean hinge + λ/2‖w‖² when C = 1/(nλ); the intercept
        # is a synthetic feature of value 100 (its penalty ~1e-4 of the weights').
        from sklearn.svm import LinearSVC
        m = LinearSVC(C=1.0 / (n * lam), loss="hinge", dual=True, intercept_scaling=100.0,
                      tol=1e-5, max_iter=20000).fit(z, y)
    coef = np.atleast_2d(m.coef_) / scaler.scale_      # (k, d) on the original scale
    intercept = np.atleast_1d(m.intercept_) - coef @ scaler.mean_
    out = {"coef": coef.T.tolist(), "intercept": intercept.tolist()}
print(json.dumps(out))
"""


def peer_site() -> Path:
    """pandas (and its pure-Python deps) from this venv, for the peer interpreter.

    The oracle environment has scikit-learn but no pandas; the same NumPy and
    Python versions make this venv's pandas importable there, so the peer
    script reads the CSV the way a user's would.
    """
    import pandas

    site = Path(pandas.__file__).resolve().parent.parent
    target = DATA / "peer_site"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("pandas", "dateutil", "tzdata"):
        link = target / name
        if not link.exists() and (site / name).exists():
            link.symlink_to(site / name)
    return target


# --------------------------------------------------------------------------- fits


@dataclass(frozen=True)
class Fit:
    name: str
    label: str
    data: tuple[str, int, int]  # kind, rows, features
    kind: str  # objective
    lam: float
    ours: tuple[str, ...]
    peer_kind: str
    variants: tuple[str, ...]
    peer_label: str
    goal: str
    goal_ratio: float | None
    # The goal's objective part: "le" (losscli's objective ≤ the peer's, to
    # rounding), "within" (at most 1e-6 above it, relative), None (no such goal).
    objective_goal: str | None = None


FITS = (
    Fit(
        "mse",
        "`train` (mse)",
        ("reg", 1_000_000, 20),
        "mse",
        0.0,
        ("--loss", "mse"),
        "mse",
        ("-",),
        "LinearRegression",
        "≤ 0.8× time",
        0.8,
    ),
    Fit(
        "bce_l2",
        "`--loss bce --l2 1e-4`",
        ("bin", 1_000_000, 20),
        "bce",
        1e-4,
        ("--loss", "bce", "--l2", "1e-4"),
        "bce",
        ("lbfgs", "newton-cholesky"),
        "StandardScaler + LogisticRegression",
        "≤ 0.8× time, objective ≤ peer",
        0.8,
    ),
    Fit(
        "ce_l2",
        "`--loss ce --l2 1e-4`",
        ("mc", 200_000, 50),
        "ce",
        1e-4,
        ("--loss", "ce", "--l2", "1e-4"),
        "ce",
        # newton-cholesky is left out: on 510 parameters it builds a 510² Hessian
        # from 200k rows per iteration, and ran minutes where lbfgs takes seconds.
        ("lbfgs",),
        "LogisticRegression multinomial",
        "≤ 0.8× time, objective ≤ peer",
        0.8,
    ),
    Fit(
        "poisson_l2",
        "`--loss poisson --l2 1e-4`",
        ("pois", 1_000_000, 20),
        "poisson",
        1e-4,
        ("--loss", "poisson", "--l2", "1e-4"),
        "poisson",
        ("lbfgs", "newton-cholesky"),
        "PoissonRegressor",
        "≤ 0.8× time",
        0.8,
    ),
    Fit(
        "quantile",
        "`--loss quantile --quantile 0.8`",
        ("quant", 100_000, 20),
        "quantile",
        0.0,
        ("--loss", "quantile", "--quantile", "0.8"),
        "quantile",
        ("highs",),
        'QuantileRegressor(solver="highs")',
        "objective within 1e-6, ≤ 1.0× time",
        1.0,
    ),
    Fit(
        "quantile_l2",
        "`--loss quantile --quantile 0.8 --l2 1e-4`",
        ("quant", 100_000, 20),
        "quantile",
        1e-4,
        ("--loss", "quantile", "--quantile", "0.8", "--l2", "1e-4"),
        "quantile_qp",
        ("-",),
        "exact QP (clarabel interior point; no scikit-learn peer)",
        "objective within 1e-6, ≤ 1.0× time",
        1.0,
    ),
    Fit(
        "hinge_l2",
        "`--loss hinge --l2 1e-4`",
        ("bin", 100_000, 20),
        "hinge",
        1e-4,
        ("--loss", "hinge", "--l2", "1e-4"),
        "hinge",
        ("-",),
        "StandardScaler + LinearSVC(hinge, dual, C=1/(nλ))",
        "objective within 1e-6, ≤ 1.0× time",
        1.0,
    ),
    Fit(
        "bce_sgd",
        "`--loss bce --optimizer sgd --l2 1e-4 --val-split 0.1`",
        ("bin", 1_000_000, 20),
        "bce",
        1e-4,
        ("--loss", "bce", "--optimizer", "sgd", "--l2", "1e-4", "--val-split", "0.1"),
        "sgd",
        ("-",),
        "SGDClassifier(log_loss, early_stopping)",
        "≤ 1.5× time, objective no worse",
        1.5,
    ),
)


OBJECTIVE_GOALS = {
    "bce_l2": "le",
    "ce_l2": "le",
    "quantile": "within",
    "quantile_l2": "within",
    "hinge_l2": "within",
    "bce_sgd": "le",
}
FITS = tuple(replace(fit, objective_goal=OBJECTIVE_GOALS.get(fit.name)) for fit in FITS)
FIT_BY_NAME = {fit.name: fit for fit in FITS}


@dataclass
class Runs:
    seconds: list[float]
    rss: list[float]
    out: dict[str, Any]


PEER_TIMEOUT = 240.0  # seconds; a peer run beyond it is reported as "> 240 s"


def run_side(
    argv: list[str],
    env: dict[str, str],
    reps_out: Runs | None = None,
    timeout: float | None = None,
) -> Runs:
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "out.json"
        seconds, rss, _ = run_measured(
            argv, stdout_path=out_path, env=env, cwd=ROOT, timeout=timeout
        )
        parsed = json.loads(out_path.read_text())
    runs = reps_out or Runs([], [], {})
    runs.seconds.append(seconds)
    runs.rss.append(rss)
    runs.out = parsed
    return runs


def bench(
    fit: Fit, reps: int, shrink: int, peer_python: str, select: bool = True
) -> dict[str, Any]:
    kind, rows, d = fit.data
    path = dataset(kind, rows // shrink, d)
    ours_argv = [sys.executable, "-m", "losscli", "train", str(path), "--target", "y"]
    ours_argv += [*fit.ours, "-f", "json", "-q"]
    # As installed: bytecode cached (a session's PYTHONDONTWRITEBYTECODE=1 made every
    # losscli run compile its ~70 modules from source, 0.09 s; the peer's are cached).
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    peer_env = {**base_env, "PYTHONPATH": str(peer_site())}

    def peer(variant: str, threads: int) -> tuple[list[str], dict[str, str]]:
        env = {**peer_env, **{v: str(threads) for v in BLAS_VARS}}
        return [peer_python, "-c", PEER, str(path), fit.peer_kind, str(fit.lam), variant], env

    # Selection round: every variant at 1 and 2 BLAS threads, one run each
    # (skipped when there is one setting to try, or with --no-select).
    settings = [(v, t) for v in fit.variants for t in (1, 2)]
    best: tuple[float, str, int] | None = None
    timed_out = False
    if len(settings) > 1 and select:
        for variant, threads in settings:
            argv, env = peer(variant, threads)
            try:
                got = run_side(argv, env, timeout=PEER_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"  peer {variant}/{threads}: over {PEER_TIMEOUT:.0f} s", file=sys.stderr)
                continue
            except RuntimeError as exc:
                print(f"  peer {variant}/{threads} failed: {exc}", file=sys.stderr)
                continue
            if best is None or got.seconds[0] < best[0]:
                best = (got.seconds[0], variant, threads)
    if best is None:
        best = (math.inf, fit.variants[0], 1)
    _, variant, threads = best
    ours = Runs([], [], {})
    theirs = Runs([], [], {})
    peer_argv, peer_env_best = peer(variant, threads)
    # One unmeasured run of ours first, as the selection round is for the peer: it
    # writes losscli's bytecode (stale after any edit) and warms the page cache.
    run_side(ours_argv, base_env)
    for _ in range(reps):  # interleaved: a noisy minute hits both alike
        run_side(ours_argv, base_env, ours)
        if timed_out:
            continue
        try:
            run_side(peer_argv, peer_env_best, theirs, timeout=PEER_TIMEOUT)
        except subprocess.TimeoutExpired:
            timed_out = True
    x, y = load(path)
    f_ours = objective(fit.kind, fit.lam, x, y, ours.out)
    f_peer = objective(fit.kind, fit.lam, x, y, theirs.out) if theirs.out else math.nan
    t_ours = statistics.median(ours.seconds)
    t_peer = statistics.median(theirs.seconds) if theirs.seconds else PEER_TIMEOUT
    return {
        "fit": fit,
        "name": fit.name,
        "rows": rows // shrink,
        "d": d,
        "t_ours": t_ours,
        "t_peer": t_peer,
        "ratio": t_ours / t_peer,
        "rss_ours": statistics.median(ours.rss),
        "rss_peer": statistics.median(theirs.rss) if theirs.rss else math.nan,
        "timed_out": timed_out and not theirs.seconds,
        "f_ours": f_ours,
        "f_peer": f_peer,
        "peer": f"{variant if variant != '-' else ''}{', ' if variant != '-' else ''}"
        f"{threads} thread{'s' if threads > 1 else ''}",
        "ours_optimizer": ours.out.get("optimizer"),
        "ours_stop": ours.out.get("stop_reason"),
        "gap": (ours.out.get("gap") or {}).get("value"),
    }


def _rows(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _row(r: dict[str, Any]) -> str:
    """One Markdown row from one measured result (nothing typed in by hand)."""
    fit = FIT_BY_NAME[r["name"]]
    ok = "✓" if fit.goal_ratio is not None and r["ratio"] <= fit.goal_ratio else "✗"
    over = "> " if r.get("timed_out") else ""
    objective_mark = ""
    if r.get("timed_out") or not math.isfinite(r["f_peer"]):
        rel = "peer timed out: not compared"
    else:
        diff = (r["f_ours"] - r["f_peer"]) / max(abs(r["f_peer"]), 1e-300)
        rel = f"{diff:+.1e}"
        limit = {"le": 1e-12, "within": 1e-6}.get(fit.objective_goal or "")
        if limit is not None:
            objective_mark = f" (objective {'✓' if diff <= limit else '✗'})"
    gap = "—" if r["gap"] is None else f"{r['gap']:.1e}"
    rss_peer = "—" if not math.isfinite(r["rss_peer"]) else f"{r['rss_peer']:.0f}"
    return (
        f"| {fit.label} | {_rows(r['rows'])} × {r['d']} | {fit.peer_label} ({r['peer']}) "
        f"| {r['t_ours']:.2f} s / {over}{r['t_peer']:.2f} s = **{'< ' if over else ''}"
        f"{r['ratio']:.2f}×** {ok}{objective_mark} "
        f"| {fit.goal} | {rel} | {r['ours_optimizer']}, {r['ours_stop']}, {gap} "
        f"| {r['rss_ours']:.0f} / {rss_peer} |"
    )


HEADER = (
    "| fit | data | peer (fastest setting) | time losscli / peer | goal | "
    "objective losscli − peer (relative) | losscli: method, stop, gap | "
    "peak MB losscli / peer |\n"
    "|---|---|---|---|---|---|---|---|"
)


def table(results: list[dict[str, Any]], reps: int) -> str:
    """The results of this run alone, as printed on stdout."""
    lines = [
        f"Whole process on the same CSV, medians of {reps} interleaved runs (after one "
        "selection round per peer variant and thread count), on a shared 2-core machine "
        "(other sessions running: expect ±20%).",
        "",
        HEADER,
        *(_row(r) for r in results),
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- --write-readme
#
# Every measured row is kept in fit_results.json (one entry per fit, replaced
# when that fit is measured again, with its --reps and date), and the table
# between the markers in README.md and fit_results.md is rebuilt from that
# file alone: ``--only a,b --write-readme`` re-measures rows a and b and keeps
# the others as last measured.  A row of the old table with no stored result
# (measured before the store existed) is carried over verbatim until its fit
# is measured again.

RESULTS_JSON = HERE / "fit_results.json"
README = ROOT / "README.md"
RESULTS_MD = HERE / "fit_results.md"
MARK_START = "<!-- bench_fit.py --write-readme: start (generated; do not edit) -->"
MARK_END = "<!-- bench_fit.py --write-readme: end -->"


def _stored() -> dict[str, dict[str, Any]]:
    if not RESULTS_JSON.exists():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(RESULTS_JSON.read_text())
    return data


def _old_rows(text: str) -> dict[str, str]:
    """The rows of the marked table in ``text``, by their first cell (the fit's label)."""
    if MARK_START not in text or MARK_END not in text:
        return {}
    block = text.split(MARK_START, 1)[1].split(MARK_END, 1)[0]
    rows = {}
    for line in block.splitlines():
        cells = line.split(" | ")
        if line.startswith("| `") and len(cells) > 1:
            rows[cells[0][2:]] = line
    return rows


def generated_block(stored: dict[str, dict[str, Any]], old: dict[str, str]) -> str:
    """The marked block: the table in FITS order, then where each row's numbers come from."""
    rows, notes = [], []
    for fit in FITS:
        if fit.name in stored:
            r = stored[fit.name]
            rows.append(_row(r))
            notes.append(
                f"`{fit.name}`: median of {r['reps']} interleaved run(s)"
                f" per side, {r['date']}{' (peer timed out)' if r.get('timed_out') else ''}"
            )
        elif fit.label in old:
            rows.append(old[fit.label])
            notes.append(f"`{fit.name}`: carried over from an earlier run (not in the store)")
    provenance = "Rows measured: " + "; ".join(notes) + "."
    return "\n".join([MARK_START, HEADER, *rows, "", provenance, MARK_END])


def _replace_block(text: str, block: str) -> str:
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        return head + block + rest.split(MARK_END, 1)[1]
    raise SystemExit(f"no {MARK_START!r} … {MARK_END!r} markers to replace")


def write_readme(results: list[dict[str, Any]], reps: int) -> None:
    """Store this run's rows, then rebuild the marked tables of README.md and fit_results.md."""
    import datetime

    stored = _stored()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    for r in results:
        entry = {k: v for k, v in r.items() if k != "fit"}
        stored[r["name"]] = {**entry, "reps": reps, "date": date}
    if results:
        RESULTS_JSON.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    readme = README.read_text()
    old = _old_rows(readme)
    block = generated_block(stored, old)
    README.write_text(_replace_block(readme, block))
    RESULTS_MD.write_text(
        "Generated by `python benchmarks/bench_fit.py --write-readme` (see its docstring);"
        " the same table is in the README's Performance section.\n\n" + block + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="interleaved runs per side")
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows")
    parser.add_argument("--only", default="", help="comma list of fit names")
    parser.add_argument("--peer-python", default=PEER_PYTHON)
    parser.add_argument(
        "--no-select",
        action="store_true",
        help="skip the selection round (first variant, 1 thread)",
    )
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help="store these rows in fit_results.json and rebuild the README/fit_results.md table",
    )
    parser.add_argument(
        "--rebuild-readme",
        action="store_true",
        help="measure nothing: rebuild the README/fit_results.md table from fit_results.json",
    )
    args = parser.parse_args(argv)
    if args.rebuild_readme:
        write_readme([], args.reps)
        return 0
    chosen = {s for s in args.only.split(",") if s}
    results = []
    for fit in FITS:
        if chosen and fit.name not in chosen:
            continue
        print(f"{fit.name} ...", file=sys.stderr, flush=True)
        results.append(
            bench(fit, args.reps, 10 if args.quick else 1, args.peer_python, not args.no_select)
        )
        print(table(results[-1:], args.reps).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(results, args.reps))
    if args.write_readme:
        if args.quick:
            raise SystemExit("--write-readme takes the full sizes (drop --quick)")
        write_readme(results, args.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
