"""Multi-class losses over K columns: cross-entropy, KL divergence, focal (binary and softmax)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from losscli._lazy import lazy_module
from losscli._types import LogitSpace, Space, Task
from losscli.errors import InputError
from losscli.losses import links
from losscli.losses.base import (
    MACHINE_EPS,
    ROW_SUM_TOL,
    BestConstant,
    Loss,
    Pointwise,
    _alpha,
    _binary_labels,
    _clip_eps,
    _fail,
    _hard,
    _nonnegative,
    _one_d,
    _opt_index,
    _opt_positive_list,
    _per_column,
    _probabilities,
    _single,
    _unit,
    _weights,
    param,
)
from losscli.losses.binary import multilabel, smooth_binary

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")


def _switch(v: bool) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


TINY = sys.float_info.min  # smallest normal float64, 2.2e-308


def _class_targets(y_true: Array, k: int, *, onehot: bool = True) -> tuple[Array, Array | None]:
    """Targets as an (n, K) matrix and, for index targets, the (n,) indices.

    ``onehot=False`` checks index targets and returns them without the matrix.
    """
    if y_true.ndim == 2:
        if y_true.shape[1] != k:
            raise InputError(
                f"{y_true.shape[1]} target columns but {k} prediction columns",
                "give one soft-label column per class with --true, in the same order",
            )
        _fail(y_true < 0, "y_true", "has negative class probabilities", y_true)
        _fail(
            np.abs(y_true.sum(axis=1) - 1.0) > ROW_SUM_TOL,
            "y_true",
            f"soft-label rows do not sum to 1 (±{ROW_SUM_TOL:g})",
            y_true.sum(axis=1),
        )
        return y_true, None
    _fail(
        (y_true != np.floor(y_true)) | (y_true < 0) | (y_true >= k),
        "y_true",
        f"is not a class index 0…{k - 1}",
        y_true,
        "targets must be class indices, class names matching the p_<class> columns, or soft labels",
    )
    idx = y_true.astype(np.intp)
    if not onehot:
        return y_true, idx
    matrix = np.zeros((idx.shape[0], k))
    matrix[np.arange(idx.shape[0]), idx] = 1.0
    return matrix, idx


def _class_probabilities(p: Array, eps: float, strict: bool) -> tuple[Array, int]:
    """Rows of probabilities in [0, 1] summing to 1, clipped to [eps, 1 − eps]."""
    clipped, count = _probabilities(p, eps)
    if not strict or _rows_sum_to_one(p):
        return clipped, count
    _fail(
        strict & (np.abs(p.sum(axis=1) - 1.0) > ROW_SUM_TOL),
        "y_pred",
        f"probability rows do not sum to 1 (±{ROW_SUM_TOL:g})",
        p.sum(axis=1),
        "if these are raw scores (logits), pass --logits",
    )
    return clipped, count


def _rows_sum_to_one(p: Array) -> bool:
    """Every row sums to 1 within the tolerance, by a product with ones.

    Six times faster than ``p.sum(axis=1)`` on rows of ten; its rounding
    differs by ~1e-16, far inside the 1e-12 margin, and a row near the limit
    goes to the exact check.
    """
    sums = p @ np.ones(p.shape[1])
    return bool(np.abs(sums - 1.0).max(initial=0.0) <= ROW_SUM_TOL - 1e-12)


@dataclass(frozen=True)
class _LogProb(Loss):
    """Multi-class losses written in the log-probabilities log p.

    Subclasses return ℓ and u = ∂ℓ/∂log p; the chain rule to the input space
    is done once here: ∂ℓ/∂zⱼ = uⱼ − pⱼΣ꜀u꜀ for logits (log p = log_softmax z),
    ∂ℓ/∂pⱼ = uⱼ/pⱼ for probabilities.  A single prediction column is read as
    the binary case: p ↦ [1 − p, p], x ↦ [0, x], and its gradient folded back.
    """

    task: ClassVar[Task] = Task.MULTICLASS
    takes: ClassVar[str] = "one probability column per class, or logits with --logits"
    logit_space: ClassVar[LogitSpace] = "optional"
    default_space: ClassVar[Space] = "probability"
    multiclass: ClassVar[bool] = True

    def log_prob_loss(
        self, logp: Array, p: Array, target: Array, idx: Array | None
    ) -> tuple[Array, Array, Array | None]:
        raise NotImplementedError

    def log_prob_curvature(self, logp: Array, p: Array, target: Array) -> Array | None:
        """v꜀ = ∂²ℓ/∂(log p꜀)², or None where ℓ is linear in log p (cross-entropy, KL).

        Every loss here is a sum of terms each in one log p꜀, so that matrix is
        diagonal and v is all of it.
        """
        return None

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        ignore = getattr(self, "ignore_index", None)
        if ignore is None or y_pred.ndim != 2 or y_true.ndim != 1:
            return self._rows(y_true, y_pred, logits=logits, strict=strict, hessian=hessian)
        # torch's ignore_index: those rows count 0 in the loss, the gradient and the mean.
        keep = y_true != ignore
        pw = self._rows(
            np.where(keep, y_true, 0.0), y_pred, logits=logits, strict=strict, hessian=hessian
        )
        k = keep.astype(np.float64)
        norm = k if pw.norm is None else pw.norm * k
        hess = None if pw.hess is None else pw.hess * k[:, None]
        return Pointwise(pw.loss * k, pw.grad * k[:, None], norm, pw.clipped, hess)

    def _rows(
        self, y_true: Array, y_pred: Array, *, logits: bool, strict: bool, hessian: bool
    ) -> Pointwise:
        """The kernel proper, every row counted."""
        if y_pred.ndim == 1:
            return self._binary(y_true, y_pred, logits=logits, hessian=hessian)
        if y_true.shape[0] != y_pred.shape[0]:
            raise InputError("targets and predictions have different numbers of rows")
        target, idx = _class_targets(y_true, y_pred.shape[1])
        clipped = 0
        if logits:
            logp = links.log_softmax(y_pred)
            p = np.exp(logp)
        else:
            p, clipped = _class_probabilities(y_pred, self.eps, strict)
            logp = np.log(p)
        loss, u, norm = self.log_prob_loss(logp, p, target, idx)
        if not hessian:
            grad = u - p * u.sum(axis=1, keepdims=True) if logits else u / p
            return Pointwise(loss, grad, norm, clipped)
        v = self.log_prob_curvature(logp, p, target)
        if logits:
            total = u.sum(axis=1, keepdims=True)
            grad = u - p * total
            # log pⱼ = zⱼ − lse(z), ∂log p꜀/∂zⱼ = δ꜀ⱼ − pⱼ, so with S = Σu, T = Σv:
            # ∂²ℓ/∂zⱼ² = vⱼ(1 − 2pⱼ) − pⱼ(1 − pⱼ)S + pⱼ²T; 1 − pⱼ = −expm1(log pⱼ).
            rest = -np.expm1(logp)
            hess = -(p * rest) * total
            if v is not None:
                hess += v * (rest - p) + p * p * v.sum(axis=1, keepdims=True)
        else:
            grad = u / p
            # ∂ℓ/∂pⱼ = uⱼ/pⱼ with uⱼ a function of log pⱼ alone: ∂²ℓ/∂pⱼ² = (vⱼ − uⱼ)/pⱼ².
            hess = (-u if v is None else v - u) / (p * p)
        return Pointwise(loss, grad, norm, clipped, hess)

    def _binary(self, y_true: Array, y_pred: Array, *, logits: bool, hessian: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        y = _binary_labels(y_true, soft=True)
        hard = np.all((y == 0) | (y == 1))
        targets = y if hard else np.column_stack([1.0 - y, y])
        if logits:
            pred2 = np.column_stack([np.zeros_like(y_pred), y_pred])
        else:
            _probabilities(y_pred, self.eps)
            pred2 = np.column_stack([1.0 - y_pred, y_pred])
        pw = self.pointwise(targets, pred2, logits=logits, strict=False, hessian=hessian)
        # x only moves column 1; p moves column 1 up and column 0 down.
        grad = pw.grad[:, 1] if logits else pw.grad[:, 1] - pw.grad[:, 0]
        hess = None
        if pw.hess is not None:  # the Hessian in p is diagonal: no cross term 0–1
            hess = pw.hess[:, 1] if logits else pw.hess[:, 0] + pw.hess[:, 1]
        return Pointwise(pw.loss, grad, pw.norm, pw.clipped // 2, hess)

    eps: float = param(MACHINE_EPS, "probabilities are clipped to [eps, 1 − eps]", _clip_eps)


@dataclass(frozen=True)
class CrossEntropy(_LogProb):
    """Categorical cross-entropy.

    Targets: class indices, class names, or soft labels.  With label
    smoothing ε the target becomes (1−ε)·y + ε/K; with class weights w the
    loss is −Σ꜀ w꜀ỹ꜀ log p꜀ and the mean divides by Σ w[yᵢ] (index targets),
    as torch does.
    Formula: −Σ꜀ w꜀ỹ꜀ log p꜀.  Gradient: softmax(z) − ỹ (weighted) on
    logits; −w꜀ỹ꜀/p꜀ on probabilities.
    Reference: torch cross_entropy with --logits; sklearn log_loss otherwise.
    """

    name: ClassVar[str] = "cross_entropy"
    aliases: ClassVar[tuple[str, ...]] = ("ce", "categorical_crossentropy")
    formula: ClassVar[str] = "−Σ꜀ w꜀·ỹ꜀·log p꜀, ỹ = (1 − ε)·y + ε/K"
    gradient: ClassVar[str] = "−w꜀ỹ꜀/p꜀; with --logits pⱼΣ꜀w꜀ỹ꜀ − wⱼỹⱼ"
    hessian: ClassVar[str] = "w꜀ỹ꜀/p꜀²; with --logits pⱼ(1 − pⱼ)·Σ꜀w꜀ỹ꜀ (diagonal)"
    reference: ClassVar[str] = "torch.nn.functional.cross_entropy with --logits; sklearn log_loss"
    label_smoothing: float = param(0.0, "mix targets with the uniform distribution", _unit)
    class_weights: tuple[float, ...] | None = param(None, "one weight per class", _weights)
    ignore_index: float | None = param(
        None, "rows with this class index count 0 (torch ignore_index)", _opt_index
    )
    best_constant: ClassVar[BestConstant] = "frequencies"

    def constant_form(self) -> BestConstant:
        plain = self.label_smoothing == 0 and self.class_weights is None
        plain = plain and self.ignore_index is None  # ignored rows leave the frequencies
        return "frequencies" if plain else "minimise"

    def _rows(
        self, y_true: Array, y_pred: Array, *, logits: bool, strict: bool, hessian: bool
    ) -> Pointwise:
        if logits or self.label_smoothing or y_pred.ndim != 2 or y_true.ndim != 1:
            return super()._rows(y_true, y_pred, logits=logits, strict=strict, hessian=hessian)
        return self._index_probabilities(y_true, y_pred, strict, hessian)

    def _index_probabilities(
        self, y_true: Array, y_pred: Array, strict: bool, hessian: bool = False
    ) -> Pointwise:
        """Class indices on probabilities: only p[i, yᵢ] enters the loss.

        The general path's other terms are exact zeros (0·log p꜀ and
        −0/p꜀), so gathering gives the same numbers bit for bit in O(n)
        after the O(nK) checks, instead of five (n, K) temporaries.
        """
        if y_true.shape[0] != y_pred.shape[0]:
            raise InputError("targets and predictions have different numbers of rows")
        n, k = y_pred.shape
        _, idx = _class_targets(y_true, k, onehot=False)
        assert idx is not None
        p, clipped = _class_probabilities(y_pred, self.eps, strict)
        rows = np.arange(n)
        p_true = p[rows, idx]
        norm = None
        if self.class_weights is None:
            loss = -np.log(p_true)
            grad_true = -1.0 / p_true
        else:
            w = self._weights(k)[idx]
            loss = -(w * np.log(p_true) + 0.0)  # the general path's row sum starts at +0.0
            grad_true = -w / p_true
            norm = w
        grad = np.full((n, k), -0.0)  # −0·w꜀/p꜀, as the general path has it
        grad[rows, idx] = grad_true
        hess = None
        if hessian:  # w/p² in the true class's column, 0 elsewhere
            hess = np.zeros((n, k))
            hess[rows, idx] = -grad_true / p_true
        return Pointwise(loss, grad, norm, clipped, hess)

    def _weights(self, k: int) -> Array:
        assert self.class_weights is not None
        if len(self.class_weights) != k:
            raise InputError(
                f"--class-weights has {len(self.class_weights)} values but there are {k} classes",
                "give one weight per prediction column",
            )
        return np.asarray(self.class_weights, dtype=np.float64)

    def log_prob_loss(
        self, logp: Array, p: Array, target: Array, idx: Array | None
    ) -> tuple[Array, Array, Array | None]:
        k = logp.shape[1]
        smoothed = target
        if self.label_smoothing:
            smoothed = (1.0 - self.label_smoothing) * target + self.label_smoothing / k
        norm = None
        if self.class_weights is not None:
            w = self._weights(k)
            smoothed = smoothed * w
            norm = w[idx] if idx is not None else None
        return -(smoothed * logp).sum(axis=1), -smoothed, norm


@dataclass(frozen=True)
class KLDiv(_LogProb):
    """Kullback–Leibler divergence KL(y ‖ p) from target distributions y.

    Formula: Σ꜀ y꜀(log y꜀ − log p꜀), with 0·log 0 = 0; the mean over rows is
    torch's 'batchmean'.  Gradient: −y꜀/p꜀, or p − y on logits.
    Reference: torch.nn.functional.kl_div(log p, y, reduction='batchmean').
    """

    name: ClassVar[str] = "kl_div"
    task: ClassVar[Task] = Task.DISTRIBUTIONS
    takes: ClassVar[str] = "one probability column per class (or logits); soft-label targets"
    formula: ClassVar[str] = "Σ꜀ y꜀·(log y꜀ − log p꜀)"
    gradient: ClassVar[str] = "−y꜀/p꜀; with --logits p − y"
    hessian: ClassVar[str] = "y꜀/p꜀²; with --logits pⱼ(1 − pⱼ)·Σ꜀y꜀ (diagonal)"
    reference: ClassVar[str] = "torch.nn.functional.kl_div(log p, y, reduction='batchmean')"
    best_constant: ClassVar[BestConstant] = "frequencies"

    log_target: bool = param(
        False, "targets are log-probabilities (torch log_target=True)", _switch
    )

    def _rows(
        self, y_true: Array, y_pred: Array, *, logits: bool, strict: bool, hessian: bool
    ) -> Pointwise:
        if self.log_target:
            if y_true.ndim != 2:
                raise InputError(
                    "--log-target takes one log-probability target column per class",
                    "give K target columns (log q꜀), or drop --log-target",
                )
            # exp(t)·(t − log p): the same as y = exp(t); rows of exp(t) must sum to 1.
            with np.errstate(under="ignore"):
                y_true = np.exp(y_true)
        return super()._rows(y_true, y_pred, logits=logits, strict=strict, hessian=hessian)

    def log_prob_loss(
        self, logp: Array, p: Array, target: Array, idx: Array | None
    ) -> tuple[Array, Array, Array | None]:
        positive = target > 0
        entropy_term = np.where(positive, target * np.log(np.where(positive, target, 1.0)), 0.0)
        return (entropy_term - target * logp).sum(axis=1), -target, None


@dataclass(frozen=True)
class Focal(_LogProb):
    """Focal loss: cross-entropy scaled by (1 − p_t)^γ to focus on hard rows.

    Binary (one column, sigmoid): α_t·(1−p_t)^γ·ce with α_t = α for y = 1
    and 1 − α for y = 0 (α < 0 turns it off); on logits 1 − p_t and ce are
    formed from σ(±x) and softplus(±x), never from 1 − σ(x), so ±1e4 is
    exact.  Multi-class (K columns, softmax): −α·Σ꜀ y꜀(1 − p꜀)^γ log p꜀ with
    a scalar α; the gradient uses log p/(1 − p) → −1 as p → 1, so γ < 1
    stays finite.
    Reference: torchvision.ops.sigmoid_focal_loss (binary); the softmax
    form −α(1 − p_t)^γ log p_t (multi-class).  ``pos_weight`` (binary and
    multi-label, one per label column) weighs the positive term of the
    cross-entropy inside, as torch's BCEWithLogitsLoss(pos_weight=[…]).
    """

    name: ClassVar[str] = "focal"
    task: ClassVar[Task] = Task.BINARY_OR_MULTICLASS
    takes: ClassVar[str] = "P(y = 1) or one column per class; logits with --logits"
    formula: ClassVar[str] = (
        "−α_t·(1 − p_t)^γ·log p_t; p_t = p if y = 1 else 1 − p (multi-class: p of the "
        "true class), α_t = α if y = 1 else 1 − α (multi-class: α; α < 0: 1); "
        "binary/multi-label with --pos-weight w: −log p_t becomes "
        "w·y·(−log p) + (1 − y)·(−log(1 − p))"
    )
    gradient: ClassVar[str] = (
        "binary, s = 1 − 2y, m = 1 − p_t: s·α_t·(m^γ/p_t − γ·m^(γ−1)·log p_t); "
        "with --logits s·α_t·m^γ·(m − γ·p_t·log p_t)"
    )
    hessian: ClassVar[str] = (
        "α_t·m^γ·[ce'' + 2γ·ce'·r + γ(γ − 1)·ce·r² + γ·ce·m''/m], m = 1 − p_t, r = m'/m "
        "(binary); softmax form by the chain rule through log p (diagonal)"
    )
    reference: ClassVar[str] = "torchvision.ops.sigmoid_focal_loss; softmax focal (multi-class)"
    alpha: float | tuple[float, ...] = param(
        0.25,
        "weight of the positive class (negative = off); multi-class: one per class",
        _alpha,
        is_list=True,
    )
    gamma: float = param(2.0, "focusing exponent γ ≥ 0", _nonnegative)
    label_smoothing: float = param(
        0.0, "mix targets with the uniform distribution (binary: y(1 − ε) + ε/2)", _unit
    )
    ignore_index: float | None = param(
        None, "rows with this class index count 0 (torch ignore_index)", _opt_index
    )
    multilabel: bool = param(
        False, "K columns are K independent binary labels, not K classes", _switch
    )
    pos_weight: float | tuple[float, ...] | None = param(
        None,
        "weight of the positive class's term (multi-label: one per label column)",
        _opt_positive_list,
        is_list=True,
    )

    def _rows(
        self, y_true: Array, y_pred: Array, *, logits: bool, strict: bool, hessian: bool
    ) -> Pointwise:
        if self.pos_weight is not None and not self.multilabel and y_pred.ndim == 2:
            raise InputError(
                "focal: --pos-weight weighs the positive term of binary labels, "
                "and these are K classes",
                "use --alpha a0,a1,… for per-class weights, or --multilabel for K labels",
            )
        if self.multilabel:
            if self.ignore_index is not None:
                raise InputError(
                    "focal: --ignore-index names a class, and --multilabel has K labels",
                    "drop --ignore-index (or give the rows a weight of 0)",
                )
            if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
                raise InputError(
                    "--multilabel takes K label columns and K prediction columns",
                    "list them with --true a,b,… and --pred p_a,p_b,…",
                )
            return multilabel(self, y_true, y_pred, logits=logits, hessian=hessian)
        return super()._rows(y_true, y_pred, logits=logits, strict=strict, hessian=hessian)

    def _elements(
        self, y_true: Array, y_pred: Array, w: float | Array, logits: bool, hessian: bool
    ) -> Pointwise:
        """One vector of binary labels (the multi-label elements): the sigmoid form;
        ``w`` is the positive term's weight, one for all or one per element."""
        return self._binary(y_true, y_pred, logits=logits, hessian=hessian, w=w)

    def _single_pos_weight(self) -> float:
        """The binary (one-column) positive weight: 1 when not given."""
        pw = self.pos_weight
        if pw is None:
            return 1.0
        return _single(
            pw,
            "--pos-weight has {n} values but there is one label column",
            "give one weight per label column (with --multilabel), or a single weight",
        )

    def _scalar_alpha(self) -> float:
        """α of the binary form (a one-element list is a number)."""
        return _single(
            self.alpha,
            "binary focal takes one --alpha, got {n}",
            "per-class --alpha needs one prediction column per class",
        )

    def _class_alpha(self, k: int) -> Array | float:
        """Multi-class α: one per class (Keras alpha=[…]), one for all, or 1 when off."""
        a = self.alpha
        if isinstance(a, tuple) and len(a) > 1:
            return _per_column(
                a, k, "--alpha", "classes", "give one α per prediction column, or a single α"
            )
        s = a[0] if isinstance(a, tuple) else a
        return 1.0 if s < 0 else s

    def _smoothed(self, target: Array) -> Array:
        eps = self.label_smoothing
        return target if not eps else (1.0 - eps) * target + eps / target.shape[1]

    def _logits_hard(self, y: Array, x: Array, hessian: bool = False) -> Pointwise:
        """Binary focal on logits for 0/1 labels, in two thirds of the passes.

        With s = 1 − 2y and z = s·x: 1 − p_t = m = σ(z), p_t = σ(−z), ce =
        softplus(z), and ∂ℓ/∂x = α_t·s·m^γ·(m + γ·ce·p_t) — the general
        gradient with dce = s·m and dm/m = s·p_t substituted, so no division
        and nothing to guard where m underflows.  Once more in z:
        ∂²ℓ/∂x² = α_t·m^γ·p_t·[m(1 + 2γ − γ·ce) + γ²·ce·p_t].
        """
        s = 1.0 - 2.0 * y
        z = s * x
        e = np.exp(-np.abs(x))
        inv = 1.0 / (1.0 + e)
        small = e * inv
        positive = z >= 0
        m = np.where(positive, inv, small)  # σ(z)
        p_t = np.where(positive, small, inv)  # σ(−z)
        ce = np.maximum(z, 0.0) + np.log1p(e)
        mg = m * m if self.gamma == 2.0 else m**self.gamma
        a = self._alpha_t(y)
        loss = mg * ce
        grad = ce * self.gamma
        grad *= p_t
        grad += m
        grad *= mg
        grad *= s
        hess = None
        if hessian:
            g = self.gamma
            hess = mg * p_t * (m * (1.0 + 2.0 * g - g * ce) + (g * g) * ce * p_t)
        if self._scalar_alpha() >= 0:
            loss *= a
            grad *= a
            if hess is not None:
                hess *= a
        return Pointwise(loss, grad, hess=hess)

    def _alpha_t(self, y: Array) -> Array | float:
        a = self._scalar_alpha()
        if a < 0:
            return 1.0
        return a * y + (1.0 - a) * (1.0 - y)

    def _binary(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool,
        hessian: bool,
        w: float | Array | None = None,
    ) -> Pointwise:
        """Sigmoid focal α_t·(1 − p_t)^γ·ce, with ce the cross-entropy whose positive
        term is weighted by ``w`` (``--pos-weight``, as torch's BCEWithLogitsLoss):
        w·y·(−log p) + (1 − y)·(−log(1 − p)); p_t and α_t do not change."""
        _one_d(y_true, y_pred, self.name)
        if w is None:
            w = self._single_pos_weight()
        unit = isinstance(w, float) and w == 1.0
        y = smooth_binary(_binary_labels(y_true, soft=True), self.label_smoothing)
        wy = y if unit else w * y
        g = self.gamma
        if logits and unit and _hard(y):
            return self._logits_hard(y, y_pred, hessian)
        if logits:
            sp_pos, sp_neg, sig, sig_neg = links.logistic_parts(y_pred)
            m = y * sig_neg + (1.0 - y) * sig  # 1 − p_t without cancellation
            ce = wy * sp_neg + (1.0 - y) * sp_pos
            dce = sig - y if unit else (1.0 - y) * sig - wy * sig_neg
            dm = (1.0 - 2.0 * y) * sig * sig_neg
            clipped = 0
        else:
            p, clipped = _probabilities(y_pred, self.eps)
            m = y * (1.0 - p) + (1.0 - y) * p
            ce = -(wy * np.log(p) + (1.0 - y) * np.log1p(-p))
            dce = (1.0 - y) / (1.0 - p) - wy / p
            dm = 1.0 - 2.0 * y
        # γ·ce·m^(γ−1)·dm written as m^γ·(dm/m): finite where m underflows to 0,
        # where dm/m tends to (1−2y)(1−m) for hard labels.
        safe = m > 0
        ratio = np.where(safe, dm / np.where(safe, m, 1.0), (1.0 - 2.0 * y) * (1.0 - m))
        mg = m**g
        a = self._alpha_t(y)
        loss = a * ce * mg
        grad = a * mg * (dce + g * ce * ratio)
        hess = None
        if hessian:
            # d²/dx² of m^γ·ce = m^γ·[ce'' + 2γ·ce'·r + γ(γ−1)·ce·r² + γ·ce·m''/m], r = m'/m;
            # on logits m'' = m'·(σ(−x) − σ(x)), on probabilities m'' = 0.
            if logits:
                d2ce = sig * sig_neg if unit else (wy + 1.0 - y) * sig * sig_neg
                curv = ratio * (sig_neg - sig)
            else:
                q = 1.0 - p
                d2ce = wy / (p * p) + (1.0 - y) / (q * q)
                curv = 0.0
            hess = (
                a
                * mg
                * (
                    d2ce
                    + 2.0 * g * dce * ratio
                    + g * (g - 1.0) * ce * ratio * ratio
                    + g * ce * curv
                )
            )
        return Pointwise(loss, grad, clipped=clipped, hess=hess)

    def log_prob_loss(
        self, logp: Array, p: Array, target: Array, idx: Array | None
    ) -> tuple[Array, Array, Array | None]:
        a = self._class_alpha(logp.shape[1])
        target = self._smoothed(target)
        m = -np.expm1(logp)  # 1 − p, accurate as p → 1
        safe = m > 0
        q = np.where(safe, logp / np.where(safe, m, 1.0), -1.0)  # log p / (1 − p) → −1
        mg = m**self.gamma
        loss = -(a * target * mg * logp).sum(axis=1)
        u = -a * target * mg * (1.0 - self.gamma * p * q)
        return loss, u, None

    def log_prob_curvature(self, logp: Array, p: Array, target: Array) -> Array | None:
        """With f(L) = (1 − e^L)^γ·L the term is −α·t·f; in m = 1 − p, q = L/m:
        f'' = γ·m^{γ−1}·p·[(γ − 1)·p·q − 2] − γ·p·q·m^γ.  m^{γ−1} at m = 0 is 0
        (γ > 1), 1 (γ = 1), or for γ < 1 — where f'' is unbounded — its value at
        the smallest normal float, so that the number stays finite."""
        g = self.gamma
        if g == 0:
            return None
        a = self._class_alpha(logp.shape[1])
        target = self._smoothed(target)
        m = -np.expm1(logp)
        safe = m > 0
        q = np.where(safe, logp / np.where(safe, m, 1.0), -1.0)
        m_low = m ** (g - 1.0) if g >= 1.0 else np.maximum(m, TINY) ** (g - 1.0)
        f2 = g * m_low * p * ((g - 1.0) * p * q - 2.0) - g * p * q * m**g
        out: Array = -a * target * f2
        return out


