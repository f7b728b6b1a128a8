"""Derive the golden optima in tests/test_train.py (needs numpy and scikit-learn).

Run from the repository root with a virtualenv outside the repo that has
scikit-learn 1.9:  /work/oracle/bin/python tests/oracle/derive_train.py
It prints the literals that tests/test_train.py holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.preprocessing import StandardScaler


def newton_logistic(a: np.ndarray, y: np.ndarray, lam: float, penalised: np.ndarray) -> np.ndarray:
    """Exact L2-logistic optimum: Newton's method to machine precision."""
    n = len(y)
    w = np.zeros(a.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a @ w)))
        g = a.T @ (p - y) / n + lam * penalised * w
        h = (a * (p * (1 - p))[:, None]).T @ a / n + lam * np.diag(penalised)
        step = np.linalg.solve(h, g)
        w -= step
        if np.max(np.abs(step)) < 1e-16 * np.max(np.abs(w)):
            break
    return w


def main() -> None:
    d = pd.read_csv("sample_data/diabetes.csv")
    x, y = d.drop(columns="y").to_numpy(float), d["y"].to_numpy(float)
    sol = np.linalg.lstsq(np.c_[x, np.ones(len(y))], y, rcond=None)[0]
    print("LSTSQ_COEF =", [float(v) for v in sol[:-1]])
    print("LSTSQ_INTERCEPT =", float(sol[-1]))

    sc = StandardScaler().fit(x)
    lasso = Lasso(alpha=0.5, tol=1e-14, max_iter=1_000_000).fit(sc.transform(x), y)
    w = lasso.coef_ / sc.scale_
    print("LASSO_COEF =", [float(v) for v in w])
    print("LASSO_INTERCEPT =", float(lasso.intercept_ - sc.mean_ @ w))

    b = pd.read_csv("sample_data/breast_cancer.csv")
    x, y = b.drop(columns="target").to_numpy(float), b["target"].to_numpy(float)
    n, lam = len(y), 0.01
    mu, sd = x.mean(0), x.std(0)
    v = newton_logistic(np.c_[(x - mu) / sd, np.ones(n)], y, lam, np.r_[np.ones(30), 0])
    w_std = v[:30] / sd
    print("LOGISTIC_STD_COEF =", [float(c) for c in w_std])
    print("LOGISTIC_STD_INTERCEPT =", float(v[30] - mu @ w_std))
    sk = LogisticRegression(C=1 / (n * lam), tol=1e-10, max_iter=100000).fit(
        StandardScaler().fit_transform(x), y
    )
    print(
        "# sklearn pipeline agrees to",
        float(np.max(np.abs(sk.coef_[0] / sd - w_std) / np.abs(w_std))),
    )
    v = newton_logistic(np.c_[x, np.ones(n)], y, lam, np.r_[np.ones(30), 0])
    print("LOGISTIC_RAW_COEF =", [float(c) for c in v[:30]])
    print("LOGISTIC_RAW_INTERCEPT =", float(v[30]))
    sk = LogisticRegression(C=1 / (n * lam), tol=1e-12, max_iter=1_000_000).fit(x, y)
    print("# sklearn raw agrees to", float(np.max(np.abs(sk.coef_[0] - v[:30]) / np.abs(v[:30]))))


if __name__ == "__main__":
    main()
