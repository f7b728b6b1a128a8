"""Golden optima for the full-batch solvers' tests (tests/test_solvers.py).

Fits scikit-learn's exact solvers on the sample data with the objective the
trainer minimises (features standardized with the population σ, penalty on
the standardized coefficients, coefficients mapped back by 1/σ) and prints
the literals.  Run from the repository root with the oracle environment:

    /work/oracle-venv/bin/python tests/oracle/derive_solvers.py

Objectives (n rows, s = Xw + b on standardized X):
  mse     mean (s − y)²                       LinearRegression
  lasso   mean (s − y)² + λ1‖w‖₁              Lasso(alpha = λ1/2)  (sklearn halves the mean)
  bce+l2  mean logloss + λ2/2‖w‖²             LogisticRegression(C = 1/(nλ2)), newton-cholesky
  ce+l2   the same, multinomial               LogisticRegression(C = 1/(nλ2)), lbfgs
  poisson mean (eˢ − y·s) + λ2/2‖w‖²          PoissonRegressor(alpha = λ2), newton-cholesky
  quantile mean pinball_q(y − s)              QuantileRegressor(alpha = 0, solver = "highs")
"""

from __future__ import annotations

import csv

import numpy as np
from sklearn.linear_model import (
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    QuantileRegressor,
)
from sklearn.metrics import log_loss, mean_pinball_loss

SAMPLES = "sample_data"


def load(name: str, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with open(f"{SAMPLES}/{name}", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    col = header.index(target)
    y_raw = [r[col] for r in body]
    try:
        y = np.array(y_raw, dtype=np.float64)
    except ValueError:
        y = np.array(y_raw)  # class names
    x = np.array([[float(v) for i, v in enumerate(r) if i != col] for r in body])
    mu, sigma = x.mean(axis=0), x.std(axis=0)
    return x, y, (x - mu) / sigma, sigma


def show(name: str, value: object) -> None:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    print(f"{name} = {value!r}")


def main() -> None:
    x, y, z, sigma = load("diabetes.csv", "y")
    n = len(y)
    ols = LinearRegression().fit(x, y)
    show("MSE_COEF", ols.coef_)
    show("MSE_INTERCEPT", float(ols.intercept_))
    show("MSE_OBJECTIVE", float(np.mean((ols.predict(x) - y) ** 2)))

    lam1 = 1.0
    lasso = Lasso(alpha=lam1 / 2, tol=1e-15, max_iter=1_000_000).fit(z, y)
    show("LASSO_COEF", lasso.coef_ / sigma)
    r = lasso.predict(z) - y
    show("LASSO_OBJECTIVE", float(np.mean(r * r) + lam1 * np.abs(lasso.coef_).sum()))

    lam2 = 1e-3
    pois = PoissonRegressor(alpha=lam2, solver="newton-cholesky", tol=1e-14, max_iter=1000)
    pois.fit(z, y)
    s = z @ pois.coef_ + pois.intercept_
    show("POISSON_COEF", pois.coef_ / sigma)
    show(
        "POISSON_OBJECTIVE",
        float(np.mean(np.exp(s) - y * s) + lam2 / 2 * float(pois.coef_ @ pois.coef_)),
    )

    q = 0.8
    qr = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(x, y)
    show("QUANTILE_OBJECTIVE", float(mean_pinball_loss(y, qr.predict(x), alpha=q)))

    x, yb, z, sigma = load("breast_cancer.csv", "target")
    n = len(yb)
    lam2 = 0.01
    logit = LogisticRegression(C=1 / (n * lam2), solver="newton-cholesky", tol=1e-14, max_iter=1000)
    logit.fit(z, yb)
    show("BCE_COEF", logit.coef_[0] / sigma)
    p = logit.predict_proba(z)
    show(
        "BCE_OBJECTIVE",
        float(log_loss(yb, p) + lam2 / 2 * float(logit.coef_[0] @ logit.coef_[0])),
    )

    x, ys, z, sigma = load("iris.csv", "species")
    n = len(ys)
    soft = LogisticRegression(C=1 / (n * lam2), solver="lbfgs", tol=1e-14, max_iter=100_000)
    soft.fit(z, ys)
    show("CE_COEF", (soft.coef_ / sigma).T)  # (features, classes) like losscli
    w = soft.coef_
    show(
        "CE_OBJECTIVE", float(log_loss(ys, soft.predict_proba(z)) + lam2 / 2 * float((w * w).sum()))
    )


if __name__ == "__main__":
    main()
