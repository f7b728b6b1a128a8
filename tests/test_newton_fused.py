"""The fast dense-Hessian path: ``weighted_gram`` and the fused value/gradient/Hessian pass.

Both must equal the plain formulas (XᵀDX bordered by Xᵀh and Σh; the separate
``data_smooth_value_and_grad`` / ``data_hessian`` methods) on one block and on
many, with and without sample weights, intercept and L2 — they are an
optimisation, not a different answer.
"""

from __future__ import annotations

import numpy as np
import pytest

from losscli.fit import solvers
from losscli.fit.data import Blocks, InMemory
from losscli.fit.objective import Objective, weighted_gram
from losscli.losses import make_loss


def _bordered(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The definition, by a different route: [X 1]ᵀ diag(h) [X 1]."""
    a = np.hstack([x, np.ones((len(h), 1))])
    return np.einsum("ni,n,nj->ij", a, h, a)


@pytest.mark.parametrize("n", [0, 1, 7, 100, 1000])
@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 14])
def test_weighted_gram_equals_the_definition_at_every_chunk_boundary(n: int, chunk: int) -> None:
    rng = np.random.default_rng(n + chunk)
    x = rng.normal(size=(n, 5)) * rng.uniform(0.1, 30.0, 5)
    h = rng.uniform(0.0, 3.0, n)
    h[::5] = 0.0  # zero curvature rows (saturated logits) contribute nothing
    got = weighted_gram(x, h, chunk=chunk)
    np.testing.assert_allclose(got, _bordered(x, h), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got, got.T)


def test_weighted_gram_takes_the_general_product_for_negative_curvature() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    h = rng.normal(size=50)  # √h does not exist: the general path must be taken
    np.testing.assert_allclose(weighted_gram(x, h), _bordered(x, h), rtol=1e-12, atol=1e-12)


def _problem(loss: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(500, 4)) * [1.0, 5.0, 0.2, 3.0]
    s = 0.3 * (x @ rng.normal(size=4))
    y = {
        "mse": s + rng.normal(size=500),
        "bce": (rng.random(500) < 1 / (1 + np.exp(-s))).astype(float),
        "poisson": rng.poisson(np.exp(0.3 * s)).astype(float),
        "huber": s + rng.standard_t(3, size=500),
    }[loss]
    return x, y


@pytest.mark.parametrize("loss", ["mse", "bce", "poisson", "huber"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("intercept", [True, False])
def test_fused_pass_equals_the_separate_methods(loss: str, weighted: bool, intercept: bool) -> None:
    x, y = _problem(loss)
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(y)) if weighted else None
    logits = loss in ("bce", "poisson")
    obj = Objective(make_loss(loss), 4, logits=logits, l2=0.05, intercept=intercept)
    theta = np.random.default_rng(3).normal(scale=0.2, size=obj.size)
    if not intercept:
        theta[-1] = 0.0
    sources = [InMemory(x, y, w)]
    if w is None:
        sources.append(Blocks.split(x, y, 37))
    for data in sources:
        f, g, hess = obj.data_value_grad_hessian(theta, data)
        f0, g0 = obj.data_smooth_value_and_grad(theta, data)
        assert f == pytest.approx(f0, rel=1e-13)
        np.testing.assert_allclose(g, g0, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(hess, obj.data_hessian(theta, data), rtol=1e-11, atol=1e-14)


def test_certificate_from_a_given_hessian_equals_the_one_it_builds() -> None:
    x, y = _problem("bce")
    obj = Objective(make_loss("bce"), 4, logits=True, l2=1e-3)
    theta = np.random.default_rng(4).normal(scale=0.1, size=obj.size)
    data = InMemory(x, y)
    _, g, hess = obj.data_value_grad_hessian(theta, data)
    given = solvers.certify(obj, theta, data, grad=g, hess=hess)
    built = solvers.certify(obj, theta, data, grad=g)
    assert given.kind == built.kind == "strong_convexity"
    assert given.value == pytest.approx(built.value, rel=1e-10)


def test_fused_pass_refuses_a_loss_without_curvature() -> None:
    obj = Objective(make_loss("mae"), 2)
    with pytest.raises(ValueError, match="second derivative"):
        obj.data_value_grad_hessian(np.zeros(obj.size), InMemory(np.ones((3, 2)), np.ones(3)))
