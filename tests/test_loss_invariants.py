"""Invariants over the whole registry: gradients, reductions, weights, extremes.

Every test here is parametrized over ``LOSSES``, so a newly registered loss
is checked without a line of new test code.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from losscli.errors import BadValues, InputError
from losscli.losses import LOSSES, Loss
from tests.registry_inputs import PARAM_STRATEGIES, TASKS, consistent, targets_and_predictions

CASES = [
    (name, logits)
    for name, cls in LOSSES.items()
    for logits in ((False, True) if cls.logit_space == "optional" else (False,))
]
IDS = [f"{n}-{'logits' if lg else 'default'}" for n, lg in CASES]


def losses_with_params(name: str) -> st.SearchStrategy[Loss]:
    cls = LOSSES[name]
    params = {p.name: PARAM_STRATEGIES[p.name] for p in cls.param_info()}
    return st.fixed_dictionaries(params).map(lambda kw: cls(**consistent(kw)))


def test_every_task_and_param_has_a_generator():
    for cls in LOSSES.values():
        assert cls.task in TASKS, f"add an input generator for task {cls.task!r}"
        for p in cls.param_info():
            assert p.name in PARAM_STRATEGIES, f"add a strategy for parameter {p.name!r}"


def _step(loss: Loss, x: float, logits: bool, size: float) -> float:
    if loss.space(logits) == "probability":  # relative to the nearer edge, where 1/p blows up
        return size * min(x, 1 - x)
    return size * max(1.0, abs(x))


def _differences(f, p: np.ndarray, loss: Loss, logits: bool, size: float) -> np.ndarray:
    """Central, forward and backward differences of ``f`` in each prediction: shape (3, *p.shape).

    The one-sided differences tell a point within a step of a kink (where the central
    difference mixes the two sides) from a wrong derivative: see ``assert_matches``.
    """
    out = np.zeros((3, *p.shape))
    flat = p.reshape(-1)
    for i in range(flat.size):
        h = _step(loss, flat[i], logits, size)
        up, down = flat.copy(), flat.copy()
        up[i] += h
        down[i] -= h
        f_up, f_mid, f_down = f(up, i), f(flat, i), f(down, i)
        for k, d in enumerate(
            ((f_up - f_down) / (2 * h), (f_up - f_mid) / h, (f_mid - f_down) / h)
        ):
            out[k].reshape(-1)[i] = d
    return out


def assert_matches(analytic: np.ndarray, diffs: np.ndarray, rtol: float, atol: float) -> None:
    """The analytic derivative equals the central difference, or — only where the two
    one-sided differences disagree, i.e. a kink lies within the step — one of them."""
    central, forward, backward = diffs
    scale = max(1.0, float(np.max(np.abs(central))))
    tol = atol * scale

    def close(a: np.ndarray, b: np.ndarray, r: float) -> np.ndarray:
        return np.abs(a - b) <= tol + r * np.abs(b)

    one_sided = 10 * rtol  # a one-sided difference's own error is first order in the step
    kink = ~close(forward, backward, one_sided)
    ok = close(analytic, central, rtol) | (
        kink & (close(analytic, forward, one_sided) | close(analytic, backward, one_sided))
    )
    assert ok.all(), (analytic[~ok], central[~ok], forward[~ok], backward[~ok])


def numeric_gradient(loss: Loss, y, p, *, logits, reduction, weight):
    """Differences of the *reduced* loss, one prediction at a time."""

    def value(x, i):
        r = loss.evaluate(y, x.reshape(p.shape), logits=logits, reduction=reduction, weight=weight)
        return np.sum(r.value)

    return _differences(value, p, loss, logits, 1e-6)


@pytest.mark.parametrize(("name", "logits"), CASES, ids=IDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_gradient_matches_finite_differences(name, logits, data, seed):
    loss = data.draw(losses_with_params(name))
    reduction = data.draw(st.sampled_from(loss.available_reductions()))
    rng = np.random.default_rng(seed)
    y, p = targets_and_predictions(loss, rng, 5, logits=logits)
    weight = rng.uniform(0.2, 2.0, 5) if data.draw(st.booleans()) else None
    result = loss.evaluate(y, p, logits=logits, reduction=reduction, weight=weight)
    numeric = numeric_gradient(loss, y, p, logits=logits, reduction=reduction, weight=weight)
    assert_matches(result.gradient, numeric, rtol=2e-5, atol=2e-6)


def numeric_hessian(loss: Loss, y, p, *, logits, reduction, weight):
    """Differences of the reduced loss's analytic gradient: its diagonal."""

    def grad(x, i):
        r = loss.evaluate(y, x.reshape(p.shape), logits=logits, reduction=reduction, weight=weight)
        return r.gradient.reshape(-1)[i]

    return _differences(grad, p, loss, logits, 1e-5)


