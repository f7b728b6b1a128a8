"""The loss catalogue: one small class per loss, the ``LOSSES`` registry last.

Conventions, written once for every loss below:

* ``y_pred`` has shape ``(n,)`` (regression, counts, binary) or ``(n, K)``
  (one column per class).  ``y_true`` has shape ``(n,)`` (values, 0/1
  labels, class indices 0..K-1) or ``(n, K)`` (soft labels, rows summing
  to 1).
* Predictions live in one *space*: ``"value"`` (the regression prediction
  itself, or a Poisson rate), ``"probability"`` or ``"logit"`` (a raw
  score).  ``logits=True`` picks the logit space for the losses that take
  both; hinge-family losses always take raw scores.
* :meth:`Loss.pointwise` returns per-sample losses ℓᵢ and their derivatives
  ∂ℓᵢ/∂ŷᵢ with respect to the predictions in the space given (one row of K
  numbers for multi-class), plus an optional per-sample normaliser nᵢ
  (torch's class-weighted mean divides by Σ w[yᵢ], not by n).
* :meth:`Loss.evaluate` reduces with sample weights sᵢ: ``mean`` is
  Σsᵢℓᵢ / Σsᵢnᵢ, ``sum`` is Σsᵢℓᵢ, ``none`` is the vector sᵢℓᵢ.  The
  gradient is that of the reported loss with respect to each prediction, as
  PyTorch autograd gives it; for ``none``, each sᵢ·∂ℓᵢ/∂ŷᵢ.
* Probabilities are clipped to [eps, 1−eps] (eps = float64 machine epsilon,
  as scikit-learn's log_loss); where a value was clipped the gradient is the
  derivative at the clipped value, and the clipped cells are counted.

Adding a loss is one class here plus one line in ``_CATALOGUE``; the command
line, the catalogue and the parametrized tests pick it up.
"""

from __future__ import annotations

import difflib
import math
import sys
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

from losscli import links
from losscli._lazy import lazy_module
from losscli.errors import BadValues, InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention; masks and indices share the alias
else:
    np = lazy_module("numpy", globals(), "np")

Space = Literal["value", "probability", "logit"]
Reduction = Literal["mean", "sum", "none"]
REDUCTIONS: tuple[Reduction, ...] = ("mean", "sum", "none")
MACHINE_EPS = sys.float_info.epsilon  # 2.220446049250313e-16, float64
ROW_SUM_TOL = 1e-4  # probability rows printed with a few decimals still sum to 1
POISSON_EPS = 1e-8  # torch poisson_nll_loss default, guards log(0)
MAX_EXP = math.log(sys.float_info.max)  # 709.78…; exp() above this overflows


# --------------------------------------------------------------------------- parameters


def _positive(v: float) -> str | None:
    return None if v > 0 and math.isfinite(v) else "must be a positive number"


def _opt_positive(v: float | None) -> str | None:
    return None if v is None else _positive(v)


def _nonnegative(v: float) -> str | None:
    return None if v >= 0 and math.isfinite(v) else "must be a number ≥ 0"


def _open_unit(v: float) -> str | None:
    return None if 0 < v < 1 else "must lie strictly between 0 and 1"


def _unit(v: float) -> str | None:
    return None if 0 <= v <= 1 else "must lie between 0 and 1"


def _finite(v: float) -> str | None:
    return None if math.isfinite(v) else "must be a finite number"


def _clip_eps(v: float) -> str | None:
    return None if 0 < v < 0.5 else "must lie strictly between 0 and 0.5"


def _weights(v: tuple[float, ...] | None) -> str | None:
    if v is None:
        return None
    if not v or not all(math.isfinite(w) and w >= 0 for w in v):
        return "must be a list of numbers ≥ 0"
    return None if any(w > 0 for w in v) else "must not be all zero"


def param(default: Any, doc: str, check: Callable[[Any], str | None]) -> Any:
    """A loss parameter: a dataclass field with its help text and range check."""
    return field(default=default, metadata={"doc": doc, "check": check})


class ParamInfo(NamedTuple):
    """What the catalogue and the command line need to know of a parameter."""

    name: str
    default: Any
    doc: str
    is_list: bool


# --------------------------------------------------------------------------- results


class Pointwise(NamedTuple):
    """Per-sample losses ℓᵢ, their derivatives ∂ℓᵢ/∂ŷᵢ, normalisers nᵢ, clip count."""

    loss: Array
    grad: Array
    norm: Array | None = None
    clipped: int = 0


@dataclass(frozen=True)
class LossResult:
    """A reduced loss: ``value`` is a float, or the per-sample vector for ``none``."""

    loss: str
    params: dict[str, Any]
    reduction: Reduction
    space: Space
    value: float | Array
    gradient: Array
    per_sample: Array
    n: int
    clipped: int


