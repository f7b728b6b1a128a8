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

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from losscli._types import FloatArray as Array
    from losscli._types import IntArray

__all__ = [
    "MAX_METRIC_ROWS",
    "METRICS",
    "MetricOptions",
    "MetricSpec",
    "classification_metrics",
    "metric_names",
    "regression_metrics",
    "roc_auc",
]


# sklearn's log_loss clips probabilities to [eps, 1 − eps] with the dtype's
# machine epsilon, so a confident wrong prediction costs −log(eps) ≈ 36.04, not ∞.
_EPS = float(np.finfo(np.float64).eps)


Scorer = Callable[["Array", "Array", "Array | None", "MetricOptions"], "float | None"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: ``task`` is ``"regression"`` or ``"classification"``.

    ``score(y, prediction, weight, options)`` computes it for ``compute
    --metric`` (classification predictions are probabilities: (n,) = P(class 1)
    or (n, K)); ``in_train``: train reports it after fitting.
    """

    name: str
    task: str
    label: str
    description: str
    greater_is_better: bool
    score: Scorer | None = None
    reference: str = ""
    in_train: bool = True


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
    names = tuple(spec.name for spec in METRICS.values() if spec.task == task and spec.in_train)
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
        # both sums on errors divided by one power of two: the ratio is unchanged, and
        # neither squares underflow (targets near 1e-177) nor overflow (near 1e300)
        deviation = yt - yt.mean()
        top = max(float(np.abs(deviation).max()), float(np.abs(residual).max()))
        unit = math.ldexp(1.0, math.frexp(top)[1] - 1) if 0 < top < math.inf else 1.0
        ss_tot = float(np.square(deviation / unit).sum())
        ratio = float(np.square(residual / unit).sum()) / ss_tot if ss_tot > 0 else math.nan
        r2 = 1.0 - ratio if math.isfinite(ratio) else None
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


# ---------------------------------------------------------- metrics for compute
#
# ``compute --metric NAME`` evaluates the metrics below on the whole file
# (targets, predictions, optional sample weights), each equal to scikit-learn
# 1.9's function of the same name.  They are the same registry as train's
# metrics: ``METRICS[name].score`` is the function, ``in_train`` says whether
# train reports it.

MAX_METRIC_ROWS = 20_000_000
"""Metrics need every row in memory (medians, ranks): about 500 MB at this size.
Past it compute refuses instead of exhausting memory."""


@dataclass(frozen=True)
class MetricOptions:
    """Options of the threshold and calibration metrics."""

    threshold: float = 0.5  # class 1 when p > threshold (LogisticRegression.predict at 0.5)
    bins: int = 15  # equal-width bins of [0, 1] for ece


def _w(weight: Array | None, n: int) -> Array:
    return np.ones(n) if weight is None else weight


def _avg(values: Array, weight: Array | None) -> float:
    return float(np.average(values, weights=weight))


def _r2(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    ww = _w(w, len(y))
    num = float(ww @ (y - p) ** 2)
    den = float(ww @ (y - np.average(y, weights=ww)) ** 2)
    if len(y) < 2:
        return None
    if den == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - num / den


def _explained_variance(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    ww = _w(w, len(y))
    d = y - p
    num = float(ww @ (d - np.average(d, weights=ww)) ** 2)
    den = float(ww @ (y - np.average(y, weights=ww)) ** 2)
    if len(y) < 2:
        return None
    if den == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - num / den


def _max_error(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return float(np.max(np.abs(y - p)))


def _weighted_median(values: Array, w: Array | None) -> float:
    if w is None:
        return float(np.median(values))
    # sklearn's _weighted_percentile(50) averaged with its mirror (averaged inverse CDF)
    order = np.argsort(values, kind="stable")
    v, cw = values[order], np.cumsum(w[order])
    total = cw[-1]
    lo = v[min(int(np.searchsorted(cw, 0.5 * total, side="left")), len(v) - 1)]
    hi = v[min(int(np.searchsorted(cw, 0.5 * total, side="right")), len(v) - 1)]
    return float(0.5 * (lo + hi))


def _median_ae(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return _weighted_median(np.abs(y - p), w)


def _d2_absolute(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    if len(y) < 2:
        return None
    ww = _w(w, len(y))
    num = float(ww @ np.abs(y - p))
    centre = _weighted_median(y, w)
    den = float(ww @ np.abs(y - centre))
    if den == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - num / den


def _predicted(p: Array, o: MetricOptions) -> IntArray:
    raw = (p > o.threshold) if p.ndim == 1 else np.argmax(p, axis=1)
    out: IntArray = np.asarray(raw, dtype=np.int64)
    return out


def _confusion(y: IntArray, yhat: IntArray, w: Array | None, k: int) -> Array:
    c = np.bincount(y * k + yhat, weights=w, minlength=k * k).astype(np.float64)
    return c.reshape(k, k)


def _k(p: Array) -> int:
    return 2 if p.ndim == 1 else p.shape[1]


def _accuracy(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return _avg((_predicted(p, o) == y).astype(np.float64), w)


def _zero_one(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return _avg((_predicted(p, o) != y).astype(np.float64), w)


def _balanced_accuracy(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    yi = y.astype(np.int64)
    c = _confusion(yi, _predicted(p, o), w, _k(p))
    true = c.sum(axis=1)
    present = true > 0
    return float(np.mean(np.diagonal(c)[present] / true[present]))


def _prf(y: Array, p: Array, w: Array | None, o: MetricOptions) -> tuple[float, float, float]:
    k = _k(p)
    c = _confusion(y.astype(np.int64), _predicted(p, o), w, k)
    tp = np.diagonal(c).copy()
    n_true, n_pred = c.sum(axis=1), c.sum(axis=0)
    precision, recall = _safe_ratio(tp, n_pred), _safe_ratio(tp, n_true)
    f1 = _safe_ratio(2.0 * tp, n_true + n_pred)
    if k == 2:
        return float(precision[1]), float(recall[1]), float(f1[1])
    used = (n_true > 0) | (n_pred > 0)
    return float(precision[used].mean()), float(recall[used].mean()), float(f1[used].mean())


def _precision(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return _prf(y, p, w, o)[0]


def _recall(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return _prf(y, p, w, o)[1]


def _f1(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return _prf(y, p, w, o)[2]


def _mcc(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    c = _confusion(y.astype(np.int64), _predicted(p, o), w, _k(p))
    t, q = c.sum(axis=1), c.sum(axis=0)
    s, correct = c.sum(), np.trace(c)
    cov_ytyp = correct * s - float(t @ q)
    cov_ypyp = s * s - float(q @ q)
    cov_ytyt = s * s - float(t @ t)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(cov_ytyt * cov_ypyp))


def _weighted_auc(pos: Array, s: Array, w: Array) -> float | None:
    """Mann–Whitney with weights: Σ over tied-score groups of w₊·(w₋ below + ½w₋ tied)."""
    pf = np.asarray(pos, dtype=np.float64)
    wp, wn = float(w @ pf), float(w @ (1.0 - pf))
    if wp == 0 or wn == 0:
        return None
    order = np.argsort(s, kind="stable")
    ss = s[order]
    starts = np.flatnonzero(np.concatenate(([True], ss[1:] != ss[:-1])))
    gp = np.add.reduceat(w[order] * pf[order], starts)
    gn = np.add.reduceat(w[order] * (1.0 - pf[order]), starts)
    below = np.cumsum(gn) - gn
    return float((gp @ below + 0.5 * gp @ gn) / (wp * wn))


def _roc_auc(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    yi = y.astype(np.int64)
    if p.ndim == 1 or p.shape[1] == 2:
        s = p if p.ndim == 1 else p[:, 1]
        if w is None:
            return roc_auc(yi == 1, s)
        return _weighted_auc(yi == 1, s, w)
    if w is None:
        return _ovr_macro_auc(yi, p)
    aucs = [_weighted_auc(yi == k, p[:, k], w) for k in range(p.shape[1])]
    if any(a is None for a in aucs):
        return None
    return float(np.mean([a for a in aucs if a is not None]))


def _ap_binary(pos: Array, s: Array, w: Array) -> float | None:
    """sklearn average_precision_score: Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds."""
    pf = np.asarray(pos, dtype=np.float64)
    total = float(w @ pf)
    if total == 0:
        return None
    order = np.argsort(-s, kind="stable")
    ss, pp, ww = s[order], pf[order], w[order]
    last = np.flatnonzero(np.concatenate((ss[1:] != ss[:-1], [True])))  # end of each group
    tps = np.cumsum(ww * pp)[last]
    fps = np.cumsum(ww * (1.0 - pp))[last]
    precision = tps / (tps + fps)
    recall = tps / total
    return float(np.sum(np.diff(np.concatenate(([0.0], recall))) * precision))


def _average_precision(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    yi = y.astype(np.int64)
    ww = _w(w, len(y))
    if p.ndim == 1:
        return _ap_binary(yi == 1, p, ww)
    aps = [_ap_binary(yi == k, p[:, k], ww) for k in range(p.shape[1])]
    if any(a is None for a in aps):
        return None
    return float(np.mean([a for a in aps if a is not None]))


def _log_loss(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    yi = y.astype(np.int64)
    pt = np.where(yi == 1, p, 1.0 - p) if p.ndim == 1 else p[np.arange(len(yi)), yi]
    return -_avg(np.log(np.clip(pt, _EPS, 1.0 - _EPS)), w)


def _brier(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    yi = y.astype(np.int64)
    if p.ndim == 1:
        return _avg((p - yi) ** 2, w)
    onehot = np.eye(p.shape[1])[yi]
    scale = 0.5 if p.shape[1] == 2 else 1.0  # sklearn scale_by_half='auto'
    return scale * _avg(((p - onehot) ** 2).sum(axis=1), w)


def _ece(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    """Expected calibration error: Σ_b (W_b/W)·|accuracy_b − confidence_b| over equal-width
    bins of the confidence max꜀ p꜀ (binary: max(p, 1 − p)); bin b is (b/B, (b+1)/B],
    the first also takes 0."""
    yi = y.astype(np.int64)
    probs = np.column_stack([1.0 - p, p]) if p.ndim == 1 else p
    conf = probs.max(axis=1)
    correct = (np.argmax(probs, axis=1) == yi).astype(np.float64)
    ww = _w(w, len(y))
    b = np.clip(np.ceil(conf * o.bins).astype(np.int64) - 1, 0, o.bins - 1)
    acc = np.bincount(b, weights=ww * correct, minlength=o.bins)
    cf = np.bincount(b, weights=ww * conf, minlength=o.bins)
    return float(np.abs(acc - cf).sum() / ww.sum())


def _spec(
    name: str, task: str, label: str, description: str, better: bool, score: Scorer, ref: str
) -> MetricSpec:
    return MetricSpec(name, task, label, description, better, score, ref, in_train=False)


def _mse(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return _avg((y - p) ** 2, w)


def _mae(y: Array, p: Array, w: Array | None, o: MetricOptions) -> float | None:
    return _avg(np.abs(y - p), w)


_SK = "sklearn.metrics."
_TRAIN_SCORERS: dict[str, tuple[Scorer, str]] = {
    "mse": (_mse, _SK + "mean_squared_error"),
    "mae": (_mae, _SK + "mean_absolute_error"),
    "r2": (_r2, _SK + "r2_score"),
    "accuracy": (_accuracy, _SK + "accuracy_score"),
    "log_loss": (_log_loss, _SK + "log_loss"),
    "precision": (_precision, _SK + "precision_score (binary: class 1; else macro)"),
    "recall": (_recall, _SK + "recall_score (binary: class 1; else macro)"),
    "f1": (_f1, _SK + "f1_score (binary: class 1; else macro)"),
    "roc_auc": (_roc_auc, _SK + "roc_auc_score (multi-class: ovr macro)"),
}
METRICS = {
    **{
        name: replace(spec, score=_TRAIN_SCORERS[name][0], reference=_TRAIN_SCORERS[name][1])
        for name, spec in METRICS.items()
    },
    **{
        spec.name: spec
        for spec in (
            _spec("explained_variance", "regression", "explained variance",
                  "1 − Var(y − ŷ)/Var(y)", True, _explained_variance,
                  _SK + "explained_variance_score"),
            _spec("max_error", "regression", "max error", "max |y − ŷ|", False, _max_error,
                  _SK + "max_error"),
            _spec("median_absolute_error", "regression", "median AE", "median |y − ŷ|", False,
                  _median_ae, _SK + "median_absolute_error"),
            _spec("d2_absolute_error", "regression", "D² (absolute)",
                  "1 − Σ|y − ŷ| / Σ|y − median y|", True, _d2_absolute,
                  _SK + "d2_absolute_error_score"),
            _spec("balanced_accuracy", "classification", "balanced accuracy",
                  "mean recall over the classes present", True, _balanced_accuracy,
                  _SK + "balanced_accuracy_score"),
            _spec("matthews_corrcoef", "classification", "MCC", "Matthews correlation", True,
                  _mcc, _SK + "matthews_corrcoef"),
            _spec("average_precision", "classification", "average precision",
                  "area under precision–recall (step); multi-class macro", True,
                  _average_precision, _SK + "average_precision_score"),
            _spec("brier", "classification", "Brier", "mean squared probability error", False,
                  _brier, _SK + "brier_score_loss (scale_by_half='auto')"),
            _spec("zero_one", "classification", "0–1 loss", "fraction predicted wrong", False,
                  _zero_one, _SK + "zero_one_loss"),
            _spec("ece", "classification", "ECE",
                  "Σ_b (n_b/n)·|accuracy_b − confidence_b|, equal-width bins (--bins)", False,
                  _ece, "expected calibration error (Guo et al. 2017), equal-width bins"),
        )
    },
}  # fmt: skip
RANK_METRICS = frozenset({"roc_auc", "average_precision"})
THRESHOLD_METRICS = frozenset(
    {"accuracy", "balanced_accuracy", "precision", "recall", "f1", "matthews_corrcoef", "zero_one"}
)


def metric_list(text: tuple[str, ...]) -> tuple[str, ...]:
    """Metric names from ``--metric a,b --metric c`` (unknown names are an error)."""
    import difflib

    from losscli.errors import InputError

    names: list[str] = []
    for item in text:
        for part in item.split(","):
            key = part.strip().lower().replace("-", "_")
            if not key:
                continue
            if key not in METRICS:
                close = difflib.get_close_matches(key, list(METRICS), n=3)
                hint = f"did you mean {', '.join(close)}? " if close else ""
                raise InputError(
                    f"unknown metric {part.strip()!r}", f"{hint}see `losscli metrics` for the list"
                )
            if key not in names:
                names.append(key)
    return tuple(names)


def score_metrics(
    names: tuple[str, ...],
    y_true: Array,
    y_pred: Array,
    weight: Array | None,
    *,
    logits: bool,
    options: MetricOptions,
) -> dict[str, float | None]:
    """The named metrics of a whole file.  Classification metrics read class indices
    (0/1 or −1/+1 for one prediction column) and probabilities (σ or softmax of
    logits with ``--logits``); regression metrics one target and one prediction column."""
    from losscli.errors import InputError

    out: dict[str, float | None] = {}
    probs: Array | None = None
    labels: Array | None = None
    for name in names:
        spec = METRICS[name]
        assert spec.score is not None
        if spec.task == "regression":
            if y_pred.ndim != 1 or y_true.ndim != 1:
                raise InputError(
                    f"metric {name} takes one target and one prediction column",
                    "select them with --true and --pred",
                )
            out[name] = spec.score(y_true, y_pred, weight, options)
            continue
        if probs is None:
            probs, labels = _class_inputs(y_true, y_pred, logits=logits)
        assert labels is not None
        out[name] = spec.score(labels, probs, weight, options)
    return out


def _class_inputs(y_true: Array, y_pred: Array, *, logits: bool) -> tuple[Array, Array]:
    from losscli.errors import InputError
    from losscli.losses import links

    if y_true.ndim != 1:
        raise InputError(
            "classification metrics take one target column of class indices",
            "select it with --true",
        )
    y = y_true
    if y_pred.ndim == 1:
        p = links.sigmoid(y_pred) if logits else y_pred
        if np.all((y == -1) | (y == 1)):
            y = (y + 1.0) / 2.0
        k = 2
    else:
        p = links.softmax(y_pred) if logits else y_pred
        k = p.shape[1]
    if not (np.all(p >= 0) and np.all(p <= 1)):
        raise InputError(
            "classification metrics take probabilities in [0, 1]",
            "if these are raw scores (logits), pass --logits",
        )
    if not np.all((y == np.floor(y)) & (y >= 0) & (y < k)):
        raise InputError(
            f"classification metrics take class indices 0…{k - 1} as targets",
            "give 0/1 labels (one prediction column) or indices matching the p_<class> columns",
        )
    return p, y
