"""Full-batch solvers to the exact optimum, and the certificate of every fit.

Four methods, all reading the data through a :class:`~losscli.fit.data.DataSource`
(one block in memory, many out of core or on a cluster):

* ``newton`` — Newton's method on the smooth objective with the loss's
  Hessian w.r.t. the scores (:mod:`losscli.fit.curvature`): a dense
  (d+1)×(d+1) Cholesky solve when d is small, conjugate gradients on
  Hessian-vector products (Newton-CG) otherwise, and a backtracking Armijo
  line search.  Quadratic convergence near the optimum: a handful of
  passes over the data where gradient descent makes hundreds.
* ``prox_newton`` — proximal Newton for L1 penalties: each step minimises
  the quadratic model plus λ1‖c⊙w‖₁ by coordinate descent (cheap: d×d), then
  a line search on the full objective.  Coefficients the optimum sets to 0
  come out exactly 0.0.
* ``lbfgs`` — L-BFGS with a strong-Wolfe line search
  (:mod:`losscli.fit.quasi_newton`: NumPy, no scipy import), for smooth
  losses without a known Hessian, for large d and for softmax.
* ``lp`` — the kinked losses (mae, quantile, epsilon_insensitive, hinge) with
  an optional L1 penalty are linear programs.  We solve the *dual* LP with
  HiGHS: n box-bounded variables and only d+1 rows (scikit-learn's
  QuantileRegressor solves the primal, with n rows), and read θ off the
  row duals.  The dual point also gives the certificate.

**The certificate.**  Every fit reports an upper bound on f(θ) − f* where one
can be computed, else a gradient norm, each named (:class:`Certificate`):

* ``duality_gap`` — LPs (from the dual point) and the lasso (mse + L1, a dual
  point built from the residuals, shifted so Σu = 0 and scaled into the
  dual feasible set);
* ``quadratic_gap`` — mse without L1: f is quadratic, so f − f* = ½gᵀH⁻¹g exactly;
* ``strong_convexity`` — a λ2-penalised smooth loss: Σ g_j²/(2λ2c_j²) over the
  coefficients, plus ½g_bᵀH_bb⁺g_b for the (unpenalised) intercepts with
  their curvature at θ — a second-order estimate for that block only, which
  is at rounding level once the intercepts' gradient is;
* ``gradient_norm`` — smooth without L2 (the minimum-norm subgradient with
  L1): not a bound, but it vanishes at the optimum;
* ``subgradient_norm`` — a kinked loss fitted by a first-order method: it
  need not vanish at the optimum, so it never certifies.

A fit is ``converged`` only when its certificate is below ``tol ×
max(1, |f|)`` or below 256 ulps of |f|, where a computed gap is rounding (a
gradient norm: its square; a subgradient norm never certifies); a method
that stops without that says ``not_optimal``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli.errors import BadValues, InputError
from losscli.fit.curvature import has_curvature
from losscli.fit.data import DataSource, InMemory
from losscli.fit.objective import Objective, weighted_gram
from losscli.fit.quasi_newton import minimize

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]

DENSE_MAX = 500  # Newton builds the dense Hessian up to this many parameters
PROX_NEWTON_MAX = 200  # … and proximal Newton's coordinate descent up to this many
ARMIJO = 1e-4
LP_LOSSES = ("mae", "quantile", "epsilon_insensitive", "hinge")
CD_SWEEPS = 2000  # coordinate-descent sweeps per proximal-Newton subproblem, at most
LINE_SEARCH_STEPS = 50
ROUNDING = 256 * 2.0**-52  # a gap computed as P − D of size |f| is noise below ~this·|f|
POLISHED = 1e-24  # a certificate this small (relative) needs no polishing step

#: (iteration, θ, objective) after every iteration: the trainer's history.
OnIteration = Callable[[int, "Array", float], None]


@dataclass(frozen=True)
class Certificate:
    """How far from the optimum a fit is: a named number.

    ``bound`` says whether ``value`` is an upper bound on objective − optimum
    (``duality_gap``, ``quadratic_gap``, ``strong_convexity``) or a gradient
    norm (``gradient_norm``, ``subgradient_norm``).
    """

    kind: str
    value: float
    bound: bool

    def certifies(self, objective: float, tol: float) -> bool:
        """True when the fit may be called converged at this ``tol``.

        A bound must be ≤ tol·max(1, |f|); a gradient norm is compared
        squared, as the gap scales (f − f* ≈ ‖g‖²/(2μ) near a minimum of
        curvature μ), so one ``--tol`` means the same for both.
        """
        if self.kind == "subgradient_norm" or not math.isfinite(self.value):
            return False
        measure = self.value if self.bound else self.value * self.value
        return measure <= max(tol * max(1.0, abs(objective)), ROUNDING * abs(objective))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "bound": self.bound}


@dataclass(frozen=True)
class SolveResult:
    """Where a solver ended: θ, whether it certified, how many iterations and passes."""

    theta: Array
    converged: bool
    iterations: int
    objective: float
    certificate: Certificate
    exhausted: bool = False  # stopped on the iteration limit


class SolverDiverged(Exception):
    """The objective became NaN/inf at every trial point (scores overflowed)."""


class SolverFailed(Exception):
    """A solver gave up (HiGHS found no status); the trainer falls back to gd."""


# --------------------------------------------------------------------------- choice


NEED_ROWS_IN_MEMORY = "need the rows in memory"  # why auto gave a kinked loss to gd


def choose(obj: Objective, n_rows: int, *, in_memory: bool = True) -> tuple[str, str]:
    """(method, why) for ``--optimizer auto``: by loss, penalty and shape.

    Kinked losses → the LP when there is no L2, the QP solver of
    :mod:`losscli.fit.kinked_qp` with L2 (and L1) — both need the rows in
    memory, so out of core and on Dask proximal gradient; L1 on a smooth loss →
    proximal Newton when the Hessian is known and the model small, else
    proximal gradient (``gd``); smooth → Newton when its Hessian is known and
    d·k is modest, else L-BFGS.
    """
    known = has_curvature(obj.loss, logits=obj.logits, outputs=obj.outputs)
    if not obj.loss.smooth:
        if obj.loss.name in LP_LOSSES and obj.outputs == 1 and not in_memory:
            return "gd", (
                f"{obj.loss.name}'s exact LP/QP solvers {NEED_ROWS_IN_MEMORY} (these are "
                "on disk or on a cluster): proximal gradient over the blocks, uncertified"
            )
        if obj.loss.name in LP_LOSSES and not obj.l2 and obj.outputs == 1:
            return "lp", f"{obj.loss.name} is piecewise linear: an exact LP (HiGHS)"
        # Hook (losscli.fit.kinked_qp): kinked + L2 (and elastic net) → the exact QP solver.
        if obj.loss.name in LP_LOSSES and obj.l2 and obj.outputs == 1:
            penalty = "L1 + L2 (elastic net)" if obj.l1 else "L2"
            return "qp", (
                f"{obj.loss.name} with {penalty} is a QP: smoothing continuation + "
                f"{'proximal ' if obj.l1 else ''}Newton, crossover, duality gap"
            )
        return "gd", f"{obj.loss.name} has kinks and L2: proximal gradient (no exact method)"
    if obj.l1:
        if known and obj.outputs == 1 and obj.size <= PROX_NEWTON_MAX:
            return "prox_newton", "L1 on a smooth loss with a known Hessian, small d"
        return "gd", "L1 penalty: proximal gradient with Barzilai–Borwein steps"
    if known and obj.outputs == 1 and obj.size <= DENSE_MAX:
        return "newton", f"smooth GLM loss, {obj.size} parameters: Newton (Cholesky)"
    if known and obj.outputs > 1 and obj.size <= DENSE_MAX and n_rows * obj.outputs < 50_000_000:
        return "lbfgs", f"softmax, {obj.size} parameters: L-BFGS (Newton-CG costs K passes/step)"
    return "lbfgs", f"{obj.size} parameters or no known Hessian: L-BFGS"


# --------------------------------------------------------------------------- helpers


def _smooth_value(obj: Objective, theta: Array, data: DataSource) -> float:
    """Mean loss + L2 at θ; inf where the scores overflow (a line search backs off)."""
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = obj.data_mean_loss(theta, data) + obj.l2_penalty(theta)
    except BadValues as exc:
        if exc.role == "y_pred":
            return math.inf
        raise
    return value if math.isfinite(value) else math.inf


def _value_grad(obj: Objective, theta: Array, data: DataSource) -> tuple[float, Array]:
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            f, g = obj.data_smooth_value_and_grad(theta, data)
    except BadValues as exc:
        if exc.role == "y_pred":
            raise SolverDiverged from None
        raise
    if not (math.isfinite(f) and np.isfinite(g).all()):
        raise SolverDiverged
    return f, g


def _coefficient_bound(g: Array, obj: Objective) -> float:
    """Σ_coef g_j²/(2λ2c_j²): the coefficients' share of the strong-convexity bound (no pass)."""
    cut = obj.n_features * obj.outputs
    c = obj._c()
    c2 = c * c if isinstance(c, np.ndarray) else np.full(cut, c * c)
    gw = g[:cut]
    return float(np.sum(gw * gw / (2.0 * obj.l2 * c2)))


