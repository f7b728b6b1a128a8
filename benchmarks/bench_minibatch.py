"""Mini-batch epochs against scikit-learn's SGD epoch, and where a step's time goes.

Run from the repository root (the peer is scikit-learn from /work/oracle-venv,
or ``--peer-python``)::

    python benchmarks/bench_minibatch.py               # 1M×20, batches 1 (100k rows), 32, 256, 4096
    python benchmarks/bench_minibatch.py --reps 5 --batches 32
    python benchmarks/bench_minibatch.py --batches 32 --optimizer sgd,momentum,adam

Every measurement is a child process on the same seeded data (generated in
the child from the seed: no CSV), run interleaved — losscli, scikit-learn,
the lean NumPy loop, losscli, … — and the medians are compared.  An epoch is
(fit of 1 + k epochs − fit of 1 epoch)/k on both sides, so set-up (input
checks, copies, the warm-up) cancels out.  Every side runs on one thread (BLAS
too), and times are the child's CPU time (medians of ``--inner`` runs): on a
shared machine the wall clock also counts the minutes other sessions hold
the cores, which swung the peer's epoch from 0.3 to 0.8 s between rounds.

* **losscli**: ``fit`` with ``--optimizer sgd`` (``--optimizer``) at a constant rate and
  ``tol 0`` (so it runs the epochs asked), everything an epoch does:
  the shuffled gather, the steps, the epoch-mean average, the objective pass.
* **scikit-learn**: ``SGDRegressor`` (mse) / ``SGDClassifier(log_loss)``
  (bce) with ``learning_rate="constant"``, ``tol=None``: one sample per step
  (its only mode), in Cython.
* **lean NumPy**: the least a NumPy step can do — a hand-written loop over
  precomputed batch views of a pre-shuffled augmented matrix, four calls per
  step (``X_b·θ``, ``r − y``, ``rᵀX_b``, the update) — the floor of any
  pure-NumPy design, without the shuffle and the per-epoch objective.

The mse/batch-32 ratio to the peer is the issue's goal (≤ 1.0×).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_PYTHON = "/work/oracle-venv/bin/python"
SEED = 20261201
BLAS = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}

DATA = r"""
import json, statistics, sys, time
import numpy as np
side, loss, rows, batch, reps, seed, k, optimizer = sys.argv[1:9]
rows, batch, reps, seed, k = int(rows), int(batch), int(reps), int(seed), int(k)
rng = np.random.default_rng(seed)
d = 20
x = rng.standard_normal((rows, d))
score = x @ (rng.standard_normal(d) / np.sqrt(d))
if loss == "mse":
    y = score + rng.standard_normal(rows)
else:
    y = (rng.random(rows) < 1 / (1 + np.exp(-score))).astype(float)
lr = 0.001 if loss == "mse" else 0.01


def median(f):
    f()  # warm-up: page faults, caches
    times = []
    for _ in range(reps):
        t = time.process_time()  # CPU time: one thread per side, and no waiting for a core
        f()
        times.append(time.process_time() - t)
    return statistics.median(times)


def epoch(run):
    return (median(lambda: run(1 + k)) - median(lambda: run(1))) / k
"""

OURS = r"""
from losscli._process import tune_process
tune_process()
from losscli.losses import make_loss
from losscli.fit.objective import Objective
from losscli.fit.loop import TrainConfig, fit
obj = Objective(make_loss(loss), d, logits=loss == "bce")


def run(n):
    config = TrainConfig(
        optimizer=optimizer, lr=lr, batch_size=batch, epochs=n, tol=0.0, schedule="constant"
    )
    fit(obj, x, y, config)


print(json.dumps({"epoch": epoch(run)}))
"""

PEER = r"""
import warnings
warnings.simplefilter("ignore")
from sklearn.linear_model import SGDClassifier, SGDRegressor


def run(n):
    if loss == "mse":
        m = SGDRegressor(max_iter=n, tol=None, eta0=lr, learning_rate="constant", alpha=0.0)
    else:
        m = SGDClassifier(
            loss="log_loss", max_iter=n, tol=None, eta0=lr, learning_rate="constant", alpha=0.0
        )
    m.fit(x, y)


