"""The fused adam/adamw mini-batch step (losscli.fit.lean) against the loop's definition.

The reference below is the loop written out from its definition with the
general path (``Objective.batch_gradient`` + ``optimizer.update``, which
tests/test_optimizers.py holds to torch-derived literals); the fused step
must reproduce it to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from losscli.fit.lean import lean_kernel
from losscli.fit.loop import TrainConfig, fit
from losscli.fit.optimizers import AdamState, make_optimizer, make_schedule
from tests.test_minibatch import problem as minibatch_problem


def problem(loss: str, n: int, d: int = 4, seed: int = 11, **kw):
    """test_minibatch's problem, with this module's default seed."""
    return minibatch_problem(loss, n, d, seed, **kw)


def reference(obj, x, y, name, schedule, epochs, batch, seed, **hyper):
    """Shuffle, then θ ← update(θ, ∇f_batch(θ), lr_t) on the general path; the last iterate."""
    if name == "adamw":
        hyper["decay_mask"] = obj.coef_mask()
    opt = make_optimizer(name, **hyper)
    theta = np.zeros(obj.size)
    state = opt.init(theta)
    rng = np.random.default_rng(seed)
    g = np.empty(obj.size)
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch):
            rows = order[start : start + batch]
            obj.batch_gradient(theta, x[rows], y[rows], g)
            theta, state = opt.update(g, state, theta, schedule(t))
            t += 1
    return theta


@pytest.mark.parametrize(
    ("loss", "kw"), [("mse", {}), ("mse", {"l2": 0.05}), ("bce", {"l2": 0.05, "intercept": False})]
)
@pytest.mark.parametrize(
    ("name", "hyper"),
    [
        ("adam", {}),
        # β's of 0.5: both bias corrections reach exactly 1 after ~54 steps, so the
        # run crosses from the corrected steps to the saturated ones
        ("adam", {"beta1": 0.5, "beta2": 0.5}),
        ("adamw", {"weight_decay": 0.3}),
    ],
)
@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_the_fused_adam_step_is_the_general_paths_rule(loss, kw, name, hyper, schedule):
    # 250 rows at batch 32: seven full batches and a short one of 26, eight epochs
    obj, x, y = problem(loss, 250, **kw)
    epochs, batch, lr = 8, 32, 0.05
    config = TrainConfig(
        optimizer=name,
        lr=lr,
        epochs=epochs,
        batch_size=batch,
        tol=0.0,
        schedule=schedule,
        seed=3,
        average=False,
        hyper=hyper,
    )
    got = fit(obj, x, y, config)
    rate = make_schedule(schedule, lr, total_steps=epochs * 8)
    want = reference(obj, x, y, name, rate, epochs, batch, 3, **hyper)
    np.testing.assert_allclose(got.theta, want, rtol=1e-11, atol=1e-13)
    assert not np.allclose(want, 0.0)


def test_the_lean_kernel_fuses_sgd_and_adam_and_leaves_the_rest_to_update():
    obj, _, y = problem("mse", 100)
    kernel = lean_kernel(obj, y, 32)
    assert kernel is not None
    theta = np.zeros(obj.size)
    assert kernel.fused(make_optimizer("sgd"), theta) is kernel.sgd_step
    assert kernel.fused(make_optimizer("adam"), theta) is not None
    assert kernel.fused(make_optimizer("adamw"), theta) is not None
    for name in ("momentum", "nesterov", "adagrad", "rmsprop"):
        assert kernel.fused(make_optimizer(name), theta) is None


def test_adam_state_keeps_the_discounted_sums_of_its_docstring():
    """m_sum = Σ β1^(t−i) g_i and v_sum = Σ β2^(t−i) g_i², whatever the state's layout."""
    opt = make_optimizer("adam", beta1=0.8, beta2=0.7)
    params = np.zeros((2, 3))
    state = opt.init(params)
    grads = [np.arange(6.0).reshape(2, 3) - k for k in range(4)]
    for g in grads:
        params, state = opt.update(g, state, params, 0.01)
    assert isinstance(state, AdamState) and state.step == 4
    m = sum(0.8 ** (3 - i) * g for i, g in enumerate(grads))
    v = sum(0.7 ** (3 - i) * g * g for i, g in enumerate(grads))
    np.testing.assert_allclose(state.m_sum, m, rtol=1e-15)
    np.testing.assert_allclose(state.v_sum, v, rtol=1e-15)
    assert state.m_sum.shape == params.shape
