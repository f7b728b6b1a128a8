"""Regression and count losses: functions of the residual ŷ − y, and Poisson."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from losscli._lazy import lazy_module
from losscli._types import LogitSpace, Reduction, Task
from losscli.errors import InputError
from losscli.losses.base import (
    MACHINE_EPS,
    MAX_EXP,
    POISSON_EPS,
    BestConstant,
    Loss,
    Pointwise,
    Value,
    _fail,
    _nonnegative,
    _one_d,
    _open_unit,
    _positive,
    param,
)


def _flag(v: bool) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")


def _outputs(y_true: Array, y_pred: Array, name: str) -> int:
    """1 for one target and one prediction column; K for K of each (multi-output)."""
    if y_pred.ndim == 2 and y_true.shape == y_pred.shape:
        return int(y_pred.shape[1])
    _one_d(y_true, y_pred, name)
    return 1


def _per_row(pw: Pointwise, outputs: int) -> Pointwise:
    """Multi-output: a row's loss is the sum over its K outputs and its normaliser K,
    so the mean is scikit-learn's multioutput='uniform_average' (the mean over
    outputs of each output's mean) and the sum runs over every element; the
    per-output terms are kept for ``--multioutput raw`` and the roots."""
    if outputs == 1 and pw.loss.ndim == 1:
        return pw
    n = pw.loss.shape[0]
    return Pointwise(
        pw.loss.sum(axis=1), pw.grad, np.full(n, float(outputs)), pw.clipped, pw.hess, pw.loss
    )


MULTIOUTPUT = ("uniform", "raw")


def _multioutput(v: str) -> str | None:
    return None if v in MULTIOUTPUT else "must be uniform or raw"


@dataclass(frozen=True)
class _MultiOutput(Loss):
    """Regression losses that take K target and K prediction columns.

    ``multioutput="uniform"`` reports the uniform average over the outputs
    (sklearn's ``uniform_average``: the ordinary mean over every element);
    ``"raw"`` one value per output, each that output's own mean (or sum), and
    the gradient column j is that of output j's value.  With K outputs the
    normaliser of a row is K (``_per_row``), so output j's mean is
    K·Σᵢsᵢℓᵢⱼ/Σsn and its gradient factor K/Σsn.
    """

    multioutput: str = param(
        "uniform",
        "multi-output: uniform (the average over outputs) or raw (one value per output)",
        _multioutput,
        choices=MULTIOUTPUT,
        quiet=True,
    )

    def available_reductions(self) -> tuple[Reduction, ...]:
        if self.multioutput == "raw":
            return tuple(r for r in self.reductions if r != "none")
        return self.reductions

    def check_reduction(self, reduction: str) -> None:
        super().check_reduction(reduction)
        if self.multioutput == "raw" and reduction == "none":
            raise InputError(
                f"{self.name}: --multioutput raw reports one value per output, "
                "--reduction none one per row",
                "drop --multioutput raw for per-row values, or use --reduction mean or sum",
            )

    def needs_outputs(self, outputs: int) -> bool:
        return outputs > 1 and self.multioutput == "raw"

    def reduce_outputs(
        self, num: float, den: float, reduction: Reduction, outputs: tuple[float, ...] = ()
    ) -> Value:
        if self.multioutput == "raw" and outputs:
            k = len(outputs)
            return tuple(k * o / den if reduction == "mean" else o for o in outputs)
        return super().reduce_outputs(num, den, reduction, outputs)

    def output_scale(
        self, num: float, den: float, reduction: Reduction, outputs: tuple[float, ...] = ()
    ) -> float | Array:
        if self.multioutput == "raw" and outputs and reduction == "mean":
            return len(outputs) / den
        return super().output_scale(num, den, reduction, outputs)


@dataclass(frozen=True)
class _Regression(_MultiOutput):
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
        outputs = _outputs(y_true, y_pred, self.name)
        e = y_pred - y_true
        hess = self.residual_hessian(e) if hessian else None  # before e is reused in place
        loss, grad = self.residual_loss(e)
        return _per_row(Pointwise(loss, grad, hess=hess), outputs)


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
    best_constant: ClassVar[BestConstant] = "mean"

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        loss = e * e
        e *= 2.0  # the gradient, in e's own memory: one n-long array fewer
        return loss, e

    def residual_hessian(self, e: Array) -> Array:
        return np.full_like(e, 2.0)


@dataclass(frozen=True)
class _RootMean(_MultiOutput):
    """√ of the weighted mean of the per-sample terms (``mean`` only).

    L = √M, M = Σsℓ/Σs: ∂L/∂ŷᵢ = sᵢ·∂ℓᵢ/∂ŷᵢ/(2Σs·L), and 0 at L = 0 (the
    minimum, where the root has its kink); the Hessian below likewise.  With
    K outputs each output has its own root Lⱼ = √Mⱼ, Mⱼ = K·Σᵢsᵢℓᵢⱼ/Σsn
    (sklearn): ``raw`` reports every Lⱼ, ``uniform`` their mean (1/K)ΣⱼLⱼ, so
    gradient column j carries the factor (K or 1)/(2Σsn·Lⱼ).
    """

    reductions: ClassVar[tuple[Reduction, ...]] = ("mean",)

    def _means(self, den: float, outputs: tuple[float, ...]) -> Array:
        """Mⱼ, the mean of output j's terms."""
        out: Array = len(outputs) * np.asarray(outputs) / den
        return out

    def _share(self, outputs: tuple[float, ...]) -> float:
        """dL/dLⱼ: 1 for raw (each root is reported), 1/K for the uniform average."""
        return 1.0 if self.multioutput == "raw" else 1.0 / len(outputs)

    def needs_outputs(self, outputs: int) -> bool:
        return outputs > 1  # a root per output, not the root of the overall mean

    def reduce_value(self, num: float, den: float, reduction: Reduction) -> float:
        return math.sqrt(num / den)

    def grad_scale(self, num: float, den: float, reduction: Reduction) -> float:
        # d√M/dM = 1/(2√M)
        root = math.sqrt(num / den)
        return 0.0 if root == 0 else 1.0 / (den * 2.0 * root)

    def reduce_outputs(
        self, num: float, den: float, reduction: Reduction, outputs: tuple[float, ...] = ()
    ) -> Value:
        if not outputs:
            return self.reduce_value(num, den, reduction)
        roots = [math.sqrt(m) for m in self._means(den, outputs).tolist()]
        return tuple(roots) if self.multioutput == "raw" else math.fsum(roots) / len(roots)

    def output_scale(
        self, num: float, den: float, reduction: Reduction, outputs: tuple[float, ...] = ()
    ) -> float | Array:
        if not outputs:
            return self.grad_scale(num, den, reduction)
        roots = np.sqrt(self._means(den, outputs))
        k = len(outputs) * self._share(outputs)
        with np.errstate(divide="ignore"):
            scale: Array = np.where(roots == 0, 0.0, k / (den * 2.0 * roots))
        return scale

    def reduced_hessian(
        self,
        pw: Pointwise,
        s: Array | float,
        num: float,
        den: float,
        reduction: Reduction,
        outputs: tuple[float, ...] = (),
    ) -> Array:
        # ∂²L = ∂²M/(2√M) − (∂M)²/(4M^{3/2}): rows couple through the root; 0 at M = 0.
        assert pw.hess is not None
        if not outputs:
            m = num / den
            if m == 0:
                return np.zeros_like(pw.grad)
            dm = (s / den) * pw.grad
            out: Array = (s / den) * pw.hess / (2.0 * math.sqrt(m)) - dm * dm / (4.0 * m**1.5)
            return out
        # per output j: Mⱼ = K·Σsℓⱼ/Σsn, the same formula with den/K, times dL/dLⱼ
        k = len(outputs)
        ms = self._means(den, outputs)
        safe = np.where(ms == 0, 1.0, ms)
        dm = (k * s / den) * pw.grad
        each = (k * s / den) * pw.hess / (2.0 * np.sqrt(safe)) - dm * dm / (4.0 * safe**1.5)
        out = np.where(ms == 0, 0.0, each) * self._share(outputs)
        return out


@dataclass(frozen=True)
class RMSE(_RootMean, MSE):
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
    best_constant: ClassVar[BestConstant] = "median"
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
    best_constant: ClassVar[BestConstant] = "quantile"
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
    reference: ClassVar[str] = "torch.nn.functional.poisson_nll_loss(log_input=--logits, full)"
    best_constant: ClassVar[BestConstant] = "count_mean"
    logit_space: ClassVar[LogitSpace] = "optional"
    full: bool = param(
        False, "add the terms that do not depend on the prediction (Stirling's log y!)", _flag
    )

    def _stirling(self, y: Array, loss: Array) -> Array:
        """torch's full=True: + y·log y − y + ½log(2πy) where y > 1 (log y! ≈ that);
        a function of the target alone, so the derivatives do not change."""
        if not self.full:
            return loss
        big = y > 1
        ys = np.where(big, y, 1.0)
        loss += np.where(big, ys * np.log(ys) - ys + 0.5 * np.log(2.0 * math.pi * ys), 0.0)
        return loss

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
            loss = self._stirling(y_true, rate - y_true * y_pred)
            return Pointwise(loss, rate - y_true, hess=rate if hessian else None)
        _fail(y_pred < 0, "y_pred", "has negative rates", y_pred, "pass --logits for log-rates")
        shifted = y_pred + POISSON_EPS
        hess = y_true / (shifted * shifted) if hessian else None
        loss = self._stirling(y_true, y_pred - y_true * np.log(shifted))
        return Pointwise(loss, 1.0 - y_true / shifted, hess=hess)


@dataclass(frozen=True)
class MAPE(_Regression):
    """Mean absolute percentage error, as a fraction (not ×100).

    Formula: |ŷ − y| / max(|y|, ε), ε = float64 machine epsilon (so y = 0
    gives a huge but finite term, as scikit-learn).  Gradient:
    sign(ŷ − y)/max(|y|, ε) (0 at a tie).  Hessian: 0, also at the kink ŷ = y.
    Reference: sklearn.metrics.mean_absolute_percentage_error.
    """

    name: ClassVar[str] = "mape"
    aliases: ClassVar[tuple[str, ...]] = ("mean_absolute_percentage_error",)
    formula: ClassVar[str] = "|ŷ − y| / max(|y|, ε), ε = 2.22e-16"
    gradient: ClassVar[str] = "sign(ŷ − y) / max(|y|, ε)"
    hessian: ClassVar[str] = "0 (also at the kink ŷ = y)"
    reference: ClassVar[str] = "sklearn.metrics.mean_absolute_percentage_error"
    smooth: ClassVar[bool] = False

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        outputs = _outputs(y_true, y_pred, self.name)
        scale = np.maximum(np.abs(y_true), MACHINE_EPS)
        e = y_pred - y_true
        hess = np.zeros_like(e) if hessian else None
        return _per_row(Pointwise(np.abs(e) / scale, np.sign(e) / scale, hess=hess), outputs)


@dataclass(frozen=True)
class MSLE(_MultiOutput):
    """Mean squared logarithmic error.

    Domain: y, ŷ > −1 (values ≤ −1 are an input error, as in scikit-learn).
    Formula: (log1p ŷ − log1p y)².  Gradient: 2d/(1 + ŷ), d = log1p ŷ − log1p y.
    Hessian: 2(1 − d)/(1 + ŷ)².
    Reference: sklearn.metrics.mean_squared_log_error.
    """

    name: ClassVar[str] = "msle"
    aliases: ClassVar[tuple[str, ...]] = ("mean_squared_log_error",)
    task: ClassVar[Task] = Task.REGRESSION
    takes: ClassVar[str] = "predicted values > −1"
    formula: ClassVar[str] = "(log(1 + ŷ) − log(1 + y))²"
    gradient: ClassVar[str] = "2d/(1 + ŷ), d = log(1 + ŷ) − log(1 + y)"
    hessian: ClassVar[str] = "2(1 − d)/(1 + ŷ)²"
    reference: ClassVar[str] = "sklearn.metrics.mean_squared_log_error"

    def value_domain(self) -> str:
        return "log1p"

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        outputs = _outputs(y_true, y_pred, self.name)
        fix = "squared log errors need values > −1"
        _fail(y_true <= -1, "y_true", "has values ≤ −1 (log(1 + y) undefined)", y_true, fix)
        _fail(y_pred <= -1, "y_pred", "has values ≤ −1 (log(1 + ŷ) undefined)", y_pred, fix)
        d = np.log1p(y_pred) - np.log1p(y_true)
        one = 1.0 + y_pred
        hess = 2.0 * (1.0 - d) / one / one if hessian else None  # one² may overflow
        return _per_row(Pointwise(d * d, 2.0 * d / one, hess=hess), outputs)


@dataclass(frozen=True)
class RMSLE(_RootMean, MSLE):
    """Root mean squared logarithmic error: √(weighted mean of MSLE terms); ``mean`` only.

    Gradient: sᵢ·dᵢ/((1 + ŷᵢ)·Σs·RMSLE), 0 at RMSLE = 0.
    Reference: sklearn.metrics.root_mean_squared_log_error.
    """

    name: ClassVar[str] = "rmsle"
    aliases: ClassVar[tuple[str, ...]] = ("root_mean_squared_log_error",)
    formula: ClassVar[str] = "√(mean of (log(1 + ŷ) − log(1 + y))²); per-sample column shows d²"
    gradient: ClassVar[str] = "dᵢ / ((1 + ŷᵢ)·N·RMSLE)"
    hessian: ClassVar[str] = "by the chain rule through the root (rows couple); 0 at RMSLE = 0"
    reference: ClassVar[str] = "sklearn.metrics.root_mean_squared_log_error"


@dataclass(frozen=True)
class Expectile(_Regression):
    """Expectile (asymmetric squared) loss for the expectile q.

    Formula: |q − 1(y < ŷ)|·(y − ŷ)²: weight q below the target, 1 − q above.
    Gradient: 2·w·(ŷ − y).  Hessian: 2w; at ŷ = y (where the weight jumps)
    2q, the value of the formula's branch 1(y < ŷ) = 0.
    Reference: Vowpal Wabbit's expectile loss (q = 0.5 is half the squared error).
    """

    name: ClassVar[str] = "expectile"
    formula: ClassVar[str] = "|q − 1(y < ŷ)|·(y − ŷ)²"
    gradient: ClassVar[str] = "2(1 − q)(ŷ − y) if ŷ > y, else 2q(ŷ − y)"
    hessian: ClassVar[str] = "2(1 − q) if ŷ > y, else 2q (2q at ŷ = y)"
    reference: ClassVar[str] = "|q − 1(y < ŷ)|·(y − ŷ)² (Vowpal Wabbit expectile)"
    quantile: float = param(0.5, "the expectile q to estimate", _open_unit)

    def _weight(self, e: Array) -> Array:
        q = self.quantile
        out: Array = np.where(e > 0, 1.0 - q, q)
        return out

    def residual_loss(self, e: Array) -> tuple[Array, Array]:
        w = self._weight(e)
        return w * e * e, 2.0 * w * e

    def residual_hessian(self, e: Array) -> Array:
        out: Array = 2.0 * self._weight(e)
        return out
