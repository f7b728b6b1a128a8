"""Derive the golden GLM optima in tests/test_train_glm.py (needs numpy and scikit-learn 1.9).

Run from the repository root:  /work/oracle-venv/bin/python tests/oracle/derive_glm.py
It prints the literals that tests/test_train_glm.py holds.

Penalty mapping: losscli minimises mean(deviance) + (λ2/2)‖w‖² over standardized
features (population standard deviation); scikit-learn's GLMs minimise
mean(deviance)/2 + (α/2)‖w‖², so α = λ2/2 on the same standardized features, and the
coefficients are mapped back to the original feature scale (w/sd, b − mean·w/sd).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import GammaRegressor, PoissonRegressor, TweedieRegressor

L2 = 0.02


def main() -> None:
    data = np.loadtxt("sample_data/diabetes.csv", delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1]
    mu, sd = x.mean(0), x.std(0)
    kw = {"alpha": L2 / 2, "tol": 1e-14, "max_iter": 100_000, "solver": "newton-cholesky"}
    models = {
        "GAMMA": GammaRegressor(**kw),
        "POISSON": PoissonRegressor(**kw),
        "TWEEDIE_1_5": TweedieRegressor(power=1.5, link="log", **kw),
    }
    for name, model in models.items():
        model.fit((x - mu) / sd, y)
        w = model.coef_ / sd
        print(f"# sklearn {type(model).__name__}: {model.get_params()}")
        print(f"{name}_COEF = {[float(v) for v in w]}")
        print(f"{name}_INTERCEPT = {float(model.intercept_ - mu @ w)!r}")


if __name__ == "__main__":
    main()