def weighted_totals(pw: Pointwise, weight: Array | None) -> tuple[float, float]:
    """(Σsᵢℓᵢ, Σsᵢnᵢ): all a reduction needs, and what chunks add up when streaming."""
    n = pw.loss.shape[0]
    if weight is None:
        num = float(pw.loss.sum())
        den = float(n) if pw.norm is None else float(pw.norm.sum())
    else:
        num = float(weight @ pw.loss)
        den = float(weight.sum()) if pw.norm is None else float(weight @ pw.norm)
    return num, den


# --------------------------------------------------------------------------- base class


@dataclass(frozen=True)
class Loss:
    """A loss: its parameters are the dataclass fields; the kernel is ``pointwise``.

    Class attributes describe the loss for the catalogue: ``name``,
    ``aliases``, ``task``, ``takes`` (what predictions it expects),
    ``formula``, ``gradient`` (its derivative), ``reference`` (the oracle
    it must match) and ``logit_space``: ``"never"`` (values only),
    ``"optional"`` (``--logits`` switches from probabilities/rates to
    logits/log-rates) or ``"always"`` (raw scores whatever the flag).
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    task: ClassVar[str]
    takes: ClassVar[str]
    formula: ClassVar[str]
    gradient: ClassVar[str]
    reference: ClassVar[str]
    logit_space: ClassVar[Literal["never", "optional", "always"]] = "never"
    default_space: ClassVar[Space] = "value"
    reductions: ClassVar[tuple[Reduction, ...]] = REDUCTIONS
    multiclass: ClassVar[bool] = False
    smooth: ClassVar[bool] = True  # differentiable everywhere (False: kinks, as |e|)

    def __post_init__(self) -> None:
        for f in fields(self):
            problem = f.metadata["check"](getattr(self, f.name))
            if problem:
                raise InputError(
                    f"{self.name}: {f.name} {problem} (got {getattr(self, f.name)!r})",
                    f"pass a valid --{f.name.replace('_', '-')}",
                )

    # -- description ---------------------------------------------------------

    @classmethod
    def param_info(cls) -> tuple[ParamInfo, ...]:
        """The parameters this loss takes, with defaults and help."""
        return tuple(
            ParamInfo(f.name, f.default, f.metadata["doc"], f.metadata["check"] is _weights)
            for f in fields(cls)
        )

    def params(self) -> dict[str, Any]:
        """Parameter values as JSON-ready Python objects."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    def space(self, logits: bool) -> Space:
        """The space the predictions are read in, given the ``--logits`` flag."""
        if self.logit_space == "always" or (logits and self.logit_space == "optional"):
            return "logit"
        return self.default_space

    # -- evaluation ----------------------------------------------------------

    def pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        finite: bool = True,
    ) -> Pointwise:
        """Per-sample losses and derivatives; validates the inputs first.

        ``strict=False`` skips the probability rows' sum-to-1 check, for finite
        differences that move one class column at a time.  ``finite=False``
        skips the overflow check, for training loops that check their sums.
        """
        pw = self._pointwise(y_true, y_pred, logits=logits, strict=strict)
        if finite:
            check_finite(pw)
        return pw

    def _pointwise(self, y_true: Array, y_pred: Array, *, logits: bool, strict: bool) -> Pointwise:
        raise NotImplementedError

    def reduce_value(self, num: float, den: float, reduction: Reduction) -> float:
        """The reported loss from the totals Σsℓ and Σsn."""
        return num / den if reduction == "mean" else num

    def grad_scale(self, num: float, den: float, reduction: Reduction) -> float:
        """Factor c with ∂L/∂ŷᵢ = c·sᵢ·∂ℓᵢ/∂ŷᵢ (chain rule through the reduction)."""
        return 1.0 / den if reduction == "mean" else 1.0

    def check_reduction(self, reduction: str) -> None:
        if reduction not in self.reductions:
            raise InputError(
                f"{self.name} supports --reduction {' or '.join(self.reductions)} only",
                f"use --reduction {self.reductions[0]}",
            )

    def evaluate(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        reduction: Reduction = "mean",
        weight: Array | None = None,
    ) -> LossResult:
        """The reduced loss and its gradient with respect to ``y_pred``."""
        self.check_reduction(reduction)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        y_true = np.asarray(y_true, dtype=np.float64)
        if weight is not None:
            weight = check_weights(np.asarray(weight, dtype=np.float64), y_pred.shape[0])
        pw = self.pointwise(y_true, y_pred, logits=logits)
        num, den = weighted_totals(pw, weight)
        if reduction == "mean" and not den > 0:
            raise InputError(
                f"{self.name}: the weights of all rows add up to 0, so the mean is undefined",
                "give some rows a positive weight, or use --reduction sum",
            )
        s = 1.0 if weight is None else (weight if pw.grad.ndim == 1 else weight[:, None])
        per_sample = pw.loss if weight is None else weight * pw.loss
        # "+ 0.0" turns the −0.0 of zero-target terms into 0.0 for printing.
        gradient = (s * self.grad_scale(num, den, reduction)) * pw.grad + 0.0
        value: float | Array = (
            per_sample if reduction == "none" else self.reduce_value(num, den, reduction)
        )
        return LossResult(
            loss=self.name,
            params=self.params(),
            reduction=reduction,
            space=self.space(logits),
            value=value,
            gradient=gradient,
            per_sample=per_sample,
            n=int(y_pred.shape[0]),
            clipped=pw.clipped,
        )


