"""Other libraries' conventions for the same losses: ``--compat`` and ``--dtype``.

The same loss on the same predictions gives different numbers in PyTorch, Keras,
scikit-learn and optax: torch clamps binary cross-entropy's logs at −100 and
floors its gradient's denominator at 1e-12; Keras clips probabilities at 1e-7,
renormalises probability rows, smooths binary labels toward 0.5, leaves binary
focal's α off, divides a weighted sum by the row count and computes in float32;
scikit-learn clips at the dtype's epsilon and accepts rows that do not sum to 1;
optax's sigmoid focal loss has α = None.  This module is the one place that
knows them: per library, which losscli losses it has, under which name, what
differs from losscli's default, and the class that computes its numbers.

A convention is a *derived class* of a losscli loss: the same parameters and
registry name, with a library kernel where the formula differs and three class
attributes the base class acts on (``precision``, ``library``,
``mean_over_rows``).  So a run can hold losscli's own loss and every library's
version side by side (``--compat all``) and stream them in one pass.

Precision ``float32`` rounds the inputs, the clip bounds and every per-row
loss, gradient and Hessian to float32, as a float32 kernel's results are; the
sums are then accumulated exactly in float64 (``math.fsum`` of block totals),
so a float32 run differs from float64 by what float32 does to each row, not
by accumulated rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli._types import PRECISIONS, Precision, Space
from losscli.errors import InputError
from losscli.losses import links
from losscli.losses.base import Loss, Pointwise, _binary_labels, _fail, _one_d
from losscli.losses.binary import BCE
from losscli.losses.multiclass import CrossEntropy, Focal, KLDiv, _class_targets
from losscli.losses.regression import MAPE, MSLE, Poisson
from losscli.losses.vector import CosineDistance

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")

FLOAT32_EPS = 2.0**-23  # 1.1920928955078125e-07, numpy.finfo(float32).eps
KERAS_EPS = 1e-7  # keras.backend.epsilon()
TORCH_LOG_FLOOR = -100.0  # torch binary_cross_entropy clamps each log at −100
TORCH_GRAD_FLOOR = 9.999999960041972e-13  # its backward's max(p(1−p), 1e-12), 1e-12 as float32


class Library(str, Enum):
    """The libraries whose conventions ``--compat`` reproduces."""

    TORCH = "torch"
    KERAS = "keras"
    SKLEARN = "sklearn"
    OPTAX = "optax"


@dataclass(frozen=True)
class Style:
    """What a library does to every loss: its float type and its weighted mean."""

    precision: Precision
    mean_over_rows: bool  # Σwℓ/n (torch's weight=, Keras's sum_over_batch_size), else Σwℓ/Σw
    note: str


STYLES: dict[Library, Style] = {
    Library.TORCH: Style(
        "float64", True, "a weighted mean is mean(w·ℓ) = Σwℓ/n, as torch's weight="
    ),
    Library.KERAS: Style(
        "float32", True, "float32; reduction sum_over_batch_size: Σwℓ/n, not Σwℓ/Σw"
    ),
    Library.SKLEARN: Style("float64", False, "a weighted mean is Σwℓ/Σw (numpy.average)"),
    Library.OPTAX: Style("float64", False, "float64 (jax x64); a weighted mean is Σwℓ/Σw"),
}


@dataclass(frozen=True)
class Convention:
    """One library's version of one losscli loss."""

    function: str  # the library's own name for it
    differs: str = ""  # how its numbers differ from losscli's default ("" = they do not)
    kernel: type[Loss] | None = None  # the class computing them (None: losscli's own)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # the library's parameter defaults
    spaces: tuple[Space, ...] | None = None  # prediction spaces it takes (None: all losscli takes)
    lacks: tuple[str, ...] = ()  # losscli parameters it has no equivalent of


