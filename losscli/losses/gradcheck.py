"""Central finite differences against the analytic gradient and Hessian.

Every loss is a sum of per-row terms, and row i's term depends on row i's
predictions only.  So one evaluation at ŷ + h·eⱼ (column j moved in *all*
rows at once) gives the partial derivative of every row's term along
column j: K pairs of evaluations check n·K derivatives, and the check
stays vectorised on large files.  The reduction is a positive scalar factor
on top (see ``Loss.grad_scale``) and does not change relative errors.  The
Hessian's diagonal is checked the same way, by central differences of the
analytic gradient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from losscli._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
    from losscli.losses import Loss
else:
    np = lazy_module("numpy", globals(), "np")

REL_STEP = 1e-6  # h = 1e-6·max(1, |x|): truncation O(h²) and rounding O(ε/h) balance


class GradCheck(NamedTuple):
    """Largest absolute and relative disagreement, and how many were compared."""

    max_abs: float
    max_rel: float
    compared: int
    skipped: int

    def merge(self, other: GradCheck) -> GradCheck:
        return GradCheck(
            max(self.max_abs, other.max_abs),
            max(self.max_rel, other.max_rel),
            self.compared + other.compared,
            self.skipped + other.skipped,
        )


NO_CHECK = GradCheck(0.0, 0.0, 0, 0)


def steps(x: Array, probability: bool, eps: float) -> tuple[Array, Array]:
    """Step sizes, and the mask of points where a central difference is meaningful.

    Probabilities keep x ± h inside (eps, 1 − eps): a clipped point has the
    derivative of the formula at the clipped value, which no difference of
    the clipped function reproduces, so those points are skipped.
    """
    h = REL_STEP * np.maximum(1.0, np.abs(x))
    if not probability:
        return h, np.ones(x.shape, dtype=bool)
    inside = (x > eps) & (x < 1.0 - eps)
    h = np.minimum(h, np.minimum(x - eps, 1.0 - eps - x) / 2.0)
    return np.where(inside, h, 1.0), inside & (h > 0)


def check_gradient(
    loss: Loss,
    y_true: Array,
    y_pred: Array,
    *,
    logits: bool = False,
    weight: Array | None = None,
    scale: float = 1.0,
) -> GradCheck:
    """Compare sᵢ·∂ℓᵢ/∂ŷ with sᵢ·(ℓᵢ(ŷ+h) − ℓᵢ(ŷ−h))/2h for every prediction.

    ``scale`` is the reduction's factor (1/Σw for a mean), applied to the
    absolute error so that it is in the units of the printed gradient.
    """
    analytic = loss.pointwise(y_true, y_pred, logits=logits).grad
    return _compare(loss, y_true, y_pred, analytic, "loss", logits, weight, scale)


def check_hessian(
    loss: Loss,
    y_true: Array,
    y_pred: Array,
    *,
    logits: bool = False,
    weight: Array | None = None,
    scale: float = 1.0,
) -> GradCheck:
    """Compare sᵢ·∂²ℓᵢ/∂ŷᵢⱼ² with sᵢ·(gᵢⱼ(ŷ+h) − gᵢⱼ(ŷ−h))/2h, g the analytic gradient.

    At a kink the difference straddles the jump of the gradient and cannot
    agree; the losses that have kinks report 0 there, and random or measured
    inputs land on one only by a tie, which the caller sees as one outlier.
    """
    analytic = loss.pointwise(y_true, y_pred, logits=logits, hessian=True).hess
    assert analytic is not None
    return _compare(loss, y_true, y_pred, analytic, "grad", logits, weight, scale)


def _compare(
    loss: Loss,
    y_true: Array,
    y_pred: Array,
    analytic: Array,
    of: str,
    logits: bool,
    weight: Array | None,
    scale: float,
) -> GradCheck:
    """Central differences of ``pointwise(...).<of>`` (column j moved) against ``analytic``."""
    probability = loss.space(logits) == "probability"
    eps = float(getattr(loss, "eps", 0.0))
    cols = 1 if y_pred.ndim == 1 else y_pred.shape[1]
    s = np.ones(y_pred.shape[0]) if weight is None else weight
    worst_abs = worst_rel = 0.0
    compared = skipped = 0
    for j in range(cols):
        x = y_pred if y_pred.ndim == 1 else y_pred[:, j]
        h, ok = steps(x, probability, eps)
        up, down = y_pred.copy(), y_pred.copy()
        if y_pred.ndim == 1:
            up += h
            down -= h
        else:
            up[:, j] += h
            down[:, j] -= h
        up_loss = loss.pointwise(y_true, _inside(up, probability), logits=logits, strict=False)
        down_loss = loss.pointwise(y_true, _inside(down, probability), logits=logits, strict=False)
        if of == "loss":
            numeric = (up_loss.loss - down_loss.loss) / (2.0 * h)
        else:
            g_up, g_down = up_loss.grad, down_loss.grad
            if g_up.ndim == 2:
                g_up, g_down = g_up[:, j], g_down[:, j]
            numeric = (g_up - g_down) / (2.0 * h)
        exact = analytic if analytic.ndim == 1 else analytic[:, j]
        diff = np.abs(exact - numeric)[ok]
        size = np.maximum(np.abs(exact), np.abs(numeric))[ok]
        if diff.size:
            worst_abs = max(worst_abs, float((scale * s[ok] * diff).max()))
            rel = np.divide(diff, size, out=np.zeros_like(diff), where=size > 0)
            worst_rel = max(worst_rel, float(rel.max()))
        compared += int(ok.sum())
        skipped += int((~ok).sum())
    return GradCheck(worst_abs, worst_rel, compared, skipped)


def _inside(x: Array, probability: bool) -> Array:
    """Skipped points were moved by a dummy step; keep them valid probabilities."""
    return np.clip(x, 0.0, 1.0) if probability else x