# --------------------------------------------------------------------------- validation


def _fail(mask: Array, role: str, problem: str, values: Array, fix: str | None = None) -> None:
    """Raise BadValues naming the rows where ``mask`` holds (rows of a 2-D mask)."""
    rows = mask if mask.ndim == 1 else mask.any(axis=1)
    if rows.any():
        bad = values[rows] if values.ndim == 1 else values[mask]
        raise BadValues(role, problem, np.flatnonzero(rows), bad.ravel()[:3].tolist(), fix)


def check_weights(weight: Array, n: int) -> Array:
    """Sample weights must be one finite, non-negative number per row."""
    if weight.shape != (n,):
        raise InputError(f"weights have shape {weight.shape}, expected ({n},)")
    _fail(~np.isfinite(weight), "weight", "is not a finite number", weight)
    _fail(weight < 0, "weight", "is negative", weight, "weights must be ≥ 0")
    return weight


def check_finite(pw: Pointwise) -> None:
    """A loss that overflows float64 is reported, never printed as inf or nan.

    Two sums decide in one pass each (a NaN or inf anywhere makes its sum
    non-finite); only then are the rows looked for.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(pw.loss.sum()) and np.isfinite(pw.grad.sum()):
            return
    bad = ~np.isfinite(pw.loss)
    bad |= ~np.isfinite(pw.grad) if pw.grad.ndim == 1 else ~np.isfinite(pw.grad).all(axis=1)
    if bad.any():
        raise BadValues(
            "y_pred",
            "makes the loss overflow float64",
            np.flatnonzero(bad),
            [],
            "check the scale of the predictions (logits or probabilities? units?)",
        )


def _one_d(y_true: Array, y_pred: Array, name: str) -> None:
    if y_pred.ndim != 1:
        raise InputError(
            f"{name} takes one prediction column, got {y_pred.shape[1]}",
            "select a single column with --pred",
        )
    if y_true.shape != y_pred.shape:
        raise InputError(
            f"{name} takes one target column, got {y_true.shape[1] if y_true.ndim == 2 else '?'}",
            "select a single column with --true",
        )


def _probabilities(p: Array, eps: float) -> tuple[Array, int]:
    """Check p ∈ [0, 1] and clip it to [eps, 1 − eps]; return the clipped count."""
    if p.size and p.min() >= eps and p.max() <= 1.0 - eps:  # nothing to clip: two passes
        return p, 0
    _fail(
        (p < 0) | (p > 1),
        "y_pred",
        "has values outside [0, 1]",
        p,
        "if these are raw scores (logits), pass --logits",
    )
    clipped = np.clip(p, eps, 1.0 - eps)
    return clipped, int(np.count_nonzero(clipped != p))


def _binary_labels(y: Array, *, soft: bool) -> Array:
    """Binary targets as floats in [0, 1]: −1/+1 map to 0/1; soft labels if allowed."""
    if y.size and y.min() >= 0 and y.max() <= 1:  # the common case, in two cheap passes
        if soft or _hard(y):
            return y
    elif np.all((y == -1) | (y == 1)):
        return (y + 1.0) / 2.0
    if soft:
        _fail(
            (y < 0) | (y > 1),
            "y_true",
            "is not a label 0/1 or a probability",
            y,
            "binary losses take 0/1, true/false or −1/+1 targets (or soft labels in [0, 1])",
        )
    else:
        _fail(
            (y != 0) & (y != 1),
            "y_true",
            "is not a label 0/1 or −1/+1",
            y,
            "margin losses take 0/1, true/false or −1/+1 targets",
        )
    return y


# --------------------------------------------------------------------------- regression


@dataclass(frozen=True)
class _Regression(Loss):
    """Losses of the residual e = ŷ − y; subclasses give ℓ(e) and dℓ/de."""

    task: ClassVar[str] = "regression"
    takes: ClassVar[str] = "predicted values"

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        """(ℓ(e), dℓ/de); ``e`` is the kernel's own array and may be reused."""
        raise NotImplementedError

    def _pointwise(
        self, y_true: Array, y_pred: Array, *, logits: bool = False, strict: bool = True
    ) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        loss, grad = self.residual_loss(y_pred - y_true)
        return Pointwise(loss, grad)