@pytest.mark.parametrize(("name", "logits"), CASES, ids=IDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_hessian_matches_differences_of_the_gradient(name, logits, data, seed):
    """The reported Hessian diagonal, through every reduction and weights."""
    loss = data.draw(losses_with_params(name))
    reduction = data.draw(st.sampled_from(loss.available_reductions()))
    rng = np.random.default_rng(seed)
    y, p = targets_and_predictions(loss, rng, 5, logits=logits)
    weight = rng.uniform(0.2, 2.0, 5) if data.draw(st.booleans()) else None
    result = loss.evaluate(y, p, logits=logits, reduction=reduction, weight=weight, hessian=True)
    assert result.hessian is not None and result.hessian.shape == p.shape
    numeric = numeric_hessian(loss, y, p, logits=logits, reduction=reduction, weight=weight)
    assert_matches(result.hessian, numeric, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "logits"), CASES, ids=IDS)
def test_hessian_only_when_asked_and_same_loss_and_gradient(name, logits):
    loss = LOSSES[name]()
    rng = np.random.default_rng(11)
    y, p = targets_and_predictions(loss, rng, 7, logits=logits)
    plain = loss.pointwise(y, p, logits=logits)
    both = loss.pointwise(y, p, logits=logits, hessian=True)
    assert plain.hess is None and loss.evaluate(y, p, logits=logits).hessian is None
    np.testing.assert_array_equal(plain.loss, both.loss)
    np.testing.assert_array_equal(plain.grad, both.grad)
    assert both.hess is not None and both.hess.shape == both.grad.shape


@pytest.mark.parametrize(("name", "logits"), CASES, ids=IDS)
def test_reductions_agree(name, logits):
    """mean = Σsℓ/Σs·n…, sum = Σsℓ, none = sℓ; none and sum share the gradient."""
    cls = LOSSES[name]
    loss = cls()
    rng = np.random.default_rng(7)
    y, p = targets_and_predictions(loss, rng, 9, logits=logits)
    w = rng.uniform(0.5, 2.0, 9)
    mean = loss.evaluate(y, p, logits=logits, reduction="mean", weight=w)
    if "sum" not in cls.reductions:
        return
    total = loss.evaluate(y, p, logits=logits, reduction="sum", weight=w)
    none = loss.evaluate(y, p, logits=logits, reduction="none", weight=w)
    norm = loss.pointwise(y, p, logits=logits).norm  # K per row for K outputs or labels
    den = w.sum() if norm is None else w @ norm
    assert total.value == pytest.approx(np.sum(none.value), rel=1e-12)
    assert mean.value == pytest.approx(total.value / den, rel=1e-12)
    np.testing.assert_allclose(none.gradient, total.gradient, rtol=1e-15)
    np.testing.assert_allclose(mean.gradient * den, total.gradient, rtol=1e-12)


@pytest.mark.parametrize(("name", "logits"), CASES, ids=IDS)
def test_integer_weight_equals_repeated_row(name, logits):
    """Weight 2 on a row is the same as that row twice (weighted mean = Σwℓ/Σw)."""
    loss = LOSSES[name]()
    rng = np.random.default_rng(3)
    y, p = targets_and_predictions(loss, rng, 4, logits=logits)
    w = np.array([1.0, 2.0, 1.0, 3.0])
    idx = np.repeat(np.arange(4), w.astype(int))
    weighted = loss.evaluate(y, p, logits=logits, weight=w)
    repeated = loss.evaluate(y[idx], p[idx], logits=logits)
    assert weighted.value == pytest.approx(repeated.value, rel=1e-12)