def _strong_convexity_bound(g: Array, obj: Objective, hbb: Array | None) -> float:
    """Σ_coef g²/(2λ2c²) + ½ g_bᵀH_bb⁺g_b (the intercept part only when it has one)."""
    cut = obj.n_features * obj.outputs
    bound = _coefficient_bound(g, obj)
    if obj.intercept and hbb is not None:
        gb = g[cut:]
        bound += 0.5 * float(gb @ np.linalg.pinv(hbb, rcond=1e-12, hermitian=True) @ gb)
    return bound


def _min_subgradient(obj: Objective, theta: Array, g: Array) -> Array:
    """The minimum-norm element of ∂F for F = smooth + λ1‖c⊙w‖₁ (g: the smooth gradient)."""
    if not obj.l1:
        return g
    cut = obj.n_features * obj.outputs
    lam = obj.l1 * obj._c() * np.ones(cut)
    w, gw = theta[:cut], g[:cut]
    out = g.copy()
    out[:cut] = np.where(
        w != 0.0, gw + lam * np.sign(w), np.sign(gw) * np.maximum(np.abs(gw) - lam, 0.0)
    )
    return out


def lasso_gap(obj: Objective, theta: Array, data: DataSource) -> float:
    """Duality gap of mse + λ1‖c⊙w‖₁ at θ (L2 must be 0).

    With φᵢ(s) = (sᵢ/S)(s − yᵢ)² (S = Σs over rows, s the sample weights),
    the dual is D(u) = −Σ[uᵢyᵢ + uᵢ²S/(4sᵢ)] over Σu = 0, |Xᵀu|ⱼ ≤ λ1cⱼ.
    The point u = φ'(score) is shifted to Σu = 0 and scaled into the box;
    the gap P(θ) − D(u) ≥ f(θ) − f* by weak duality, and → 0 with θ.
    """
    assert obj.loss.name == "mse" and obj.outputs == 1 and not obj.l2
    d = obj.n_features

    def totals(x: Array, y: Array, w: Array | None) -> tuple[float, float, float]:
        r = obj.scores(theta, x) - y
        ww = np.ones(len(y)) if w is None else w
        return float(ww @ (r * r)), float(ww.sum()), float(2.0 * (ww @ r))

    num, big_s, sum_u_times_s = data.reduce(totals)
    shift = sum_u_times_s / big_s / data.n_rows if obj.intercept else 0.0

    def dual_parts(x: Array, y: Array, w: Array | None) -> tuple[float, float, Array]:
        ww = np.ones(len(y)) if w is None else w
        u = 2.0 * ww * (obj.scores(theta, x) - y) / big_s - shift
        safe = np.where(ww > 0, ww, np.inf)
        return float(u @ y), float((u * u / safe).sum()) * big_s / 4.0, u @ x

    uy, uu, xtu = data.reduce(dual_parts)
    lam = obj.l1 * obj._c() * np.ones(d)
    over = np.abs(xtu) / lam
    kappa = min(1.0, 1.0 / float(over.max())) if float(over.max()) > 0 else 1.0
    dual = -(kappa * uy + kappa * kappa * uu)
    primal = num / big_s + obj.l1_penalty(theta)
    return max(primal - dual, 0.0)


