"""``--baseline``: best constants, L₀ and D², against scikit-learn and brute force.

Golden D² values: scikit-learn 1.9.1 (r2_score, d2_absolute_error_score,
d2_pinball_score, d2_log_loss_score) on the arrays of
``tests/evaluate_inputs.py``, printed by ``tests/oracle/derive_evaluate.py``.
Every path that keeps the targets for later passes is exercised: the
distinct-value summary, the single block, and the on-disk spool with
several blocks (``SUMMARY_CAP`` lowered), and the quantile selection with
small bins so that it needs several passes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from losscli.errors import InputError
from losscli.evaluate import EvaluateOptions, passes
from losscli.evaluate import baseline as baseline_module
from losscli.evaluate.tracker import Evaluation, EvaluationReport
from losscli.io.blocks import Batch
from losscli.losses import LOSSES, Loss, make_losses, weighted_totals
from tests import evaluate_inputs as inputs
from tests.registry_inputs import targets_and_predictions

# scikit-learn 1.9.1, float64, from tests/oracle/derive_evaluate.py
SKLEARN_D2 = {
    "mse-plain": 0.8274852931056118,
    "mae-plain": 0.5701172512299635,
    "quantile0.1-plain": -0.31729621723990986,
    "quantile0.3-plain": 0.44199592591207926,
    "quantile0.5-plain": 0.5701172512299635,
    "quantile0.9-plain": 0.17890018493542648,
    "bce-plain": 0.4467258377363881,
    "cross_entropy-plain": 0.12987182843696266,
    "mse-weighted": 0.8246275256717632,
    "mae-weighted": 0.5681192536842564,
    "quantile0.1-weighted": -0.3571739320719729,
    "quantile0.3-weighted": 0.43004340669837093,
    "quantile0.5-weighted": 0.5681192536842564,
    "quantile0.9-weighted": 0.17658135692696486,
    "bce-weighted": 0.4331896072764998,
    "cross_entropy-weighted": 0.1588617689638936,
    # d2_brier_score (binary and multi-class), d2_tweedie_score(power=p)
    "brier-plain": 0.5326527760781425,
    "brier-weighted": 0.517533868543131,
    "brier_mc-plain": 0.14684103540905247,
    "brier_mc-weighted": 0.17621827778332722,
    "tweedie1.0-plain": 0.8202479514166197,
    "tweedie1.5-plain": 0.8313773884819313,
    "tweedie2.0-plain": 0.827064565926803,
    "tweedie1.0-weighted": 0.8203409265122895,
    "tweedie1.5-weighted": 0.8325991110466167,
    "tweedie2.0-weighted": 0.8268675935204735,
}


def float_totals(pw, weight):
    """(Σsℓ, Σsn) as floats (weighted_totals holds them as mantissa·2^exponent)."""
    num, den = weighted_totals(pw, weight)
    return float(num), float(den)


def evaluate(
    losses: list[Loss],
    y: np.ndarray,
    p: np.ndarray,
    w: np.ndarray | None,
    *,
    logits: bool = False,
    blocks: int = 1,
    keys: np.ndarray | None = None,
    options: EvaluateOptions | None = None,
) -> EvaluationReport:
    """Feed the evaluation block by block, as compute's pass 1 does."""
    opts = options or EvaluateOptions(baseline=True, by="g" if keys is not None else None)
    ev = Evaluation(opts, tuple(losses), "mean", logits)
    nums, dens = np.zeros(len(losses)), np.zeros(len(losses))
    for idx in np.array_split(np.arange(y.shape[0]), blocks):
        batch = Batch(
            y[idx],
            p[idx],
            None if w is None else w[idx],
            (idx + 1).astype(np.int64),
            0,
            None if keys is None else keys[idx],
        )
        pws = [loss.pointwise(batch.y_true, batch.y_pred, logits=logits) for loss in losses]
        for i, pw in enumerate(pws):
            a, b = float_totals(pw, batch.weight)
            nums[i] += a
            dens[i] += b
        ev.feed(batch, pws)
    return ev.finish(list(nums / dens))


