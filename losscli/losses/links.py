"""Stable link functions (sigmoid, log-sigmoid, softplus, softmax, log-softmax),
and the Link objects models are built on (identity, log, logit, softmax).

Each function is written so that logits of ±1e4 give finite,
exact-as-possible results; the identity used is noted beside each.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from losscli._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
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
    """Row-wise z − max − log1p(Σ_{c ≠ argmax} e^{z꜀−max}).

    The shifted sum is 1 + r with the largest term exactly 1; taking
    log1p(r) rather than log(1 + r) keeps the *relative* error of −log p at
    a few ulps when p is near 1 (logits [0, −17]: −log p = 4.1e-8, which
    log(1 + r) gets wrong in the ninth digit — torch's value there is off by
    as much).  Found by tests/test_trust_fuzz.py's classification reference.
    """
    top = z.argmax(axis=1)
    rows = np.arange(z.shape[0])
    shifted: Array = z - z[rows, top][:, None]
    e = np.exp(shifted)
    e[rows, top] = 0.0  # the largest term, exactly 1, is the 1 of log1p
    out: Array = shifted - np.log1p(e.sum(axis=1, keepdims=True))
    return out


def softmax(z: Array) -> Array:
    """Row-wise e^{z−max} / Σ e^{z−max}."""
    e: Array = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


# --------------------------------------------------------------------------- Link objects


class Link:
    """How a model's raw score relates to its prediction: score = link(prediction).

    ``inverse`` maps raw scores (Xw + b) to predictions; ``intercept_only``
    is the best constant score for targets ``y`` — the intercept that fits y
    with every coefficient 0, where training starts (scikit-learn's
    ``fit_intercept_only``).  One instance per link, in ``LINKS``.
    """

    name: ClassVar[str]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<link {self.name}>"

    def link(self, prediction: Array) -> Array:
        raise NotImplementedError

    def inverse(self, raw: Array) -> Array:
        raise NotImplementedError

    def intercept_only(self, y: Array, outputs: int) -> Array:
        """The best constant raw score(s), shape (outputs,)."""
        raise NotImplementedError


class IdentityLink(Link):
    """Regression: the score is the prediction; the best constant is the mean."""

    name = "identity"

    def link(self, prediction: Array) -> Array:
        return prediction

    def inverse(self, raw: Array) -> Array:
        return raw

    def intercept_only(self, y: Array, outputs: int) -> Array:
        from losscli.losses.totals import mean

        return np.full(outputs, mean(y))  # y.mean()'s sum overflows on targets near 1e308


class LogLink(Link):
    """Counts: the score is a log-rate; the best constant is log(mean), the mean kept > 0."""

    name = "log"

    def link(self, prediction: Array) -> Array:
        return np.log(prediction)

    def inverse(self, raw: Array) -> Array:
        with np.errstate(over="ignore"):  # a rate beyond float64 is inf, caught downstream
            return np.exp(raw)

    def intercept_only(self, y: Array, outputs: int) -> Array:
        return np.full(outputs, math.log(max(float(y.mean()), 1e-8)))


class LogitLink(Link):
    """Binary: the score is log(p/(1−p)); the best constant is the logit of the positive rate."""

    name = "logit"

    def link(self, prediction: Array) -> Array:
        """log p − log(1 − p), with log1p for p near 0."""
        out: Array = np.log(prediction) - np.log1p(-prediction)
        return out

    def inverse(self, raw: Array) -> Array:
        return sigmoid(raw)

    def intercept_only(self, y: Array, outputs: int) -> Array:
        p = min(max(float(y.mean()), 1e-6), 1 - 1e-6)  # a one-class sample stays finite
        return np.full(outputs, math.log(p / (1 - p)))


class SoftmaxLink(Link):
    """Multi-class: scores are logits up to a constant per row; fixed here by centring."""

    name = "softmax"

    def link(self, prediction: Array) -> Array:
        logp: Array = np.log(prediction)
        out: Array = logp - logp.mean(axis=-1, keepdims=True)
        return out

    def inverse(self, raw: Array) -> Array:
        return softmax(raw)

    def intercept_only(self, y: Array, outputs: int) -> Array:
        """Centred log class frequencies (absent classes floored at 1e-6)."""
        freq = np.bincount(y.astype(np.int64), minlength=outputs) / len(y)
        logf = np.log(np.clip(freq, 1e-6, None))
        out: Array = logf - logf.mean()
        return out


IDENTITY, LOG, LOGIT, SOFTMAX = IdentityLink(), LogLink(), LogitLink(), SoftmaxLink()
LINKS: dict[str, Link] = {link.name: link for link in (IDENTITY, LOG, LOGIT, SOFTMAX)}