def certify(
    obj: Objective,
    theta: Array,
    data: DataSource,
    *,
    grad: Array | None = None,
    hess: Array | None = None,
) -> Certificate:
    """The certificate at θ (see the module docstring for which one applies).

    ``hess``, the dense Hessian at θ when the caller has it (Newton), saves
    the pass that would rebuild it or its intercept block.
    """
    if not obj.loss.smooth:
        _, g = _value_grad(obj, theta, data)
        return Certificate("subgradient_norm", float(np.linalg.norm(g)), False)
    g = _value_grad(obj, theta, data)[1] if grad is None else grad
    known = has_curvature(obj.loss, logits=obj.logits, outputs=obj.outputs)
    if obj.l1:
        if obj.loss.name == "mse" and obj.outputs == 1 and not obj.l2:
            return Certificate("duality_gap", lasso_gap(obj, theta, data), True)
        return Certificate(
            "gradient_norm", float(np.linalg.norm(_min_subgradient(obj, theta, g))), False
        )
    if obj.loss.name == "mse" and obj.outputs == 1 and obj.size <= 4 * DENSE_MAX:
        if hess is None:
            hess = obj.data_hessian(theta, data)
        step = _solve_psd(hess, g)
        return Certificate("quadratic_gap", max(0.5 * float(g @ step), 0.0), True)
    if obj.l2 and (known or not obj.intercept):
        hbb: Array | None = None
        if obj.intercept:
            cut = obj.n_features * obj.outputs
            hbb = hess[cut:, cut:] if hess is not None else obj.data_intercept_hessian(theta, data)
        return Certificate("strong_convexity", _strong_convexity_bound(g, obj, hbb), True)
    return Certificate("gradient_norm", float(np.linalg.norm(g)), False)