def _clip_bounds(eps: float, precision: Precision) -> tuple[float, float]:
    """[eps, 1 − eps] as the library's arithmetic forms it (1 − 1e-7 in float32 is
    0.99999988…)."""
    if precision == "float32":
        lo = float(np.float32(eps))
        return lo, float(np.float32(1.0 - lo))
    return eps, 1.0 - eps


def _clip_factor(p: Array, lo: float, hi: float) -> Array:
    """d clip(p, lo, hi)/dp as autodiff gives it: 1 inside, 0 outside, ½ at a bound
    (jax's min/max split a tie)."""
    return np.where((p > lo) & (p < hi), 1.0, np.where((p == lo) | (p == hi), 0.5, 0.0))


def _check_probabilities(p: Array) -> None:
    _fail(
        (p < 0) | (p > 1),
        "y_pred",
        "has values outside [0, 1]",
        p,
        "if these are raw scores (logits), pass --logits",
    )


def _smoothing(loss: Loss) -> float:
    return float(getattr(loss, "label_smoothing", 0.0))


# --------------------------------------------------------------------------- kernels


class _Convention(Loss):
    """A library's kernel in front of losscli's: ``_library`` computes the library's
    numbers wherever ``_overrides`` says its formula differs; elsewhere the losscli
    class behind it in the MRO computes them.  Library kernels give no Hessian."""

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        if not self._overrides(y_pred, logits=logits):
            return super()._pointwise(y_true, y_pred, logits=logits, strict=strict, hessian=hessian)
        if hessian:
            raise InputError(
                f"--hessian is not available for {self.library}'s {self.name}",
                "drop --hessian, or compute without --compat",
            )
        return self._library(y_true, y_pred, logits=logits)

    def _overrides(self, y_pred: Array, *, logits: bool) -> bool:
        return True

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        raise NotImplementedError


# --------------------------------------------------------------------------- torch


@dataclass(frozen=True)
class _TorchBCE(_Convention, BCE):
    """torch binary_cross_entropy: logs clamped at −100, no clipping, and the
    backward (p − y)/max(p(1 − p), 1e-12); on logits BCE-with-logits, losscli's own."""

    def _overrides(self, y_pred: Array, *, logits: bool) -> bool:
        return not logits

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        if self.pos_weight is not None:
            raise InputError(
                "torch's binary_cross_entropy has no pos_weight "
                "(binary_cross_entropy_with_logits has)",
                "pass logits with --logits, or drop --pos-weight",
            )
        y = _binary_labels(y_true, soft=True)
        _check_probabilities(y_pred)
        with np.errstate(divide="ignore"):
            log_p = np.log(y_pred)
            log_q = np.log1p(-y_pred)
        clamped = int(np.count_nonzero(log_p < TORCH_LOG_FLOOR)) + int(
            np.count_nonzero(log_q < TORCH_LOG_FLOOR)
        )
        loss = -(
            y * np.maximum(log_p, TORCH_LOG_FLOOR) + (1.0 - y) * np.maximum(log_q, TORCH_LOG_FLOOR)
        )
        grad = (y_pred - y) / np.maximum((1.0 - y_pred) * y_pred, TORCH_GRAD_FLOOR)
        return Pointwise(loss, grad, clipped=clamped)


@dataclass(frozen=True)
class _UnclippedKLDiv(_Convention, KLDiv):
    """KL(y ‖ p) on log p taken as given (torch kl_div(p.log(), y), optax
    kl_divergence): no clipping, so p = 0 under y > 0 is an infinite loss."""

    def _overrides(self, y_pred: Array, *, logits: bool) -> bool:
        return not logits and y_pred.ndim == 2

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        target, _ = _class_targets(y_true, y_pred.shape[1])
        _check_probabilities(y_pred)
        _fail(
            y_pred == 0,
            "y_pred",
            f"is 0, and log 0 = −inf makes {self.library}'s KL divergence NaN or infinite",
            y_pred,
            "clip the predictions, or drop --compat for losscli's kl_div (clipped at eps)",
        )
        positive = target > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = np.where(positive, target * np.log(np.where(positive, target, 1.0)), 0.0)
            cross = np.where(positive, target * np.log(y_pred), 0.0)
            grad = np.where(positive, -target / y_pred, 0.0)
        return Pointwise((entropy - cross).sum(axis=1), grad)


