"""L-BFGS with a strong-Wolfe line search, in NumPy: the engine of ``--optimizer lbfgs``.

Why our own rather than scipy's L-BFGS-B: importing ``scipy.optimize``
costs about 0.3 s in every process (it pulls in scipy.linalg, scipy.special
and the LP code) — measured, a seventh of a whole 200k × 50 softmax
``train`` — while the algorithm is forty lines of vector arithmetic around
the loss's own value-and-gradient pass, which is where all the time goes.
``benchmarks/bench_lbfgs.py`` runs both on the same objectives: the same
optima (to the certificate's tolerance) in as many or fewer evaluations.

The method (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Alg. 7.4,
3.5 and 3.6):

* the search direction is −H·g, H the inverse-Hessian estimate of the last
  ``memory`` steps (sᵢ = Δθ, yᵢ = Δg), applied by the two-loop recursion;
  its initial matrix is γ·M, with γ = sᵀy / yᵀMy from the newest pair and
  M an optional preconditioner (a fixed positive definite approximation of
  the inverse Hessian, e.g. the inverse feature Gram matrix for softmax);
* the step length satisfies the strong Wolfe conditions
  f(θ + tp) ≤ f + c₁t gᵀp and |g(θ + tp)ᵀp| ≤ c₂|gᵀp| (c₁ = 1e-4, c₂ = 0.9):
  the first trial is t = 1 (the quasi-Newton step, accepted on almost every
  iteration: one evaluation per iteration), then bracketing and a
  safeguarded cubic interpolation.  A trial where the objective is not
  finite (scores that overflow) counts as too long a step;
* a pair is stored only when sᵀy > 0 (strong Wolfe guarantees it in exact
  arithmetic), so H stays positive definite.

The caller decides when to stop (``should_stop`` after every accepted
step): for losscli that is the fit's certificate, never a relative decrease.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]

#: θ ↦ (f(θ), ∇f(θ)); f = inf where the objective cannot be evaluated (overflow).
ValueGrad = Callable[["Array"], tuple[float, "Array"]]
#: (iteration, θ, f, g) after every accepted step → True to stop.
ShouldStop = Callable[[int, "Array", float, "Array"], bool]

C1 = 1e-4  # sufficient decrease (Armijo)
C2 = 0.9  # curvature: the usual choice for quasi-Newton methods
LINE_SEARCH_EVALUATIONS = 25
EXPAND = 4.0  # bracketing: the next trial is this many times the last
NOISE_ULPS = 16  # f is trusted to this many ulps (see wolfe_line_search)


@dataclass(frozen=True)
class QuasiNewtonResult:
    """Where L-BFGS stopped and why (``"stopped"``, ``"max_iter"`` or ``"line_search"``)."""

    x: Array
    f: float
    g: Array
    iterations: int
    evaluations: int
    reason: str


@dataclass
class _Trial:
    t: float
    f: float
    g: Array | None
    slope: float  # gᵀp at the trial (nan where f is not finite)


def _interpolate(lo: _Trial, hi: _Trial) -> float:
    """A trial step inside (lo, hi): the minimiser of the cubic through both ends'
    values and slopes, kept 10% away from either end; bisection when the cubic
    is undefined (a non-finite end, no real minimiser)."""
    a, b = lo.t, hi.t
    mid = 0.5 * (a + b)
    width = abs(b - a)
    if not (math.isfinite(hi.f) and math.isfinite(hi.slope)) or width == 0.0:
        return mid
    d1 = lo.slope + hi.slope - 3.0 * (lo.f - hi.f) / (a - b)
    disc = d1 * d1 - lo.slope * hi.slope
    if disc < 0 or not math.isfinite(disc):
        return mid
    d2 = math.copysign(math.sqrt(disc), b - a)
    denom = hi.slope - lo.slope + 2.0 * d2
    if denom == 0.0:
        return mid
    t = b - (b - a) * (hi.slope + d2 - d1) / denom
    low, high = min(a, b) + 0.1 * width, max(a, b) - 0.1 * width
    return t if low <= t <= high else mid


def wolfe_line_search(
    fg: ValueGrad, x: Array, f0: float, slope0: float, p: Array, t0: float
) -> tuple[_Trial, int] | tuple[None, int]:
    """A step t along p meeting the strong Wolfe conditions, and the evaluations used.

    None when none is found within the budget and no trial decreased f
    (a flat or rounding-dominated objective: the minimiser is as good as
    floating point gets along p).  If some trial decreased f sufficiently
    but the curvature condition was not met in the budget, that trial is
    returned: it is a descent step, the pair may just not be stored.
    """
    evaluations = 0
    best: _Trial | None = None  # the lowest trial meeting sufficient decrease
    # Near the optimum the decrease c₁t·gᵀp falls below the rounding of f itself
    # (a sum over all rows); there a value within a few ulps of f0 counts as no
    # increase, and the slope — computed accurately — decides (Hager & Zhang's
    # "approximate Wolfe" conditions).  Without it the search bisects on noise.
    noise = NOISE_ULPS * 2.0**-52 * abs(f0)

    def decreases(tr: _Trial) -> bool:
        return tr.f <= f0 + C1 * tr.t * slope0 or tr.f <= f0 + noise

    def trial(t: float) -> _Trial:
        nonlocal evaluations, best
        evaluations += 1
        f, g = fg(x + t * p)
        if not math.isfinite(f):
            return _Trial(t, math.inf, None, math.nan)
        out = _Trial(t, f, g, float(g @ p))
        if decreases(out) and (best is None or f < best.f):
            best = out
        return out

    def accept(tr: _Trial) -> bool:
        return abs(tr.slope) <= -C2 * slope0

    def zoom(lo: _Trial, hi: _Trial) -> _Trial | None:
        # lo: meets sufficient decrease, lowest so far; the minimiser lies between lo and hi.
        while evaluations < LINE_SEARCH_EVALUATIONS:
            t = _interpolate(lo, hi)
            if abs(t - lo.t) * float(np.max(np.abs(p))) <= 1e-16 * max(
                1.0, float(np.max(np.abs(x)))
            ):
                return None  # the bracket shrank to rounding
            tr = trial(t)
            if not math.isfinite(tr.f) or not decreases(tr) or tr.f > lo.f:
                hi = tr
            else:
                if accept(tr):
                    return tr
                if tr.slope * (hi.t - lo.t) >= 0:
                    hi = lo
                lo = tr
        return None

    prev = _Trial(0.0, f0, None, slope0)
    t = t0
    found: _Trial | None = None
    while evaluations < LINE_SEARCH_EVALUATIONS:
        tr = trial(t)
        if not math.isfinite(tr.f) or not decreases(tr) or (prev.t > 0 and tr.f > prev.f):
            found = zoom(prev, tr)
            break
        if accept(tr):
            found = tr
            break
        if tr.slope >= 0:
            found = zoom(tr, prev)
            break
        prev, t = tr, t * EXPAND
    if found is not None:
        return found, evaluations
    if best is not None:
        return best, evaluations
    return None, evaluations


def minimize(
    fg: ValueGrad,
    x0: Array,
    *,
    max_iter: int,
    should_stop: ShouldStop,
    memory: int = 10,
    precondition: Callable[[Array], Array] | None = None,
    start: tuple[float, Array] | None = None,
) -> QuasiNewtonResult:
    """Minimise a smooth f from x0 by L-BFGS until ``should_stop`` says so.

    ``fg(x0)`` must be finite; ``start`` is it when the caller has already
    evaluated it (to check the start).  ``precondition`` applies
    M ≈ ∇²f⁻¹ (symmetric positive definite) to a vector.
    """
    x = np.array(x0, dtype=np.float64)
    f, g = fg(x) if start is None else start
    evaluations = 1
    size = len(x)
    s_mem = np.empty((memory, size))
    y_mem = np.empty((memory, size))
    rho = np.empty(memory)
    stored = 0  # pairs held; the newest at index (head − 1) mod memory
    head = 0
    alpha = np.empty(memory)

    def apply_m(v: Array) -> Array:
        return precondition(v) if precondition is not None else v

    def direction() -> Array:
        """−H·g by the two-loop recursion (Nocedal & Wright Alg. 7.4)."""
        q = g.copy()
        order = [(head - 1 - i) % memory for i in range(stored)]  # newest first
        for i in order:
            alpha[i] = rho[i] * float(s_mem[i] @ q)
            q -= alpha[i] * y_mem[i]
        r = apply_m(q)
        if stored:
            newest = order[0]
            yv = y_mem[newest]
            r = r * (float(s_mem[newest] @ yv) / float(yv @ apply_m(yv)))
        for i in reversed(order):
            beta = rho[i] * float(y_mem[i] @ r)
            r = r + (alpha[i] - beta) * s_mem[i]
        return -r

    iteration = 0
    reason = "max_iter"
    while iteration < max_iter:
        p = direction()
        slope = float(g @ p)
        if not slope < 0:  # rounding broke the descent property: restart from γM
            stored = 0
            p = -apply_m(g)
            slope = float(g @ p)
            if not slope < 0:
                reason = "line_search"
                break
        # The first step has no curvature information yet: move a unit distance.
        t0 = 1.0 if stored else min(1.0, 1.0 / max(float(np.linalg.norm(p)), 1e-300))
        found, used = wolfe_line_search(fg, x, f, slope, p, t0)
        evaluations += used
        if found is None or found.g is None:
            reason = "line_search"
            break
        step = found.t * p
        y_new = found.g - g
        sy = float(step @ y_new)
        x = x + step
        f, g = found.f, found.g
        iteration += 1
        if sy > 1e-16 * float(y_new @ y_new):  # positive curvature: keep the pair
            s_mem[head] = step
            y_mem[head] = y_new
            rho[head] = 1.0 / sy
            head = (head + 1) % memory
            stored = min(stored + 1, memory)
        if should_stop(iteration, x, f, g):
            reason = "stopped"
            break
    return QuasiNewtonResult(x, f, g, iteration, evaluations, reason)
