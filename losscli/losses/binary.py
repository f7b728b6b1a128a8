"""Binary losses: cross-entropy on probabilities or logits, and the margin (hinge) family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from losscli._lazy import lazy_module
from losscli._types import LogitSpace, Space, Task
from losscli.losses import links
from losscli.losses.base import (
    MACHINE_EPS,
    BestConstant,
    Loss,
    Pointwise,
    _binary_labels,
    _clip_eps,
    _hard,
    _one_d,
    _opt_positive_list,
    _per_column,
    _probabilities,
    _single,
    _unit,
    param,
)

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")


@dataclass(frozen=True)
class BCE(Loss):
    """Binary cross-entropy (log loss).

    Predictions: P(y = 1), or logits with ``--logits``.  Targets: 0/1, −1/+1
    or soft labels in [0, 1].
    Formula: −[w·y·log p + (1−y)·log(1−p)] with w = pos_weight; on logits
    w·y·softplus(−x) + (1−y)·softplus(x) — the same value, with no
    cancellation at large |x|.
    Gradient: −w·y/p + (1−y)/(1−p); on logits −w·y·σ(−x) + (1−y)·σ(x).
    Reference: sklearn log_loss (clipped to [eps, 1−eps]); torch
    binary_cross_entropy_with_logits(pos_weight) on logits.  Label smoothing
    ε replaces y by y(1 − ε) + ε/2, as Keras's BinaryCrossentropy does.
    """

    name: ClassVar[str] = "bce"
    aliases: ClassVar[tuple[str, ...]] = ("binary_cross_entropy", "log_loss")
    task: ClassVar[Task] = Task.BINARY
    takes: ClassVar[str] = "P(y = 1), or logits with --logits"
    formula: ClassVar[str] = "−[w·y·log p + (1 − y)·log(1 − p)], w = pos_weight"
    gradient: ClassVar[str] = "−w·y/p + (1 − y)/(1 − p); with --logits (1 − y)σ(x) − w·y·σ(−x)"
    hessian: ClassVar[str] = "w·y/p² + (1 − y)/(1 − p)²; with --logits (w·y + 1 − y)·σ(x)σ(−x)"
    reference: ClassVar[str] = (
        "sklearn.metrics.log_loss; torch binary_cross_entropy_with_logits with --logits"
    )
    logit_space: ClassVar[LogitSpace] = "optional"
    default_space: ClassVar[Space] = "probability"
    best_constant: ClassVar[BestConstant] = "rate"
    pos_weight: float | tuple[float, ...] | None = param(
        None,
        "weight of the positive class's term (multi-label: one per label column)",
        _opt_positive_list,
        is_list=True,
    )
    eps: float = param(MACHINE_EPS, "probabilities are clipped to [eps, 1 − eps]", _clip_eps)
    label_smoothing: float = param(
        0.0, "mix targets with the uniform distribution (binary: y(1 − ε) + ε/2)", _unit
    )

    def constant_form(self) -> BestConstant:
        # with pos_weight the optimum moves off the positive rate: minimise
        return "rate" if self.pos_weight is None else "minimise"

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        if y_pred.ndim == 2 and y_true.shape == y_pred.shape:
            return multilabel(self, y_true, y_pred, logits=logits, hessian=hessian)
        _one_d(y_true, y_pred, self.name)
        pw = self.pos_weight
        w = 1.0
        if pw is not None:
            w = _single(
                pw,
                "--pos-weight has {n} values but there is one label column",
                "give one weight per label column (multi-label: K target and K prediction columns)",
            )
        return self._elements(y_true, y_pred, w, logits, hessian)

    def _elements(
        self, y_true: Array, y_pred: Array, w: float | Array, logits: bool, hessian: bool
    ) -> Pointwise:
        """The kernel on one vector of labels; ``w`` is one weight or one per element."""
        y = smooth_binary(_binary_labels(y_true, soft=True), self.label_smoothing)
        hard = logits and _hard(y)
        unit = isinstance(w, float) and w == 1.0
        hess = None
        if logits:
            if hard:
                return _bce_logits_hard(y, y_pred, w, hessian)
            sp_pos, sp_neg, sig, sig_neg = links.logistic_parts(y_pred)
            wy = y if unit else w * y
            loss = wy * sp_neg + (1.0 - y) * sp_pos
            grad = (1.0 - y) * sig - wy * sig_neg
            if hessian:
                hess = (wy + (1.0 - y)) * sig * sig_neg
            return Pointwise(loss, grad, hess=hess)
        p, clipped = _probabilities(y_pred, self.eps)
        loss = -(w * y * np.log(p) + (1.0 - y) * np.log1p(-p))
        grad = (1.0 - y) / (1.0 - p) - w * y / p
        if hessian:
            q = 1.0 - p
            hess = w * y / (p * p) + (1.0 - y) / (q * q)
        return Pointwise(loss, grad, clipped=clipped, hess=hess)


def smooth_binary(y: Array, eps: float) -> Array:
    """Keras's binary label smoothing y(1 − ε) + ε/2 (cross-entropy's ε/K with K = 2)."""
    return y if not eps else y * (1.0 - eps) + 0.5 * eps


def multilabel(
    loss: BCE | Any, y_true: Array, y_pred: Array, *, logits: bool, hessian: bool
) -> Pointwise:
    """K independent binary labels per row (K target and K prediction columns).

    Each element is the binary kernel (``loss._elements``); a row's loss is the
    sum over its K labels and its normaliser is K, so the mean is over all n·K
    elements and the sum over all of them, as torch's BCEWithLogitsLoss.  A
    per-label ``pos_weight`` (one per column) weighs each column's positive term.
    """
    n, k = y_pred.shape
    pw = getattr(loss, "pos_weight", None)
    w: float | Array = 1.0
    if isinstance(pw, tuple) and len(pw) > 1:
        per = _per_column(
            pw,
            k,
            "--pos-weight",
            "label columns",
            "give one weight per label column, or a single weight",
        )
        w = np.tile(per, n)
    elif pw is not None:
        w = float(pw[0] if isinstance(pw, tuple) else pw)
    pw_ = loss._elements(y_true.ravel(), y_pred.ravel(), w, logits, hessian)
    hess = None if pw_.hess is None else pw_.hess.reshape(n, k)
    return Pointwise(
        pw_.loss.reshape(n, k).sum(axis=1),
        pw_.grad.reshape(n, k),
        np.full(n, float(k)),
        pw_.clipped,
        hess,
    )


def _bce_logits_hard(y: Array, x: Array, w: float | Array, hessian: bool = False) -> Pointwise:
    """BCE on logits for 0/1 labels, in half the passes of the general form.

    With s = 1 − 2y (+1 for y = 0, −1 for y = 1) and z = s·x, the loss is
    softplus(z) = max(z, 0) + log1p(e^{−|x|}) and the gradient s·σ(z),
    scaled by w where y = 1: one exp, one log1p, and no cancellation.
    """
    s = y * -2.0
    s += 1.0
    z = s * x
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)  # e^{−|x|}, in place
    loss = np.log1p(e)
    loss += np.maximum(z, 0.0)
    inv = e + 1.0
    np.reciprocal(inv, out=inv)
    grad = np.where(z >= 0, inv, e * inv)  # σ(z)
    grad *= s
    hess = e * inv * inv if hessian else None  # σ(x)σ(−x) = e/(1 + e)², no cancellation
    if not (isinstance(w, float) and w == 1.0):
        scale = np.where(y == 1.0, w, 1.0)
        loss *= scale
        grad *= scale
        if hess is not None:
            hess *= scale
    return Pointwise(loss, grad, hess=hess)


@dataclass(frozen=True)
class _Margin(Loss):
    """Margin losses of z = s·f with s = ±1 and f a raw score."""

    task: ClassVar[Task] = Task.BINARY
    takes: ClassVar[str] = "raw scores (decision function values)"
    logit_space: ClassVar[LogitSpace] = "always"
    default_space: ClassVar[Space] = "logit"

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        raise NotImplementedError

    def margin_hessian(self, z: Array) -> Array:
        """d²ℓ/dz², which is ∂²ℓ/∂f² too since s² = 1; only when asked for."""
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
        _one_d(y_true, y_pred, self.name)
        s = 2.0 * _binary_labels(y_true, soft=False) - 1.0
        z = s * y_pred
        loss, dz = self.margin_loss(z)
        return Pointwise(loss, dz * s, hess=self.margin_hessian(z) if hessian else None)


@dataclass(frozen=True)
class Hinge(_Margin):
    """Hinge loss of linear SVMs.

    Formula: max(0, 1 − z), z = s·f, s = ±1.  Gradient: −s where z < 1, else 0.
    Reference: sklearn.metrics.hinge_loss.
    """

    name: ClassVar[str] = "hinge"
    formula: ClassVar[str] = "max(0, 1 − z), z = s·f, s = ±1"
    gradient: ClassVar[str] = "−s if z < 1, else 0"
    hessian: ClassVar[str] = "0 (also at the kink z = 1)"
    reference: ClassVar[str] = "sklearn.metrics.hinge_loss"
    smooth: ClassVar[bool] = False

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        return np.maximum(0.0, 1.0 - z), np.where(z < 1.0, -1.0, 0.0)

    def margin_hessian(self, z: Array) -> Array:
        return np.zeros_like(z)


@dataclass(frozen=True)
class SquaredHinge(_Margin):
    """Squared hinge: max(0, 1 − z)².  Gradient: −2s·max(0, 1 − z).

    Reference: scikit-learn SGDClassifier(loss='squared_hinge').
    """

    name: ClassVar[str] = "squared_hinge"
    formula: ClassVar[str] = "max(0, 1 − z)², z = s·f"
    gradient: ClassVar[str] = "−2s·max(0, 1 − z)"
    hessian: ClassVar[str] = "2 if z < 1, else 0 (0 at z = 1)"
    reference: ClassVar[str] = "sklearn SGDClassifier(loss='squared_hinge')"

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        t = np.maximum(0.0, 1.0 - z)
        return t * t, -2.0 * t

    def margin_hessian(self, z: Array) -> Array:
        return np.where(z < 1.0, 2.0, 0.0)


@dataclass(frozen=True)
class ModifiedHuber(_Margin):
    """Modified Huber: smooth hinge, linear for badly wrong margins.

    Formula: 0 if z ≥ 1, (1 − z)² if z ≥ −1, else −4z.
    Gradient: 0, −2s(1 − z), −4s on the same pieces.
    Reference: scikit-learn SGDClassifier(loss='modified_huber').
    """

    name: ClassVar[str] = "modified_huber"
    formula: ClassVar[str] = "0 if z ≥ 1; (1 − z)² if z ≥ −1; else −4z"
    gradient: ClassVar[str] = "0; −2s(1 − z); −4s"
    hessian: ClassVar[str] = "0; 2; 0 on the same pieces (z = 1 and z = −1 take 0 and 2)"
    reference: ClassVar[str] = "sklearn SGDClassifier(loss='modified_huber')"

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        t = 1.0 - z
        loss = np.where(z >= 1.0, 0.0, np.where(z >= -1.0, t * t, -4.0 * z))
        grad = np.where(z >= 1.0, 0.0, np.where(z >= -1.0, -2.0 * t, -4.0))
        return loss, grad

    def margin_hessian(self, z: Array) -> Array:
        return np.where((z < 1.0) & (z >= -1.0), 2.0, 0.0)


@dataclass(frozen=True)
class Perceptron(_Margin):
    """Perceptron loss: max(0, −z), z = s·f.

    Gradient: −s where z ≤ 0 (z = 0 included, as scikit-learn's SGD, so that
    a zero score still moves), else 0.  Hessian: 0 (also at the kink z = 0).
    Reference: sklearn SGDClassifier(loss='perceptron') (Hinge with threshold 0).
    """

    name: ClassVar[str] = "perceptron"
    formula: ClassVar[str] = "max(0, −z), z = s·f, s = ±1"
    gradient: ClassVar[str] = "−s if z ≤ 0, else 0"
    hessian: ClassVar[str] = "0 (also at the kink z = 0)"
    reference: ClassVar[str] = "sklearn SGDClassifier(loss='perceptron')"
    smooth: ClassVar[bool] = False

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        return np.maximum(0.0, -z), np.where(z <= 0.0, -1.0, 0.0)

    def margin_hessian(self, z: Array) -> Array:
        return np.zeros_like(z)
