"""The mini-batch loop: lean kernels, the same update rules, epoch-mean averaging, honest stops.

The references here are plain NumPy loops written from the rules themselves
(θ ← θ − lr·∇f_batch(θ) for sgd; the optimizer's own ``update`` otherwise)
over the same shuffled order, so a fused kernel that changed a rule fails.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.errors import InputError
from losscli.fit import solvers
from losscli.fit.data import InMemory
from losscli.fit.lean import lean_kernel
from losscli.fit.loop import StopReason, TrainConfig, fit
from losscli.fit.objective import Objective
from losscli.fit.optimizers import make_optimizer
from losscli.losses import make_loss

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def problem(loss: str, n: int = 300, d: int = 4, seed: int = 5, **kw):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    s = x @ rng.normal(size=d)
    if loss == "mse":
        y = s + rng.normal(size=n)
    else:
        y = (rng.random(n) < 1 / (1 + np.exp(-s))).astype(float)
    return Objective(make_loss(loss), d, logits=loss == "bce", **kw), x, y


def augmented(obj: Objective, x):
    return np.hstack([x, np.full((len(x), 1), 1.0 if obj.intercept else 0.0)])


CASES = [
    ("mse", {}),
    ("mse", {"l2": 0.3}),
    ("bce", {}),
    ("bce", {"l2": 0.1}),
    ("bce", {"l2": 0.1, "intercept": False}),
]


@pytest.mark.parametrize(("loss", "kw"), CASES)
@pytest.mark.parametrize("scaled", [False, True])
def test_lean_gradient_equals_the_general_batch_gradient(loss, kw, scaled):
    obj, x, y = problem(loss, **kw)
    if scaled:  # --no-standardize: the penalty on c⊙w with c = 1/σ
        obj = Objective(obj.loss, 4, logits=obj.logits, penalty_scale=np.arange(1, 5.0), **kw)
    theta = np.random.default_rng(2).normal(size=obj.size) * 3
    if not obj.intercept:
        theta[-1] = 0.0
    kernel = lean_kernel(obj, y, 32)
    assert kernel is not None
    got, want = np.empty(obj.size), np.empty(obj.size)
    kernel.gradient(theta, augmented(obj, x[:32]), y[:32], got)
    obj.batch_gradient(theta, x[:32], y[:32], want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    # a shorter last batch uses the front of the scratch space
    kernel.gradient(theta, augmented(obj, x[:7]), y[:7], got)
    obj.batch_gradient(theta, x[:7], y[:7], want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(("loss", "kw"), CASES)
def test_fused_sgd_step_is_theta_minus_lr_times_the_gradient(loss, kw):
    obj, x, y = problem(loss, **kw)
    kernel = lean_kernel(obj, y, 32)
    assert kernel is not None
    theta = np.random.default_rng(3).normal(size=obj.size)
    if not obj.intercept:
        theta[-1] = 0.0
    for lr in (0.1, 0.1, 0.025):  # the same rate twice: the cached decay is reused
        g = np.empty(obj.size)
        obj.batch_gradient(theta, x[:32], y[:32], g)
        want = theta - lr * g
        kernel.sgd_step(theta, augmented(obj, x[:32]), y[:32], lr)
        np.testing.assert_allclose(theta, want, rtol=1e-13, atol=1e-15)


def test_lean_kernel_declines_what_it_cannot_do():
    obj, _, y = problem("bce")
    assert lean_kernel(obj, y * 0.5, 32) is None  # soft labels: the general path
    pos = Objective(make_loss("bce", pos_weight=2.0), 4, logits=True)
    assert lean_kernel(pos, y, 32) is None
    assert lean_kernel(Objective(make_loss("huber"), 4), y, 32) is None
    softmax = Objective(make_loss("ce"), 4, outputs=3, logits=True)
    assert lean_kernel(softmax, np.zeros(10), 32) is None


def reference(obj, x, y, name, lr, epochs, batch, seed=0, average=False, **hyper):
    """The loop from its definition: shuffle, then θ ← update(θ, ∇f_batch(θ), lr)."""
    opt = make_optimizer(name, **hyper)
    theta = np.zeros(obj.size)
    state = opt.init(theta)
    rng = np.random.default_rng(seed)
    g = np.empty(obj.size)
    for _ in range(epochs):
        order = rng.permutation(len(y))
        iterates = []
        for start in range(0, len(y), batch):
            rows = order[start : start + batch]
            obj.batch_gradient(theta, x[rows], y[rows], g)
            theta, state = opt.update(g, state, theta, lr)
            iterates.append(theta.copy())
    return np.mean(iterates, axis=0) if average else theta


@pytest.mark.parametrize(("loss", "kw"), [("mse", {"l2": 0.01}), ("bce", {"l2": 0.01})])
@pytest.mark.parametrize(
    ("name", "hyper"), [("sgd", {}), ("momentum", {"momentum": 0.5}), ("adam", {})]
)
@pytest.mark.parametrize("average", [False, True])
def test_the_loop_runs_each_optimizers_own_rule(loss, kw, name, hyper, average):
    # 300 rows at batch 32: ten batches, the last one short, two epochs
    obj, x, y = problem(loss, **kw)
    config = TrainConfig(
        optimizer=name,
        lr=0.05,
        epochs=2,
        batch_size=32,
        tol=0.0,
        schedule="constant",
        seed=4,
        average=average,
        hyper=hyper,
    )
    got = fit(obj, x, y, config)
    want = reference(obj, x, y, name, 0.05, 2, 32, seed=4, average=average, **hyper)
    assert got.stop_reason is StopReason.MAX_EPOCHS
    np.testing.assert_allclose(got.theta, want, rtol=1e-11, atol=1e-13)


def test_rows_beyond_one_gather_group_keep_the_shuffled_order():
    # 10,000 rows at batch 32 cross three 4,064-row gather groups (the last one short)
    obj, x, y = problem("bce", n=10_000, l2=0.01)
    config = TrainConfig(optimizer="sgd", lr=0.1, epochs=1, tol=0.0, schedule="constant")
    got = fit(obj, x, y, replace(config, average=False))
    np.testing.assert_allclose(got.theta, reference(obj, x, y, "sgd", 0.1, 1, 32), rtol=1e-11)


def excess(obj, x, y, theta, best):
    return (obj.value(theta, x, y) - best) / best


def test_averaging_cancels_most_of_the_steps_noise():
    """sgd at its default rate: the epoch mean lands far nearer the optimum than the last step."""
    obj, x, y = problem("bce", n=20_000, d=5, l2=1e-3)
    best = fit(obj, x, y, TrainConfig(optimizer="newton")).objective
    config = TrainConfig(optimizer="sgd", epochs=3, tol=0.0, schedule="constant")
    last = fit(obj, x, y, replace(config, average=False))
    mean = fit(obj, x, y, config)  # averaging is the default
    assert excess(obj, x, y, mean.theta, best) < excess(obj, x, y, last.theta, best) / 10
    assert excess(obj, x, y, mean.theta, best) < 1e-4


def test_averaging_is_the_default_of_the_sgd_family_except_with_l1():
    assert TrainConfig(optimizer="sgd").resolved_average(l1=False)
    assert TrainConfig(optimizer="adam").resolved_average(l1=False)
    assert not TrainConfig(optimizer="sgd").resolved_average(l1=True)
    assert TrainConfig(optimizer="sgd", average=True).resolved_average(l1=True)
    assert not TrainConfig(optimizer="sgd", average=False).resolved_average(l1=False)
    assert TrainConfig(average=True).first_order().optimizer == "sgd"


def test_l1_keeps_exact_zeros_without_averaging():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 6))
    y = x @ np.array([2.0, -1.0, 0.0, 0.0, 0.0, 0.0]) + rng.normal(size=2000)
    obj = Objective(make_loss("mse"), 6, l1=0.2)
    exact = fit(obj, x, y, TrainConfig(optimizer="prox_newton")).theta
    assert (exact[2:6] == 0.0).all()
    # batches large enough that the steps' noise stays below the threshold lr·λ1
    config = TrainConfig(optimizer="sgd", epochs=20, batch_size=256, lr=0.05)
    assert (fit(obj, x, y, config).theta[2:6] == 0.0).all()  # the soft-threshold's zeros
    mean = fit(obj, x, y, replace(config, average=True)).theta
    assert not (mean[2:6] == 0.0).all()  # an epoch's mean keeps traces of every step


@pytest.mark.parametrize("optimizer", ["gd", "newton", "lbfgs"])
def test_average_is_refused_by_full_batch_methods(optimizer):
    with pytest.raises(InputError, match="takes no --average"):
        TrainConfig(optimizer=optimizer, average=True).validate()


def test_early_stopping_returns_the_best_validation_mean_and_certifies_it_honestly():
    obj, x, y = problem("bce", n=4000, l2=1e-3)
    validation = (x[3000:], y[3000:])
    result = fit(obj, x[:3000], y[:3000], TrainConfig(optimizer="sgd"), validation=validation)
    assert result.stop_reason is StopReason.EARLY_STOPPING
    best = min(h.val_loss for h in result.history if h.val_loss is not None)
    assert obj.mean_loss(result.theta, *validation) == pytest.approx(best, rel=1e-12)
    assert result.objective == pytest.approx(obj.value(result.theta, x[:3000], y[:3000]))
    cert = solvers.certify(obj, result.theta, InMemory(x[:3000], y[:3000]))
    assert result.certificate == cert


def train_json(*args: str) -> dict:
    r = CliRunner().invoke(cli, ["train", "-f", "json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_cli_average_flag_reaches_the_loop_and_the_model_options():
    data = str(SAMPLES / "breast_cancer.csv")
    base = ("--loss", "bce", "--optimizer", "sgd", "--epochs", "4", "--l2", "0.01", data)
    averaged = train_json(*base)
    last = train_json("--no-average", *base)
    assert averaged["options"]["average"] is True and last["options"]["average"] is False
    assert averaged["coef"] != last["coef"]
    assert train_json("--l1", "0.01", *base)["options"]["average"] is False
    assert train_json("--loss", "bce", data)["options"]["average"] is None  # a solver


def test_cli_average_with_a_full_batch_method_is_a_usage_error():
    r = CliRunner().invoke(
        cli, ["train", "--optimizer", "gd", "--average", str(SAMPLES / "diabetes.csv")]
    )
    assert r.exit_code == 2
    assert "gd is full-batch and takes no --average" in r.stderr
    assert "Traceback" not in r.output


def test_adaptive_cuts_the_rate_and_goes_on_from_the_epoch_mean():
    """The adaptive schedule with averaging, from its definition (README: Optimizer)."""
    obj, x, y = problem("bce", n=2000, l2=0.01)
    lr, tol, patience, epochs = 0.5, 1e-3, 2, 15
    config = TrainConfig(optimizer="sgd", lr=lr, tol=tol, patience=patience, epochs=epochs)
    got = fit(obj, x, y, config)
    theta, rng, g = np.zeros(obj.size), np.random.default_rng(0), np.empty(obj.size)
    rate, best, stale, rates = lr, np.inf, 0, []
    for _ in range(epochs):
        order, total, steps = rng.permutation(len(y)), np.zeros(obj.size), 0
        for start in range(0, len(y), 32):
            rows = order[start : start + 32]
            obj.batch_gradient(theta, x[rows], y[rows], g)
            theta = theta - rate * g
            total, steps = total + theta, steps + 1
        mean = total / steps
        rates.append(rate)
        score = obj.value(mean, x, y)
        stale = 0 if score < best - tol * max(1.0, abs(best)) else stale + 1
        best = min(best, score)
        if stale >= patience:
            if rate / lr / 5 < 1e-4:  # the floor: converged
                break
            rate, stale, theta = rate / 5, 0, mean.copy()  # the cut, from the mean
    assert [h.lr for h in got.history] == pytest.approx(rates, rel=1e-12)
    assert len(set(rates)) >= 3  # the rate was cut at least twice
    np.testing.assert_allclose(got.theta, mean, rtol=1e-10, atol=1e-12)