def _solve_psd(hess: Array, g: Array) -> Array:
    """H⁻¹g for a positive (semi)definite H, with a tiny ridge when H is singular.

    NumPy only (Cholesky to test definiteness, then an LU solve of the
    (d+1)² system, which costs nothing next to building H): importing
    scipy.linalg would add a third of a second to every ``train``.
    """
    ridge = 0.0
    scale = float(np.abs(np.diag(hess)).max()) or 1.0
    eye = np.eye(len(g))
    for _ in range(8):
        shifted = hess + ridge * eye if ridge else hess
        try:
            np.linalg.cholesky(shifted)
            out: Array = np.linalg.solve(shifted, g)
            return out
        except np.linalg.LinAlgError:
            ridge = max(ridge * 100.0, 1e-12 * scale)
    return np.linalg.lstsq(hess, g, rcond=None)[0]


def _line_search(
    obj: Objective,
    data: DataSource,
    theta: Array,
    f: float,
    step: Array,
    slope: float,
    t: float = 1.0,
) -> tuple[Array, float] | None:
    """Backtracking Armijo from ``t``: (θ + t·step, f there), or None when nothing decreases."""
    for _ in range(LINE_SEARCH_STEPS):
        trial = theta + t * step
        f_trial = _smooth_value(obj, trial, data)
        if f_trial <= f + ARMIJO * t * slope:
            return trial, f_trial
        t *= 0.5
    return None


def _full_step(
    obj: Objective, data: DataSource, theta: Array, f: float, step: Array, slope: float
) -> tuple[Array, float, Array, Array | None] | None:
    """θ + step with its f, ∇f and Hessian from one pass, if Armijo accepts t = 1; else None."""
    trial = theta + step
    try:
        f_t, g_t, h_t = _evaluate(obj, trial, data, True)
    except SolverDiverged:  # the scores overflow there: the line search backs off
        return None
    return (trial, f_t, g_t, h_t) if f_t <= f + ARMIJO * slope else None


def _cg(hvp: Callable[[Array], Array], g: Array, tol: float, max_iter: int) -> Array:
    """Solve H p = −g by conjugate gradients to ‖r‖ ≤ tol·‖g‖ (truncated Newton)."""
    p = np.zeros_like(g)
    r = -g.copy()
    direction = r.copy()
    rr = float(r @ r)
    stop = (tol * float(np.linalg.norm(g))) ** 2
    for _ in range(max_iter):
        if rr <= stop:
            break
        hd = hvp(direction)
        curv = float(direction @ hd)
        if curv <= 0:  # not positive definite along d: take what we have
            break
        alpha = rr / curv
        p += alpha * direction
        r -= alpha * hd
        rr_new = float(r @ r)
        direction = r + (rr_new / rr) * direction
        rr = rr_new
    return p if p.any() else -g


# --------------------------------------------------------------------------- newton


def _evaluate(
    obj: Objective, theta: Array, data: DataSource, dense: bool
) -> tuple[float, Array, Array | None]:
    """f, ∇f and (when ``dense``) the Hessian at θ: one fused pass for dense Newton.

    Forming the scores once for all three (and taking the certificate's
    Hessian blocks from the same matrix) makes a Newton iteration two passes
    over the rows — this one and the line search's — instead of four.
    """
    if not dense:
        f, g = _value_grad(obj, theta, data)
        return f, g, None
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            f, g, hess = obj.data_value_grad_hessian(theta, data)
    except BadValues as exc:
        if exc.role == "y_pred":
            raise SolverDiverged from None
        raise
    if not (math.isfinite(f) and np.isfinite(g).all()):
        raise SolverDiverged
    return f, g, hess