@dataclass(frozen=True)
class _BinaryFocal(Focal):
    """Sigmoid focal loss only (torchvision, optax): K prediction columns are refused."""

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        if y_pred.ndim == 2 and y_pred.shape[1] > 1:
            raise InputError(
                f"{self.library}'s sigmoid focal loss is binary: it has no softmax form",
                "give one prediction column, or use --compat keras (CategoricalFocalCrossentropy)",
            )
        return super()._pointwise(y_true, y_pred, logits=logits, strict=strict, hessian=hessian)


# --------------------------------------------------------------------------- keras


@dataclass(frozen=True)
class _KerasBCE(_Convention, BCE):
    """keras BinaryCrossentropy: p clipped to [1e-7, 1 − 1e-7] (zero gradient
    outside), binary labels smoothed toward ½: y(1 − ε) + ε/2."""

    def _overrides(self, y_pred: Array, *, logits: bool) -> bool:
        return not logits

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        y = _binary_labels(y_true, soft=True)
        if (ls := _smoothing(self)) and not hasattr(BCE, "label_smoothing"):
            y = y * (1.0 - ls) + 0.5 * ls
        _check_probabilities(y_pred)
        lo, hi = _clip_bounds(self.eps, self.precision)
        q = np.clip(y_pred, lo, hi)
        loss = -(y * np.log(q) + (1.0 - y) * np.log(1.0 - q))
        grad = _clip_factor(y_pred, lo, hi) * ((1.0 - y) / (1.0 - q) - y / q)
        return Pointwise(loss, grad, clipped=int(np.count_nonzero(q != y_pred)))


def _renormalised(p: Array, eps: float, precision: Precision) -> tuple[Array, Array, Array, Array]:
    """Keras's probability rows: r = p/Σp, q = clip(r); returns (q, r, row sums, clip factor)."""
    _check_probabilities(p)
    s = p.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = p / s
    lo, hi = _clip_bounds(eps, precision)
    return np.clip(r, lo, hi), r, s, _clip_factor(r, lo, hi)


def _through_renormalisation(u: Array, r: Array, s: Array) -> Array:
    """∂ℓ/∂p from u = ∂ℓ/∂r for r = p/Σp: (uⱼ − Σ꜀u꜀r꜀)/Σp."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = (u - (u * r).sum(axis=1, keepdims=True)) / s
    return out


@dataclass(frozen=True)
class _KerasCE(_Convention, CrossEntropy):
    """keras CategoricalCrossentropy on probabilities: rows renormalised to sum 1,
    then clipped to [1e-7, 1 − 1e-7]; on logits log_softmax, losscli's own."""

    def _overrides(self, y_pred: Array, *, logits: bool) -> bool:
        return not logits and y_pred.ndim == 2

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        target, _ = _class_targets(y_true, y_pred.shape[1])
        k = y_pred.shape[1]
        if self.label_smoothing:
            target = (1.0 - self.label_smoothing) * target + self.label_smoothing / k
        q, r, s, factor = _renormalised(y_pred, self.eps, self.precision)
        loss = -(target * np.log(q)).sum(axis=1)
        grad = _through_renormalisation(factor * (-target / q), r, s)
        return Pointwise(loss, grad, clipped=int(np.count_nonzero(q != r)))


