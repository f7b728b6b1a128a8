"""Golden optima for the kinked-loss + L2 solver's tests (tests/test_kinked_qp.py).

An independent exact QP: clarabel's interior point (``pip install clarabel``
into the oracle environment; never a losscli dependency) on the epigraph form

    min_{w, b, ξ}  (1/S) Σ sᵢξᵢ + (λ/2)‖w‖²,   ξᵢ ≥ each affine piece of ℓᵢ(xᵢ·w + b)

on the sample data standardized with the population σ (as the trainer does;
the penalty on the standardized coefficients), coefficients mapped back by
1/σ.  Tolerances 1e-12; the objective is recomputed from (w, b) in NumPy.
Run from the repository root:

    /work/oracle-venv/bin/python tests/oracle/derive_kinked_qp.py

Cases: CASES (file, target, loss, parameter, λ2, sample weights, intercept) and
CASES_ENET (the same with λ1: + λ1‖w‖₁ through v ≥ |w|).
"""

from __future__ import annotations

import csv

import clarabel
import numpy as np
from scipy import sparse

SAMPLES = "sample_data"

CASES = [
    # name, file, target, loss, param, lam, weighted, intercept
    ("QUANTILE_L2", "diabetes.csv", "y", "quantile", 0.8, 0.1, False, True),
    ("MAE_L2", "diabetes.csv", "y", "mae", None, 1.0, False, True),
    ("EPS_L2", "diabetes.csv", "y", "epsilon_insensitive", 5.0, 0.5, False, True),
    ("HINGE_L2", "breast_cancer.csv", "target", "hinge", None, 0.01, False, True),
    ("QUANTILE_L2_WEIGHTED", "diabetes.csv", "y", "quantile", 0.3, 0.1, True, True),
    ("HINGE_L2_WEIGHTED", "breast_cancer.csv", "target", "hinge", None, 0.01, True, True),
    ("HINGE_L2_NO_INTERCEPT", "breast_cancer.csv", "target", "hinge", None, 0.01, False, False),
]
# Elastic net: name, file, target, loss, param, λ2, λ1 (objective + λ1‖w‖₁, v ≥ |w| epigraph)
CASES_ENET = [
    ("QUANTILE_ENET", "diabetes.csv", "y", "quantile", 0.8, 0.1, 0.05),
    ("HINGE_ENET", "breast_cancer.csv", "target", "hinge", None, 0.01, 0.01),
    ("EPS_ENET", "diabetes.csv", "y", "epsilon_insensitive", 5.0, 0.5, 0.05),
]


def load(
    name: str, target: str, center: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, Z, σ) as the trainer builds them: centred and scaled by the population σ;
    without an intercept, scaled by the root mean square and not centred."""
    with open(f"{SAMPLES}/{name}", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    col = header.index(target)
    y = np.array([float(r[col]) for r in body])
    x = np.array([[float(v) for i, v in enumerate(r) if i != col] for r in body])
    mu = x.mean(axis=0) if center else np.zeros(x.shape[1])
    sigma = np.sqrt(((x - mu) ** 2).mean(axis=0))
    return x, y, (x - mu) / sigma, sigma


def weights(n: int) -> np.ndarray:
    """The tests' sample weights: 1 + (i mod 5)/2, a fixed pattern with no RNG."""
    return 1.0 + (np.arange(n) % 5) / 2.0


def pieces(loss: str, param: float | None, y: np.ndarray) -> list[tuple[float, np.ndarray, float]]:
    """ℓ(s) = max over pieces (slope k on r = y − s, offset c): k·r + c; plus the 0 piece."""
    if loss == "quantile":
        return [(param, y, 0.0), (param - 1.0, y, 0.0)]
    if loss == "mae":
        return [(1.0, y, 0.0), (-1.0, y, 0.0)]
    if loss == "epsilon_insensitive":
        return [(1.0, y, -param), (-1.0, y, -param), (0.0, y, 0.0)]
    raise ValueError(loss)