def newton(
    obj: Objective,
    data: DataSource,
    theta: Array,
    *,
    tol: float,
    max_iter: int,
    on_iteration: OnIteration | None = None,
) -> SolveResult:
    """Damped Newton: Cholesky on the dense Hessian for small models, else Newton-CG."""
    if obj.l1:
        raise InputError(
            "newton takes no --l1 (the L1 term has no Hessian)",
            "use --optimizer prox_newton (or auto)",
        )
    if not has_curvature(obj.loss, logits=obj.logits, outputs=obj.outputs):
        raise InputError(
            f"newton needs the second derivative of {obj.loss.name}, which losscli does not have",
            "use --optimizer lbfgs (or auto)",
        )
    dense = obj.outputs == 1 and obj.size <= DENSE_MAX
    theta = theta.copy()
    f, g, hess = _evaluate(obj, theta, data, dense)
    full = dense  # try the fused full step (see below)
    cert = certify(obj, theta, data, grad=g, hess=hess)
    best: tuple[Array, float, Certificate, int] | None = None  # the first certified point
    steps = 0
    for _ in range(max_iter):
        if cert.certifies(f, tol):
            # One polishing step past the tolerance: quadratic convergence
            # squares the gap for the price of one Hessian, so the answer is
            # at machine precision rather than just inside --tol.
            if best is not None or cert.value <= POLISHED * max(1.0, abs(f)):
                break
            best = (theta, f, cert, steps)
        if hess is not None:
            step = -_solve_psd(hess, g)
        else:
            forcing = min(0.5, math.sqrt(float(np.linalg.norm(g))))
            here = theta

            def hvp(v: Array, here: Array = here) -> Array:
                return obj.data_hvp(here, v, data)

            step = _cg(hvp, g, forcing, 10 * obj.size)
        slope = float(g @ step)
        if slope >= 0:  # not a descent direction (numerically flat): fall back to −g
            step, slope = -g, -float(g @ g)
        # Newton's full step is accepted on most iterations: while it is, the
        # trial point's pass also gives the next gradient and Hessian (one pass
        # per iteration instead of two); after a refused one, backtrack plainly.
        whole = _full_step(obj, data, theta, f, step, slope) if full else None
        if whole is not None:
            theta, f, g, hess = whole
        else:
            moved = _line_search(obj, data, theta, f, step, slope, 0.5 if full else 1.0)
            if moved is None:
                break  # no decrease possible in floating point
            theta, _ = moved
            f, g, hess = _evaluate(obj, theta, data, dense)
        full = hess is not None and (whole is not None or not full)
        steps += 1
        if on_iteration is not None:
            on_iteration(steps, theta, f)
        cert = certify(obj, theta, data, grad=g, hess=hess)
    if best is not None and not (cert.certifies(f, tol) and cert.value <= best[2].value):
        theta, f, cert, _ = best
    ok = cert.certifies(f, tol)
    return SolveResult(theta, ok, steps, f, cert, exhausted=not ok and steps == max_iter)


# --------------------------------------------------------------------------- proximal newton


def _cd_subproblem(hess: Array, g: Array, theta: Array, lam: Array) -> Array:
    """argmin_z gᵀ(z−θ) + ½(z−θ)ᵀH(z−θ) + Σλⱼ|zⱼ| by cyclic coordinate descent."""
    z = theta.copy()
    delta = np.zeros_like(theta)  # z − θ
    hdelta = np.zeros_like(theta)  # H(z − θ)
    diag = np.diag(hess).copy()
    for _ in range(CD_SWEEPS):
        biggest = 0.0
        for j in range(len(z)):
            if diag[j] <= 0:
                continue
            q = g[j] + hdelta[j]
            raw = z[j] - q / diag[j]
            thr = lam[j] / diag[j]
            new = raw - min(max(raw, -thr), thr) if thr else raw
            change = new - z[j]
            if change:
                z[j] = new
                delta[j] += change
                hdelta += change * hess[:, j]
                biggest = max(biggest, abs(change) * math.sqrt(diag[j]))
        if biggest <= 1e-15 * (1.0 + float(np.abs(z).max())):
            break
    return z