@dataclass(frozen=True)
class _KerasFocal(_Convention, Focal):
    """keras BinaryFocalCrossentropy / CategoricalFocalCrossentropy.

    Binary: (1 − p_t)^γ·bce(clip p), with α_t only when --alpha is given
    (apply_class_balancing); logits pass through σ first, then the same clip.
    Multi-class: Σ꜀ α(1 − q꜀)^γ·(−y꜀ log q꜀) on renormalised, clipped rows
    q (α = 0.25 unless --alpha is given).
    """

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        if y_pred.ndim == 2 and y_pred.shape[1] > 1:
            return self._categorical(y_true, y_pred, logits=logits)
        _one_d(y_true, y_pred, self.name)
        y = _binary_labels(y_true, soft=True)
        if ls := _smoothing(self):
            y = y * (1.0 - ls) + 0.5 * ls
        if logits:
            _, _, p, p_neg = links.logistic_parts(y_pred)
            dp = p * p_neg  # σ'(x)
        else:
            _check_probabilities(y_pred)
            p, dp = y_pred, np.ones_like(y_pred)
        lo, hi = _clip_bounds(self.eps, self.precision)
        q = np.clip(p, lo, hi)
        bce = -(y * np.log(q) + (1.0 - y) * np.log(1.0 - q))
        dbce = _clip_factor(p, lo, hi) * ((1.0 - y) / (1.0 - q) - y / q)
        m = y * (1.0 - p) + (1.0 - y) * p  # 1 − p_t
        g = self.gamma
        mg = m**g
        with np.errstate(divide="ignore", invalid="ignore"):
            dmg = np.where(m > 0, g * m ** (g - 1.0), 0.0) if g else np.zeros_like(m)
        a = self._alpha_t(y)
        loss = a * mg * bce
        grad = a * (dmg * (1.0 - 2.0 * y) * bce + mg * dbce) * dp
        return Pointwise(loss, grad, clipped=int(np.count_nonzero(q != p)))

    def _categorical(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        target, _ = _class_targets(y_true, y_pred.shape[1])
        p = links.softmax(y_pred) if logits else y_pred
        q, r, s, factor = _renormalised(p, self.eps, self.precision)
        a = self.alpha
        alpha: Array | float = (
            self._class_alpha(y_pred.shape[1]) if isinstance(a, tuple) else (0.25 if a < 0 else a)
        )
        g = self.gamma
        logq = np.log(q)
        one_minus = 1.0 - q
        mod = one_minus**g
        loss = (alpha * mod * -(target * logq)).sum(axis=1)
        dmod = g * one_minus ** (g - 1.0) if g else np.zeros_like(q)
        u = factor * alpha * (dmod * target * logq - mod * target / q)
        grad = _through_renormalisation(u, r, s)
        if logits:  # through softmax: pⱼ(gⱼ − Σ꜀p꜀g꜀)
            grad = p * (grad - (p * grad).sum(axis=1, keepdims=True))
        return Pointwise(loss, grad, clipped=int(np.count_nonzero(q != r)))


@dataclass(frozen=True)
class _KerasKLDiv(_Convention, KLDiv):
    """keras KLDivergence: targets and predictions both clipped to [1e-7, 1]."""

    def _overrides(self, y_pred: Array, *, logits: bool) -> bool:
        return y_pred.ndim == 2

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        target, _ = _class_targets(y_true, y_pred.shape[1])
        _check_probabilities(y_pred)
        lo, _ = _clip_bounds(self.eps, self.precision)
        t = np.clip(target, lo, 1.0)
        q = np.clip(y_pred, lo, 1.0)
        loss = (t * np.log(t / q)).sum(axis=1)
        grad = _clip_factor(y_pred, lo, 1.0) * (-t / q)
        return Pointwise(loss, grad, clipped=int(np.count_nonzero(q != y_pred)))


@dataclass(frozen=True)
class _KerasPoisson(_Convention, Poisson):
    """keras Poisson: λ − y·log(λ + 1e-7) (torch's eps is 1e-8)."""

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        _fail(y_true < 0, "y_true", "has negative counts", y_true, "poisson needs targets ≥ 0")
        _fail(y_pred < 0, "y_pred", "has negative rates", y_pred, "keras Poisson takes rates λ ≥ 0")
        shifted = y_pred + _clip_bounds(KERAS_EPS, self.precision)[0]
        return Pointwise(y_pred - y_true * np.log(shifted), 1.0 - y_true / shifted)


class _KerasMAPE(_Convention, MAPE):
    """keras MeanAbsolutePercentageError: 100·|ŷ − y|/max(|y|, 1e-7), a percentage."""

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        scale = np.maximum(np.abs(y_true), _clip_bounds(KERAS_EPS, self.precision)[0])
        e = y_pred - y_true
        return Pointwise(100.0 * np.abs(e) / scale, 100.0 * np.sign(e) / scale)


class _KerasMSLE(_Convention, MSLE):
    """keras MeanSquaredLogarithmicError: both sides clipped below at 1e-7 (so values
    ≤ −1 are no error), then (log(1 + ŷ) − log(1 + y))²."""

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        lo = _clip_bounds(KERAS_EPS, self.precision)[0]
        q = np.maximum(y_pred, lo)
        d = np.log(q + 1.0) - np.log(np.maximum(y_true, lo) + 1.0)
        factor = np.where(y_pred > lo, 1.0, np.where(y_pred == lo, 0.5, 0.0))
        return Pointwise(d * d, factor * 2.0 * d / (q + 1.0))


class _KerasCosine(_Convention, CosineDistance):
    """keras CosineSimilarity as a loss: −cos(ŷ, y), losscli's distance minus 1."""

    def _library(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        pw = CosineDistance._pointwise(self, y_true, y_pred, logits=logits)
        return pw._replace(loss=pw.loss - 1.0)


# --------------------------------------------------------------------------- sklearn


@dataclass(frozen=True)
class _SklearnLogLoss(CrossEntropy):
    """sklearn log_loss: rows that do not sum to 1 are accepted as they are (it
    only warns) and clipped to [eps, 1 − eps], eps = the dtype's epsilon."""

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        return super()._pointwise(y_true, y_pred, logits=logits, strict=False, hessian=hessian)


# --------------------------------------------------------------------------- the table

_PROBABILITIES: tuple[Space, ...] = ("probability",)
_LOGITS: tuple[Space, ...] = ("logit",)
_KERAS_CLIP = {"eps": KERAS_EPS}
_KERAS_CLIPS = "probabilities clipped to [1e-7, 1 − 1e-7] (losscli: the float64 epsilon)"

CONVENTIONS: dict[Library, dict[str, Convention]] = {
    Library.TORCH: {
        "mse": Convention("torch.nn.functional.mse_loss"),
        "mae": Convention("torch.nn.functional.l1_loss"),
        "huber": Convention("torch.nn.functional.huber_loss"),
        "smooth_l1": Convention("torch.nn.functional.smooth_l1_loss"),
        "poisson": Convention("torch.nn.functional.poisson_nll_loss"),
        "gaussian_nll": Convention("torch.nn.functional.gaussian_nll_loss"),
        "bce": Convention(
            "torch.nn.functional.binary_cross_entropy (_with_logits with --logits)",
            "on probabilities: no clipping; each log clamped at −100 and the gradient's "
            "denominator p(1 − p) floored at 1e-12",
            kernel=_TorchBCE,
        ),
        "cross_entropy": Convention("torch.nn.functional.cross_entropy", spaces=_LOGITS),
        "focal": Convention(
            "torchvision.ops.sigmoid_focal_loss",
            kernel=_BinaryFocal,
            spaces=_LOGITS,
            lacks=("pos_weight",),
        ),
        "kl_div": Convention(
            "torch.nn.functional.kl_div(p.log(), y, reduction='batchmean')",
            "no clipping of p: p = 0 under a positive target is an infinite loss",
            kernel=_UnclippedKLDiv,
        ),
    },
    Library.KERAS: {
        "mse": Convention("keras.losses.MeanSquaredError"),
        "mae": Convention("keras.losses.MeanAbsoluteError"),
        "huber": Convention("keras.losses.Huber"),
        "log_cosh": Convention("keras.losses.LogCosh"),
        "poisson": Convention(
            "keras.losses.Poisson",
            "λ − y·log(λ + 1e-7) (losscli and torch: + 1e-8)",
            kernel=_KerasPoisson,
            spaces=("value",),
        ),
        "hinge": Convention("keras.losses.Hinge"),
        "squared_hinge": Convention("keras.losses.SquaredHinge"),
        "bce": Convention(
            "keras.losses.BinaryCrossentropy",
            _KERAS_CLIPS + ", with zero gradient where clipped; label smoothing y(1 − ε) + ε/2",
            kernel=_KerasBCE,
            defaults=_KERAS_CLIP,
            lacks=("pos_weight",),
        ),
        "cross_entropy": Convention(
            "keras.losses.CategoricalCrossentropy (Sparse… for class indices)",
            "probability rows renormalised to sum 1, then " + _KERAS_CLIPS,
            kernel=_KerasCE,
            defaults=_KERAS_CLIP,
            lacks=("class_weights",),
        ),
        "focal": Convention(
            "keras.losses.BinaryFocalCrossentropy / CategoricalFocalCrossentropy",
            "binary: α off (apply_class_balancing=False) unless --alpha is given; "
            "σ(logits) clipped like probabilities; " + _KERAS_CLIPS,
            kernel=_KerasFocal,
            defaults={"eps": KERAS_EPS, "alpha": -1.0},
            lacks=("pos_weight",),
        ),
        "mape": Convention(
            "keras.losses.MeanAbsolutePercentageError",
            "a percentage (×100), |y| floored at 1e-7 (losscli, sklearn: a fraction, ε = 2.2e-16)",
            kernel=_KerasMAPE,
        ),
        "msle": Convention(
            "keras.losses.MeanSquaredLogarithmicError",
            "values below 1e-7 clipped to 1e-7 (losscli refuses values ≤ −1)",
            kernel=_KerasMSLE,
        ),
        "categorical_hinge": Convention("keras.losses.CategoricalHinge"),
        "cosine_distance": Convention(
            "keras.losses.CosineSimilarity",
            "−cos(ŷ, y): losscli's 1 − cos minus 1 (the same gradient)",
            kernel=_KerasCosine,
        ),
        "kl_div": Convention(
            "keras.losses.KLDivergence",
            "targets and predictions clipped to [1e-7, 1]",
            kernel=_KerasKLDiv,
            defaults=_KERAS_CLIP,
            spaces=_PROBABILITIES,
        ),
    },
    Library.SKLEARN: {
        "mse": Convention("sklearn.metrics.mean_squared_error"),
        "rmse": Convention("sklearn.metrics.root_mean_squared_error"),
        "mae": Convention("sklearn.metrics.mean_absolute_error"),
        "quantile": Convention("sklearn.metrics.mean_pinball_loss"),
        "huber": Convention(
            "sklearn.linear_model.SGDRegressor(loss='huber')",
            "default δ = epsilon = 0.1 (losscli: 1)",
            defaults={"delta": 0.1},
        ),
        "epsilon_insensitive": Convention(
            "sklearn.linear_model.SGDRegressor(loss='epsilon_insensitive')"
        ),
        "hinge": Convention("sklearn.metrics.hinge_loss"),
        "multiclass_hinge": Convention("sklearn.metrics.hinge_loss (more than two classes)"),
        "perceptron": Convention("sklearn.linear_model.SGDClassifier(loss='perceptron')"),
        "mape": Convention("sklearn.metrics.mean_absolute_percentage_error"),
        "msle": Convention("sklearn.metrics.mean_squared_log_error"),
        "rmsle": Convention("sklearn.metrics.root_mean_squared_log_error"),
        "tweedie": Convention("sklearn.metrics.mean_tweedie_deviance"),
        "poisson_deviance": Convention("sklearn.metrics.mean_poisson_deviance"),
        "gamma": Convention("sklearn.metrics.mean_gamma_deviance"),
        "brier": Convention("sklearn.metrics.brier_score_loss"),
        "squared_hinge": Convention("sklearn.linear_model.SGDClassifier(loss='squared_hinge')"),
        "modified_huber": Convention("sklearn.linear_model.SGDClassifier(loss='modified_huber')"),
        "bce": Convention("sklearn.metrics.log_loss", spaces=_PROBABILITIES, lacks=("pos_weight",)),
        "cross_entropy": Convention(
            "sklearn.metrics.log_loss",
            "probability rows that do not sum to 1 are used as they are (sklearn warns)",
            kernel=_SklearnLogLoss,
            spaces=_PROBABILITIES,
            lacks=("label_smoothing", "class_weights"),
        ),
    },
    Library.OPTAX: {
        "mse": Convention("optax.losses.squared_error"),
        "huber": Convention("optax.losses.huber_loss"),
        "log_cosh": Convention("optax.losses.log_cosh"),
        "hinge": Convention("optax.losses.hinge_loss"),
        "multiclass_hinge": Convention("optax.losses.multiclass_hinge_loss"),
        "perceptron": Convention("optax.losses.perceptron_loss"),
        "poly1": Convention("optax.losses.poly_loss_cross_entropy", spaces=_LOGITS),
        "cosine_distance": Convention("optax.losses.cosine_distance"),
        "bce": Convention(
            "optax.losses.sigmoid_binary_cross_entropy", spaces=_LOGITS, lacks=("pos_weight",)
        ),
        "focal": Convention(
            "optax.losses.sigmoid_focal_loss",
            "α = None: no class weighting unless --alpha is given (losscli, torchvision: 0.25)",
            kernel=_BinaryFocal,
            defaults={"alpha": -1.0},
            spaces=_LOGITS,
            lacks=("pos_weight",),
        ),
        "cross_entropy": Convention(
            "optax.losses.softmax_cross_entropy (_with_integer_labels)",
            spaces=_LOGITS,
            lacks=("class_weights",),
        ),
        "kl_div": Convention(
            "optax.losses.kl_divergence(log p, y)",
            "no clipping of p: p = 0 under a positive target is an infinite loss",
            kernel=_UnclippedKLDiv,
        ),
    },
}


def library(name: str | None) -> Library | None:
    """The library a --compat value names (None: losscli's own convention)."""
    if name is None:
        return None
    try:
        return Library(name)
    except ValueError:
        known = ", ".join(lib.value for lib in Library)
        raise InputError(f"unknown --compat {name!r}", f"choose {known} or all") from None


def precision(name: str | None) -> Precision | None:
    """The precision a --dtype value names (None: the convention's own)."""
    if name is None or name in PRECISIONS:
        return name
    raise InputError(f"unknown --dtype {name!r}", "choose float64 or float32")


def conventions(name: str) -> list[tuple[Library, Convention | None]]:
    """Every library's convention for a loss (None where the library has no such loss)."""
    return [(lib, CONVENTIONS[lib].get(name)) for lib in Library]


def convention(library: Library, name: str) -> Convention:
    """The library's convention for the loss, or an error naming the library."""
    found = CONVENTIONS[library].get(name)
    if found is None:
        have = ", ".join(lib.value for lib, c in conventions(name) if c is not None) or "none"
        raise InputError(
            f"{library.value} has no {name} loss (libraries that have it: {have})",
            "choose another --compat, or drop it for losscli's own convention",
        )
    return found


_DERIVED: dict[tuple[type[Loss], Library | None, Precision, bool, bool], type[Loss]] = {}


def _derived(
    base: type[Loss],
    library: Library | None,
    precision: Precision,
    mean_over_rows: bool,
    shadow: bool = False,
) -> type[Loss]:
    """The class computing ``base`` under a library's style (one per combination)."""
    key = (base, library, precision, mean_over_rows, shadow)
    if key in _DERIVED:
        return _DERIVED[key]
    parts = (library.value if library else "", precision, "shadow" if shadow else "")
    tag = "".join(part.title() for part in parts)
    attrs: dict[str, Any] = {
        "precision": precision,
        "library": library.value if library else None,
        "mean_over_rows": mean_over_rows,
        "shadow": shadow,
        "__module__": __name__,
        "__qualname__": f"{base.__name__}{tag}",
    }
    _DERIVED[key] = type(f"{base.__name__}{tag}", (base,), attrs)
    return _DERIVED[key]


def make(
    cls: type[Loss],
    given: Mapping[str, Any],
    *,
    logits: bool,
    library: Library | None = None,
    precision: Precision | None = None,
) -> Loss:
    """An instance of ``cls`` with the parameters the user gave, under a library's
    convention and a precision (each None: losscli's own, float64)."""
    params = dict(given)
    base, mean_over_rows, chosen = cls, False, precision or "float64"
    if library is not None:
        conv = convention(library, cls.name)
        space = cls(**params).space(logits)
        if conv.spaces is not None and space not in conv.spaces:
            spaces = " or ".join(f"{s}s" for s in conv.spaces)
            raise InputError(
                f"{library.value}'s {conv.function} takes {spaces}, not {space}s",
                "pass --logits" if "logit" in conv.spaces else "drop --logits",
            )
        for name in conv.lacks:
            if name in given:
                flag = "--" + name.replace("_", "-")
                raise InputError(
                    f"{library.value}'s {conv.function} has no equivalent of {flag}",
                    f"drop {flag}, or compute without --compat {library.value}",
                )
        params = {**conv.defaults, **given}
        base = conv.kernel or cls
        style = STYLES[library]
        mean_over_rows = style.mean_over_rows
        chosen = precision or style.precision
    eps_given = "eps" in given or (library is not None and "eps" in params)
    if chosen == "float32" and "eps" in {f.name for f in fields(cls)} and not eps_given:
        params["eps"] = FLOAT32_EPS  # float32's own epsilon, as sklearn clips at the dtype's
    if library is None and chosen == "float64":
        return cls(**params)
    return _derived(base, library, chosen, mean_over_rows)(**params)


def shadow(loss: Loss) -> Loss:
    """The same loss and convention in float64, to show how far float32 moved it.

    A clip at float32's epsilon that only ``--dtype float32`` chose goes back
    to losscli's float64 default; a library's own clip (Keras's 1e-7) stays.
    """
    base = next(c for c in type(loss).__mro__ if c.__dict__.get("precision") is None)
    library = Library(loss.library) if loss.library else None
    params = {f.name: getattr(loss, f.name) for f in fields(loss)}
    if params.get("eps") == FLOAT32_EPS:
        params["eps"] = next(f.default for f in fields(loss) if f.name == "eps")
    cls = _derived(base, library, "float64", loss.mean_over_rows, shadow=True)
    return cls(**params)


def expand(
    cls: type[Loss], given: Mapping[str, Any], *, logits: bool, precision: Precision | None
) -> list[tuple[Library | None, Loss | str]]:
    """losscli's own loss, then every library's version (``--compat all``).

    A library that lacks the loss, or takes other inputs, gives the reason instead.
    """
    out: list[tuple[Library | None, Loss | str]] = [
        (None, make(cls, given, logits=logits, precision=precision))
    ]
    for library in Library:
        try:
            out.append(
                (library, make(cls, given, logits=logits, library=library, precision=precision))
            )
        except InputError as exc:
            out.append((library, exc.problem))
    return out


def describe(name: str) -> list[dict[str, Any]]:
    """Per library: its function, what differs from losscli's default, its style."""
    rows = []
    for library, conv in conventions(name):
        style = STYLES[library]
        rows.append(
            {
                "library": library.value,
                "function": None if conv is None else conv.function,
                "differs": None if conv is None else (conv.differs or "the same numbers"),
                "takes": None if conv is None or conv.spaces is None else list(conv.spaces),
                "style": style.note,
            }
        )
    return rows
