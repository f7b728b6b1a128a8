"""Seeded inputs of the evaluate tests, shared with tests/oracle/derive_evaluate.py.

Every array is rebuilt from a fixed seed, so the golden literals in
``tests/test_evaluate_baseline.py`` (computed by scikit-learn 1.9.1 from the
very same arrays) stay valid.
"""

from __future__ import annotations

import numpy as np

N = 257  # odd and prime: quantiles fall between rows, not on them


def regression(weighted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(1101)
    y = np.round(rng.gamma(2.0, 1.5, N) - 1.0, 4)
    pred = np.round(y + rng.normal(0.0, 0.8, N), 4)
    w = np.round(rng.uniform(0.2, 3.0, N), 3) if weighted else None
    return y, pred, w


def binary(weighted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(1102)
    y = (rng.random(N) < 0.3).astype(float)
    p = np.round(np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0.0, 0.15, N), 0.01, 0.99), 4)
    w = np.round(rng.uniform(0.2, 3.0, N), 3) if weighted else None
    return y, p, w


def multiclass(weighted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(1103)
    k = 4
    y = rng.choice(k, N, p=[0.1, 0.2, 0.3, 0.4]).astype(float)
    scores = rng.normal(0.0, 1.0, (N, k))
    scores[np.arange(N), y.astype(int)] += 1.0
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    w = np.round(rng.uniform(0.2, 3.0, N), 3) if weighted else None
    return y, p, w


def positive(weighted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(1104)
    y = np.round(rng.gamma(2.0, 1.5, N) + 0.05, 4)
    mu = np.round(y * np.exp(rng.normal(0.0, 0.3, N)), 4)
    w = np.round(rng.uniform(0.2, 3.0, N), 3) if weighted else None
    return y, mu, w
