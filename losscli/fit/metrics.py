"""Regression and classification metrics, matching scikit-learn 1.9.

Only NumPy, vectorised (a million rows take well under a second, dominated by
the sorts of ROC AUC). Each function returns a plain ``dict`` keyed by the
snake_case names of ``METRICS``, in registry order, so the trainer can print or
serialise it as it is. A metric that is undefined for the data (ROC AUC with one
class present, R² with fewer than two samples) is ``None`` rather than NaN, so
JSON output stays valid (``null``).

References (scikit-learn 1.9, the oracle of the golden tests):
``mean_squared_error``, ``mean_absolute_error``, ``r2_score``, ``accuracy_score``,
``log_loss``, ``precision_score``/``recall_score``/``f1_score`` (zero_division=0)
and ``roc_auc_score``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from losscli._types import FloatArray as Array
    from losscli._types import IntArray

__all__ = [
    "METRICS",
    "MetricSpec",
    "classification_metrics",
    "metric_names",
    "regression_metrics",
    "roc_auc",
]


# sklearn's log_loss clips probabilities to [eps, 1 − eps] with the dtype's
# machine epsilon, so a confident wrong prediction costs −log(eps) ≈ 36.04, not ∞.
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class MetricSpec:
    """One metric: ``task`` is ``"regression"`` or ``"classification"``."""

    name: str
    task: str
    label: str
    description: str
    greater_is_better: bool


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("mse", "regression", "MSE", "mean squared error", False),
        MetricSpec("mae", "regression", "MAE", "mean absolute error", False),
        MetricSpec("r2", "regression", "R²", "coefficient of determination", True),
        MetricSpec("accuracy", "classification", "accuracy", "fraction predicted right", True),
        MetricSpec("log_loss", "classification", "log loss", "mean −log p(true class)", False),
        MetricSpec("precision", "classification", "precision", "binary: class 1; else macro", True),
        MetricSpec("recall", "classification", "recall", "binary: class 1; else macro", True),
        MetricSpec("f1", "classification", "F1", "binary: class 1; else macro", True),
        MetricSpec("roc_auc", "classification", "ROC AUC", "binary, or one-vs-rest macro", True),
    )
}


def metric_names(task: str) -> tuple[str, ...]:
    """Names of the metrics reported for ``task``, in display order."""
    names = tuple(spec.name for spec in METRICS.values() if spec.task == task)
    if not names:
        tasks = sorted({spec.task for spec in METRICS.values()})
        raise ValueError(f"unknown task {task!r} (choose from: {', '.join(tasks)})")
    return names


# ------------------------------------------------------------------ regression


def regression_metrics(y: ArrayLike, y_pred: ArrayLike) -> dict[str, float | None]:
    """MSE, MAE and R² of predictions ``y_pred`` for targets ``y`` (both shape (n,)).

    R² = 1 − Σ(y−ŷ)²/Σ(y−ȳ)², as ``r2_score``. For a constant ``y`` it follows
    sklearn's convention (force_finite): 1.0 for perfect predictions, else 0.0.
    Constant means ``min(y) == max(y)``: sklearn tests ``Σ(y−ȳ)² == 0``, which a
    rounding error in ȳ can miss (y = [0.1]*3 gives it a meaningless −1e31). R²
    with fewer than two samples is undefined (sklearn: NaN): None here.
    """
    yt = _as_float_vector(y, "y")
    yp = _as_float_vector(y_pred, "y_pred")
    _check_same_length(yt, yp)
    residual = yt - yp
    squared = np.square(residual)
    ss_res = float(squared.sum())
    r2: float | None
    if yt.shape[0] < 2:
        r2 = None
    elif yt.min() == yt.max():
        r2 = 1.0 if ss_res == 0.0 else 0.0
    else:
        ss_tot = float(np.square(yt - yt.mean()).sum())
        r2 = 1.0 - ss_res / ss_tot
    return {
        "mse": float(np.mean(squared)),
        "mae": float(np.mean(np.abs(residual))),
        "r2": r2,
    }


# -------------------------------------------------------------- classification


def classification_metrics(y: ArrayLike, proba: ArrayLike) -> dict[str, float | None]:
    """Accuracy, log loss, precision, recall, F1 and ROC AUC.

    ``y``: class indices 0..K−1, shape (n,). ``proba``: shape (n,) = P(class 1)
    for a binary model, or (n, K) rows of class probabilities.

    Predicted class: ``p > 0.5`` for a 1-D ``proba`` (LogisticRegression.predict,
    so p = 0.5 predicts 0); the row's argmax otherwise (ties → lowest index).
    With K = 2, precision/recall/F1 are those of class 1 (sklearn's binary
    average); with K > 2 they are macro averages over the classes present in
    ``y`` or in the predictions (sklearn's default labels). ``zero_division=0``.

    Log loss is over all K classes (sklearn ``log_loss(labels=range(K))``,
    probabilities clipped to [eps, 1−eps], eps = float64 machine epsilon, no
    renormalisation). ROC AUC: binary = ``roc_auc_score`` on P(class 1); K > 2 =
    one-vs-rest macro average over the classes present in ``y`` (equal to
    ``roc_auc_score(multi_class='ovr')`` when all K are present; sklearn returns
    NaN otherwise). None when ``y`` holds a single class.
    """
    scores = np.asarray(proba, dtype=np.float64)
    if scores.ndim not in (1, 2) or (scores.ndim == 2 and scores.shape[1] < 2):
        raise ValueError(
            f"probabilities must have shape (n,) or (n, K) with K >= 2, got {scores.shape}"
        )
    if scores.shape[0] == 0:
        raise ValueError("cannot compute metrics of zero samples")
    n_classes = 2 if scores.ndim == 1 else scores.shape[1]
    labels = _as_labels(y, n_classes)
    if labels.shape[0] != scores.shape[0]:
        raise ValueError(
            f"y has {labels.shape[0]} samples but the probabilities have {scores.shape[0]}"
        )
    lo, hi = float(scores.min()), float(scores.max())
    if not (lo >= 0.0 and hi <= 1.0):  # also catches NaN
        raise ValueError(f"probabilities must lie in [0, 1], got values in [{lo!r}, {hi!r}]")

    if scores.ndim == 1:
        predicted = (scores > 0.5).astype(np.int64)
        # Probability given to the true class; 1 − p is taken before clipping, as sklearn.
        p_true = np.where(labels == 1, scores, 1.0 - scores)
    else:
        predicted = np.argmax(scores, axis=1)
        p_true = np.take_along_axis(scores, labels[:, None], axis=1)[:, 0]
    np.clip(p_true, _EPS, 1.0 - _EPS, out=p_true)
    log_loss = -float(np.mean(np.log(p_true)))

    precision, recall, f1 = _precision_recall_f1(labels, predicted, n_classes)
    if n_classes == 2:
        auc = roc_auc(labels == 1, scores if scores.ndim == 1 else scores[:, 1])
    else:
        auc = _ovr_macro_auc(labels, scores)
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "log_loss": log_loss,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": auc,
    }


def roc_auc(positive: ArrayLike, scores: ArrayLike) -> float | None:
    """Area under the ROC curve of ``scores`` for the boolean labels ``positive``.

    The Mann–Whitney form: AUC = P(score₊ > score₋) + ½·P(score₊ = score₋), which
    equals the trapezoidal area of ``roc_auc_score``. Sort once, group tied
    scores, and for each group add pos·(negatives below) + ½·pos·neg: O(n log n).
    The sum is kept doubled in int64, so it is exact and the result is one
    correctly rounded division. None when either class is absent.
    """
    pos = np.asarray(positive, dtype=np.bool_)
    s = np.asarray(scores, dtype=np.float64)
    if pos.shape != s.shape or pos.ndim != 1:
        raise ValueError(f"labels and scores must be 1-D of one length, got {pos.shape}, {s.shape}")
    n = s.shape[0]
    n_pos = int(np.count_nonzero(pos))
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s)
    s_sorted = s[order]
    starts = np.flatnonzero(np.concatenate(([True], s_sorted[1:] != s_sorted[:-1])))
    pos_in_group = np.add.reduceat(pos[order].astype(np.int64), starts)
    neg_in_group = np.diff(np.append(starts, n)) - pos_in_group
    neg_below = np.cumsum(neg_in_group) - neg_in_group
    twice_wins: int = 2 * int(pos_in_group @ neg_below) + int(pos_in_group @ neg_in_group)
    pairs: int = 2 * n_pos * n_neg
    return twice_wins / pairs  # int / int: one correctly rounded division


def _ovr_macro_auc(labels: IntArray, scores: Array) -> float | None:
    present = np.flatnonzero(np.bincount(labels, minlength=scores.shape[1]))
    if present.shape[0] < 2:
        return None
    # Each present class has positives, and (two classes being present) negatives.
    aucs = [roc_auc(labels == k, scores[:, k]) or 0.0 for k in present]
    return float(np.mean(aucs))


def _precision_recall_f1(
    labels: IntArray, predicted: IntArray, n_classes: int
) -> tuple[float, float, float]:
    """Per-class counts from one bincount of the confusion matrix, then average."""
    confusion = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    confusion = confusion.reshape(n_classes, n_classes)
    tp = np.diagonal(confusion).astype(np.float64)
    n_true = confusion.sum(axis=1).astype(np.float64)  # tp + fn
    n_pred = confusion.sum(axis=0).astype(np.float64)  # tp + fp
    precision = _safe_ratio(tp, n_pred)
    recall = _safe_ratio(tp, n_true)
    f1 = _safe_ratio(2.0 * tp, n_true + n_pred)  # sklearn ≥ 1.3: 2tp / (2tp + fp + fn)
    if n_classes == 2:
        return float(precision[1]), float(recall[1]), float(f1[1])
    used = (n_true > 0) | (n_pred > 0)
    return (
        float(np.mean(precision[used])),
        float(np.mean(recall[used])),
        float(np.mean(f1[used])),
    )


def _safe_ratio(num: Array, den: Array) -> Array:
    """num/den with 0/0 → 0.0 (zero_division=0)."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


# -------------------------------------------------------------------- helpers


def _as_float_vector(values: ArrayLike, name: str) -> Array:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"cannot compute metrics of zero samples ({name} is empty)")
    return arr


def _check_same_length(a: Array, b: Array) -> None:
    if a.shape != b.shape:
        raise ValueError(f"y has {a.shape[0]} samples but the predictions have {b.shape[0]}")


def _as_labels(y: ArrayLike, n_classes: int) -> IntArray:
    """Class indices as int64, checked to be whole numbers in 0..K−1."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"class labels must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        with np.errstate(invalid="ignore"):  # NaN/inf fail the equality below
            as_int = arr.astype(np.int64)
        if not np.array_equal(as_int, arr):
            raise ValueError("class labels must be whole numbers 0..K-1")
        arr = as_int
    if arr.dtype.kind not in "iu":
        raise ValueError(f"class labels must be integers 0..K-1, got dtype {arr.dtype}")
    labels = arr.astype(np.int64, copy=False)
    if labels.shape[0] and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"class labels must lie in 0..{n_classes - 1} for {n_classes} probability "
            f"columns, got values in {labels.min()}..{labels.max()}"
        )
    return labels