@dataclass(frozen=True)
class MSE(_Regression):
    """Mean squared error.

    Domain: any real values.  Formula: (ŷ−y)².  Gradient: 2(ŷ−y).
    Reference: torch.nn.functional.mse_loss.
    """

    name: ClassVar[str] = "mse"
    aliases: ClassVar[tuple[str, ...]] = ("l2", "squared_error")
    formula: ClassVar[str] = "(ŷ − y)²"
    gradient: ClassVar[str] = "2(ŷ − y)"
    reference: ClassVar[str] = "torch.nn.functional.mse_loss"

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        loss = e * e
        e *= 2.0  # the gradient, in e's own memory: one n-long array fewer
        return loss, e


@dataclass(frozen=True)
class RMSE(MSE):
    """Root mean squared error: √(weighted mean of (ŷ−y)²); ``mean`` only.

    Gradient: (ŷᵢ−yᵢ)·sᵢ / (Σs · RMSE), and 0 when RMSE is 0 (the minimum).
    Reference: sklearn.metrics.root_mean_squared_error.
    """

    name: ClassVar[str] = "rmse"
    aliases: ClassVar[tuple[str, ...]] = ()
    formula: ClassVar[str] = "√(mean of (ŷ − y)²); per-sample column shows (ŷ − y)²"
    gradient: ClassVar[str] = "(ŷᵢ − yᵢ) / (N · RMSE)"
    reference: ClassVar[str] = "sklearn.metrics.root_mean_squared_error"
    reductions: ClassVar[tuple[Reduction, ...]] = ("mean",)

    def reduce_value(self, num: float, den: float, reduction: Reduction) -> float:
        return math.sqrt(num / den)

    def grad_scale(self, num: float, den: float, reduction: Reduction) -> float:
        # d√M/dM = 1/(2√M); the per-sample derivative of (ŷ−y)² already carries the 2.
        rmse = math.sqrt(num / den)
        return 0.0 if rmse == 0 else 1.0 / (den * 2.0 * rmse)


@dataclass(frozen=True)
class MAE(_Regression):
    """Mean absolute error.

    Formula: |ŷ−y|.  Gradient: sign(ŷ−y) (0 at a tie, as torch).
    Reference: torch.nn.functional.l1_loss.
    """

    name: ClassVar[str] = "mae"
    aliases: ClassVar[tuple[str, ...]] = ("l1", "absolute_error")
    formula: ClassVar[str] = "|ŷ − y|"
    gradient: ClassVar[str] = "sign(ŷ − y)"
    reference: ClassVar[str] = "torch.nn.functional.l1_loss"
    smooth: ClassVar[bool] = False

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        return np.abs(e), np.sign(e, out=e)


