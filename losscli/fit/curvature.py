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

import numpy as np

from losscli.losses import Loss
from losscli.losses.links import softmax

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]

#: Losses (by name) with a known score Hessian, and when it is available.
_SCALAR = ("mse", "log_cosh", "bce", "poisson")
_SOFTMAX = ("cross_entropy",)


def has_curvature(loss: Loss, *, logits: bool, outputs: int) -> bool:
    """Whether :func:`curvature` knows this loss's second derivative."""
    params = loss.params()
    if loss.name in _SOFTMAX:
        return logits and not params.get("label_smoothing") and params.get("class_weights") is None
    if outputs != 1 or loss.name not in _SCALAR:
        return False
    if loss.name in ("bce", "poisson"):
        return logits
    return True


def curvature(loss: Loss, y: Array, scores: Array, *, logits: bool) -> Array:
    """∂²ℓᵢ/∂sᵢ² per row (n,), or the softmax probabilities (n, K).

    For softmax the per-row Hessian is diag(p) − ppᵀ, which a caller
    applies to a direction U as p⊙U − p·(p·U) without forming it; so the
    probabilities are what is returned.  Call only when
    :func:`has_curvature` is True.
    """
    name = loss.name
    if name == "mse":
        return np.full(scores.shape[0], 2.0)
    if name == "log_cosh":
        t: Array = np.tanh(scores - y)
        t *= t
        return 1.0 - t
    if name == "poisson":
        return np.exp(scores)
    if name == "bce":
        # ℓ = w·y·softplus(−s) + (1−y)·softplus(s), so ℓ'' = (w·y + 1 − y)·σ(s)σ(−s);
        # σ(s)σ(−s) = e/(1+e)² with e = e^{−|s|} ≤ 1, exact at any |s|.
        yy = (y + 1.0) / 2.0 if np.any(y < 0) else y  # −1/+1 labels read as 0/1
        e = np.exp(-np.abs(scores))
        h = e / ((1.0 + e) * (1.0 + e))
        pos_weight = loss.params().get("pos_weight")
        if pos_weight is not None:
            h *= pos_weight * yy + (1.0 - yy)
        return h
    if name == "cross_entropy":
        p: Array = softmax(scores)
        return p
    raise ValueError(f"no second derivative known for {name}")
