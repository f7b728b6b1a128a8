"""Regression and count losses: functions of the residual ŷ − y, and Poisson."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from losscli._lazy import lazy_module
from losscli._types import LogitSpace, Reduction, Task
from losscli.losses.base import (
    MAX_EXP,
    POISSON_EPS,
    Loss,
    Pointwise,
    _fail,
    _nonnegative,
    _one_d,
    _open_unit,
    _positive,
    param,
)

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")


@dataclass(frozen=True)
class _Regression(Loss):
    """Losses of the residual e = ŷ − y; subclasses give ℓ(e) and dℓ/de."""

    task: ClassVar[Task] = Task.REGRESSION
    takes: ClassVar[str] = "predicted values"

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        """(ℓ(e), dℓ/de); ``e`` is the kernel's own array and may be reused."""
        raise NotImplementedError

    def residual_hessian(self, e: Array) -> Array:
        """d²ℓ/de² (= ∂²ℓ/∂ŷ², since e = ŷ − y); only computed when asked for."""
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
        e = y_pred - y_true
        hess = self.residual_hessian(e) if hessian else None  # before e is reused in place
        loss, grad = self.residual_loss(e)
        return Pointwise(loss, grad, hess=hess)


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
    hessian: ClassVar[str] = "2"
    reference: ClassVar[str] = "torch.nn.functional.mse_loss"

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        loss = e * e
        e *= 2.0  # the gradient, in e's own memory: one n-long array fewer
        return loss, e

    def residual_hessian(self, e: Array) -> Array:
        return np.full_like(e, 2.0)


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
    hessian: ClassVar[str] = (
        "1/(N·RMSE) − (ŷᵢ − yᵢ)²/(N²·RMSE³) (rows couple through the root); 0 at RMSE = 0"
    )
    reference: ClassVar[str] = "sklearn.metrics.root_mean_squared_error"
    reductions: ClassVar[tuple[Reduction, ...]] = ("mean",)

    def reduce_value(self, num: float, den: float, reduction: Reduction) -> float:
        return math.sqrt(num / den)

    def grad_scale(self, num: float, den: float, reduction: Reduction) -> float:
        # d√M/dM = 1/(2√M); the per-sample derivative of (ŷ−y)² already carries the 2.
        rmse = math.sqrt(num / den)
        return 0.0 if rmse == 0 else 1.0 / (den * 2.0 * rmse)

    def reduced_hessian(
        self, pw: Pointwise, s: Array | float, num: float, den: float, reduction: Reduction
    ) -> Array:
        # L = √M with M = Σsℓ/Σs: ∂²L = ∂²M/(2√M) − (∂M)²/(4M^{3/2}); the root's kink
        # at M = 0 reports 0, as the gradient does.
        assert pw.hess is not None
        m = num / den
        if m == 0:
            return np.zeros_like(pw.grad)
        dm = (s / den) * pw.grad
        out: Array = (s / den) * pw.hess / (2.0 * math.sqrt(m)) - dm * dm / (4.0 * m**1.5)
        return out


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
    hessian: ClassVar[str] = "0 (also at the kink ŷ = y, as torch's double backward)"
    reference: ClassVar[str] = "torch.nn.functional.l1_loss"
    smooth: ClassVar[bool] = False

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        return np.abs(e), np.sign(e, out=e)

    def residual_hessian(self, e: Array) -> Array:
        return np.zeros_like(e)