@pytest.fixture(params=["summary", "spool"])
def storage(request, monkeypatch):
    """Run each test with the targets summarised, and again spooled to disk in blocks."""
    if request.param == "spool":
        monkeypatch.setattr(passes, "SUMMARY_CAP", 4)
        return 4  # blocks
    return 1


def _case(key: str):
    name, tag = key.split("-")
    params = {}
    if name.startswith("quantile"):
        params, name = {"quantile": float(name[len("quantile") :])}, "quantile"
    if name.startswith("tweedie"):
        params, name = {"power": float(name[len("tweedie") :])}, "tweedie"
    source = {
        "mse": inputs.regression,
        "mae": inputs.regression,
        "quantile": inputs.regression,
        "bce": inputs.binary,
        "brier": inputs.binary,
        "brier_mc": inputs.multiclass,
        "tweedie": inputs.positive,
        "cross_entropy": inputs.multiclass,
    }[name]
    name = "brier" if name == "brier_mc" else name
    return name, params, source(tag == "weighted")


@pytest.mark.parametrize("key", sorted(SKLEARN_D2))
def test_d2_matches_scikit_learn(key, storage):
    name, params, (y, p, w) = _case(key)
    (loss,) = make_losses((name,), params, logits=False)
    (result,) = evaluate([loss], y, p, w, blocks=storage).overall
    assert result.baseline is not None
    assert result.baseline.d2 == pytest.approx(SKLEARN_D2[key], rel=1e-9, abs=1e-12)


def test_closed_forms_are_the_weighted_statistics():
    y, p, w = inputs.regression(True)
    losses = make_losses(("mse", "mae", "quantile"), {"quantile": 0.3}, logits=False)
    mse, mae, q3 = (r.baseline for r in evaluate(losses, y, p, w).overall)
    assert mse is not None and mae is not None and q3 is not None
    assert mse.constant == pytest.approx(float(np.average(y, weights=w)), rel=1e-13)
    for result, q in ((mae, 0.5), (q3, 0.3)):
        order = np.argsort(y)
        cum = np.cumsum(w[order])
        x1 = y[order][np.searchsorted(cum, q * cum[-1])]  # weighted inverted CDF
        assert result.constant == x1
    yb, pb, wb = inputs.binary(True)
    (bce,) = make_losses(("bce",), {}, logits=False)
    (logit_bce,) = make_losses(("bce",), {}, logits=True)
    rate = float(np.average(yb, weights=wb))
    (prob,) = evaluate([bce], yb, pb, wb).overall
    (lgt,) = evaluate([logit_bce], yb, np.log(pb / (1 - pb)), wb, logits=True).overall
    assert prob.baseline is not None and lgt.baseline is not None
    assert prob.baseline.constant == pytest.approx(rate, rel=1e-14)
    assert lgt.baseline.constant == pytest.approx(np.log(rate / (1 - rate)), rel=1e-13)
    # the same L₀ whichever space the predictions are read in
    assert lgt.baseline.value == pytest.approx(prob.baseline.value, rel=1e-12)
    ym, pm, wm = inputs.multiclass(True)
    (ce,) = make_losses(("ce",), {}, logits=False)
    (res,) = evaluate([ce], ym, pm, wm).overall
    assert res.baseline is not None
    freq = np.bincount(ym.astype(int), weights=wm) / wm.sum()
    np.testing.assert_allclose(res.baseline.constant, freq, rtol=1e-14)


def _brute_1d(loss: Loss, y, w, logits: bool, lo: float, hi: float) -> tuple[float, float]:
    """Grid search refined six times around the best point: no bracketing, no derivatives."""

    def mean_loss(c: float) -> float:
        pw = loss.pointwise(y, np.full(y.shape[0], c), logits=logits, strict=False)
        a, b = float_totals(pw, w)
        return a / b

    for _ in range(6):
        xs = np.linspace(lo, hi, 801)
        fs = np.array([mean_loss(x) for x in xs])
        j = int(fs.argmin())
        lo, hi = xs[max(j - 1, 0)], xs[min(j + 1, 800)]
    return float(xs[j]), float(fs[j])


