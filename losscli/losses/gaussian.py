"""Gaussian negative log-likelihood of a predicted mean and variance (torch gaussian_nll_loss)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from losscli._lazy import lazy_module
from losscli._types import Task
from losscli.errors import InputError
from losscli.losses.base import Loss, Pointwise, _fail, param

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")

VAR_EPS = 1e-6  # torch gaussian_nll_loss default: variances are clamped to ≥ 1e-6
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _flag(v: bool) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


@dataclass(frozen=True)
class GaussianNLL(Loss):
    """Gaussian negative log-likelihood with a per-row variance.

    Predictions: two columns, the mean μ and the variance σ² ≥ 0 (``--var
    COL`` names the variance column; it follows the mean column).  The
    variance is clamped to v = max(σ², 1e-6) and the derivatives are taken at
    the clamped value, as torch does (its clamp runs outside autograd).
    Formula: ½(log v + (μ − y)²/v) [+ ½log 2π with ``--full``].
    Gradient: ((μ − y)/v, ½(1/v − (μ − y)²/v²)), one column each.
    Hessian: (1/v, ((μ − y)²/v³ − ½/v²)).
    Reference: torch.nn.functional.gaussian_nll_loss(full, eps=1e-6).
    """

    name: ClassVar[str] = "gaussian_nll"
    task: ClassVar[Task] = Task.REGRESSION_WITH_VARIANCE
    takes: ClassVar[str] = "two columns: predicted mean, then predicted variance (--var COL)"
    formula: ClassVar[str] = "½(log v + (μ − y)²/v) [+ ½log 2π with --full], v = max(σ², 1e-6)"
    gradient: ClassVar[str] = "∂/∂μ = (μ − y)/v; ∂/∂σ² = ½(1/v − (μ − y)²/v²)"
    hessian: ClassVar[str] = "∂²/∂μ² = 1/v; ∂²/∂(σ²)² = (μ − y)²/v³ − ½/v²"
    reference: ClassVar[str] = "torch.nn.functional.gaussian_nll_loss(full, eps=1e-6)"
    full: bool = param(
        False, "add the terms that do not depend on the prediction (here ½·log 2π)", _flag
    )

    def _pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        if y_pred.ndim != 2 or y_pred.shape[1] != 2:
            raise InputError(
                "gaussian_nll takes two prediction columns, the mean and the variance",
                "name the variance column with --var COL (or give --pred MEAN,VAR)",
            )
        if y_true.ndim != 1 or y_true.shape[0] != y_pred.shape[0]:
            raise InputError("gaussian_nll takes one target column", "select it with --true")
        mu, var = y_pred[:, 0], y_pred[:, 1]
        _fail(var < 0, "y_pred", "has negative variances", var, "the --var column must be ≥ 0")
        v = np.maximum(var, VAR_EPS)
        clipped = int(np.count_nonzero(var < VAR_EPS))
        e = mu - y_true
        e2 = e * e
        loss = 0.5 * (np.log(v) + e2 / v)
        if self.full:
            loss += HALF_LOG_2PI
        grad = np.column_stack([e / v, 0.5 * (1.0 / v - e2 / (v * v))])
        hess = None
        if hessian:
            hess = np.column_stack([1.0 / v, e2 / (v * v * v) - 0.5 / (v * v)])
        return Pointwise(loss, grad, clipped=clipped, hess=hess)