@dataclass(frozen=True)
class Huber(_Regression):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond.

    Formula: ½e² if |e| < δ else δ(|e| − ½δ).  Gradient: clip(e, −δ, δ).
    Reference: torch.nn.functional.huber_loss.
    """

    name: ClassVar[str] = "huber"
    formula: ClassVar[str] = "½e² if |e| < δ, else δ(|e| − ½δ), e = ŷ − y"
    gradient: ClassVar[str] = "e if |e| < δ, else δ·sign(e)"
    hessian: ClassVar[str] = "1 if |e| < δ, else 0 (0 at |e| = δ, the linear piece)"
    reference: ClassVar[str] = "torch.nn.functional.huber_loss"
    delta: float = param(1.0, "where the loss turns from quadratic to linear", _positive)

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        a = np.abs(e)
        loss = np.where(a < self.delta, 0.5 * e * e, self.delta * (a - 0.5 * self.delta))
        return loss, np.clip(e, -self.delta, self.delta, out=e)

    def residual_hessian(self, e: Array) -> Array:
        return (np.abs(e) < self.delta).astype(np.float64)


@dataclass(frozen=True)
class SmoothL1(_Regression):
    """Smooth L1: Huber divided by ``beta``; beta = 0 is the absolute error.

    Formula: ½e²/β if |e| < β else |e| − ½β.  Gradient: e/β inside, sign(e) out.
    Reference: torch.nn.functional.smooth_l1_loss.
    """

    name: ClassVar[str] = "smooth_l1"
    formula: ClassVar[str] = "½e²/β if |e| < β, else |e| − ½β, e = ŷ − y"
    gradient: ClassVar[str] = "e/β if |e| < β, else sign(e)"
    hessian: ClassVar[str] = "1/β if |e| < β, else 0 (0 at |e| = β; 0 everywhere for β = 0)"
    reference: ClassVar[str] = "torch.nn.functional.smooth_l1_loss"
    beta: float = param(1.0, "width of the quadratic zone (0 = absolute error)", _nonnegative)

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        a = np.abs(e)
        if self.beta == 0:
            return a, np.sign(e)
        inside = a < self.beta
        loss = np.where(inside, 0.5 * e * e / self.beta, a - 0.5 * self.beta)
        return loss, np.where(inside, e / self.beta, np.sign(e))

    def residual_hessian(self, e: Array) -> Array:
        if self.beta == 0:
            return np.zeros_like(e)
        return np.where(np.abs(e) < self.beta, 1.0 / self.beta, 0.0)


@dataclass(frozen=True)
class LogCosh(_Regression):
    """log cosh of the residual: quadratic near 0, linear far away.

    Formula: log cosh(e), computed as |e| + log1p(e^{−2|e|}) − log 2 so that
    large residuals do not overflow cosh.  Gradient: tanh(e).
    """

    name: ClassVar[str] = "log_cosh"
    formula: ClassVar[str] = "log(cosh(ŷ − y))"
    gradient: ClassVar[str] = "tanh(ŷ − y)"
    hessian: ClassVar[str] = "sech²(ŷ − y) = 4t/(1 + t)², t = e^{−2|ŷ − y|}"
    reference: ClassVar[str] = "log(cosh(ŷ − y)), computed stably"

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        a = np.abs(e)
        return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0), np.tanh(e)

    def residual_hessian(self, e: Array) -> Array:
        # 1 − tanh² cancels to 0 for |e| > 19; the form in t = e^{−2|e|} ≤ 1 does not.
        t = np.exp(-2.0 * np.abs(e))
        out: Array = 4.0 * t / ((1.0 + t) * (1.0 + t))
        return out


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
    hessian: ClassVar[str] = "0 (also at the kink ŷ = y)"
    reference: ClassVar[str] = "sklearn.metrics.mean_pinball_loss(alpha=q)"
    smooth: ClassVar[bool] = False
    quantile: float = param(0.5, "the quantile q to estimate", _open_unit)

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        q = self.quantile
        loss = np.where(e < 0, -q * e, (1.0 - q) * e)
        grad = np.where(e < 0, -q, np.where(e > 0, 1.0 - q, 0.0))
        return loss, grad

    def residual_hessian(self, e: Array) -> Array:
        return np.zeros_like(e)


@dataclass(frozen=True)
class EpsilonInsensitive(_Regression):
    """ε-insensitive loss of support-vector regression.

    Formula: max(0, |ŷ−y| − ε).  Gradient: sign(ŷ−y) outside the tube, else 0.
    """

    name: ClassVar[str] = "epsilon_insensitive"
    formula: ClassVar[str] = "max(0, |ŷ − y| − ε)"
    gradient: ClassVar[str] = "sign(ŷ − y) if |ŷ − y| > ε, else 0"
    hessian: ClassVar[str] = "0 (also at the kinks |ŷ − y| = ε)"
    reference: ClassVar[str] = "max(0, |ŷ − y| − ε) (sklearn SGDRegressor)"
    smooth: ClassVar[bool] = False
    epsilon: float = param(0.1, "half-width of the zero-loss tube", _nonnegative)

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        a = np.abs(e)
        outside = a > self.epsilon
        return np.where(outside, a - self.epsilon, 0.0), np.where(outside, np.sign(e), 0.0)

    def residual_hessian(self, e: Array) -> Array:
        return np.zeros_like(e)


@dataclass(frozen=True)
class Poisson(Loss):
    """Poisson negative log-likelihood for counts (without the constant log y!).

    Predictions: rates λ ≥ 0, or log-rates with ``--logits``.
    Formula: λ − y·log(λ + 1e-8), or e^x − y·x.  Gradient: 1 − y/(λ + 1e-8), or e^x − y.
    Reference: torch.nn.functional.poisson_nll_loss(full=False, eps=1e-8).
    """

    name: ClassVar[str] = "poisson"
    task: ClassVar[Task] = Task.COUNTS
    takes: ClassVar[str] = "rates λ ≥ 0, or log-rates with --logits"
    formula: ClassVar[str] = "λ − y·log(λ + 1e-8); with --logits eˣ − y·x"
    gradient: ClassVar[str] = "1 − y/(λ + 1e-8); with --logits eˣ − y"
    hessian: ClassVar[str] = "y/(λ + 1e-8)²; with --logits eˣ"
    reference: ClassVar[str] = "torch.nn.functional.poisson_nll_loss(log_input=--logits)"
    logit_space: ClassVar[LogitSpace] = "optional"

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
            return Pointwise(rate - y_true * y_pred, rate - y_true, hess=rate if hessian else None)
        _fail(y_pred < 0, "y_pred", "has negative rates", y_pred, "pass --logits for log-rates")
        shifted = y_pred + POISSON_EPS
        hess = y_true / (shifted * shifted) if hessian else None
        return Pointwise(y_pred - y_true * np.log(shifted), 1.0 - y_true / shifted, hess=hess)