def _counts(weighted: bool):
    y, _, w = inputs.regression(weighted)
    return np.abs(y).round(0), np.full(y.shape[0], 2.0), w


MINIMISED = [
    ("huber", {}, inputs.regression, False, (-5, 15)),
    ("huber", {"delta": 0.3}, inputs.regression, False, (-5, 15)),
    ("smooth_l1", {"beta": 0.5}, inputs.regression, False, (-5, 15)),
    ("log_cosh", {}, inputs.regression, False, (-5, 15)),
    ("epsilon_insensitive", {"epsilon": 0.5}, inputs.regression, False, (-5, 15)),
    ("poisson", {}, _counts, False, (1e-3, 10)),
    ("poisson", {}, _counts, True, (-3, 3)),
    ("bce", {"pos_weight": 2.0}, inputs.binary, False, (1e-6, 1 - 1e-6)),
    ("focal", {}, inputs.binary, False, (1e-6, 1 - 1e-6)),
    ("focal", {"gamma": 0.5, "alpha": 0.7}, inputs.binary, True, (-8, 8)),
    ("hinge", {}, inputs.binary, True, (-3, 3)),
    ("squared_hinge", {}, inputs.binary, True, (-3, 3)),
    ("modified_huber", {}, inputs.binary, True, (-3, 3)),
]