print(json.dumps({"epoch": epoch(run)}))
"""

LEAN = r"""
from scipy.special import expit
xa = np.hstack([x, np.ones((rows, 1))])[rng.permutation(rows)]
views = [(xa[s : s + batch], y[s : s + batch]) for s in range(0, rows, batch)]
factor = -lr * (2.0 if loss == "mse" else 1.0) / batch
r, g = np.empty(batch), np.empty(d + 1)


def run(n):
    theta = np.zeros(d + 1)
    for _ in range(n):
        for xb, yb in views:
            s = r[: len(yb)]
            np.matmul(xb, theta, out=s)
            if loss == "bce":
                expit(s, out=s)
            np.subtract(s, yb, out=s)
            np.matmul(s, xb, out=g)
            theta += factor * g  # (an allocation; in place costs one call more)


print(json.dumps({"epoch": epoch(run)}))
"""


def measure(python: str, code: str, args: list[str], tree: Path = ROOT) -> float:
    env = {**os.environ, **BLAS, "PYTHONPATH": str(tree)}
    # cwd = the tree: `python -c` puts the working directory first on sys.path
    out = subprocess.run(
        [python, "-c", DATA + code, *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    )
    return float(json.loads(out.stdout)["epoch"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="interleaved rounds per side")
    parser.add_argument("--inner", type=int, default=3, help="timed runs inside each child")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batches", default="1,32,256,4096")
    parser.add_argument("--losses", default="mse,bce")
    parser.add_argument(
        "--optimizer",
        default="sgd",
        help="losscli's optimizers, comma-separated (sgd, momentum, adam, …: the same peer)",
    )
    parser.add_argument("--peer-python", default=PEER_PYTHON)
    parser.add_argument(
        "--before",
        type=Path,
        help="another losscli source tree (e.g. `git archive` of an older commit) "
        "timed as a fourth side, interleaved: before/after ratios",
    )
    args = parser.parse_args(argv)
    sides = {
        "losscli": (sys.executable, OURS, ROOT),
        "sklearn": (args.peer_python, PEER, ROOT),
        "lean": (sys.executable, LEAN, ROOT),
    }
    if args.before:
        sides["before"] = (sys.executable, OURS, args.before.resolve())
    before = " | before | losscli / before" if args.before else ""
    lines = [
        f"`bench_minibatch.py {' '.join(argv if argv is not None else sys.argv[1:])}`: "
        f"CPU seconds per epoch, medians of {args.reps} interleaved rounds.",
        "",
        "| optimizer | loss | rows × 20 | batch | losscli epoch "
        "| scikit-learn epoch (1 sample/step) "
        f"| lean NumPy loop | losscli / scikit-learn | losscli / lean{before} |",
        "|---|---|---|---|---|---|---|---|---|" + ("---|---|" if args.before else ""),
    ]
    print("\n".join(lines), flush=True)
    cases = [
        (optimizer, loss, batch)
        for optimizer in args.optimizer.split(",")
        for loss in args.losses.split(",")
        for batch in map(int, args.batches.split(","))
    ]
    for optimizer, loss, batch in cases:
        rows = args.rows // 10 if batch == 1 else args.rows
        k = 2
        times: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.reps):  # interleaved: a noisy minute hits every side alike
            for name, (python, code, tree) in sides.items():
                if name == "sklearn" and not Path(python).exists():
                    continue
                child = [name, loss, str(rows), str(batch), str(args.inner), str(SEED), str(k)]
                child.append(optimizer)
                times[name].append(measure(python, code, child, tree))
        med = {name: statistics.median(v) if v else float("nan") for name, v in times.items()}
        ours = med["losscli"]
        extra = f" {med['before']:.3f} s | {ours / med['before']:.2f}× |" if args.before else ""
        lines.append(
            f"| {optimizer} | {loss} | {rows:,} | {batch} | {ours:.3f} s | {med['sklearn']:.3f} s "
            f"| {med['lean']:.3f} s | **{ours / med['sklearn']:.2f}×** "
            f"| {ours / med['lean']:.2f}× |{extra}"
        )
        print(lines[-1], flush=True)
    (HERE / "minibatch_results.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
