"""Losses over K columns that are not functions of log-probabilities.

Brier score (squared error of probabilities), the multi-class margin losses
(Crammer–Singer hinge, Keras's categorical hinge) on raw scores, and the
cosine distance between a K-vector of predictions and one of targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from losscli._lazy import lazy_module
from losscli._types import LogitSpace, Space, Task
from losscli.errors import InputError
from losscli.losses import links
from losscli.losses.base import (
    ROW_SUM_TOL,
    BestConstant,
    Loss,
    Pointwise,
    _binary_labels,
    _fail,
    _one_d,
)
from losscli.losses.multiclass import _class_targets

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")


def _rows(y_true: Array, y_pred: Array, name: str) -> None:
    if y_pred.ndim != 2:
        raise InputError(
            f"{name} takes one prediction column per class, got one",
            "give the K score columns with --pred (or p_<class> columns)",
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise InputError("targets and predictions have different numbers of rows")


@dataclass(frozen=True)
class Brier(Loss):
    """Brier score: squared error of predicted probabilities.

    One column (binary): (p − y)², scikit-learn's binary scale [0, 1].  K
    columns: Σ꜀(p꜀ − y꜀)² over one-hot (or soft) targets, the multi-class
    scale [0, 2] — halved when K = 2, where scikit-learn's ``scale_by_half=
    'auto'`` treats the problem as binary.  With ``--logits`` p = σ(x) or
    softmax(z) (for training a logistic or softmax model).
    Gradient: 2(p − y); on logits 2(p − y)·p(1 − p), or pⱼ(uⱼ − Σ꜀p꜀u꜀) with
    u = 2(p − y).  Hessian: 2; on logits by the chain rule (see the code).
    Reference: sklearn.metrics.brier_score_loss.
    """

    name: ClassVar[str] = "brier"
    aliases: ClassVar[tuple[str, ...]] = ("brier_score",)
    task: ClassVar[Task] = Task.BINARY_OR_MULTICLASS
    takes: ClassVar[str] = "P(y = 1) or one probability column per class; logits with --logits"
    formula: ClassVar[str] = "(p − y)² (binary); Σ꜀(p꜀ − y꜀)² over K columns (½ of it for K = 2)"
    gradient: ClassVar[str] = "2(p − y); with --logits 2(p − y)·p(1 − p) (binary)"
    hessian: ClassVar[str] = (
        "2; with --logits 2p²(1 − p)² + 2(p − y)·p(1 − p)(1 − 2p) (binary), "
        "pⱼaⱼ(1 − 2pⱼ) + 2pⱼ²(1 − 2pⱼ + Σp꜀²), a = u − Σp꜀u꜀ (softmax)"
    )
    reference: ClassVar[str] = "sklearn.metrics.brier_score_loss (scale_by_half='auto')"
    logit_space: ClassVar[LogitSpace] = "optional"
    default_space: ClassVar[Space] = "probability"
    multiclass: ClassVar[bool] = True
    best_constant: ClassVar[BestConstant] = "frequencies"  # the mean target (losscli.evaluate)

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        if y_pred.ndim == 1:
            return self._binary(y_true, y_pred, logits, hessian)
        _rows(y_true, y_pred, self.name)
        k = y_pred.shape[1]
        target, _ = _class_targets(y_true, k)
        half = 0.5 if k == 2 else 1.0
        hess = None
        if logits:
            p = links.softmax(y_pred)
            u = 2.0 * (p - target)
            a = u - (p * u).sum(axis=1, keepdims=True)
            grad = p * a
            if hessian:
                # gⱼ = pⱼaⱼ; ∂aⱼ/∂zⱼ = 2pⱼ(1 − pⱼ) − pⱼaⱼ − 2pⱼ(pⱼ − Σp²).
                p2 = (p * p).sum(axis=1, keepdims=True)
                hess = half * (grad * (1.0 - 2.0 * p) + 2.0 * p * p * (1.0 - 2.0 * p + p2))
        else:
            p = _check_probabilities(y_pred, strict)
            grad = 2.0 * (p - target)
            if hessian:
                hess = np.full_like(p, 2.0 * half)
        d = p - target
        return Pointwise(half * (d * d).sum(axis=1), half * grad, hess=hess)

    def _binary(self, y_true: Array, y_pred: Array, logits: bool, hessian: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        y = _binary_labels(y_true, soft=True)
        hess = None
        if logits:
            _, _, p, q = links.logistic_parts(y_pred)  # σ(x), σ(−x) = 1 − p, no cancellation
            d = p - y
            pq = p * q
            grad = 2.0 * d * pq
            if hessian:
                hess = 2.0 * pq * pq + grad * (q - p)
        else:
            p = _check_probabilities(y_pred, True)
            d = p - y
            grad = 2.0 * d
            if hessian:
                hess = np.full_like(p, 2.0)
        return Pointwise(d * d, grad, hess=hess)


def _check_probabilities(p: Array, strict: bool) -> Array:
    """p in [0, 1] (rows summing to 1 for K columns); nothing is clipped, no log is taken."""
    _fail(
        (p < 0) | (p > 1),
        "y_pred",
        "has values outside [0, 1]",
        p,
        "if these are raw scores (logits), pass --logits",
    )
    if strict and p.ndim == 2:
        sums = p.sum(axis=1)
        _fail(
            np.abs(sums - 1.0) > ROW_SUM_TOL,
            "y_pred",
            f"probability rows do not sum to 1 (±{ROW_SUM_TOL:g})",
            sums,
            "if these are raw scores (logits), pass --logits",
        )
    return p


@dataclass(frozen=True)
class _ScoreMargin(Loss):
    """Multi-class margin losses on K raw scores; piecewise linear, so Hessian 0."""

    task: ClassVar[Task] = Task.MULTICLASS
    takes: ClassVar[str] = "one raw score column per class"
    logit_space: ClassVar[LogitSpace] = "always"
    default_space: ClassVar[Space] = "logit"
    multiclass: ClassVar[bool] = True
    smooth: ClassVar[bool] = False

    def score_loss(self, y_true: Array, y_pred: Array) -> tuple[Array, Array]:
        """(ℓ, ∂ℓ/∂s) per row on the (n, K) scores, checked as rows already."""
        raise NotImplementedError

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        _rows(y_true, y_pred, self.name)
        loss, grad = self.score_loss(y_true, y_pred)
        return Pointwise(loss, grad, hess=np.zeros(y_pred.shape) if hessian else None)


def _first_argmax(x: Array) -> Array:
    idx: Array = np.argmax(x, axis=1)
    return idx


@dataclass(frozen=True)
class MulticlassHinge(_ScoreMargin):
    """Crammer–Singer multi-class hinge.

    Formula: max(0, 1 − (s_y − max꜀≠y s꜀)) for class-index targets.
    Gradient: where the loss is positive, −1 on the target's column and +1 on
    the highest other column (the first one at a tie), else 0.  Hessian: 0
    (also at the kinks).  Reference: sklearn.metrics.hinge_loss with more
    than two classes.
    """

    name: ClassVar[str] = "multiclass_hinge"
    aliases: ClassVar[tuple[str, ...]] = ("crammer_singer",)
    formula: ClassVar[str] = "max(0, 1 − s_y + max꜀≠y s꜀)"
    gradient: ClassVar[str] = "−1 at y, +1 at argmax꜀≠y s꜀ where the loss is > 0, else 0"
    hessian: ClassVar[str] = "0 (also at the kinks)"
    reference: ClassVar[str] = "sklearn.metrics.hinge_loss (multi-class)"

    def score_loss(self, y_true: Array, y_pred: Array) -> tuple[Array, Array]:
        if y_true.ndim != 1:
            raise InputError(
                "multiclass_hinge takes class-index targets", "give one target column with --true"
            )
        n, k = y_pred.shape
        _, idx = _class_targets(y_true, k, onehot=False)
        assert idx is not None
        rows = np.arange(n)
        others = y_pred.copy()
        others[rows, idx] = -np.inf
        rival = _first_argmax(others)
        margin = y_pred[rows, idx] - others[rows, rival]
        loss = np.maximum(0.0, 1.0 - margin)
        active = (1.0 - margin > 0).astype(np.float64)
        grad = np.zeros((n, k))
        grad[rows, idx] = -active
        grad[rows, rival] += active
        return loss, grad


@dataclass(frozen=True)
class CategoricalHinge(_ScoreMargin):
    """Keras's categorical hinge.

    Formula: max(0, 1 + max꜀((1 − y꜀)s꜀) − Σ꜀y꜀s꜀) with one-hot (or soft)
    targets; as in Keras the max runs over (1 − y꜀)s꜀, so the target's own
    column enters it as 0.  Gradient: where the loss is positive, −y꜀ plus
    (1 − y_m) on the column m of that max (the first at a tie).  Hessian: 0.
    Reference: keras.losses.CategoricalHinge.
    """

    name: ClassVar[str] = "categorical_hinge"
    formula: ClassVar[str] = "max(0, 1 + max꜀((1 − y꜀)·s꜀) − Σ꜀ y꜀·s꜀)"
    gradient: ClassVar[str] = "−y + (1 − y_m)·e_m where the loss is > 0, m = argmax꜀(1 − y꜀)s꜀"
    hessian: ClassVar[str] = "0 (also at the kinks)"
    reference: ClassVar[str] = "keras.losses.CategoricalHinge"

    def score_loss(self, y_true: Array, y_pred: Array) -> tuple[Array, Array]:
        n, k = y_pred.shape
        target, _ = _class_targets(y_true, k)
        rest = (1.0 - target) * y_pred
        m = _first_argmax(rest)
        rows = np.arange(n)
        pos = (target * y_pred).sum(axis=1)
        value = 1.0 + rest[rows, m] - pos
        loss = np.maximum(0.0, value)
        active = (value > 0).astype(np.float64)[:, None]
        grad = -target * active
        grad[rows, m] += active[:, 0] * (1.0 - target[rows, m])
        return loss, grad


@dataclass(frozen=True)
class CosineDistance(Loss):
    """Cosine distance 1 − cos(ŷ, y) between K prediction and K target columns.

    Formula: 1 − ⟨ŷ, y⟩/(‖ŷ‖‖y‖); a zero vector (no direction) is an input
    error.  With â = ŷ/‖ŷ‖, b̂ = y/‖y‖ and c = ⟨â, b̂⟩ the gradient in ŷ is
    −(b̂ − c·â)/‖ŷ‖.  Hessian: (2b̂ⱼâⱼ − 3c·âⱼ² + c)/‖ŷ‖².
    Reference: optax.losses.cosine_distance (epsilon 0); Keras's
    CosineSimilarity loss is −c, this distance minus 1.
    """

    name: ClassVar[str] = "cosine_distance"
    task: ClassVar[Task] = Task.VECTORS
    takes: ClassVar[str] = "K prediction columns per row, with K target columns"
    formula: ClassVar[str] = "1 − ⟨ŷ, y⟩/(‖ŷ‖·‖y‖)"
    gradient: ClassVar[str] = "−(b̂ − c·â)/‖ŷ‖, â = ŷ/‖ŷ‖, b̂ = y/‖y‖, c = ⟨â, b̂⟩"
    hessian: ClassVar[str] = "(2b̂ⱼâⱼ − 3c·âⱼ² + c)/‖ŷ‖²"
    reference: ClassVar[str] = "optax.losses.cosine_distance; keras CosineSimilarity (−cos)"
    multiclass: ClassVar[bool] = True

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise InputError(
                "cosine_distance takes K target and K prediction columns per row",
                "list them with --true t1,t2,… and --pred p1,p2,… (the same number)",
            )
        fix = "the cosine of a zero vector is undefined; drop or fix these rows"
        a, na = _unit_rows(y_pred)
        b, nb = _unit_rows(y_true)
        _fail(na == 0, "y_pred", "is the zero vector", na, fix)
        _fail(nb == 0, "y_true", "is the zero vector", nb, fix)
        c = (a * b).sum(axis=1, keepdims=True)
        grad = -(b - c * a) / na[:, None]
        hess = None
        if hessian:
            hess = (2.0 * b * a - 3.0 * c * a * a + c) / na[:, None] / na[:, None]
        return Pointwise(1.0 - c[:, 0], grad, hess=hess)


def _unit_rows(x: Array) -> tuple[Array, Array]:
    """Rows scaled to length 1, and their lengths; the squares are formed after
    dividing by the row's largest |x|, so lengths of 1e-200 or 1e200 neither
    underflow nor overflow."""
    big = np.abs(x).max(axis=1)
    safe = np.where(big > 0, big, 1.0)[:, None]
    scaled = x / safe
    length = np.sqrt((scaled * scaled).sum(axis=1))
    unit = scaled / np.where(length > 0, length, 1.0)[:, None]
    norm: Array = length * safe[:, 0]
    return unit, norm