@pytest.mark.parametrize(
    "name,params,source,logits,bracket",
    MINIMISED,
    ids=[f"{m[0]}-{'-'.join(map(str, m[1].values()))}-{m[3]}" for m in MINIMISED],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_minimised_constant_matches_brute_force(
    name, params, source, logits, bracket, weighted, storage
):
    y, p, w = source(weighted)
    (loss,) = make_losses((name,), params, logits=logits)
    if logits and loss.task == "binary":
        p = np.log(p / (1 - p))
    (result,) = evaluate([loss], y, p, w, logits=logits, blocks=storage).overall
    assert result.baseline is not None
    c_brute, l_brute = _brute_1d(loss, y, w, logits, *bracket)
    # never worse than the grid's best, and no better than rounding allows
    assert result.baseline.value <= l_brute * (1 + 1e-12)
    assert result.baseline.value >= l_brute * (1 - 1e-9)
    if loss.smooth:
        assert result.baseline.constant == pytest.approx(c_brute, abs=1e-6)


@pytest.mark.parametrize(
    "name,params,logits",
    [
        ("cross_entropy", {"label_smoothing": 0.1}, True),
        ("cross_entropy", {"class_weights": "1,2,0.5,1"}, False),
        ("focal", {}, True),
        ("focal", {"gamma": 1.0}, False),
        ("kl_div", {}, False),
    ],
)
def test_softmax_constants_are_minima(name, params, logits):
    """K-D minimiser: the gradient of the mean loss at c* vanishes along the simplex."""
    y, p, w = inputs.multiclass(True)
    if name == "kl_div":
        y = np.random.default_rng(5).dirichlet(np.ones(4), y.shape[0])
    (loss,) = make_losses((name,), params, logits=logits)
    pred = np.log(p) if logits else p
    (result,) = evaluate([loss], y, pred, w, logits=logits).overall
    assert result.baseline is not None
    c = np.asarray(result.baseline.constant)
    z = c if logits else np.log(c)

    def mean_loss(z: np.ndarray) -> float:
        q = np.exp(z - z.max())
        q /= q.sum()
        pw = loss.pointwise(
            y, np.tile(np.log(q) if logits else q, (y.shape[0], 1)), logits=logits, strict=False
        )
        a, b = float_totals(pw, w)
        return a / b

    base = mean_loss(z)
    assert base == pytest.approx(result.baseline.value, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(40):  # every nearby point of the simplex is worse
        assert mean_loss(z + 1e-3 * rng.normal(size=4)) >= base - 1e-15


SERVED_TASKS = {
    "regression",
    "counts",
    "binary",
    "multi-class",
    "binary or multi-class",
    "distributions",
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_registered_loss_has_a_baseline(name):
    """Registry-driven: a loss without a closed form is served by the minimiser."""
    (loss,) = make_losses((name,), {}, logits=False)
    logits = loss.logit_space == "always"
    rng = np.random.default_rng(7)
    y, p = targets_and_predictions(loss, rng, 300, logits=logits)
    if str(loss.task) not in SERVED_TASKS:  # a new kind of loss: served, or refused cleanly
        try:
            evaluate([loss], y, p, None, logits=logits)
        except InputError as exc:
            assert str(exc).startswith("--baseline")
            return
    (result,) = evaluate([loss], y, p, None, logits=logits).overall
    b = result.baseline
    assert b is not None and np.isfinite(b.value)
    c = np.atleast_1d(np.asarray(b.constant, dtype=float))
    pred = np.tile(c, (y.shape[0], 1)) if c.size > 1 else np.full(y.shape[0], c[0])
    pw = loss.pointwise(y, pred, logits=logits, strict=False)
    assert loss.reduce_value(*float_totals(pw, None), "mean") == pytest.approx(b.value, rel=1e-12)
    if c.size == 1 and loss.space(logits) != "probability":
        for h in (1e-3, -1e-3):  # a step away is no better
            pw = loss.pointwise(y, pred + h, logits=logits, strict=False)
            assert loss.reduce_value(*float_totals(pw, None), "mean") >= b.value * (1 - 1e-12)


def test_selection_matches_a_full_sort_per_group(monkeypatch):
    """Quantiles by selection with 8 bins and 50-row collection: many passes, same answer."""
    monkeypatch.setattr(baseline_module, "BUCKETS", 8)
    monkeypatch.setattr(baseline_module, "COLLECT_ROWS", 50)
    monkeypatch.setattr(passes, "SUMMARY_CAP", 4)
    rng = np.random.default_rng(11)
    n = 20_000
    keys = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    y = np.where(keys == "b", rng.standard_cauchy(n), rng.normal(0, 1, n))
    y[:300] = 0.25  # a heavy tie
    w = rng.uniform(0.1, 2.0, n)
    losses = make_losses(("quantile",), {"quantile": 0.37}, logits=False)
    report = evaluate(losses, y, y + 1.0, w, blocks=7, keys=keys)
    frame = pd.DataFrame({"g": keys, "y": y, "w": w})

    def inverted_cdf(part: pd.DataFrame) -> float:
        part = part.sort_values("y", kind="stable")
        cum = part["w"].cumsum().to_numpy()
        return float(part["y"].to_numpy()[np.searchsorted(cum, 0.37 * cum[-1])])

    want = frame.groupby("g")[["y", "w"]].apply(inverted_cdf)
    assert report.groups is not None
    got = {g.key: g.results[0].baseline.constant for g in report.groups}  # type: ignore[union-attr]
    assert got == want.to_dict()
    overall = report.overall[0].baseline
    assert overall is not None and overall.constant == inverted_cdf(frame)


def test_median_of_an_even_count_is_the_midpoint():
    y = np.array([4.0, 1.0, 3.0, 2.0])
    (loss,) = make_losses(("mae",), {}, logits=False)
    (res,) = evaluate([loss], y, y, None).overall
    assert res.baseline is not None
    assert res.baseline.constant == 2.5  # averaged inverted CDF, as scikit-learn's D²
    assert res.baseline.value == 1.0
    assert res.baseline.d2 == 1.0  # perfect predictions


def test_constant_targets_have_no_d2():
    y = np.full(10, 3.0)
    (loss,) = make_losses(("mse",), {}, logits=False)
    (res,) = evaluate([loss], y, y + 1, None).overall
    assert res.baseline is not None
    assert (res.baseline.constant, res.baseline.value, res.baseline.d2) == (3.0, 0.0, None)