def prox_newton(
    obj: Objective,
    data: DataSource,
    theta: Array,
    *,
    tol: float,
    max_iter: int,
    on_iteration: OnIteration | None = None,
) -> SolveResult:
    """Proximal Newton for smooth + λ1‖c⊙w‖₁ (one output, a known Hessian)."""
    if obj.outputs != 1 or not has_curvature(obj.loss, logits=obj.logits, outputs=1):
        raise InputError(
            f"prox_newton needs one output and the second derivative of {obj.loss.name}",
            "use --optimizer gd (proximal gradient) or auto",
        )
    cut = obj.n_features
    lam = np.zeros(obj.size)
    lam[:cut] = obj.l1 * obj._c() * np.ones(cut)
    theta = theta.copy()
    f, g = _value_grad(obj, theta, data)
    total = f + obj.l1_penalty(theta)
    cert = certify(obj, theta, data, grad=g)
    for it in range(1, max_iter + 1):
        if cert.certifies(total, tol):
            return SolveResult(theta, True, it - 1, total, cert)
        z = _cd_subproblem(obj.data_hessian(theta, data), g, theta, lam)
        step = z - theta
        # Directional decrease of F: gᵀΔ + λ(‖z‖₁ − ‖θ‖₁) ≤ 0 (Lee, Sun & Saunders).
        decrease = float(g @ step) + float(lam @ (np.abs(z) - np.abs(theta)))
        if decrease >= 0 or not step.any():
            break
        t, accepted = 1.0, None
        for _ in range(LINE_SEARCH_STEPS):
            trial = theta + t * step
            f_trial = _smooth_value(obj, trial, data)
            total_trial = f_trial + obj.l1_penalty(trial)
            if total_trial <= total + ARMIJO * t * decrease:
                accepted = trial
                break
            t *= 0.5
        if accepted is None or total_trial >= total:
            break  # no decrease left in floating point
        theta = accepted
        if t == 1.0:
            theta[:cut][z[:cut] == 0.0] = 0.0  # exact zeros survive the addition
        f, g = _value_grad(obj, theta, data)
        total = f + obj.l1_penalty(theta)
        if on_iteration is not None:
            on_iteration(it, theta, total)
        cert = certify(obj, theta, data, grad=g)
    else:
        return SolveResult(theta, cert.certifies(total, tol), max_iter, total, cert, True)
    return SolveResult(theta, cert.certifies(total, tol), it, total, cert)


# --------------------------------------------------------------------------- L-BFGS


# (s, y) pairs L-BFGS keeps: scipy's maxcor before, and measured: iris ce 23 iterations
# with 20, 32 with 10; the 200k × 50 benchmark 23 with either.
LBFGS_MEMORY = 20
PRECONDITION = True  # the softmax Gram preconditioner (a switch for tests and benchmarks)


def _hopeful(obj: Objective, g: Array, f: float, tol: float) -> bool:
    """Whether the certificate can pass at this gradient, judged from g alone.

    The certificate may cost passes over the data (the intercepts' curvature),
    so L-BFGS tries it only once the part computable from g passes: the
    coefficients' share of the strong-convexity bound where that is the
    certificate, else ‖g‖² (a gradient-norm certificate is compared squared).
    """
    limit = max(tol * max(1.0, abs(f)), ROUNDING * abs(f))
    known = has_curvature(obj.loss, logits=obj.logits, outputs=obj.outputs)
    if obj.l2 and (known or not obj.intercept):
        return _coefficient_bound(g, obj) <= limit
    return float(g @ g) <= limit


def _gram_preconditioner(obj: Objective, data: DataSource) -> Callable[[Array], Array] | None:
    """v ↦ (G⁻¹ ⊗ I_K)·v, G the feature Gram matrix [XᵀX, Xᵀ1; 1ᵀX, n]/n + λ2·diag(c²).

    The softmax loss's Hessian is Σᵢ (diag pᵢ − pᵢpᵢᵀ) ⊗ xᵢxᵢᵀ / n, close to
    A ⊗ G for an average class covariance A: G carries the features'
    correlations, A only the classes' spread, which L-BFGS's scaling γ and
    its memory learn quickly.  So (G⁻¹ ⊗ I) as the initial inverse Hessian
    takes the features' conditioning out of the problem (the 200k × 50
    benchmark: 27 → 23 iterations; a correlated 50k × 20 with 5 classes:
    34 → 19; iris: 28 → 23).  G costs one pass, a (d+1)² symmetric
    product per row chunk, worth it only while (d+1)² is small next to the
    4·d·K flops per row of an evaluation: None otherwise (and for one output).
    θ's layout (d×K coefficients row-major, then the K intercepts) is the
    (d+1)×K matrix V, so M·v is G⁻¹V.
    """
    d, k = obj.n_features, obj.outputs
    if k == 1 or d + 1 > 8 * k:
        return None

    def block(x: Array, y: Array, w: Array | None) -> tuple[float, Array]:
        h = np.ones(len(y)) if w is None else w
        return float(h.sum()), weighted_gram(x, h)

    den, gram = data.reduce(block)
    gram = gram / den
    if not obj.intercept:
        gram[d, :] = 0.0
        gram[:, d] = 0.0
        gram[d, d] = 1.0
    if obj.l2:
        c = np.ones(d) if obj.penalty_scale is None else obj.penalty_scale
        gram[np.arange(d), np.arange(d)] += obj.l2 * (c * c)
    # An inverse through the eigen-decomposition, eigenvalues floored: zero columns
    # (constant features, standardized) make G singular, and their gradient is 0 anyway.
    vals, vecs = np.linalg.eigh(gram)
    floor = 1e-10 * max(float(vals.max()), 1e-300)
    inverse = (vecs / np.maximum(vals, floor)) @ vecs.T

    def apply(v: Array) -> Array:
        out: Array = (inverse @ v.reshape(d + 1, k)).reshape(-1)
        return out

    return apply


