"""Stable link functions: sigmoid, log-sigmoid, softplus, softmax, log-softmax.

Each is written so that logits of ±1e4 give finite, exact-as-possible
results; the identity used is noted beside each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention; masks and indices share the alias
else:
    np = lazy_module("numpy", globals(), "np")


def softplus(x: Array) -> Array:
    """log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}); never overflows."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def log_sigmoid(x: Array) -> Array:
    """log σ(x) = −softplus(−x)."""
    return -softplus(-x)


def sigmoid(x: Array) -> Array:
    """σ(x) from e^{−|x|} ≤ 1: 1/(1+e) for x ≥ 0, e/(1+e) otherwise."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def logistic_parts(x: Array) -> tuple[Array, Array, Array, Array]:
    """softplus(x), softplus(−x), σ(x), σ(−x) from one exp and one log1p.

    With e = e^{−|x|} ≤ 1: softplus(±x) = max(±x, 0) + log1p(e), and
    σ(x) = 1/(1+e) or e/(1+e) by the sign of x; each is exact to rounding
    at any |x| (no 1 − σ cancellation), and the losses on logits need all four.
    """
    e = np.exp(-np.abs(x))
    tail = np.log1p(e)
    inv = 1.0 / (1.0 + e)
    small = e * inv  # σ(−|x|)
    positive = x >= 0
    sp_pos = np.maximum(x, 0.0) + tail
    sp_neg = np.maximum(-x, 0.0) + tail
    return sp_pos, sp_neg, np.where(positive, inv, small), np.where(positive, small, inv)


def log_softmax(z: Array) -> Array:
    """Row-wise z − max − log Σ e^{z−max}.

    The log of the shifted sum (≥ 1) is what torch computes too, so values
    agree with the reference to the last bits; the absolute error is at most
    one ulp of 1.
    """
    shifted: Array = z - z.max(axis=1, keepdims=True)
    out: Array = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return out


def softmax(z: Array) -> Array:
    """Row-wise e^{z−max} / Σ e^{z−max}."""
    e: Array = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e
