"""Our L-BFGS against scipy's L-BFGS-B on the same objectives, to the same certificate.

Run from the repository root::

    python benchmarks/bench_lbfgs.py            # ce 200k×50 (bench_fit's CSV), and smaller fits
    python benchmarks/bench_lbfgs.py --quick    # without the 200k×50 problem

Both minimisers get the same value-and-gradient function (the fit's
objective through its DataSource) and the same stop rule — the fit's
certificate, checked after every iteration as ``solvers.lbfgs`` does — so
the figures compare the algorithms alone: iterations, evaluations of
f and ∇f (each a pass over the rows), the objective reached and CPU time
(one BLAS thread, as the command line runs; medians of ``--reps``
interleaved repeats).  scipy's variant is the one losscli used before
(L-BFGS-B, memory 20, ftol = gtol = 0).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from losscli.fit import solvers  # noqa: E402
from losscli.fit.data import InMemory  # noqa: E402
from losscli.fit.objective import Objective  # noqa: E402
from losscli.losses import make_loss  # noqa: E402
from losscli.losses.links import LOG, LOGIT, SOFTMAX  # noqa: E402
from losscli.train import scaling, standardize_in_place  # noqa: E402


def scipy_lbfgs(obj: Objective, data: Any, theta: np.ndarray, tol: float) -> solvers.SolveResult:
    """losscli's solver before: scipy L-BFGS-B, stopped on the same certificate."""
    from scipy.optimize import minimize

    last: dict[str, Any] = {}
    done: dict[str, Any] = {}
    count = [0]

    def fun(th: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            f, g = solvers._value_grad(obj, th, data)
        except solvers.SolverDiverged:
            return math.inf, np.zeros_like(th)
        last.update(theta=th.copy(), f=f, g=g)
        return f, g

    def callback(intermediate_result: Any) -> None:
        count[0] += 1
        xk = intermediate_result.x
        if not np.array_equal(xk, last["theta"]):
            fun(xk)
        g, f = last["g"], last["f"]
        if solvers._hopeful(obj, g, f, tol):  # the same stop rule as ours
            cert = solvers.certify(obj, last["theta"], data, grad=g)
            if cert.certifies(f, tol):
                done.update(theta=last["theta"], f=f, cert=cert)
                raise StopIteration

    minimize(
        fun,
        theta.copy(),
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": 1000, "maxfun": 4000, "ftol": 0.0, "gtol": 0.0, "maxcor": 20},
    )
    if not done:
        f, g = solvers._value_grad(obj, last["theta"], data)
        cert = solvers.certify(obj, last["theta"], data, grad=g)
        return solvers.SolveResult(last["theta"], False, count[0], f, cert)
    return solvers.SolveResult(done["theta"], True, count[0], done["f"], done["cert"])


def counting(obj: Objective) -> tuple[Objective, list[int]]:
    """The objective with its value-and-gradient pass counted."""
    calls = [0]
    original = Objective.data_smooth_value_and_grad

    class Counted(Objective):
        def data_smooth_value_and_grad(self, theta: Any, data: Any) -> Any:
            calls[0] += 1
            return original(self, theta, data)

    return Counted(**obj.__dict__), calls


def problem(name: str) -> tuple[Objective, InMemory, np.ndarray]:
    """(objective, data, start) of one benchmark problem, features standardized."""
    rng = np.random.default_rng(20261201)
    if name == "ce 200k×50 (bench_fit)":
        import pandas as pd

        path = HERE / "data" / "fit_mc_200000x50_s20261201.csv"
        if not path.exists():
            from bench_fit import dataset

            path = dataset("mc", 200_000, 50)
        frame = pd.read_csv(path, engine="pyarrow")
        y = frame.pop("y").to_numpy().astype(np.float64)
        x = np.array(frame.to_numpy(np.float64))  # writable: standardized in place
        loss, k, l2, link = "cross_entropy", 10, 1e-4, SOFTMAX
    elif name == "ce 50k×20, 5 classes, l2 1e-2":
        x = rng.normal(size=(50_000, 20)) * rng.uniform(0.5, 9.0, 20)
        x[:, 1::2] += x[:, ::2]
        logits = (x / x.std(axis=0)) @ rng.normal(size=(20, 5)) / 3
        y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1).astype(np.float64)
        loss, k, l2, link = "cross_entropy", 5, 1e-2, SOFTMAX
    elif name == "bce 100k×600 (lbfgs: d > 500)":
        x = rng.normal(size=(100_000, 600))
        y = (rng.random(100_000) < 1 / (1 + np.exp(-x[:, :10].sum(axis=1) / 3))).astype(float)
        loss, k, l2, link = "bce", 1, 1e-4, LOGIT
    elif name == "focal 200k×20 (no Hessian)":
        x = rng.normal(size=(200_000, 20))
        y = (rng.random(200_000) < 1 / (1 + np.exp(-x @ rng.normal(size=20) / 2))).astype(float)
        loss, k, l2, link = "focal", 1, 1e-3, LOGIT
    elif name == "poisson 100k×600":
        x = rng.normal(size=(100_000, 600))
        y = rng.poisson(np.exp(0.3 * x[:, :10].sum(axis=1) / 3 + 0.5)).astype(float)
        loss, k, l2, link = "poisson", 1, 1e-4, LOG
    else:
        raise ValueError(name)
    mu, sigma = scaling(x, center=True)
    standardize_in_place(x, mu, sigma)
    obj = Objective(make_loss(loss), x.shape[1], outputs=k, logits=True, l2=l2)
    theta = np.zeros(obj.size)
    theta[obj.n_features * k :] = link.intercept_only(y, k)
    return obj, InMemory(x, y, None), theta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    names = [
        "ce 200k×50 (bench_fit)",
        "ce 50k×20, 5 classes, l2 1e-2",
        "bce 100k×600 (lbfgs: d > 500)",
        "focal 200k×20 (no Hessian)",
        "poisson 100k×600",
    ]
    if args.quick:
        names = names[1:2] + names[3:4]
    print(
        "| problem | solver | iterations | f, ∇f passes | objective | certificate | "
        "CPU s (median) |\n|---|---|---|---|---|---|---|"
    )
    for name in names:
        obj, data, theta = problem(name)
        counted, calls = counting(obj)
        variants: dict[str, Callable[[], solvers.SolveResult]] = {
            "scipy L-BFGS-B (before)": partial(scipy_lbfgs, counted, data, theta, 1e-14),
            "losscli L-BFGS, no preconditioner": partial(_ours, counted, data, theta, False),
            "losscli L-BFGS": partial(_ours, counted, data, theta, True),
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        results: dict[str, tuple[solvers.SolveResult, int]] = {}
        for _ in range(args.reps):
            for label, run in variants.items():
                calls[0] = 0
                start = time.process_time()
                out = run()
                times[label].append(time.process_time() - start)
                results[label] = (out, calls[0])
        for label, (out, passes) in results.items():
            print(
                f"| {name} | {label} | {out.iterations} | {passes} | {out.objective!r} | "
                f"{out.certificate.kind} {out.certificate.value:.1e}"
                f"{'' if out.converged else ' (not certified)'} | "
                f"{statistics.median(times[label]):.2f} |",
                flush=True,
            )
    return 0


def _ours(obj: Objective, data: Any, theta: np.ndarray, precondition: bool) -> Any:
    solvers.PRECONDITION = precondition
    try:
        return solvers.lbfgs(obj, data, theta, tol=1e-14, max_iter=1000)
    finally:
        solvers.PRECONDITION = True


if __name__ == "__main__":
    sys.exit(main())