def lbfgs(
    obj: Objective,
    data: DataSource,
    theta: Array,
    *,
    tol: float,
    max_iter: int,
    on_iteration: OnIteration | None = None,
) -> SolveResult:
    """L-BFGS (:mod:`losscli.fit.quasi_newton`) on the smooth objective; stops once certified."""
    if obj.l1:
        raise InputError(
            "lbfgs takes no --l1 (L-BFGS needs a smooth objective)",
            "use --optimizer prox_newton, gd or auto",
        )
    certified: list[Certificate] = []

    def fun(th: Array) -> tuple[float, Array]:
        try:
            return _value_grad(obj, th, data)
        except SolverDiverged:
            return math.inf, th  # the line search backs off; the vector is never read

    def should_stop(iteration: int, th: Array, f: float, g: Array) -> bool:
        if on_iteration is not None:
            on_iteration(iteration, th, f)
        if _hopeful(obj, g, f, tol):
            cert = certify(obj, th, data, grad=g)
            if cert.certifies(f, tol):
                certified.append(cert)
                return True
        return False

    start = _value_grad(obj, theta, data)  # a start that overflows diverges (the loop says so)
    out = minimize(
        fun,
        theta,
        max_iter=max_iter,
        should_stop=should_stop,
        memory=LBFGS_MEMORY,
        precondition=_gram_preconditioner(obj, data) if PRECONDITION else None,
        start=start,
    )
    if certified:
        return SolveResult(out.x, True, out.iterations, out.f, certified[0])
    cert = certify(obj, out.x, data, grad=out.g)
    exhausted = out.reason == "max_iter"
    return SolveResult(out.x, cert.certifies(out.f, tol), out.iterations, out.f, cert, exhausted)


# --------------------------------------------------------------------------- LP


def _lp_terms(obj: Objective, y: Array) -> tuple[Array, Array, float, float, float]:
    """(t, z, lo, hi, ε): ℓᵢ(s) = max over a ∈ [lo, hi] of a·(tᵢ − zᵢs) − ε|a|."""
    name = obj.loss.name
    params = obj.loss.params()
    ones = np.ones(len(y))
    if name == "quantile":
        q = float(params["quantile"])
        return y, ones, q - 1.0, q, 0.0
    if name == "mae":
        return y, ones, -1.0, 1.0, 0.0
    if name == "epsilon_insensitive":
        return y, ones, -1.0, 1.0, float(params["epsilon"])
    if name == "hinge":
        yy = (y + 1.0) / 2.0 if np.any(y < 0) else y
        return ones, 2.0 * yy - 1.0, 0.0, 1.0, 0.0
    raise InputError(f"{name} is not piecewise linear", "use --optimizer auto")


