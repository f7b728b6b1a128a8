"""``--bootstrap``: interval coverage, determinism, and the paired test's calibration.

Coverage and calibration are simulations with fixed seeds: data with a
known population loss (residuals N(0, 1): MSE 1, MAE √(2/π)), and
predictions that are exchangeable by construction.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from losscli.evaluate import EvaluateOptions
from losscli.evaluate.bootstrap import CELL_ROWS, Interval, poisson_counts, swap_indicators
from losscli.evaluate.paired import compare_batches
from losscli.evaluate.tracker import Evaluation
from losscli.io.blocks import Batch
from losscli.losses import make_loss, weighted_totals


def float_totals(pw, weight):
    """(Σsℓ, Σsn) as floats (weighted_totals holds them as mantissa·2^exponent)."""
    num, den = weighted_totals(pw, weight)
    return float(num), float(den)


def interval(loss_name: str, y, p, w=None, *, replicates=1000, seed=0, blocks=1) -> Interval:
    loss = make_loss(loss_name)
    ev = Evaluation(EvaluateOptions(replicates=replicates, seed=seed), (loss,), "mean", False)
    num = den = 0.0
    for idx in np.array_split(np.arange(y.shape[0]), blocks):
        batch = Batch(y[idx], p[idx], None if w is None else w[idx], (idx + 1).astype(np.int64), 0)
        pw = loss.pointwise(batch.y_true, batch.y_pred)
        a, b = float_totals(pw, batch.weight)
        num, den = num + a, den + b
        ev.feed(batch, [pw])
    ci = ev.finish([num / den]).overall[0].ci
    assert ci is not None
    return ci


@pytest.mark.parametrize(
    "loss_name,population,n,repetitions,replicates",
    [
        ("mse", 1.0, 200, 400, 1000),
        ("mae", math.sqrt(2 / math.pi), 200, 400, 1000),
        ("mae", math.sqrt(2 / math.pi), 20_000, 200, 300),
    ],
)
def test_95_percent_intervals_cover_the_population_loss(
    loss_name, population, n, repetitions, replicates
):
    rng = np.random.default_rng(20261201)
    hits = 0
    for rep in range(repetitions):
        y = rng.normal(size=n)
        ci = interval(loss_name, y, y + rng.normal(size=n), replicates=replicates, seed=rep)
        hits += ci.low <= population <= ci.high
    assert 0.93 <= hits / repetitions <= 0.97


def test_same_seed_same_interval_whatever_the_blocks():
    rng = np.random.default_rng(3)
    n = 3 * CELL_ROWS + 123
    y, w = rng.normal(size=n), rng.uniform(0.5, 2.0, n)
    p = y + rng.normal(size=n)
    one = interval("mse", y, p, w, seed=9)
    assert interval("mse", y, p, w, seed=9, blocks=7) == one
    assert interval("mse", y, p, w, seed=9, blocks=2) == one
    assert interval("mse", y, p, w, seed=10) != one
    assert one.low < float(np.average((p - y) ** 2, weights=w)) < one.high
    assert (one.level, one.method, one.replicates) == (0.95, "poisson bootstrap BCa", 1000)


def test_counts_are_poisson_and_coins_are_fair():
    counts = poisson_counts(1, 0, 1000).astype(float)
    assert counts.mean() == pytest.approx(1.0, abs=0.01)
    assert counts.var() == pytest.approx(1.0, abs=0.01)
    assert (counts == 0).mean() == pytest.approx(math.exp(-1), abs=0.005)
    coins = swap_indicators(1, 0, 1000).astype(float)
    assert coins.mean() == pytest.approx(0.5, abs=0.005)
    # a cell's first rows are the same numbers whatever the number asked for
    np.testing.assert_array_equal(poisson_counts(1, 3, 100, 10), poisson_counts(1, 3, 100)[:10])


def _compare(y, a, b, *, seed=0, replicates=999, loss="mse"):
    batch = Batch(y, a, None, np.arange(1, y.shape[0] + 1, dtype=np.int64), 0)
    opts = EvaluateOptions(replicates=replicates, seed=seed)
    return compare_batches(
        (make_loss(loss),), "mean", False, opts, ("a", "b"), iter([(batch, [a, b])])
    ).results[0]


def _ks_uniform(p: np.ndarray) -> float:
    """The Kolmogorov–Smirnov distance between the p-values and the uniform law."""
    p = np.sort(p)
    i = np.arange(1, p.shape[0] + 1)
    return float(max((i / p.shape[0] - p).max(), (p - (i - 1) / p.shape[0]).max()))


def test_p_values_are_uniform_under_exchangeable_predictions():
    rng = np.random.default_rng(77)
    n, reps = 150, 300
    p_values = []
    for rep in range(reps):
        y = rng.normal(size=n)
        a, b = y + rng.normal(size=n), y + rng.normal(size=n)  # exchangeable given y
        p_values.append(_compare(y, a, b, seed=rep).p_value)
    # 5% critical value of the one-sample KS statistic for n = 300: 1.358/√300
    assert _ks_uniform(np.array(p_values)) < 1.358 / math.sqrt(reps)
    assert 0.03 <= float(np.mean(np.array(p_values) < 0.05)) <= 0.08


def test_a_real_difference_is_detected_with_its_interval():
    rng = np.random.default_rng(5)
    n = 2000
    y = rng.normal(size=n)
    a = y + rng.normal(size=n)
    b = y + 0.85 * rng.normal(size=n)  # MSE 0.72 against 1: many standard errors
    r = _compare(y, a, b, replicates=1000)
    assert r.p_value is not None and r.p_value < 0.01
    assert r.ci is not None and r.ci.high < 0 and r.ci.low < r.diff < r.ci.high
    assert r.diff == pytest.approx(np.mean((b - y) ** 2) - np.mean((a - y) ** 2), rel=1e-12)
    assert r.sentence().startswith("b is lower by ")
    assert r.sentence().endswith("p < 0.001")


def test_equal_predictions_give_p_one():
    y = np.linspace(0, 1, 50)
    r = _compare(y, y + 0.1, y + 0.1)
    assert (r.diff, r.p_value) == (0.0, 1.0)