@dataclass(frozen=True)
class Huber(_Regression):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond.

    Formula: ½e² if |e| < δ else δ(|e| − ½δ).  Gradient: clip(e, −δ, δ).
    Reference: torch.nn.functional.huber_loss.
    """

    name: ClassVar[str] = "huber"
    formula: ClassVar[str] = "½e² if |e| < δ, else δ(|e| − ½δ), e = ŷ − y"
    gradient: ClassVar[str] = "e if |e| < δ, else δ·sign(e)"
    reference: ClassVar[str] = "torch.nn.functional.huber_loss"
    delta: float = param(1.0, "where the loss turns from quadratic to linear", _positive)

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        a = np.abs(e)
        loss = np.where(a < self.delta, 0.5 * e * e, self.delta * (a - 0.5 * self.delta))
        return loss, np.clip(e, -self.delta, self.delta, out=e)


@dataclass(frozen=True)
class SmoothL1(_Regression):
    """Smooth L1: Huber divided by ``beta``; beta = 0 is the absolute error.

    Formula: ½e²/β if |e| < β else |e| − ½β.  Gradient: e/β inside, sign(e) out.
    Reference: torch.nn.functional.smooth_l1_loss.
    """

    name: ClassVar[str] = "smooth_l1"
    formula: ClassVar[str] = "½e²/β if |e| < β, else |e| − ½β, e = ŷ − y"
    gradient: ClassVar[str] = "e/β if |e| < β, else sign(e)"
    reference: ClassVar[str] = "torch.nn.functional.smooth_l1_loss"
    beta: float = param(1.0, "width of the quadratic zone (0 = absolute error)", _nonnegative)

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        a = np.abs(e)
        if self.beta == 0:
            return a, np.sign(e)
        inside = a < self.beta
        loss = np.where(inside, 0.5 * e * e / self.beta, a - 0.5 * self.beta)
        return loss, np.where(inside, e / self.beta, np.sign(e))


@dataclass(frozen=True)
class LogCosh(_Regression):
    """log cosh of the residual: quadratic near 0, linear far away.

    Formula: log cosh(e), computed as |e| + log1p(e^{−2|e|}) − log 2 so that
    large residuals do not overflow cosh.  Gradient: tanh(e).
    """

    name: ClassVar[str] = "log_cosh"
    formula: ClassVar[str] = "log(cosh(ŷ − y))"
    gradient: ClassVar[str] = "tanh(ŷ − y)"
    reference: ClassVar[str] = "log(cosh(ŷ − y)), computed stably"

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        a = np.abs(e)
        return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0), np.tanh(e)


@dataclass(frozen=True)
class Quantile(_Regression):
    """Pinball loss for the ``quantile`` q.

    Formula: q·max(y−ŷ, 0) + (1−q)·max(ŷ−y, 0).  Gradient: −q below the
    target, 1−q above, 0 at a tie.  Reference: sklearn mean_pinball_loss.
    """

    name: ClassVar[str] = "quantile"
    aliases: ClassVar[tuple[str, ...]] = ("pinball",)
    formula: ClassVar[str] = "q·max(y − ŷ, 0) + (1 − q)·max(ŷ − y, 0)"
    gradient: ClassVar[str] = "−q if ŷ < y, 1 − q if ŷ > y, 0 at a tie"
    reference: ClassVar[str] = "sklearn.metrics.mean_pinball_loss(alpha=q)"
    smooth: ClassVar[bool] = False
    quantile: float = param(0.5, "the quantile q to estimate", _open_unit)

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        q = self.quantile
        loss = np.where(e < 0, -q * e, (1.0 - q) * e)
        grad = np.where(e < 0, -q, np.where(e > 0, 1.0 - q, 0.0))
        return loss, grad


@dataclass(frozen=True)
class EpsilonInsensitive(_Regression):
    """ε-insensitive loss of support-vector regression.

    Formula: max(0, |ŷ−y| − ε).  Gradient: sign(ŷ−y) outside the tube, else 0.
    """

    name: ClassVar[str] = "epsilon_insensitive"
    formula: ClassVar[str] = "max(0, |ŷ − y| − ε)"
    gradient: ClassVar[str] = "sign(ŷ − y) if |ŷ − y| > ε, else 0"
    reference: ClassVar[str] = "max(0, |ŷ − y| − ε) (sklearn SGDRegressor)"
    smooth: ClassVar[bool] = False
    epsilon: float = param(0.1, "half-width of the zero-loss tube", _nonnegative)

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        a = np.abs(e)
        outside = a > self.epsilon
        return np.where(outside, a - self.epsilon, 0.0), np.where(outside, np.sign(e), 0.0)


@dataclass(frozen=True)
class Poisson(Loss):
    """Poisson negative log-likelihood for counts (without the constant log y!).

    Predictions: rates λ ≥ 0, or log-rates with ``--logits``.
    Formula: λ − y·log(λ + 1e-8), or e^x − y·x.  Gradient: 1 − y/(λ + 1e-8), or e^x − y.
    Reference: torch.nn.functional.poisson_nll_loss(full=False, eps=1e-8).
    """

    name: ClassVar[str] = "poisson"
    task: ClassVar[str] = "counts"
    takes: ClassVar[str] = "rates λ ≥ 0, or log-rates with --logits"
    formula: ClassVar[str] = "λ − y·log(λ + 1e-8); with --logits eˣ − y·x"
    gradient: ClassVar[str] = "1 − y/(λ + 1e-8); with --logits eˣ − y"
    reference: ClassVar[str] = "torch.nn.functional.poisson_nll_loss(log_input=--logits)"
    logit_space: ClassVar[Literal["never", "optional", "always"]] = "optional"

    def _pointwise(
        self, y_true: Array, y_pred: Array, *, logits: bool = False, strict: bool = True
    ) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        _fail(y_true < 0, "y_true", "has negative counts", y_true, "poisson needs targets ≥ 0")
        if logits:
            _fail(
                y_pred > MAX_EXP,
                "y_pred",
                f"has log-rates above {MAX_EXP:.2f}, where exp() overflows float64",
                y_pred,
                "drop --logits if these are rates rather than log-rates",
            )
            rate = np.exp(y_pred)
            return Pointwise(rate - y_true * y_pred, rate - y_true)
        _fail(y_pred < 0, "y_pred", "has negative rates", y_pred, "pass --logits for log-rates")
        shifted = y_pred + POISSON_EPS
        return Pointwise(y_pred - y_true * np.log(shifted), 1.0 - y_true / shifted)


# --------------------------------------------------------------------------- binary


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
    binary_cross_entropy_with_logits(pos_weight) on logits.
    """

    name: ClassVar[str] = "bce"
    aliases: ClassVar[tuple[str, ...]] = ("binary_cross_entropy", "log_loss")
    task: ClassVar[str] = "binary"
    takes: ClassVar[str] = "P(y = 1), or logits with --logits"
    formula: ClassVar[str] = "−[w·y·log p + (1 − y)·log(1 − p)], w = pos_weight"
    gradient: ClassVar[str] = "−w·y/p + (1 − y)/(1 − p); with --logits (1 − y)σ(x) − w·y·σ(−x)"
    reference: ClassVar[str] = (
        "sklearn.metrics.log_loss; torch binary_cross_entropy_with_logits with --logits"
    )
    logit_space: ClassVar[Literal["never", "optional", "always"]] = "optional"
    default_space: ClassVar[Space] = "probability"
    pos_weight: float | None = param(None, "weight of the positive class's term", _opt_positive)
    eps: float = param(MACHINE_EPS, "probabilities are clipped to [eps, 1 − eps]", _clip_eps)

    def _pointwise(
        self, y_true: Array, y_pred: Array, *, logits: bool = False, strict: bool = True
    ) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        y = _binary_labels(y_true, soft=True)
        hard = logits and _hard(y)
        w = 1.0 if self.pos_weight is None else self.pos_weight
        if logits:
            if hard:
                return _bce_logits_hard(y, y_pred, w)
            sp_pos, sp_neg, sig, sig_neg = links.logistic_parts(y_pred)
            wy = y if w == 1.0 else w * y
            loss = wy * sp_neg + (1.0 - y) * sp_pos
            grad = (1.0 - y) * sig - wy * sig_neg
            return Pointwise(loss, grad)
        p, clipped = _probabilities(y_pred, self.eps)
        loss = -(w * y * np.log(p) + (1.0 - y) * np.log1p(-p))
        grad = (1.0 - y) / (1.0 - p) - w * y / p
        return Pointwise(loss, grad, clipped=clipped)


