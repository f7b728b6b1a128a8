"""Totals that do not overflow: Σsᵢℓᵢ and Σsᵢnᵢ kept as mantissa·2^exponent.

A mean of finite numbers is finite, but its numerator need not be: 1,000
rows of loss 1e306 sum to 1e309, two weights of 1e308 sum past float64's
largest number.  So each total is held as ``m·2**e`` (:class:`Scaled`):
a block's dot product is taken on both factors scaled into [0.5, 1) by a
power of two (exact: only the exponent changes), and blocks are added with
``math.fsum`` after shifting them onto the largest exponent.  A weighted
*mean* is invariant when every weight is multiplied by the same 2^-k, so the
reduction divides the weights (and both totals) by 2^k with k the exponent of
Σsᵢnᵢ: the numbers handed to the loss are then ordinary floats whenever the
reported loss itself is one, and the gradient ∂L/∂ŷᵢ = c·sᵢ·2^-k·∂ℓᵢ/∂ŷᵢ
is the same function of the data.  Only a result that really lies outside
float64 is an error (:class:`TotalOverflow`, exit 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from losscli._lazy import lazy_module
from losscli.errors import RunError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")

# Fast path: a plain sum this large was not hurt by underflowed terms (each lost
# term is below 2^-1074, so n of them are negligible against 2^-900).
_SAFE_LOW = 2.0**-900


class TotalOverflow(RunError):
    """The reported number itself lies beyond float64 (not just a partial sum)."""


@dataclass(frozen=True)
class Scaled:
    """The number ``m·2**e``; ``m`` is 0 or in [0.5, 1) once normalised."""

    m: float
    e: int = 0

    @staticmethod
    def of(x: float) -> Scaled:
        """A float as ``m·2**e`` (non-finite values stay in ``m``)."""
        if x == 0.0 or not math.isfinite(x):
            return Scaled(x, 0)
        m, e = math.frexp(x)
        return Scaled(m, e)

    def shifted(self, k: int) -> float:
        """``m·2**(e + k)`` as a float; ``inf`` (with its sign) past float64."""
        try:
            return math.ldexp(self.m, self.e + k)
        except OverflowError:
            return math.copysign(math.inf, self.m)

    def __float__(self) -> float:
        return self.shifted(0)


def total(parts: Iterable[Scaled]) -> Scaled:
    """Σ parts, exactly rounded once (fsum) after aligning on the largest exponent."""
    items = [p for p in parts if p.m != 0.0]
    if not items:
        return Scaled(0.0)
    if not all(math.isfinite(p.m) for p in items):
        return Scaled(math.fsum(p.m for p in items))
    top = max(p.e for p in items)
    # every shifted mantissa is at most 1 in size, so fsum cannot overflow
    mantissa = math.fsum(math.ldexp(p.m, p.e - top) for p in items)
    scaled = Scaled.of(mantissa)
    return Scaled(scaled.m, scaled.e + top) if scaled.m else scaled


def _exponent(values: Array) -> int | None:
    """Exponent of the largest magnitude (frexp convention), None when all are 0."""
    if values.size == 0:
        return None
    high = max(float(values.max()), -float(values.min()))
    if high == 0.0 or not math.isfinite(high):
        return None if high == 0.0 else 0
    return math.frexp(high)[1]


def scaled_sum(values: Array) -> Scaled:
    """Σ values as ``m·2**e``, correct where the float sum would overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        plain = float(values.sum())
    if math.isfinite(plain) and abs(plain) >= _SAFE_LOW:
        return Scaled.of(plain)
    e = _exponent(values)
    if e is None:
        return Scaled(0.0)
    return _rescaled(float(np.ldexp(values, -e).sum()), e)


def mean(values: Array) -> float:
    """The mean of ``values`` (all of them, flattened), finite whenever it fits float64:
    targets of 1e308 average to 1e308, where ``values.mean()`` overflows in its sum."""
    s = scaled_sum(np.ravel(values))
    return Scaled(s.m / max(values.size, 1), s.e).shifted(0) if values.size else math.nan


def scaled_dot(weight: Array, values: Array) -> Scaled:
    """Σ weightᵢ·valuesᵢ as ``m·2**e``: neither a product nor the sum overflows."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        plain = float(weight @ values)
    if math.isfinite(plain) and abs(plain) >= _SAFE_LOW:
        return Scaled.of(plain)
    ew, ev = _exponent(weight), _exponent(values)
    if ew is None or ev is None:
        return Scaled(0.0)
    with np.errstate(under="ignore"):
        mantissa = float(np.ldexp(weight, -ew) @ np.ldexp(values, -ev))
    return _rescaled(mantissa, ew + ev)


def _rescaled(mantissa: float, e: int) -> Scaled:
    s = Scaled.of(mantissa)
    return Scaled(s.m, s.e + e) if s.m and math.isfinite(s.m) else s


class Reduced(NamedTuple):
    """What a reduction hands on: floats for the loss, and the weights' shift k.

    ``num`` and ``den`` are Σsᵢℓᵢ·2^-k and Σsᵢnᵢ·2^-k; the gradient uses
    the weights sᵢ·2^-k (:meth:`weights`).
    """

    num: float
    den: float
    shift: int
    outputs: tuple[float, ...] = ()  # Σsℓ per output (multi-output regression), ·2^-k

    def weights(self, weight: Array | None) -> Array | float:
        """sᵢ·2^-k, or 2^-k for unweighted rows (sᵢ = 1)."""
        if weight is None:
            return math.ldexp(1.0, -self.shift)
        with np.errstate(under="ignore"):
            return np.ldexp(weight, -self.shift)

    def scaled(self, x: float) -> float:
        """x·2^-k: a per-sample quantity (such as sᵢ·error) put on the same footing."""
        return math.ldexp(x, -self.shift)


def reduce_totals(
    num: Scaled, den: Scaled, reduction: str, what: str, outputs: tuple[Scaled, ...] = ()
) -> Reduced:
    """Shift both totals by the exponent of Σsn (for ``mean``), refusing real overflow."""
    shift = den.e if reduction == "mean" else 0
    parts = tuple(o.shifted(-shift) for o in outputs)
    out = Reduced(num.shifted(-shift), den.shifted(-shift), shift, parts)
    if reduction != "none" and not math.isfinite(out.num):
        size = f"about 2^{num.e - shift}" if math.isfinite(num.m) else "not a number"
        raise TotalOverflow(
            f"{what}: the {reduction} of the losses lies beyond float64's range ({size})",
            "rescale the values (e.g. other units), or use --reduction none",
        )
    return out
