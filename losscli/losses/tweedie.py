"""Tweedie deviances (scikit-learn's mean_tweedie_deviance), and Poisson and gamma as its cases.

The unit deviance of power p, for a mean μ > 0 and target y, is

    d(y, μ) = 2·( max(y, 0)^{2−p}/((1−p)(2−p)) − y·μ^{1−p}/(1−p) + μ^{2−p}/(2−p) )

with the limits p = 0 (squared error), p = 1 (Poisson: 2(y log(y/μ) − y + μ))
and p = 2 (gamma: 2(log(μ/y) + y/μ − 1)).  In μ its derivatives are
∂d/∂μ = 2μ^{−p}(μ − y) and ∂²d/∂μ² = 2μ^{−p−1}(p·y + (1 − p)·μ).  With
``--logits`` the prediction is the log-link raw score x = log μ, and
∂d/∂x = 2(μ^{2−p} − y·μ^{1−p}), ∂²d/∂x² = 2((2−p)·μ^{2−p} − (1−p)·y·μ^{1−p}),
each power formed as exp(k·x), never as a power of an overflowed μ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from losscli._lazy import lazy_module
from losscli._types import LogitSpace, Task
from losscli.losses.base import MAX_EXP, BestConstant, Loss, Pointwise, _fail, _one_d, param

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")


def _power(v: float) -> str | None:
    if not math.isfinite(v) or 0 < v < 1:
        return "must be ≤ 0 or ≥ 1 (no Tweedie distribution has 0 < p < 1)"
    return None


def _xlogy(y: Array, v: Array) -> Array:
    """y·log v with 0·log 0 = 0."""
    pos = y > 0
    out: Array = np.where(pos, y * np.log(np.where(pos, v, 1.0)), 0.0)
    return out


@dataclass(frozen=True)
class _Tweedie(Loss):
    """The Tweedie kernel; subclasses fix the power or take it as ``--power``."""

    task: ClassVar[Task] = Task.POSITIVE
    takes: ClassVar[str] = "predicted means μ (> 0 unless p = 0), or log μ with --logits"
    logit_space: ClassVar[LogitSpace] = "optional"
    # a deviance is minimised by the weighted mean (its log with --logits): losscli.evaluate
    best_constant: ClassVar[BestConstant] = "count_mean"

    def tweedie_power(self) -> float:
        raise NotImplementedError

    def value_domain(self) -> str:
        p = self.tweedie_power()
        if p == 0:
            return "real"
        return "positive" if p >= 2 else ("counts" if p >= 1 else "positive_mean")

    def _check(self, y: Array, x: Array, logits: bool) -> None:
        p = self.tweedie_power()
        if p >= 2:
            _fail(
                y <= 0,
                "y_true",
                f"must be > 0 for power {p:g}",
                y,
                "gamma-like deviances need y > 0",
            )
        elif p >= 1:
            _fail(
                y < 0,
                "y_true",
                f"must be ≥ 0 for power {p:g}",
                y,
                "Poisson-like deviances need y ≥ 0",
            )
        if logits:
            # e^{(2−p)x} and e^{(1−p)x} must stay inside float64.
            top = MAX_EXP / max(2.0 - p, 1.0)
            _fail(
                x > top,
                "y_pred",
                f"has log-means above {top:.2f}, where the deviance overflows float64",
                x,
                "drop --logits if these are means rather than log-means",
            )
            if p > 1:
                low = -MAX_EXP / (p - 1.0)
                _fail(
                    x < low,
                    "y_pred",
                    f"has log-means below {low:.2f}, where y·μ^(1−p) overflows float64",
                    x,
                    "check the scale of the log-means",
                )
        elif p != 0:
            _fail(x <= 0, "y_pred", "must be > 0 (a mean)", x, "pass --logits for log-means")

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
        y, x = y_true, y_pred
        self._check(y, x, logits)
        p = self.tweedie_power()
        # Overflow of a term (y and μ both extreme) shows as inf, which check_finite
        # turns into an error naming the rows; numpy is not allowed to warn meanwhile.
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            return self._deviance(y, x, p, logits, hessian)

    def _deviance(self, y: Array, x: Array, p: float, logits: bool, hessian: bool) -> Pointwise:
        hess = None
        if logits:
            # μ^{1−p} and μ^{2−p} as exponentials of the raw score.
            m1 = np.exp((1.0 - p) * x)
            m2 = np.exp((2.0 - p) * x)
            if p == 0:
                d = m1 - y  # μ = e^x = μ^{1−p} at p = 0
                loss = d * d
            elif p == 1:
                loss = 2.0 * (_xlogy(y, y) - y * x - y + m2)
            elif p == 2:
                loss = 2.0 * (x - np.log(y) + y * np.exp(-x) - 1.0)
            else:
                loss = 2.0 * (
                    np.maximum(y, 0.0) ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
                    - y * m1 / (1.0 - p)
                    + m2 / (2.0 - p)
                )
            grad = 2.0 * (m2 - y * m1)
            if hessian:
                hess = 2.0 * ((2.0 - p) * m2 - (1.0 - p) * y * m1)
            return Pointwise(loss, grad, hess=hess)
        mu = x
        if p == 0:
            e = mu - y
            loss = e * e
            grad = 2.0 * e
        elif p == 1:
            r = y / mu
            loss = 2.0 * (_xlogy(y, r) - y + mu)
            grad = 2.0 * (1.0 - r)
        elif p == 2:
            r = y / mu
            loss = 2.0 * (np.log(mu) - np.log(y) + r - 1.0)
            grad = 2.0 * (1.0 - r) / mu  # 2(μ − y)/μ², without μ² underflowing
        else:
            loss = 2.0 * (
                np.maximum(y, 0.0) ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
                - y * mu ** (1.0 - p) / (1.0 - p)
                + mu ** (2.0 - p) / (2.0 - p)
            )
            grad = 2.0 * mu ** (-p) * (mu - y)
        if hessian:
            hess = (
                np.full_like(mu, 2.0)
                if p == 0
                else 2.0 * mu ** (-p - 1.0) * (p * y + (1.0 - p) * mu)
            )
        return Pointwise(loss, grad, hess=hess)


@dataclass(frozen=True)
class Tweedie(_Tweedie):
    """Tweedie deviance of power p (sklearn mean_tweedie_deviance).

    Domain: p ≤ 0 takes any y (and μ > 0 for p < 0), 1 ≤ p < 2 takes y ≥ 0,
    p ≥ 2 takes y > 0; μ > 0.  ``--logits`` reads the log-link raw score.
    Formula, gradient and Hessian: see the module docstring.
    """

    name: ClassVar[str] = "tweedie"
    formula: ClassVar[str] = (
        "2·(max(y,0)^{2−p}/((1−p)(2−p)) − y·μ^{1−p}/(1−p) + μ^{2−p}/(2−p)); p = 0, 1, 2 as limits"
    )
    gradient: ClassVar[str] = "2μ^{−p}(μ − y); with --logits 2(μ^{2−p} − y·μ^{1−p})"
    hessian: ClassVar[str] = (
        "2μ^{−p−1}(p·y + (1 − p)μ); with --logits 2((2 − p)μ^{2−p} − (1 − p)·y·μ^{1−p})"
    )
    reference: ClassVar[str] = "sklearn.metrics.mean_tweedie_deviance(power=p)"
    power: float = param(0.0, "the Tweedie power p (≤ 0 or ≥ 1)", _power)

    def tweedie_power(self) -> float:
        return float(self.power)


@dataclass(frozen=True)
class PoissonDeviance(_Tweedie):
    """Poisson deviance: the Tweedie kernel at p = 1 (sklearn mean_poisson_deviance).

    Domain: y ≥ 0, μ > 0.  Formula: 2(y·log(y/μ) − y + μ), 0·log 0 = 0.
    Gradient: 2(1 − y/μ); with --logits 2(μ − y).  Hessian: 2y/μ²; with --logits 2μ.
    """

    name: ClassVar[str] = "poisson_deviance"
    formula: ClassVar[str] = "2(y·log(y/μ) − y + μ)"
    gradient: ClassVar[str] = "2(1 − y/μ); with --logits 2(μ − y)"
    hessian: ClassVar[str] = "2y/μ²; with --logits 2μ"
    reference: ClassVar[str] = "sklearn.metrics.mean_poisson_deviance"

    def tweedie_power(self) -> float:
        return 1.0


@dataclass(frozen=True)
class GammaDeviance(_Tweedie):
    """Gamma deviance: the Tweedie kernel at p = 2 (sklearn mean_gamma_deviance).

    Domain: y > 0, μ > 0.  Formula: 2(log(μ/y) + y/μ − 1).
    Gradient: 2(μ − y)/μ²; with --logits 2(1 − y/μ).  Hessian: 2(2y − μ)/μ³;
    with --logits 2y/μ.
    """

    name: ClassVar[str] = "gamma"
    aliases: ClassVar[tuple[str, ...]] = ("gamma_deviance",)
    formula: ClassVar[str] = "2(log(μ/y) + y/μ − 1)"
    gradient: ClassVar[str] = "2(μ − y)/μ²; with --logits 2(1 − y/μ)"
    hessian: ClassVar[str] = "2(2y − μ)/μ³; with --logits 2y/μ"
    reference: ClassVar[str] = "sklearn.metrics.mean_gamma_deviance"

    def tweedie_power(self) -> float:
        return 2.0