def extreme_inputs(loss: Loss, logits: bool):
    """Saturated inputs: logits ±1e4 and ±800, probabilities exactly 0 and 1."""
    space = loss.space(logits)
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    if loss.task in ("regression", "positive regression"):
        domain = loss.value_domain()
        if space == "logit":  # log-link raw scores far out on both sides
            y = np.array([1e-300, 1e4, 3.0, 0.5, 2.0, 1e-8])
            if domain in ("counts", "real", "positive_mean"):
                y[0] = 0.0
            x = np.array([-1e4, -800.0, 0.0, 150.0, -30.0, 5.0])
            if domain == "positive":  # y·μ^{1−p} = y·e^{−x(p−1)} must stay a float64
                x[:2] = [-300.0, -200.0]
            return y, x
        if domain == "real":
            return np.array([0.0, 1e4, -1e4, 3.0, 1e-300, 0.0]), np.array(
                [1e4, -1e4, 0.0, 3.0, 0.0, 5e3]
            )
        if domain == "log1p":
            return np.array([-0.999999, 1e4, 0.0, 3.0, 1e300, 0.0]), np.array(
                [1e4, -0.999999, 0.0, 3.0, 0.0, 1e300]
            )
        y = np.array([1e-100, 1e4, 3.0, 1e-8, 1e8, 2.0])
        if domain in ("counts", "positive_mean"):
            y[0] = 0.0
        return y, np.array([1e-100, 1e-8, 1e8, 3.0, 1e-3, 1e4])
    if loss.task == "regression with variance":
        return np.array([0.0, 1e4, -1e4, 3.0]), np.array(
            [[1e4, 1e-300], [-1e4, 1e8], [0.0, 0.0], [3.0, 1e-6]]
        )
    if loss.task == "vectors":
        return np.array([[1e-150, 0.0, 0.0], [1e150, -1e150, 1.0], [0.0, 0.0, 3.0]]), np.array(
            [[1e150, 1e150, 0.0], [1e-150, 0.0, 0.0], [0.0, 1e-150, 1e-150]]
        )
    if loss.task == "counts":
        pred = (
            np.array([-1e4, -800.0, 0.0, 700.0, -1e4, 1.0])
            if space == "logit"
            else np.array([0.0, 0.0, 1e4, 1e-300, 0.0, 1.0])
        )
        return np.array([0.0, 3.0, 1.0, 0.0, 5.0, 0.0]), pred
    if loss.task in ("binary", "binary or multi-class"):
        if space == "logit":
            return y, np.array([1e4, -1e4, -1e4, 1e4, 800.0, -800.0])
        return y, np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    k = 3
    idx = np.array([0, 1, 2, 0, 1, 2], dtype=float)
    if space == "logit":
        pred = np.where(np.arange(k) == (idx[:, None] + 1) % k, 1e4, -1e4)
        pred[3] = [1e4, -1e4, -1e4]  # confidently right
        pred[4] = [800.0, -800.0, 0.0]
    else:
        pred = np.zeros((6, k))
        pred[np.arange(6), ((idx + 1) % k).astype(int)] = 1.0  # all mass on a wrong class
        pred[3] = [1.0, 0.0, 0.0]  # all mass on the right class
    if loss.task == "distributions":
        soft = np.zeros((6, k))
        soft[np.arange(6), idx.astype(int)] = 1.0
        soft[5] = [0.5, 0.5, 0.0]
        return soft, pred
    return idx, pred


