"""Exact optima for the kinked losses under an L2 (or elastic-net) penalty: ``--optimizer qp``.

mae, quantile, epsilon_insensitive and hinge with ``--l2 λ > 0`` are convex
quadratic programs, which the LP (:func:`losscli.fit.solvers.lp`) cannot take.
Every such loss is a maximum over a box (the form the LP also uses)::

    ℓᵢ(score) = max_{a ∈ [lo, hi]}  a·uᵢ − ε|a|,   uᵢ = tᵢ − zᵢ·score

(quantile: t = y, z = 1, a ∈ [q−1, q]; mae the same with [−1, 1]; epsilon
adds ε; hinge: t = 1, z = ±1, a ∈ [0, 1]).  The objective is

    P(w, b) = (1/S) Σ sᵢ ℓᵢ(xᵢ·w + b) + (λ/2) Σⱼ cⱼ² wⱼ²

(sample weights s, S = Σs; c the penalty factors of
:class:`~losscli.fit.objective.Objective`; b unpenalised).

**The dual, and the certificate.**  For any a in the boxes with
Σ sᵢzᵢaᵢ = 0 (the unpenalised intercept makes this an equality; without an
intercept there is none), with q = (1/S) Σ sᵢzᵢaᵢxᵢ::

    D(a) = (1/S) Σ sᵢ(aᵢtᵢ − ε|aᵢ|) − Σⱼ qⱼ²/(2λcⱼ²)  ≤  P*  ≤  P(θ)

(weak duality: put the box maximisers aᵢ into P, the b term vanishes by the
equality, and minimise over w in closed form).  So ``P(θ) − D(a)`` bounds
f(θ) − f* from above whatever a is; the solver builds a from its iterate,
moves it back onto Σ sᵢzᵢaᵢ = 0 inside the boxes (rounding leaves it ~1e-17
off), and reports the gap as ``duality_gap``.  ``converged`` means that gap is
≤ tol·max(1, |f|): the number, not the algorithm, is the proof.

**The method: smoothing with continuation, Newton, and a crossover.**

1. Smooth each kink: ℓᵢ,μ(u) = max_a a·u − ε|a| − (μ/2)a², whose maximiser is
   a* = clip(soft(u, ε)/μ, lo, hi).  ℓ_μ ≤ ℓ ≤ ℓ_μ + (μ/2)max a², and at the
   smoothed optimum θ_μ the dual point a*(θ_μ) has D(a*) ≥ D_μ(a*) = P_μ(θ_μ),
   so the true gap there is at most (μ/2)·max(lo², hi²): a small enough μ
   certifies.
2. P_μ is convex, C¹ and piecewise quadratic; its Hessian is
   (1/(Sμ)) Σ_{zone} sᵢ[xᵢ, 1]ᵀ[xᵢ, 1] + diag(λc², 0), where the zone is the
   few rows within μ of a kink — so building it costs |zone|·d², not n·d².
   Newton with an *exact* line search (the minimum of a 1-D convex piecewise
   quadratic, found by safeguarded Newton on its derivative) decreases P_μ
   at every step and, once the zone is the optimum's, lands on θ_μ exactly.
3. μ shrinks (by the gap still to close, 3× to 10× per stage), each stage
   warm-started from the last.
4. After each stage, a **crossover** solves the exact KKT system of the
   unsmoothed problem with the zone rows pinned to their kinks: a
   (|zone|+1)² linear system in their dual values γ and b (w follows in
   closed form).  When the zone is the optimum's elbow set, that is the
   exact optimum, and its gap is at rounding level; when not, the gap says
   so and the continuation goes on.  Identical pinned rows are merged; when
   more than d+1 distinct rows are pinned (ties: the system is singular) or
   their dual values leave the boxes, the same KKT conditions — θ free, the
   a's in their boxes — are solved as a small LP (HiGHS, d+1+m variables).

**Elastic net** (``--l1`` with ``--l2``): the penalty gains λ1Σcⱼ|wⱼ|, the
dual's quadratic term becomes Σ(|qⱼ| − λ1cⱼ)₊²/(2λ2cⱼ²), each Newton step is
a proximal Newton step (coordinate descent on the quadratic model plus the
L1 term, t ≤ 1 so its exact zeros survive), and the crossover keeps the zero
coefficients at 0 and moves λ1cⱼ·sign(wⱼ) into the stationarity equations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli.errors import InputError
from losscli.fit.data import DataSource, InMemory
from losscli.fit.objective import Objective
from losscli.fit.solvers import (
    LP_LOSSES,
    ROUNDING,
    Certificate,
    OnIteration,
    SolveResult,
    _cd_subproblem,
    _lp_terms,
    _solve_psd,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]

QP_LOSSES = LP_LOSSES
STAGE_NEWTON = 50  # Newton steps per smoothing stage, at most
LINE_SEARCH_ITER = 60  # safeguarded Newton/bisection steps of one exact line search
# The crossover's dense system has one row per zone row; a generic optimum has
# at most d+1 rows on their kinks, so a zone past 10·(d+1) (ties, duplicates)
# is left to the continuation, whose gap certifies on its own.
CROSSOVER_PER_PARAMETER = 10
MU_FLOOR = 1e-15  # the smallest μ, relative to the residuals' starting spread
SHRINK_MIN, SHRINK_MAX = 3.0, 10.0  # μ falls by a factor in this range per stage


@dataclass(frozen=True)
class Kinked:
    """One kinked problem in the box form of the module docstring (in memory).

    ``c2`` are the penalty factors squared per coefficient (λ·c2 is the L2
    curvature), ``s`` the sample weights (ones when unweighted).
    """

    x: Array
    t: Array
    z: Array
    s: Array
    big_s: float
    lo: float
    hi: float
    eps: float
    lam: float
    c2: Array
    intercept: bool
    lam1: float = 0.0  # the L1 weight (elastic net), on c·|w|

    @classmethod
    def of(cls, obj: Objective, data: InMemory) -> Kinked:
        x, y = data.x, data.y
        n, d = x.shape
        s = np.ones(n) if data.w is None else np.asarray(data.w, dtype=np.float64)
        t, z, lo, hi, eps = _lp_terms(obj, y)
        c = obj._c()
        c2 = np.full(d, float(c) ** 2) if not isinstance(c, np.ndarray) else c * c
        return cls(
            x,
            t,
            z,
            s,
            float(s.sum()),
            lo,
            hi,
            eps,
            float(obj.l2),
            c2,
            bool(obj.intercept),
            float(obj.l1),
        )

    @property
    def d(self) -> int:
        return int(self.x.shape[1])

    @property
    def a_max2(self) -> float:
        """max a² over the box: (μ/2)·this bounds the smoothing error of one row."""
        return max(self.lo * self.lo, self.hi * self.hi)

    def residuals(self, theta: Array) -> Array:
        """u = t − z·(Xw + b)."""
        score = self.x @ theta[: self.d]
        if self.intercept:
            score += theta[self.d]
        u: Array = self.t - self.z * score
        return u

    def loss(self, u: Array) -> Array:
        """ℓ(u) = max(hi(u − ε), lo(u + ε), 0): the box maximum in closed form (lo ≤ 0 ≤ hi)."""
        out = np.maximum(self.hi * (u - self.eps), self.lo * (u + self.eps))
        np.maximum(out, 0.0, out=out)
        return out

    def soft(self, u: Array) -> Array:
        """soft(u, ε) = sign(u)·max(|u| − ε, 0): the kink-relative residual."""
        if not self.eps:
            return u
        return np.sign(u) * np.maximum(np.abs(u) - self.eps, 0.0)

    def side(self, u: Array) -> Array:
        """The exact box maximiser away from the kinks: hi right of them, lo left, 0 between."""
        v = self.soft(u)
        return np.where(v > 0, self.hi, np.where(v < 0, self.lo, 0.0 if self.eps else self.hi))

    @property
    def c(self) -> Array:
        c: Array = np.sqrt(self.c2)
        return c

    def penalty(self, w: Array) -> float:
        """(λ2/2)Σc²w² + λ1Σc|w|."""
        out = 0.5 * self.lam * float(self.c2 @ (w * w))
        if self.lam1:
            out += self.lam1 * float(self.c @ np.abs(w))
        return out

    def primal(self, theta: Array) -> float:
        return float(self.s @ self.loss(self.residuals(theta))) / self.big_s + self.penalty(
            theta[: self.d]
        )


# --------------------------------------------------------------------------- dual


def _balance(k: Kinked, a: Array, prefer: Array | None) -> Array | None:
    """a moved inside its boxes onto Σ sᵢzᵢaᵢ = 0 (None when no point in the boxes is).

    The excess δ = Σ szа is taken back from the rows with room in the needed
    direction, in proportion to that room — first the ``prefer`` rows (the
    zone: a change there costs the dual least), then all.  z² = 1.
    """
    if not k.intercept:
        return a
    delta = float(k.s @ (k.z * a))
    if delta == 0.0:
        return a
    # Lowering zᵢaᵢ: room aᵢ − lo where z = +1, hi − aᵢ where z = −1 (and the reverse for δ < 0).
    down = (
        np.where(k.z > 0, a - k.lo, k.hi - a)
        if delta > 0
        else np.where(k.z > 0, k.hi - a, a - k.lo)
    )
    for rows in (prefer, None):
        room = down if rows is None else np.where(rows, down, 0.0)
        total = float(k.s @ room)
        if total >= abs(delta) and total > 0:
            tau = abs(delta) / total
            out: Array = np.clip(a - np.sign(delta) * tau * k.z * room, k.lo, k.hi)
            return out
    return None


def dual_value(k: Kinked, a: Array) -> float:
    """D(a) for a in the boxes (and on Σ sza = 0 when there is an intercept)."""
    q = k.x.T @ (k.s * k.z * a) / k.big_s
    lin = float(k.s @ (a * k.t - k.eps * np.abs(a))) / k.big_s
    # min_w −q·w + λ1Σc|w| + (λ2/2)Σc²w² = −Σ (|q| − λ1c)₊² / (2λ2c²)
    excess = np.maximum(np.abs(q) - k.lam1 * k.c, 0.0) if k.lam1 else q
    return lin - float((excess * excess) @ (1.0 / k.c2)) / (2.0 * k.lam)


def gap_at(k: Kinked, theta: Array, a: Array, prefer: Array | None) -> tuple[float, float]:
    """(P(θ), P(θ) − D(a′)) with a′ = a balanced onto the equality; inf when it cannot be."""
    primal = k.primal(theta)
    balanced = _balance(k, np.clip(a, k.lo, k.hi), prefer)
    if balanced is None:
        return primal, math.inf
    return primal, max(primal - dual_value(k, balanced), 0.0)


# --------------------------------------------------------------------------- smoothed Newton


@dataclass(frozen=True)
class _Point:
    """The smoothed objective at θ: value, gradient, maximisers and the zone."""

    theta: Array
    mu: float
    u: Array  # residuals t − z·score
    value: float  # P_μ(θ)
    grad: Array
    a: Array  # a*(u) = clip(soft(u)/μ, lo, hi)
    zone: NDArray[np.bool_]  # rows strictly inside their box: curvature 1/μ


def _maximiser(k: Kinked, u: Array, mu: float) -> tuple[Array, NDArray[np.bool_]]:
    v = k.soft(u) / mu
    a = np.clip(v, k.lo, k.hi)
    zone = (v > k.lo) & (v < k.hi)
    if k.eps:
        zone &= np.abs(u) > k.eps  # the flat middle |u| ≤ ε has a = 0 and no curvature
    return a, zone


def _evaluate(k: Kinked, theta: Array, mu: float) -> _Point:
    u = k.residuals(theta)
    a, zone = _maximiser(k, u, mu)
    # ℓ_μ = a·u − ε|a| − (μ/2)a²
    lmu = a * u - k.eps * np.abs(a) - 0.5 * mu * a * a
    d = k.d
    w = theta[:d]
    value = float(k.s @ lmu) / k.big_s + k.penalty(w)
    r = k.s * k.z * a  # ∂/∂score of s·ℓ_μ is −s·z·a
    grad = np.zeros(d + 1)
    grad[:d] = -(r @ k.x) / k.big_s + k.lam * k.c2 * w
    if k.intercept:
        grad[d] = -float(r.sum()) / k.big_s
    return _Point(theta, mu, u, value, grad, a, zone)


def _hessian(k: Kinked, p: _Point, mu: float) -> Array:
    """(1/(Sμ)) Σ_zone(μ) sᵢ[xᵢ,1]ᵀ[xᵢ,1] + diag(λc², 0); identity on b without an intercept.

    ``mu`` may be wider than the stage's: the curvature of a coarser smoothing,
    used when the stage's own zone is too thin to give a useful step.
    """
    d = k.d
    zone = p.zone if mu == p.mu else _maximiser(k, p.u, mu)[1]
    idx = np.flatnonzero(zone)
    xz = k.x[idx]
    sz = k.s[idx] / (k.big_s * mu)
    h = np.zeros((d + 1, d + 1))
    h[:d, :d] = (xz * sz[:, None]).T @ xz
    h[:d, d] = sz @ xz
    h[d, :d] = h[:d, d]
    h[d, d] = float(sz.sum())
    h[np.arange(d), np.arange(d)] += k.lam * k.c2
    if not k.intercept:
        h[d, :] = 0.0
        h[:, d] = 0.0
        h[d, d] = 1.0
    return h


def _line_search(k: Kinked, theta: Array, step: Array, mu: float) -> float:
    """argmin_t≥0 P_μ(θ + t·step): the root of its nondecreasing derivative.

    φ′(t) = −(1/S) Σ sᵢzᵢδᵢ·a*(uᵢ − t zᵢδᵢ) + λ Σ c²(w + t·Δw)Δw with δ = XΔw + Δb;
    φ″ = (1/(Sμ)) Σ_zone(t) sᵢδᵢ² + λΣc²Δw².  Newton on φ′ inside a bracket
    (bisection when a Newton step leaves it) — exact once the zone settles,
    since φ is quadratic between the breakpoints.
    """
    d = k.d
    dw = step[:d]
    delta = k.x @ dw
    if k.intercept:
        delta += step[d]
    zd = k.z * delta
    u0 = k.residuals(theta)
    w = theta[:d]
    pen_lin = k.lam * float(k.c2 @ (w * dw))
    pen_quad = k.lam * float(k.c2 @ (dw * dw))
    sd = k.s * zd / k.big_s
    l1c = k.lam1 * k.c * dw

    def derivs(t: float) -> tuple[float, float]:
        a, zone = _maximiser(k, u0 - t * zd, mu)
        first = -float(sd @ a) + pen_lin + t * pen_quad
        if k.lam1:  # the right derivative of λ1Σc|w + tΔw|
            wt = w + t * dw
            first += float(l1c @ np.where(wt != 0, np.sign(wt), np.sign(dw)))
        second = float((sd * zd)[zone].sum()) / mu + pen_quad
        return first, second

    f0, _ = derivs(0.0)
    if f0 >= 0:
        return 0.0
    lo_t, hi_t = 0.0, 1.0
    f_hi, h_hi = derivs(hi_t)
    if k.lam1 and f_hi <= 0:
        return 1.0  # a proximal Newton step: t ≤ 1, and t = 1 keeps its exact zeros
    while f_hi < 0:  # bracket the root
        lo_t, hi_t = hi_t, hi_t * 4.0
        if hi_t > 1e30:
            return lo_t
        f_hi, h_hi = derivs(hi_t)
    t, ft, ht = hi_t, f_hi, h_hi
    for _ in range(LINE_SEARCH_ITER):
        if ft == 0.0 or hi_t - lo_t <= 1e-15 * hi_t:
            break
        nt = t - ft / ht if ht > 0 else 0.5 * (lo_t + hi_t)
        if not (lo_t < nt < hi_t):
            nt = 0.5 * (lo_t + hi_t)
        t = nt
        ft, ht = derivs(t)
        if ft > 0:
            hi_t = t
        elif ft < 0:
            lo_t = t
        if abs(ft) <= 1e-14 * abs(f0):
            break
    return t


# --------------------------------------------------------------------------- crossover


def _crossover(k: Kinked, theta: Array, mu: float) -> list[tuple[Array, Array, NDArray[np.bool_]]]:
    """The exact KKT point(s) with the smoothed zone pinned to its kinks: [(θ, a, zone)].

    Rows outside the zone keep their side's a (hi, lo, or 0 inside the ε
    tube); zone rows E sit on their kink, uᵢ = κᵢ (0, or ±ε), with unknown
    γᵢ = sᵢzᵢaᵢ/S.  Stationarity gives w = (r_F + X_Eᵀγ)/(λc²) and, with
    x_E·w + b = z_E(t_E − κ_E) and Σγ = −ρ_F (ρ_F = Σ_F sza/S):

        [X_E·diag(1/λc²)·X_Eᵀ  1] [γ]   [z_E(t_E − κ_E) − X_E r_F/(λc²)]
        [1ᵀ                    0] [b] = [−ρ_F                         ]

    Identical zone rows are merged first (ties, duplicated rows), so the
    system has one row per distinct pinned row; past 10·(d+1) of them it is
    skipped (no candidates).  The linear solve's point is always a candidate;
    the KKT LP's is added when the pins are degenerate or the duals leave
    their boxes — the duality gap picks between them.
    """
    u = k.residuals(theta)
    _, zone = _maximiser(k, u, mu)
    zone &= k.s > 0  # a row of weight 0 has no say in the optimum: never pin it
    idx = np.flatnonzero(zone)
    cap = CROSSOVER_PER_PARAMETER * (k.d + 1)
    if len(idx) > 50 * cap:
        return []
    d = k.d
    kappa = np.sign(u[idx]) * k.eps if k.eps else np.zeros(len(idx))
    xe = k.x[idx]
    level = k.z[idx] * (k.t[idx] - kappa)  # x·w + b pinned to this
    # Identical rows (same x, z and pinned level) give identical equations:
    # one unknown per distinct row, γ_g = Σ_g sᵢzᵢaᵢ/S, shared a within g.
    side = np.sign(kappa)
    group = np.arange(len(idx))
    if len(idx) > cap:
        key = np.column_stack([xe, k.z[idx], level, side])
        uniq, group = np.unique(key, axis=0, return_inverse=True)
        group = group.reshape(-1)
        if len(uniq) > cap:
            return []
        xe, level, side = uniq[:, :d], uniq[:, d + 1], uniq[:, d + 2]
    m = len(xe)
    fixed = np.where(zone, 0.0, k.side(u))
    r = k.s * k.z * fixed / k.big_s
    r_f = r @ k.x
    rho_f = float(r.sum())
    dinv = 1.0 / (k.lam * k.c2)
    if k.lam1:
        # Elastic net: coefficients at 0 stay there (dinv = 0), the others
        # solve λ2c²wⱼ + λ1cⱼ·sign(wⱼ) = qⱼ: the sign term moves into r_F.
        w0 = theta[:d]
        dinv = np.where(w0 == 0.0, 0.0, dinv)
        r_f = r_f - k.lam1 * k.c * np.sign(w0)
    rhs_top = level - xe @ (r_f * dinv)
    if k.intercept:
        mat = np.zeros((m + 1, m + 1))
        mat[:m, :m] = (xe * dinv) @ xe.T
        mat[:m, m] = 1.0
        mat[m, :m] = 1.0
        rhs = np.concatenate([rhs_top, [-rho_f]])
    else:
        mat = (xe * dinv) @ xe.T
        rhs = rhs_top
    # More pinned rows than d+1 is degenerate (the system is singular): the
    # least-squares solution still gives θ when the pins are consistent.
    degenerate = m > d + 1
    try:
        if not m:
            sol = rhs
        elif degenerate:
            sol = np.linalg.lstsq(mat, rhs, rcond=None)[0]
        else:
            sol = np.linalg.solve(mat, rhs)
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(mat, rhs, rcond=None)[0]
        degenerate = True
    if not np.isfinite(sol).all():
        return []
    gamma = sol[:m]
    out = np.zeros(d + 1)
    out[:d] = (r_f + gamma @ xe) * dinv
    if k.intercept:
        out[d] = sol[m] if m else theta[d]  # no zone row: b stays (the gap judges it)
    a_new = fixed.copy()
    # γ_g = a_g·z_g·Σ_g sᵢ / S  (z is one sign within a group)
    weight = np.bincount(group, weights=k.s[idx], minlength=m)
    zg = np.zeros(m)
    zg[group] = k.z[idx]
    scale = np.where(weight > 0, weight, 1.0) * zg / k.big_s  # γ_g = scale_g·a_g
    a_group = gamma / scale
    # The pinned rows' dual values must lie in their boxes (on the kink's side
    # for ε: a ≥ 0 at u = +ε, ≤ 0 at u = −ε).  When they do not, or the pins
    # are degenerate, the same KKT conditions are solved as a small LP.
    candidates = [(out, a_group)]
    box = _pinned_box(k, side)
    off_box = (a_group < box[0] - 1e-12).any() or (a_group > box[1] + 1e-12).any()
    if m and not k.lam1 and (degenerate or off_box):
        fitted = _kkt_lp(xe, level, scale, box, r_f, rho_f, k)
        if fitted is not None:
            candidates.append(fitted)
    outside = ~zone
    points = []
    for th, a_g in candidates:
        a_new = fixed.copy()
        a_new[idx] = a_g[group]
        # Rows outside the zone may have crossed their kink at the new θ: take
        # the exact maximiser there (any a in the boxes gives a valid bound).
        a_new[outside] = k.side(k.residuals(th)[outside])
        points.append((th, a_new, zone))
    return points


def _pinned_box(k: Kinked, side: Array) -> tuple[Array, Array]:
    """The box of each pinned row's a: [lo, hi]; for ε > 0 its kink's half of it.

    At u = +ε the maximisers of a·u − ε|a| are a ∈ [0, hi], at u = −ε a ∈ [lo, 0].
    """
    lo, hi = np.full(len(side), k.lo), np.full(len(side), k.hi)
    if k.eps:
        lo = np.where(side > 0, 0.0, lo)
        hi = np.where(side < 0, 0.0, hi)
    return lo, hi


def _kkt_lp(
    xe: Array,
    level: Array,
    scale: Array,
    box: tuple[Array, Array],
    r_f: Array,
    rho_f: float,
    k: Kinked,
) -> tuple[Array, Array] | None:
    """(θ, a_g) from the pinned KKT conditions as a small LP, for degenerate pins.

    Unknowns θ (free) and a_g (in their boxes); rows, each with two slacks
    whose sum is minimised:  λc²w − Σ_g scale_g a_g x_g = r_F,
    Σ_g scale_g a_g = −ρ_F (with an intercept), x_g·w + b = level_g.
    HiGHS on (d+1+m) variables; None when it fails.  What it returns is
    judged by the duality gap like every other candidate.
    """
    from scipy.optimize import linprog

    m, d = xe.shape
    nb = 1 if k.intercept else 0
    n_theta = d + nb
    rows: list[Array] = []
    rhs: list[Array] = []
    stat = np.zeros((d, n_theta + m))
    stat[:, :d] = np.diag(k.lam * k.c2)
    stat[:, n_theta:] = -(xe * scale[:, None]).T
    rows.append(stat)
    rhs.append(r_f)
    if k.intercept:
        bal = np.zeros((1, n_theta + m))
        bal[0, n_theta:] = scale
        rows.append(bal)
        rhs.append(np.array([-rho_f]))
    pin = np.zeros((m, n_theta + m))
    pin[:, :d] = xe
    if k.intercept:
        pin[:, d] = 1.0
    rows.append(pin)
    rhs.append(level)
    a_eq = np.vstack(rows)
    r = a_eq.shape[0]
    cost = np.concatenate([np.zeros(n_theta + m), np.ones(2 * r)])
    a_full = np.hstack([a_eq, np.eye(r), -np.eye(r)])
    bounds: list[tuple[float | None, float | None]] = [(None, None)] * n_theta
    bounds += [(float(lo), float(hi)) for lo, hi in zip(box[0], box[1], strict=True)]
    bounds += [(0.0, None)] * (2 * r)
    res = linprog(cost, A_eq=a_full, b_eq=np.concatenate(rhs), bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        return None
    theta = np.zeros(d + 1)
    theta[:n_theta] = res.x[:n_theta]
    a_group: Array = np.clip(np.asarray(res.x[n_theta : n_theta + m]), box[0], box[1])
    return theta, a_group


# --------------------------------------------------------------------------- the solver


def qp(
    obj: Objective,
    data: DataSource,
    theta: Array,
    *,
    tol: float,
    max_iter: int,
    on_iteration: OnIteration | None = None,
) -> SolveResult:
    """The exact optimum of mae/quantile/epsilon_insensitive/hinge + L2 (+ L1), with its gap."""
    if obj.outputs != 1 or obj.loss.name not in QP_LOSSES:
        raise InputError(
            f"qp fits the kinked losses ({', '.join(QP_LOSSES)}) under --l2, not {obj.loss.name}",
            "use --optimizer auto",
        )
    if not obj.l2:
        raise InputError(
            f"qp needs --l2 > 0 ({obj.loss.name} without L2 is a linear program)",
            "use --optimizer lp (or auto)",
        )
    if not isinstance(data, InMemory):
        raise InputError(
            "the QP solver needs the data in memory", "raise --memory-limit, or use --optimizer gd"
        )
    k = Kinked.of(obj, data)
    d = k.d
    theta = np.asarray(theta, dtype=np.float64).copy()
    if not k.intercept:
        theta[d] = 0.0
    u = k.residuals(theta)
    spread = float(np.sqrt(k.s @ (k.soft(u) ** 2) / k.big_s))
    mu = spread if math.isfinite(spread) and spread > 0 else 1.0
    mu0 = mu
    l1_weights = np.zeros(d + 1)
    l1_weights[:d] = k.lam1 * k.c

    best_theta, best_f, best_gap = theta, k.primal(theta), math.inf
    iterations = 0
    exhausted = False

    def target(f: float) -> float:
        return max(tol * max(1.0, abs(f)), ROUNDING * abs(f))

    def consider(th: Array, a: Array, prefer: NDArray[np.bool_] | None) -> None:
        nonlocal best_theta, best_f, best_gap
        f, gap = gap_at(k, th, a, prefer)
        if gap < best_gap or (gap == best_gap and f < best_f):
            best_theta, best_f, best_gap = th, f, gap

    while iterations < max_iter:
        p = _evaluate(k, theta, mu)
        # Newton on P_μ with the curvature of a smoothing μ_h ≥ μ: μ_h = μ is
        # the true Newton step (exact on a quadratic piece); right after μ
        # shrinks, the rows near their kinks can all sit just outside the thin
        # new zone, and the true Hessian sees none of them — then μ_h widens
        # (×10) until a step makes progress, and narrows back (÷10) after each.
        # Every step decreases P_μ (exact line search on a positive definite
        # model), which is what the global convergence rests on.
        mu_h = mu
        for _ in range(STAGE_NEWTON):
            if iterations >= max_iter:
                exhausted = True
                break
            hess = _hessian(k, p, mu_h)
            if k.intercept and hess[d, d] <= 0 and p.grad[d] != 0 and mu_h < mu0:
                # No row in the zone: P_μ is linear in b here, and a model
                # without curvature in b cannot step along it — widen first.
                mu_h = min(mu_h * 10.0, mu0)
                continue
            if k.lam1:
                # Proximal Newton (elastic net): minimise the quadratic model
                # plus λ1Σc|w| by coordinate descent; the decrease it predicts
                # (Lee, Sun & Saunders) plays the decrement's part.
                z = _cd_subproblem(hess, p.grad, theta, l1_weights)
                step = z - theta
                decrement = -(
                    float(p.grad @ step)
                    + float(l1_weights @ (np.abs(z) - np.abs(theta)))
                    + 0.5 * float(step @ hess @ step)
                )
            else:
                step = -_solve_psd(hess, p.grad)
                # The Newton decrement −½gᵀstep is P_μ − min of the local quadratic:
                # on a quadratic piece, the exact distance to the stage's optimum.
                decrement = -0.5 * float(step @ p.grad)
            if mu_h == mu and decrement <= 1e-3 * target(p.value):
                break
            t = _line_search(k, theta, step, mu) if decrement > 0 else 0.0
            new = theta + t * step
            if k.lam1 and t == 1.0:
                new[:d][z[:d] == 0.0] = 0.0  # exact zeros survive the addition
            q = _evaluate(k, new, mu) if t > 0 else p
            iterations += 1
            gain = p.value - q.value
            if not gain > 0:
                if mu_h >= mu0:
                    break  # no decrease left in floating point
                mu_h = min(mu_h * 10.0, mu0)
                continue
            if on_iteration is not None:
                on_iteration(iterations, new, k.primal(new))
            theta, p = new, q
            mu_h = max(mu_h / 10.0, mu)
        consider(theta, p.a, p.zone)
        for point in _crossover(k, theta, mu):
            consider(*point)
        if best_gap <= target(best_f) or exhausted:
            break
        # The gap at θ_μ is at most (μ/2)·max a² (and usually much less): shrink μ
        # by what is left to close, within [SHRINK_MIN, SHRINK_MAX].
        f_here, gap_here = gap_at(k, theta, p.a, p.zone)
        want = target(f_here)
        factor = gap_here / want * 2.0 if math.isfinite(gap_here) and want > 0 else SHRINK_MAX
        new_mu = mu / min(max(factor, SHRINK_MIN), SHRINK_MAX)
        if new_mu < MU_FLOOR * mu0:
            break  # below this the smoothing is rounding next to the residuals
        mu = new_mu
    # Report the objective the trainer computes (the loss classes' own formulas).
    f_final = obj.data_value(best_theta, data)
    cert = Certificate("duality_gap", best_gap + max(f_final - best_f, 0.0), True)
    ok = cert.certifies(f_final, tol)
    return SolveResult(best_theta, ok, iterations, f_final, cert, exhausted=exhausted and not ok)
