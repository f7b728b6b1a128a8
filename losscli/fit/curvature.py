"""Second derivatives of a loss with respect to the model's scores.

Newton's method needs ∂²ℓᵢ/∂sᵢ² (one number per row for one output, a
K×K block per row for softmax).  This module is the one place that knows
them for the losses the trainer can fit by Newton; the losses themselves
only give first derivatives.  ``curvature`` returns None for a loss whose
second derivative it does not know (or that has none, like the kinked
losses), and the solver chooser then picks a first-order method.

Each formula is written on the scores the trainer uses: logits for binary
and multi-class losses and log-rates for Poisson (``Objective.logits``),
values for regression.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from losscli.losses import Loss
from losscli.losses.links import softmax

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]

#: Convex losses whose per-row second derivative Newton may use (the losses
#: give it: ``Loss.pointwise(..., hessian=True)``).  Non-convex ones (focal)
#: are left to L-BFGS, whose line search does not need H ⪰ 0.
_SCALAR = ("mse", "log_cosh", "huber", "smooth_l1", "bce", "poisson", "squared_hinge")
_SOFTMAX = ("cross_entropy",)


def has_curvature(loss: Loss, *, logits: bool, outputs: int) -> bool:
    """Whether :func:`curvature` gives this loss's second derivative (and it is ⪰ 0)."""
    params = loss.params()
    if loss.name in _SOFTMAX:
        return logits and not params.get("label_smoothing") and params.get("class_weights") is None
    if outputs != 1 or loss.name not in _SCALAR:
        return False
    if loss.name in ("bce", "poisson"):
        return logits  # convex in the logit / log-rate, not in p or λ
    if loss.name == "smooth_l1":
        return bool(params.get("beta"))
    return True


def curvature(loss: Loss, y: Array, scores: Array, *, logits: bool) -> Array:
    """∂²ℓᵢ/∂sᵢ² per row (n,), or the softmax probabilities (n, K).

    For softmax the per-row Hessian is diag(p) − ppᵀ (plain cross-entropy on
    logits), which a caller applies to a direction U as p⊙U − p·(p·U)
    without forming it; so the probabilities are what is returned — the
    loss's own ``hess`` is only the diagonal.  Call only when
    :func:`has_curvature` is True.
    """
    if loss.name in _SOFTMAX:
        p: Array = softmax(scores)
        return p
    pw = loss.pointwise(y, scores, logits=logits, finite=False, hessian=True)
    if pw.hess is None:
        raise ValueError(f"no second derivative known for {loss.name}")
    return pw.hess