def _hard(y: Array) -> bool:
    """Are labels in [0, 1] all exactly 0 or 1?  y·y = Σy holds iff so, since
    y² < y strictly inside (0, 1): two passes, no temporary array."""
    return bool(float(y @ y) == float(y.sum()))


def _bce_logits_hard(y: Array, x: Array, w: float) -> Pointwise:
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
    if w != 1.0:
        scale = np.where(y == 1.0, w, 1.0)
        loss *= scale
        grad *= scale
    return Pointwise(loss, grad)


@dataclass(frozen=True)
class _Margin(Loss):
    """Margin losses of z = s·f with s = ±1 and f a raw score."""

    task: ClassVar[str] = "binary"
    takes: ClassVar[str] = "raw scores (decision function values)"
    logit_space: ClassVar[Literal["never", "optional", "always"]] = "always"
    default_space: ClassVar[Space] = "logit"

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        raise NotImplementedError

    def _pointwise(
        self, y_true: Array, y_pred: Array, *, logits: bool = False, strict: bool = True
    ) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        s = 2.0 * _binary_labels(y_true, soft=False) - 1.0
        loss, dz = self.margin_loss(s * y_pred)
        return Pointwise(loss, dz * s)


@dataclass(frozen=True)
class Hinge(_Margin):
    """Hinge loss of linear SVMs.

    Formula: max(0, 1 − z), z = s·f, s = ±1.  Gradient: −s where z < 1, else 0.
    Reference: sklearn.metrics.hinge_loss.
    """

    name: ClassVar[str] = "hinge"
    formula: ClassVar[str] = "max(0, 1 − z), z = s·f, s = ±1"
    gradient: ClassVar[str] = "−s if z < 1, else 0"
    reference: ClassVar[str] = "sklearn.metrics.hinge_loss"
    smooth: ClassVar[bool] = False

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        return np.maximum(0.0, 1.0 - z), np.where(z < 1.0, -1.0, 0.0)