@pytest.mark.parametrize(("name", "logits"), CASES, ids=IDS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_extreme_inputs_are_finite_and_silent(name, logits, reduction):
    loss = LOSSES[name]()
    if reduction not in loss.reductions:
        pytest.skip("mean only")
    y, p = extreme_inputs(loss, logits)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        result = loss.evaluate(y, p, logits=logits, reduction=reduction, hessian=True)
    assert np.isfinite(result.value)
    assert np.all(np.isfinite(result.gradient))
    assert result.hessian is not None and np.all(np.isfinite(result.hessian))


def test_poisson_log_rate_beyond_float64_is_a_clear_error():
    """e^10000 is not a float64: the row is named instead of printing inf."""
    loss = LOSSES["poisson"]()
    with pytest.raises(BadValues, match=r"log-rates above 709\.78.*row 2"):
        loss.evaluate(np.array([1.0, 1.0]), np.array([0.0, 1e4]), logits=True)


@pytest.mark.parametrize(
    "name",
    [
        n
        for n, c in LOSSES.items()
        if c.default_space == "probability" and "eps" in {p.name for p in c.param_info()}
    ],
)
def test_clipped_probabilities_are_counted(name):
    loss = LOSSES[name]()
    if loss.task == "distributions":
        y, p = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.0, 1.0], [0.5, 0.5]])
    else:
        y, p = np.array([1.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.5])
    result = loss.evaluate(y, p)
    assert result.clipped >= 1
    assert np.all(np.isfinite(result.gradient))


@pytest.mark.parametrize("name", [n for n, c in LOSSES.items() if c.default_space == "probability"])
def test_probabilities_outside_unit_interval_suggest_logits(name):
    loss = LOSSES[name]()
    y = np.array([[1.0, 0.0], [0.0, 1.0]]) if loss.task == "distributions" else np.array([1.0, 0.0])
    p = (
        np.array([[1.5, -0.5], [0.5, 0.5]])
        if loss.task == "distributions"
        else np.array([1.5, 0.5])
    )
    with pytest.raises(BadValues, match="outside \\[0, 1\\]") as info:
        loss.evaluate(y, p)
    assert "--logits" in str(info.value)


@pytest.mark.parametrize("name", list(LOSSES))
def test_catalogue_entry_is_complete(name):
    cls = LOSSES[name]
    for attr in ("formula", "gradient", "hessian", "reference", "takes", "task"):
        assert getattr(cls, attr).strip(), f"{name} lacks {attr}"
    assert cls.__doc__ and len(cls.__doc__.strip()) > 40
    for p in cls.param_info():
        assert p.doc.strip()


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("huber", {"delta": 0.0}, "delta must be a positive number"),
        ("huber", {"delta": float("nan")}, "delta must be a positive number"),
        ("quantile", {"quantile": 1.0}, "quantile must lie strictly between 0 and 1"),
        ("focal", {"gamma": -1.0}, "gamma must be a number ≥ 0"),
        ("cross_entropy", {"label_smoothing": 1.5}, "label_smoothing must lie between 0 and 1"),
        ("cross_entropy", {"class_weights": (0.0, 0.0)}, "class_weights must not be all zero"),
        ("bce", {"eps": 0.7}, "eps must lie strictly between 0 and 0.5"),
        ("bce", {"pos_weight": -2.0}, "pos_weight must be a positive number"),
    ],
)
def test_parameter_ranges(name, params, message):
    with pytest.raises(InputError, match=message):
        LOSSES[name](**params)


def test_all_zero_weights_have_no_mean():
    with pytest.raises(InputError, match="add up to 0"):
        LOSSES["mse"]().evaluate(np.array([1.0, 2.0]), np.array([1.0, 3.0]), weight=np.zeros(2))


def test_rmse_is_mean_only():
    with pytest.raises(InputError, match="rmse supports --reduction mean only"):
        LOSSES["rmse"]().evaluate(np.array([1.0]), np.array([2.0]), reduction="sum")


def test_rmse_gradient_at_zero_error_is_zero():
    r = LOSSES["rmse"]().evaluate(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    assert r.value == 0.0
    assert list(r.gradient) == [0.0, 0.0]


@pytest.mark.parametrize(("name", "logits"), CASES, ids=IDS)
def test_gradcheck_checks_the_hessian(name, logits):
    """The checker behind --check-grad --hessian agrees on valid inputs."""
    from losscli.losses.gradcheck import check_hessian

    loss = LOSSES[name]()
    y, p = targets_and_predictions(loss, np.random.default_rng(5), 8, logits=logits)
    check = check_hessian(loss, y, p, logits=logits)
    assert check.compared > 0
    assert check.max_abs < 1e-4