def solve(z, y, s, loss, param, lam, intercept, lam1=0.0):
    n, d = z.shape
    big_s = float(s.sum())
    a = np.hstack([z, np.ones((n, 1)) if intercept else np.zeros((n, 1))])
    eye = np.eye(n)
    g_rows, h_rows = [], []
    if loss == "hinge":
        sign = 2.0 * y - 1.0
        # ξ ≥ 1 − sign·s  and  ξ ≥ 0
        g_rows += [np.hstack([-(sign[:, None] * a), -eye]), np.hstack([np.zeros((n, d + 1)), -eye])]
        h_rows += [-np.ones(n), np.zeros(n)]
    else:
        for k, t, c in pieces(loss, param, y):
            # ξ ≥ k(t − Aθ) + c  ⇔  −kAθ − ξ ≤ −kt − c
            g_rows.append(np.hstack([-k * a, -eye]))
            h_rows.append(-k * t - c)
    g_dense = np.vstack(g_rows)
    h = np.concatenate(h_rows)
    p_diag = np.concatenate([np.full(d, lam), [0.0 if intercept else 1.0], np.zeros(n)])
    q = np.concatenate([np.zeros(d + 1), s / big_s])
    if lam1:
        # v ≥ w and v ≥ −w, cost λ1Σv: the L1 term as an epigraph
        g_dense = np.hstack([g_dense, np.zeros((g_dense.shape[0], d))])
        wrows = np.zeros((2 * d, d + 1 + n + d))
        wrows[:d, :d] = np.eye(d)
        wrows[:d, d + 1 + n :] = -np.eye(d)
        wrows[d:, :d] = -np.eye(d)
        wrows[d:, d + 1 + n :] = -np.eye(d)
        g_dense = np.vstack([g_dense, wrows])
        h = np.concatenate([h, np.zeros(2 * d)])
        p_diag = np.concatenate([p_diag, np.zeros(d)])
        q = np.concatenate([q, np.full(d, lam1)])
    g = sparse.csc_matrix(g_dense)
    p = sparse.diags(p_diag)
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = 1e-12
    settings.max_iter = 500
    sol = clarabel.DefaultSolver(p.tocsc(), q, g, h, [clarabel.NonnegativeConeT(len(h))], settings)
    out = sol.solve()
    assert str(out.status) == "Solved", out.status
    v = np.asarray(out.x)
    return v[:d], float(v[d]) if intercept else 0.0


def objective(z, y, s, loss, param, lam, w, b, lam1=0.0) -> float:
    score = z @ w + b
    if loss == "hinge":
        ell = np.maximum(0.0, 1.0 - (2.0 * y - 1.0) * score)
    else:
        r = y - score
        if loss == "quantile":
            ell = np.maximum(param * r, (param - 1.0) * r)
        elif loss == "mae":
            ell = np.abs(r)
        else:
            ell = np.maximum(np.abs(r) - param, 0.0)
    penalty = 0.5 * lam * float(w @ w) + lam1 * float(np.abs(w).sum())
    return float(s @ ell) / float(s.sum()) + penalty


def main() -> None:
    print("# ---- clarabel exact QP (tests/oracle/derive_kinked_qp.py) ----")
    for name, file, target, loss, param, lam, weighted, intercept in CASES:
        _, y, z, sigma = load(file, target, center=intercept)
        s = weights(len(y)) if weighted else np.ones(len(y))
        w, b = solve(z, y, s, loss, param, lam, intercept)
        f = objective(z, y, s, loss, param, lam, w, b)
        coef = w / sigma
        print(f"{name}_OBJECTIVE = {f!r}")
        print(f"{name}_COEF = {[float(c) for c in coef]!r}")
    for name, file, target, loss, param, lam, lam1 in CASES_ENET:
        _, y, z, sigma = load(file, target)
        s = np.ones(len(y))
        w, b = solve(z, y, s, loss, param, lam, True, lam1)
        print(f"{name}_OBJECTIVE = {objective(z, y, s, loss, param, lam, w, b, lam1)!r}")
        print(f"{name}_COEF = {[float(c) for c in w / sigma]!r}")


if __name__ == "__main__":
    main()
