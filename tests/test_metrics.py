"""Regression and classification metrics (losscli/metrics.py) against scikit-learn.

Golden values are literals, so the tests never need scikit-learn;
tests/oracle/derive_optim_metrics.py derives them, and
``test_golden_values_rederived`` re-runs it when scikit-learn is importable.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from losscli.fit.metrics import (
    METRICS,
    classification_metrics,
    metric_names,
    regression_metrics,
    roc_auc,
)

# ------------------------------------------------------------ golden inputs
# The oracle script tests/oracle/derive_optim_metrics.py imports these inputs and
# derives the golden values below from them with scikit-learn.

REGRESSION_CASES: list[tuple[str, list[float], list[float]]] = [
    ("general", [3.0, -0.5, 2.0, 7.0, 4.2], [2.5, 0.0, 2.0, 8.0, 3.9]),
    ("perfect", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
    ("worse-than-mean", [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]),
    ("constant-y-perfect", [2.0, 2.0, 2.0], [2.0, 2.0, 2.0]),
    ("constant-y-imperfect", [2.0, 2.0, 2.0], [1.0, 2.0, 3.0]),
]

CLASSIFICATION_CASES: list[tuple[str, list[int], list[Any]]] = [
    (
        "binary",
        [0, 0, 1, 1, 0, 1, 1, 0, 1, 0],
        [0.1, 0.4, 0.35, 0.8, 0.65, 0.9, 0.5, 0.2, 0.7, 0.55],
    ),
    ("binary-ties", [0, 1, 0, 1, 1, 0, 1, 0], [0.3, 0.3, 0.7, 0.7, 0.5, 0.5, 0.9, 0.1]),
    ("binary-clipped", [0, 1, 1, 0, 1], [0.0, 1.0, 0.0, 1.0, 0.6]),
    ("binary-perfect", [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]),
    ("binary-worst", [0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]),
    ("binary-none-predicted-positive", [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.5]),
    ("binary-single-class-1", [1, 1, 1], [0.2, 0.6, 0.9]),
    ("binary-single-class-0", [0, 0], [0.3, 0.7]),
    (
        "binary-two-columns",
        [0, 1, 1, 0, 1],
        [[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.45, 0.55], [0.1, 0.9]],
    ),
    (
        "multiclass",
        [0, 1, 2, 2, 1, 0, 2, 1],
        [
            [0.7, 0.2, 0.1],
            [0.1, 0.6, 0.3],
            [0.2, 0.2, 0.6],
            [0.3, 0.4, 0.3],
            [0.25, 0.5, 0.25],
            [0.5, 0.1, 0.4],
            [0.1, 0.1, 0.8],
            [0.6, 0.3, 0.1],
        ],
    ),
    (
        "multiclass-ties",
        [0, 1, 2, 0, 1, 2],
        [
            [0.4, 0.4, 0.2],
            [0.4, 0.4, 0.2],
            [0.2, 0.4, 0.4],
            [0.2, 0.4, 0.4],
            [0.4, 0.2, 0.4],
            [0.4, 0.2, 0.4],
        ],
    ),
    (
        "multiclass-class-2-never-predicted",
        [0, 1, 2, 2, 0, 1],
        [
            [0.6, 0.3, 0.1],
            [0.2, 0.5, 0.3],
            [0.5, 0.2, 0.3],
            [0.3, 0.4, 0.3],
            [0.7, 0.2, 0.1],
            [0.1, 0.8, 0.1],
        ],
    ),
    (
        "multiclass-perfect",
        [0, 1, 2],
        [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]],
    ),
    (
        "multiclass-single-class",
        [1, 1, 1],
        [[0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]],
    ),
]
ABSENT_CLASS_CASE: tuple[str, list[int], list[Any]] = (
    "multiclass-class-3-absent",
    [0, 1, 2, 2, 1, 0],
    [
        [0.5, 0.2, 0.2, 0.1],
        [0.2, 0.5, 0.2, 0.1],
        [0.1, 0.3, 0.5, 0.1],
        [0.4, 0.1, 0.3, 0.2],
        [0.3, 0.3, 0.3, 0.1],
        [0.25, 0.25, 0.25, 0.25],
    ],
)

# ----------------------------------------------------------- golden outputs
# scikit-learn 1.9.1, float64:
#   regression: mean_squared_error, mean_absolute_error, r2_score(y, y_pred).
#   classification, with pred = (p > 0.5) for 1-D p (LogisticRegression.predict's
#   rule) or argmax(P, axis=1), average = 'binary' for K = 2 else 'macro':
#   accuracy_score(y, pred); log_loss(y, p, labels=range(K));
#   precision_score / recall_score / f1_score(y, pred, average, zero_division=0);
#   roc_auc_score(y, p) for K = 2 (column 1 of a 2-column P),
#   roc_auc_score(y, P, multi_class='ovr', average='macro') for K > 2; None where
#   y has one class (sklearn: NaN + UndefinedMetricWarning). For
#   multiclass-class-3-absent, roc_auc = mean over present classes k of
#   roc_auc_score(y == k, P[:, k]) (sklearn's labels=range(4) call gives NaN).
SKLEARN: dict[str, dict[str, float | None]] = {
    "general": {
        "mse": 0.318,
        "mae": 0.4600000000000001,
        "r2": 0.9480256276150627,
    },
    "perfect": {
        "mse": 0.0,
        "mae": 0.0,
        "r2": 1.0,
    },
    "worse-than-mean": {
        "mse": 2.6666666666666665,
        "mae": 1.3333333333333333,
        "r2": -3.0,
    },
    "constant-y-perfect": {
        "mse": 0.0,
        "mae": 0.0,
        "r2": 1.0,
    },
    "constant-y-imperfect": {
        "mse": 0.6666666666666666,
        "mae": 0.6666666666666666,
        "r2": 0.0,
    },
    "binary": {
        "accuracy": 0.6,
        "log_loss": 0.5115807827423868,
        "precision": 0.6,
        "recall": 0.6,
        "f1": 0.6,
        "roc_auc": 0.8,
    },
    "binary-ties": {
        "accuracy": 0.625,
        "log_loss": 0.5897888611206099,
        "precision": 0.6666666666666666,
        "recall": 0.5,
        "f1": 0.5714285714285714,
        "roc_auc": 0.71875,
    },
    "binary-clipped": {
        "accuracy": 0.6,
        "log_loss": 14.51962648040006,
        "precision": 0.6666666666666666,
        "recall": 0.6666666666666666,
        "f1": 0.6666666666666666,
        "roc_auc": 0.49999999999999994,
    },
    "binary-perfect": {
        "accuracy": 1.0,
        "log_loss": 0.16425203348601802,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "roc_auc": 1.0,
    },
    "binary-worst": {
        "accuracy": 0.0,
        "log_loss": 1.9560115027140732,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "roc_auc": 0.0,
    },
    "binary-none-predicted-positive": {
        "accuracy": 0.5,
        "log_loss": 0.6911551381476511,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "roc_auc": 0.75,
    },
    "binary-single-class-1": {
        "accuracy": 0.6666666666666666,
        "log_loss": 0.7418746839526391,
        "precision": 1.0,
        "recall": 0.6666666666666666,
        "f1": 0.8,
        "roc_auc": None,
    },
    "binary-single-class-0": {
        "accuracy": 0.5,
        "log_loss": 0.7803238741323342,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "roc_auc": None,
    },
    "binary-two-columns": {
        "accuracy": 0.6,
        "log_loss": 0.4799954878005391,
        "precision": 0.6666666666666666,
        "recall": 0.6666666666666666,
        "f1": 0.6666666666666666,
        "roc_auc": 0.8333333333333333,
    },
    "multiclass": {
        "accuracy": 0.75,
        "log_loss": 0.6744637140695858,
        "precision": 0.7777777777777777,
        "recall": 0.7777777777777777,
        "f1": 0.7555555555555555,
        "roc_auc": 0.9166666666666666,
    },
    "multiclass-ties": {
        "accuracy": 0.16666666666666666,
        "log_loss": 1.1473397920608035,
        "precision": 0.08333333333333333,
        "recall": 0.16666666666666666,
        "f1": 0.1111111111111111,
        "roc_auc": 0.5,
    },
    "multiclass-class-2-never-predicted": {
        "accuracy": 0.6666666666666666,
        "log_loss": 0.6986228180384583,
        "precision": 0.4444444444444444,
        "recall": 0.6666666666666666,
        "f1": 0.5333333333333333,
        "roc_auc": 0.9583333333333334,
    },
    "multiclass-perfect": {
        "accuracy": 1.0,
        "log_loss": 0.2231435513142097,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "roc_auc": 1.0,
    },
    "multiclass-single-class": {
        "accuracy": 0.6666666666666666,
        "log_loss": 1.3040076684760487,
        "precision": 0.5,
        "recall": 0.3333333333333333,
        "f1": 0.4,
        "roc_auc": None,
    },
    "multiclass-class-3-absent": {
        "accuracy": 0.6666666666666666,
        "log_loss": 0.9789469185752665,
        "precision": 0.8333333333333334,
        "recall": 0.6666666666666666,
        "f1": 0.6666666666666666,
        "roc_auc": 0.875,
    },
}


def assert_metrics_equal(got: dict[str, float | None], expected: dict[str, float | None]) -> None:
    assert list(got) == list(expected)
    for key, value in expected.items():
        if value is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


@pytest.mark.parametrize(
    ("case", "y", "y_pred"), REGRESSION_CASES, ids=[c[0] for c in REGRESSION_CASES]
)
def test_regression_metrics_match_sklearn(case: str, y: list[float], y_pred: list[float]) -> None:
    assert_metrics_equal(regression_metrics(y, y_pred), SKLEARN[case])


CLASSIFICATION_ALL = [*CLASSIFICATION_CASES, ABSENT_CLASS_CASE]


@pytest.mark.parametrize(
    ("case", "y", "proba"), CLASSIFICATION_ALL, ids=[c[0] for c in CLASSIFICATION_ALL]
)
def test_classification_metrics_match_sklearn(case: str, y: list[int], proba: list[Any]) -> None:
    assert_metrics_equal(classification_metrics(y, proba), SKLEARN[case])


# --------------------------------------------------------------- regression


def test_constant_y_convention_survives_rounding_of_the_mean() -> None:
    # mean([0.1]*3) = 0.10000000000000002, so sklearn 1.9.1's "Σ(y−ȳ)² == 0" test
    # fails and r2_score gives 1.0 and -3.461531239023219e+31 for these two; the
    # target is constant, so the convention (1 if perfect, else 0) applies.
    assert regression_metrics([0.1] * 3, [0.1] * 3)["r2"] == 1.0
    assert regression_metrics([0.1] * 3, [0.2, 0.1, 0.0])["r2"] == 0.0


def test_r2_of_one_sample_is_undefined() -> None:
    # sklearn r2_score: NaN and UndefinedMetricWarning for fewer than two samples.
    assert regression_metrics([1.0], [2.0]) == {"mse": 1.0, "mae": 1.0, "r2": None}


@pytest.mark.parametrize(
    ("y", "y_pred", "message"),
    [
        ([], [], "zero samples"),
        ([1.0, 2.0], [1.0], "2 samples but the predictions have 1"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "one-dimensional"),
    ],
)
def test_regression_metrics_reject_bad_shapes(y: Any, y_pred: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        regression_metrics(y, y_pred)


# ----------------------------------------------------------- classification


def test_log_loss_clips_at_machine_epsilon() -> None:
    # sklearn log_loss clips to [eps, 1−eps]: a certain wrong answer costs −log(eps).
    got = classification_metrics([1, 0], [0.0, 1.0])["log_loss"]
    assert got == -math.log(np.finfo(np.float64).eps) == 36.04365338911715


def test_probability_one_half_predicts_class_0() -> None:
    # LogisticRegression.predict: class 1 iff decision > 0, i.e. p > 0.5.
    assert classification_metrics([0, 1], [0.5, 0.5])["accuracy"] == 0.5
    assert classification_metrics([0, 1], [0.5, 0.5000000000000001])["accuracy"] == 1.0


def test_roc_auc_is_exact_where_sklearn_rounds() -> None:
    # sklearn's trapezoid gives 0.49999999999999994 for binary-clipped; the
    # Mann–Whitney count is 6/12 exactly.
    assert classification_metrics([0, 1, 1, 0, 1], [0.0, 1.0, 0.0, 1.0, 0.6])["roc_auc"] == 0.5


def test_one_and_two_column_binary_inputs_agree() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(size=50)
    p[p == 0.5] = 0.4  # where p1 = p0 the two prediction rules would differ
    y = (rng.uniform(size=50) < p).astype(int)
    one = classification_metrics(y, p)
    two = classification_metrics(y, np.column_stack([1.0 - p, p]))
    assert_metrics_equal(two, one)


def test_labels_may_be_bool_or_whole_floats() -> None:
    expected = classification_metrics([0, 1, 1], [0.2, 0.7, 0.4])
    assert classification_metrics([False, True, True], [0.2, 0.7, 0.4]) == expected
    assert classification_metrics([0.0, 1.0, 1.0], [0.2, 0.7, 0.4]) == expected


@pytest.mark.parametrize(
    ("y", "proba", "message"),
    [
        ([0, 1], [0.2, 1.5], r"lie in \[0, 1\]"),
        ([0, 1], [-0.1, 0.5], r"lie in \[0, 1\]"),
        ([0, 1], [0.2, float("nan")], r"lie in \[0, 1\]"),
        ([0, 2], [0.2, 0.5], r"0\.\.1 for 2 probability columns"),
        ([0, -1], [0.2, 0.5], r"lie in 0\.\.1"),
        ([0, 1, 3], [[0.5, 0.3, 0.2]] * 3, r"0\.\.2 for 3"),
        ([0, 0.5], [0.2, 0.5], "whole numbers"),
        ([0, float("nan")], [0.2, 0.5], "whole numbers"),
        (["a", "b"], [0.2, 0.5], "integers"),
        ([0, 1, 1], [0.2, 0.5], "3 samples but the probabilities have 2"),
        ([], [], "zero samples"),
        ([0, 1], [[0.2], [0.5]], r"shape \(n,\) or \(n, K\) with K >= 2"),
    ],
)
def test_classification_metrics_reject_bad_input(y: Any, proba: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classification_metrics(y, proba)


def test_metrics_registry_names_the_keys_of_each_task() -> None:
    assert metric_names("regression") == ("mse", "mae", "r2")
    assert metric_names("classification") == (
        "accuracy", "log_loss", "precision", "recall", "f1", "roc_auc",
    )  # fmt: skip
    assert tuple(regression_metrics([1.0, 2.0], [1.0, 2.5])) == metric_names("regression")
    assert tuple(classification_metrics([0, 1], [0.3, 0.6])) == metric_names("classification")
    assert all(spec.name == name and spec.label for name, spec in METRICS.items())
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        metric_names("ranking")


# ------------------------------------------------------------------ roc auc


def pair_counting_auc(positive: list[bool], scores: list[float]) -> float | None:
    """The O(n²) definition: P(s₊ > s₋) + ½·P(s₊ = s₋), as an exact fraction."""
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return None
    twice = sum(2 * (a > b) + (a == b) for a in pos for b in neg)
    return float(Fraction(twice, 2 * len(pos) * len(neg)))


@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])),
        min_size=1,
        max_size=60,
    )
)
def test_roc_auc_equals_pair_counting_with_ties(rows: list[tuple[bool, float]]) -> None:
    positive, scores = [r[0] for r in rows], [r[1] for r in rows]
    # Few distinct scores, so ties are the rule; the result is exact, not approximate.
    assert roc_auc(positive, scores) == pair_counting_auc(positive, scores)


@given(
    st.lists(
        st.tuples(st.booleans(), st.floats(0.0, 1.0, allow_subnormal=True)),
        min_size=2,
        max_size=40,
    )
)
def test_roc_auc_equals_pair_counting_on_any_probabilities(rows: list[tuple[bool, float]]) -> None:
    positive, scores = [r[0] for r in rows], [r[1] for r in rows]
    assert roc_auc(positive, scores) == pair_counting_auc(positive, scores)
    y = np.array(positive, dtype=int)
    assert classification_metrics(y, scores)["roc_auc"] == pair_counting_auc(positive, scores)


def test_roc_auc_treats_signed_zeros_as_a_tie() -> None:
    assert roc_auc([True, False], [-0.0, 0.0]) == 0.5


def test_million_rows_are_vectorised() -> None:
    # A Python loop over samples would take far longer than this bound.
    rng = np.random.default_rng(0)
    n = 1_000_000
    logits = rng.normal(size=(n, 3))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, size=n)
    start = time.perf_counter()
    multi = classification_metrics(y, proba)
    binary = classification_metrics(y == 1, proba[:, 1])
    regression_metrics(logits[:, 0], logits[:, 1])
    assert time.perf_counter() - start < 10.0
    assert multi["roc_auc"] == pytest.approx(0.5, abs=0.01)  # random scores
    assert binary["roc_auc"] == pytest.approx(0.5, abs=0.01)


# --------------------------------------------------- optional re-derivation


def test_golden_values_rederived() -> None:
    pytest.importorskip("sklearn")
    from tests.oracle import derive_optim_metrics as derive

    assert derive.metrics_golden() == SKLEARN