@dataclass(frozen=True)
class SquaredHinge(_Margin):
    """Squared hinge: max(0, 1 − z)².  Gradient: −2s·max(0, 1 − z).

    Reference: scikit-learn SGDClassifier(loss='squared_hinge').
    """

    name: ClassVar[str] = "squared_hinge"
    formula: ClassVar[str] = "max(0, 1 − z)², z = s·f"
    gradient: ClassVar[str] = "−2s·max(0, 1 − z)"
    reference: ClassVar[str] = "sklearn SGDClassifier(loss='squared_hinge')"

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        t = np.maximum(0.0, 1.0 - z)
        return t * t, -2.0 * t


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
    reference: ClassVar[str] = "sklearn SGDClassifier(loss='modified_huber')"

    def margin_loss(self, z: Array) -> tuple[Array, Array]:
        t = 1.0 - z
        loss = np.where(z >= 1.0, 0.0, np.where(z >= -1.0, t * t, -4.0 * z))
        grad = np.where(z >= 1.0, 0.0, np.where(z >= -1.0, -2.0 * t, -4.0))
        return loss, grad


# --------------------------------------------------------------------------- multi-class


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

    task: ClassVar[str] = "multi-class"
    takes: ClassVar[str] = "one probability column per class, or logits with --logits"
    logit_space: ClassVar[Literal["never", "optional", "always"]] = "optional"
    default_space: ClassVar[Space] = "probability"
    multiclass: ClassVar[bool] = True

    def log_prob_loss(
        self, logp: Array, p: Array, target: Array, idx: Array | None
    ) -> tuple[Array, Array, Array | None]:
        raise NotImplementedError

    def _pointwise(
        self, y_true: Array, y_pred: Array, *, logits: bool = False, strict: bool = True
    ) -> Pointwise:
        if y_pred.ndim == 1:
            return self._binary(y_true, y_pred, logits=logits)
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
        grad = u - p * u.sum(axis=1, keepdims=True) if logits else u / p
        return Pointwise(loss, grad, norm, clipped)

    def _binary(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        y = _binary_labels(y_true, soft=True)
        hard = np.all((y == 0) | (y == 1))
        targets = y if hard else np.column_stack([1.0 - y, y])
        if logits:
            pred2 = np.column_stack([np.zeros_like(y_pred), y_pred])
        else:
            _probabilities(y_pred, self.eps)
            pred2 = np.column_stack([1.0 - y_pred, y_pred])
        pw = self.pointwise(targets, pred2, logits=logits, strict=False)
        # x only moves column 1; p moves column 1 up and column 0 down.
        grad = pw.grad[:, 1] if logits else pw.grad[:, 1] - pw.grad[:, 0]
        return Pointwise(pw.loss, grad, pw.norm, pw.clipped // 2)

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
    reference: ClassVar[str] = "torch.nn.functional.cross_entropy with --logits; sklearn log_loss"
    label_smoothing: float = param(0.0, "mix targets with the uniform distribution", _unit)
    class_weights: tuple[float, ...] | None = param(None, "one weight per class", _weights)

    def _pointwise(
        self, y_true: Array, y_pred: Array, *, logits: bool = False, strict: bool = True
    ) -> Pointwise:
        if logits or self.label_smoothing or y_pred.ndim != 2 or y_true.ndim != 1:
            return super()._pointwise(y_true, y_pred, logits=logits, strict=strict)
        return self._index_probabilities(y_true, y_pred, strict)

    def _index_probabilities(self, y_true: Array, y_pred: Array, strict: bool) -> Pointwise:
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
        return Pointwise(loss, grad, norm, clipped)

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
    task: ClassVar[str] = "distributions"
    takes: ClassVar[str] = "one probability column per class (or logits); soft-label targets"
    formula: ClassVar[str] = "Σ꜀ y꜀·(log y꜀ − log p꜀)"
    gradient: ClassVar[str] = "−y꜀/p꜀; with --logits p − y"
    reference: ClassVar[str] = "torch.nn.functional.kl_div(log p, y, reduction='batchmean')"

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
    form −α(1 − p_t)^γ log p_t (multi-class).
    """

    name: ClassVar[str] = "focal"
    task: ClassVar[str] = "binary or multi-class"
    takes: ClassVar[str] = "P(y = 1) or one column per class; logits with --logits"
    formula: ClassVar[str] = "−α_t·(1 − p_t)^γ·log p_t"
    gradient: ClassVar[str] = (
        "α_t(1 − p_t)^γ·[dce + γ·ce·(1 − 2y)·σ(x)σ(−x)/(1 − p_t)] (binary, logits)"
    )
    reference: ClassVar[str] = "torchvision.ops.sigmoid_focal_loss; softmax focal (multi-class)"
    alpha: float = param(0.25, "weight of the positive class (negative = off)", _finite)
    gamma: float = param(2.0, "focusing exponent γ ≥ 0", _nonnegative)

    def _logits_hard(self, y: Array, x: Array) -> Pointwise:
        """Binary focal on logits for 0/1 labels, in two thirds of the passes.

        With s = 1 − 2y and z = s·x: 1 − p_t = m = σ(z), p_t = σ(−z), ce =
        softplus(z), and ∂ℓ/∂x = α_t·s·m^γ·(m + γ·ce·p_t) — the general
        gradient with dce = s·m and dm/m = s·p_t substituted, so no division
        and nothing to guard where m underflows.
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
        if self.alpha >= 0:
            loss *= a
            grad *= a
        return Pointwise(loss, grad)

    def _alpha_t(self, y: Array) -> Array | float:
        if self.alpha < 0:
            return 1.0
        return self.alpha * y + (1.0 - self.alpha) * (1.0 - y)

    def _binary(self, y_true: Array, y_pred: Array, *, logits: bool) -> Pointwise:
        _one_d(y_true, y_pred, self.name)
        y = _binary_labels(y_true, soft=True)
        g = self.gamma
        if logits and _hard(y):
            return self._logits_hard(y, y_pred)
        if logits:
            sp_pos, sp_neg, sig, sig_neg = links.logistic_parts(y_pred)
            m = y * sig_neg + (1.0 - y) * sig  # 1 − p_t without cancellation
            ce = y * sp_neg + (1.0 - y) * sp_pos
            dce = sig - y
            dm = (1.0 - 2.0 * y) * sig * sig_neg
            clipped = 0
        else:
            p, clipped = _probabilities(y_pred, self.eps)
            m = y * (1.0 - p) + (1.0 - y) * p
            ce = -(y * np.log(p) + (1.0 - y) * np.log1p(-p))
            dce = (1.0 - y) / (1.0 - p) - y / p
            dm = 1.0 - 2.0 * y
        # γ·ce·m^(γ−1)·dm written as m^γ·(dm/m): finite where m underflows to 0,
        # where dm/m tends to (1−2y)(1−m) for hard labels.
        safe = m > 0
        ratio = np.where(safe, dm / np.where(safe, m, 1.0), (1.0 - 2.0 * y) * (1.0 - m))
        mg = m**g
        a = self._alpha_t(y)
        loss = a * ce * mg
        grad = a * mg * (dce + g * ce * ratio)
        return Pointwise(loss, grad, clipped=clipped)

    def log_prob_loss(
        self, logp: Array, p: Array, target: Array, idx: Array | None
    ) -> tuple[Array, Array, Array | None]:
        a = 1.0 if self.alpha < 0 else self.alpha
        m = -np.expm1(logp)  # 1 − p, accurate as p → 1
        safe = m > 0
        q = np.where(safe, logp / np.where(safe, m, 1.0), -1.0)  # log p / (1 − p) → −1
        mg = m**self.gamma
        loss = -a * (target * mg * logp).sum(axis=1)
        u = -a * target * mg * (1.0 - self.gamma * p * q)
        return loss, u, None


# --------------------------------------------------------------------------- registry

_CATALOGUE: tuple[type[Loss], ...] = (
    MSE,
    RMSE,
    MAE,
    Huber,
    SmoothL1,
    LogCosh,
    Quantile,
    EpsilonInsensitive,
    Poisson,
    BCE,
    Focal,
    Hinge,
    SquaredHinge,
    ModifiedHuber,
    CrossEntropy,
    KLDiv,
)

LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in _CATALOGUE}
ALIASES: dict[str, str] = {alias: cls.name for cls in _CATALOGUE for alias in cls.aliases}


def canonical_name(name: str) -> str:
    """The registry name for a loss name or alias (case and dashes forgiven)."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key in LOSSES:
        return key
    known = sorted([*LOSSES, *ALIASES])
    close = difflib.get_close_matches(key, known, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise InputError(f"unknown loss {name!r}", f"{hint}see `losscli losses` for the catalogue")


def get_loss(name: str) -> type[Loss]:
    """The loss class for a name or alias."""
    return LOSSES[canonical_name(name)]


def make_loss(name: str, **params: Any) -> Loss:
    """An instance of the named loss with the given parameters."""
    cls = get_loss(name)
    taken = {p.name for p in cls.param_info()}
    unknown = sorted(set(params) - taken)
    if unknown:
        raise InputError(
            f"{cls.name} does not take {', '.join(unknown)}",
            f"{cls.name} takes {', '.join(sorted(taken)) or 'no parameters'}",
        )
    return cls(**params)
