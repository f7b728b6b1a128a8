"""Our L-BFGS (``losscli.fit.quasi_newton``) and the softmax fit's fast parts.

The minimiser is checked on problems whose optimum is known in closed form
(a quadratic: x* = A⁻¹b; Rosenbrock: (1, 1); a barrier: 0.4), the line
search on a step into a region where f is not finite, and the solver on
softmax with and without its Gram preconditioner (the same certified
optimum).  The fused softmax kernel and the chunked scaling must equal the
plain formulas — they are optimisations, not different answers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from losscli.fit import solvers
from losscli.fit.data import Blocks, InMemory
from losscli.fit.objective import Objective, softmax_ce_chunks
from losscli.fit.quasi_newton import minimize, wolfe_line_search
from losscli.losses import make_loss
from losscli.losses.links import SOFTMAX
from losscli.train import scaling, standardize_in_place


def _never(*_: object) -> bool:
    return False


def _quadratic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = (q * np.geomspace(1.0, 100.0, n)) @ q.T  # condition number 100
    return a, rng.normal(size=n)


def test_reaches_the_minimiser_of_a_quadratic() -> None:
    a, b = _quadratic(30, 1)
    exact = np.linalg.solve(a, b)

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        return 0.5 * float(x @ a @ x) - float(b @ x), a @ x - b

    def small_gradient(it: int, x: np.ndarray, f: float, g: np.ndarray) -> bool:
        return float(np.linalg.norm(g)) < 1e-12

    out = minimize(fg, np.zeros(30), max_iter=500, should_stop=small_gradient)
    assert out.reason == "stopped"
    np.testing.assert_allclose(out.x, exact, rtol=1e-9, atol=1e-11)
    # the unit step is accepted on most iterations (extra trials come near rounding level)
    assert out.evaluations <= 1.5 * out.iterations


def test_the_exact_inverse_hessian_as_preconditioner_solves_a_quadratic_at_once() -> None:
    a, b = _quadratic(12, 2)
    inverse = np.linalg.inv(a)

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        return 0.5 * float(x @ a @ x) - float(b @ x), a @ x - b

    out = minimize(
        fg,
        np.zeros(12),
        max_iter=50,
        should_stop=lambda it, x, f, g: float(np.linalg.norm(g)) < 1e-12,
        precondition=lambda v: inverse @ v,
    )
    assert out.iterations <= 3
    np.testing.assert_allclose(out.x, np.linalg.solve(a, b), rtol=1e-10)


def test_rosenbrock_from_the_classic_start() -> None:
    def fg(v: np.ndarray) -> tuple[float, np.ndarray]:
        x, y = v
        f = 100.0 * (y - x * x) ** 2 + (1.0 - x) ** 2
        g = np.array([-400.0 * x * (y - x * x) - 2.0 * (1.0 - x), 200.0 * (y - x * x)])
        return f, g

    out = minimize(
        fg,
        np.array([-1.2, 1.0]),
        max_iter=200,
        should_stop=lambda it, x, f, g: float(np.linalg.norm(g)) < 1e-10,
    )
    assert out.reason == "stopped"
    np.testing.assert_allclose(out.x, [1.0, 1.0], rtol=1e-8)


def _barrier(v: np.ndarray) -> tuple[float, np.ndarray]:
    """f(x) = −log(0.5 − x) − 10x: minimum at x = 0.4, not finite for x ≥ 0.5."""
    x = float(v[0])
    if x >= 0.5:
        return math.inf, v
    return -math.log(0.5 - x) - 10.0 * x, np.array([1.0 / (0.5 - x) - 10.0])


def test_the_line_search_backs_off_where_f_is_not_finite() -> None:
    x0 = np.zeros(1)
    f0, g0 = _barrier(x0)
    p = -g0  # +8: the unit step lands at x = 8, where f is inf
    found, used = wolfe_line_search(_barrier, x0, f0, float(g0 @ p), p, 1.0)
    assert found is not None and found.g is not None
    assert 0.0 < found.t * p[0] < 0.5
    assert found.f < f0
    assert abs(float(found.g @ p)) <= 0.9 * abs(float(g0 @ p))  # strong Wolfe curvature
    assert used > 1
    out = minimize(
        _barrier, x0, max_iter=100, should_stop=lambda it, x, f, g: abs(float(g[0])) < 1e-12
    )
    assert out.x[0] == pytest.approx(0.4, rel=1e-10)


def test_stops_on_the_iteration_limit_and_on_a_flat_function() -> None:
    a, b = _quadratic(30, 3)

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        return 0.5 * float(x @ a @ x) - float(b @ x), a @ x - b

    out = minimize(fg, np.zeros(30), max_iter=3, should_stop=_never)
    assert (out.reason, out.iterations) == ("max_iter", 3)
    flat = minimize(lambda x: (1.0, np.zeros_like(x)), np.ones(3), max_iter=10, should_stop=_never)
    assert flat.reason == "line_search" and flat.iterations == 0


# ------------------------------------------------------------- softmax


def _softmax_problem(n: int, d: int, k: int, seed: int, *, weights: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x[:, 1] += 0.8 * x[:, 0]  # correlated features: what the preconditioner is for
    logits = x @ rng.normal(size=(d, k))
    y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1).astype(np.float64)
    w = rng.uniform(0.2, 3.0, n) if weights else None
    return x, y, w


@pytest.mark.parametrize("n", [1, 7, 8192, 8193, 20000])
@pytest.mark.parametrize("weights", [False, True])
def test_fused_softmax_kernel_equals_the_general_loss_path(n: int, weights: bool) -> None:
    x, y, w = _softmax_problem(n, 6, 4, n, weights=weights)
    rng = np.random.default_rng(7)
    wmat, b = rng.normal(size=(6, 4)), rng.normal(size=4)
    num, gx, gb = softmax_ce_chunks(np.ascontiguousarray(wmat.T), b, x, y, w, chunk=8192)
    pw = make_loss("cross_entropy").pointwise(y, x @ wmat + b, logits=True)
    s = np.ones(n) if w is None else w
    assert num == pytest.approx(float(s @ pw.loss), rel=1e-12)
    g = pw.grad * s[:, None]
    np.testing.assert_allclose(gx, (x.T @ g).T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, g.sum(axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("intercept", [True, False])
def test_softmax_objective_through_the_kernel_equals_the_general_path(intercept: bool) -> None:
    x, y, _ = _softmax_problem(3000, 5, 3, 11)
    obj = Objective(
        make_loss("cross_entropy"), 5, outputs=3, logits=True, l2=0.1, intercept=intercept
    )
    theta = np.random.default_rng(3).normal(size=obj.size)
    if not intercept:
        theta[15:] = 0.0
    f_fast, g_fast = obj.data_smooth_value_and_grad(theta, Blocks.split(x, y, 700))
    f_plain, g_plain = obj.smooth_value_and_grad(theta, x, y)
    assert f_fast == pytest.approx(f_plain, rel=1e-12)
    np.testing.assert_allclose(g_fast, g_plain, rtol=1e-11, atol=1e-13)


def _lbfgs_fit(obj: Objective, x, y, w=None, *, rows: int | None = None):
    theta = np.zeros(obj.size)
    theta[obj.n_features * obj.outputs :] = SOFTMAX.intercept_only(y, obj.outputs)
    data = InMemory(x, y, w) if rows is None else Blocks.split(x, y, rows, w)
    return solvers.lbfgs(obj, data, theta, tol=1e-14, max_iter=500)


@pytest.mark.parametrize("weights", [False, True])
def test_preconditioned_lbfgs_reaches_the_same_certified_softmax_optimum(
    monkeypatch: pytest.MonkeyPatch, weights: bool
) -> None:
    x, y, w = _softmax_problem(4000, 8, 5, 5, weights=weights)
    x = x * np.linspace(0.5, 3.0, 8)
    obj = Objective(make_loss("cross_entropy"), 8, outputs=5, logits=True, l2=1e-3)
    with_m = _lbfgs_fit(obj, x, y, w)
    blocked = _lbfgs_fit(obj, x, y, w, rows=999)  # the Gram is a sum over blocks too
    monkeypatch.setattr(solvers, "PRECONDITION", False)
    plain = _lbfgs_fit(obj, x, y, w)
    for r in (with_m, blocked, plain):
        assert r.converged and r.certificate.kind == "strong_convexity"
        assert r.certificate.value <= max(1e-14, solvers.ROUNDING * r.objective)
    assert with_m.objective == pytest.approx(plain.objective, rel=1e-13)
    assert blocked.objective == pytest.approx(plain.objective, rel=1e-13)
    np.testing.assert_allclose(with_m.theta, plain.theta, rtol=1e-5, atol=1e-7)
    assert with_m.iterations < plain.iterations


def test_the_preconditioner_tolerates_a_constant_feature_and_no_intercept() -> None:
    x, y, _ = _softmax_problem(2000, 4, 3, 9)
    x[:, 2] = 0.0  # a constant column, standardized: the Gram matrix is singular
    obj = Objective(make_loss("cross_entropy"), 4, outputs=3, logits=True, l2=1e-2, intercept=False)
    theta = np.zeros(obj.size)
    r = solvers.lbfgs(obj, InMemory(x, y, None), theta, tol=1e-14, max_iter=500)
    assert r.converged
    w, b = obj.split(r.theta)
    assert not b.any()
    np.testing.assert_array_equal(w[2], 0.0)


# ------------------------------------------------------------- scaling


@pytest.mark.parametrize("n", [1, 2, 1310, 1311, 5000])
def test_chunked_scaling_equals_numpy_mean_and_std(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 50)) * rng.uniform(0.1, 30.0, 50) + rng.normal(scale=100.0, size=50)
    mu, sigma = scaling(x.copy(), center=True)
    np.testing.assert_allclose(mu, x.mean(axis=0), rtol=1e-13, atol=1e-12)
    expected = x.std(axis=0)
    expected[expected == 0] = 1.0
    np.testing.assert_allclose(sigma, expected, rtol=1e-12)
    z = standardize_in_place(x.copy(), mu, sigma)
    np.testing.assert_allclose(z, (x - mu) / sigma, rtol=1e-12, atol=1e-12)
    rms = scaling(x.copy(), center=False)[1]
    np.testing.assert_allclose(rms, np.sqrt((x * x).mean(axis=0)), rtol=1e-12)


def test_scaling_neither_overflows_near_the_top_of_float64_nor_loses_tiny_columns() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(3000, 3))
    x = base * np.array([1e300, 1e-300, 1.0]) + np.array([5e300, 0.0, 2.0])
    mu, sigma = scaling(x.copy(), center=True)
    assert np.isfinite(mu).all() and np.isfinite(sigma).all()
    np.testing.assert_allclose(sigma / np.array([1e300, 1e-300, 1.0]), base.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(mu[0] / 1e300, 5.0 + base[:, 0].mean(), rtol=1e-12)


@pytest.mark.parametrize("weights", [False, True])
def test_loss_only_kernel_and_mean_loss_equal_the_general_path(weights: bool) -> None:
    x, y, w = _softmax_problem(9000, 6, 4, 21, weights=weights)
    obj = Objective(make_loss("cross_entropy"), 6, outputs=4, logits=True)
    theta = np.random.default_rng(4).normal(size=obj.size)
    pw = make_loss("cross_entropy").pointwise(y, obj.scores(theta, x), logits=True)
    s = np.ones(len(y)) if w is None else w
    wmat, b = obj.split(theta)
    num = softmax_ce_chunks(np.ascontiguousarray(wmat.T), b, x, y, w, gradient=False)[0]
    assert num == pytest.approx(float(s @ pw.loss), rel=1e-12)
    data = Blocks.split(x, y, 2500, w)
    assert obj.data_mean_loss(theta, data) == pytest.approx(float(s @ pw.loss) / s.sum(), rel=1e-12)
    if w is None:
        assert obj.mean_loss(theta, x, y) == pytest.approx(float(pw.loss.mean()), rel=1e-12)