def _poly_epsilon(v: float) -> str | None:
    return None if v >= -1 and v == v and v != float("inf") else "must be a number ≥ −1"


@dataclass(frozen=True)
class Poly1(_LogProb):
    """Poly-1 cross-entropy: cross-entropy plus ε times the first polynomial term.

    Formula: −Σ꜀ y꜀ log p꜀ + ε·Σ꜀ y꜀(1 − p꜀) (= CE + ε(1 − p_t) for one-hot
    targets).  In the log-probabilities the term is y꜀(−L꜀ + ε(1 − e^{L꜀})),
    so u꜀ = −y꜀(1 + εp꜀) and v꜀ = −εy꜀p꜀; the chain rule to logits or
    probabilities is the shared one.
    Reference: optax.losses.poly_loss_cross_entropy(epsilon).
    """

    name: ClassVar[str] = "poly1"
    aliases: ClassVar[tuple[str, ...]] = ("poly_cross_entropy",)
    formula: ClassVar[str] = "−Σ꜀ y꜀·log p꜀ + ε·Σ꜀ y꜀·(1 − p꜀)"
    gradient: ClassVar[str] = "−y꜀(1 + εp꜀)/p꜀; with --logits pⱼΣ꜀y꜀(1 + εp꜀) − yⱼ(1 + εpⱼ)"
    hessian: ClassVar[str] = "y꜀/p꜀²; with --logits the chain rule through log p (diagonal)"
    reference: ClassVar[str] = "optax.losses.poly_loss_cross_entropy(epsilon)"
    poly_epsilon: float = param(2.0, "weight ε of the (1 − p_t) term (≥ −1)", _poly_epsilon)

    def log_prob_loss(
        self, logp: Array, p: Array, target: Array, idx: Array | None
    ) -> tuple[Array, Array, Array | None]:
        eps = self.poly_epsilon
        loss = -(target * logp).sum(axis=1) + eps * (target * (1.0 - p)).sum(axis=1)
        return loss, -target * (1.0 + eps * p), None

    def log_prob_curvature(self, logp: Array, p: Array, target: Array) -> Array | None:
        out: Array = -self.poly_epsilon * target * p
        return out