def lp(
    obj: Objective,
    data: DataSource,
    theta: Array | None = None,
    *,
    tol: float,
    max_iter: int = 0,
    on_iteration: OnIteration | None = None,
) -> SolveResult:
    """The exact optimum of a piecewise-linear loss (+ L1) through its dual LP (HiGHS).

    Primal: min_θ (1/S)Σ sᵢℓᵢ(Aᵢθ) + Σⱼλⱼ|θⱼ| with A = [X, 1].  Writing each
    ℓᵢ as a max over a box gives the dual: max (1/S)Σ(aᵢtᵢ − ε|aᵢ|) subject
    to |(1/S)Σᵢ aᵢzᵢAᵢⱼ| ≤ λⱼ (= 0 for the intercept and unpenalised
    coefficients: equalities), aᵢ ∈ sᵢ·[lo, hi].  θ is minus the duals of
    those rows.  The certificate is P(θ) − D(a), clipped to the box.
    """
    from scipy.optimize import linprog

    if obj.l2:
        raise InputError(
            f"lp takes no --l2 ({obj.loss.name} with L2 is a quadratic program)",
            "drop --l2, or use --optimizer gd",
        )
    if obj.outputs != 1 or obj.loss.name not in LP_LOSSES:
        raise InputError(
            f"lp fits the piecewise-linear losses ({', '.join(LP_LOSSES)}), not {obj.loss.name}",
            "use --optimizer auto",
        )
    if not isinstance(data, InMemory):
        raise InputError(
            "the LP solver needs the data in memory", "raise --memory-limit, or use --optimizer gd"
        )
    x, y, w = data.x, data.y, data.w
    n, d = x.shape
    weights = np.ones(n) if w is None else w
    big_s = float(weights.sum())
    t, z, lo, hi, eps = _lp_terms(obj, y)
    # Quantile-type fits are equivariant (θ*(y/s) = θ*(y)/s, with or without L1),
    # so the LP sees targets of size 1: HiGHS's tolerances are absolute.
    unit = float(np.abs(t).max()) if obj.loss.name != "hinge" else 1.0
    unit = unit if math.isfinite(unit) and unit > 0 else 1.0
    t = t / unit
    eps = eps / unit
    a_mat = np.empty((n, d + 1))
    np.multiply(x, (z / big_s)[:, None], out=a_mat[:, :d])
    a_mat[:, d] = z / big_s if obj.intercept else 0.0
    m = a_mat.T  # rows: Σᵢ aᵢzᵢAᵢⱼ/S
    lam = np.zeros(d + 1)
    lam[:d] = obj.l1 * obj._c() * np.ones(d)
    split = eps > 0  # a = a⁺ − a⁻ makes ε|a| linear
    if split:
        cost = -np.concatenate([t - eps, -t - eps]) / big_s
        m = np.hstack([m, -m])
        bounds = np.column_stack([np.zeros(2 * n), np.concatenate([weights, weights])])
    else:
        cost = -t / big_s
        bounds = np.column_stack([lo * weights, hi * weights])
    eq = lam == 0.0
    if not obj.intercept:
        eq[d] = False  # no intercept row at all
        keep = np.arange(d + 1) < d
    else:
        keep = np.ones(d + 1, dtype=bool)
    rows_eq = eq & keep
    rows_ub = ~eq & keep
    a_ub = np.vstack([m[rows_ub], -m[rows_ub]]) if rows_ub.any() else None
    b_ub = np.concatenate([lam[rows_ub], lam[rows_ub]]) if rows_ub.any() else None
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=m[rows_eq] if rows_eq.any() else None,
        b_eq=np.zeros(int(rows_eq.sum())) if rows_eq.any() else None,
        bounds=bounds,
        method="highs",
        options={"presolve": True},
    )
    if res.status not in (0, 1) or res.eqlin is None:
        raise SolverFailed(f"the LP solver failed: {res.message}")
    theta_out = np.zeros(obj.size)
    idx_eq = np.flatnonzero(rows_eq)
    idx_ub = np.flatnonzero(rows_ub)
    if len(idx_eq):
        theta_out[idx_eq] = -np.asarray(res.eqlin.marginals)
    if len(idx_ub):
        marg = np.asarray(res.ineqlin.marginals)
        k = len(idx_ub)
        theta_out[idx_ub] = -(marg[:k] - marg[k:])
    theta_out *= unit
    dual_vars = np.clip(res.x, bounds[:, 0], bounds[:, 1])
    dual = -float(cost @ dual_vars) * unit
    # Infeasibility of the clipped dual point against the rows it must satisfy,
    # valued at |θ| (the rows' duals): included so the gap stays an upper bound
    # to first order in HiGHS's feasibility tolerance.
    resid = m @ dual_vars
    excess = np.where(rows_eq, np.abs(resid), np.maximum(np.abs(resid) - lam, 0.0))
    dual -= float(np.abs(theta_out) @ np.where(keep, excess, 0.0))
    if not math.isfinite(dual):
        raise SolverFailed("the LP's dual bound is not finite")
    primal = obj.data_value(theta_out, data)
    cert = Certificate("duality_gap", max(primal - dual, 0.0), True)
    if on_iteration is not None:
        on_iteration(1, theta_out, primal)
    return SolveResult(theta_out, cert.certifies(primal, tol), 1, primal, cert)


def _qp(*args: Any, **kwargs: Any) -> SolveResult:
    """The kinked + L2 solver of :mod:`losscli.fit.kinked_qp` (imported late: it imports us)."""
    from losscli.fit.kinked_qp import qp

    return qp(*args, **kwargs)


SOLVERS: dict[str, Callable[..., SolveResult]] = {
    "newton": newton,
    "prox_newton": prox_newton,
    "lbfgs": lbfgs,
    "lp": lp,
    "qp": _qp,
}
