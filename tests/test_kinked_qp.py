"""The kinked-loss + L2 solver (``qp``): exact optima, honest certificates.

Golden optima are literals from an independent exact QP — clarabel's interior
point on the epigraph form, tolerances 1e-12 — on the sample data
(tests/oracle/derive_kinked_qp.py, run with /work/oracle-venv; the objective
of each recomputed there in NumPy).  The tests never import clarabel.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.fit import kinked_qp, solvers
from losscli.fit.data import Blocks, InMemory
from losscli.fit.loop import StopReason, TrainConfig, fit
from losscli.fit.objective import Objective
from losscli.losses import make_loss
from losscli.train import TrainRequest, train

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"

# ---- clarabel exact QP, tolerances 1e-12 (tests/oracle/derive_kinked_qp.py) ----
QUANTILE_L2_OBJECTIVE = 22.999429600043353
QUANTILE_L2_COEF = [
    0.04863800701472371,
    0.3634494809333344,
    0.44239054597984573,
    0.11270826590792024,
    0.017486022531171753,
    0.014015505507389486,
    -0.08096077118604293,
    0.9390233010212474,
    3.14748074542669,
    0.11220710499823378,
]
MAE_L2_OBJECTIVE = 64.56611072973722
MAE_L2_COEF = [
    0.01064863582961258,
    -0.009086236964348727,
    0.10268079502233224,
    0.026061443996802797,
    0.004604374922663671,
    0.004381163177542526,
    -0.026546403880591422,
    0.2728696045406191,
    0.908239668216222,
    0.024826250906633842,
]
EPS_L2_OBJECTIVE = 59.25353042714278
EPS_L2_COEF = [
    0.02145561568073579,
    -0.018172474046549987,
    0.19913499131638954,
    0.051237689313576654,
    0.008451451339484998,
    0.0077601331346496185,
    -0.05149338184298175,
    0.5188866286066722,
    1.7709270899370553,
    0.049172104422328146,
]
HINGE_L2_OBJECTIVE = 0.06607775610605401
HINGE_L2_COEF = [
    -0.06887814156685289,
    -0.066514509250204,
    -0.009837706134181797,
    -0.0007493199420106989,
    5.907034987619425,
    4.924326947891834,
    -5.957203442475592,
    -11.724858445551344,
    -3.635912791645235,
    48.56836033378915,
    -1.7961414585707418,
    0.2624338768184249,
    -0.2027653256793271,
    -0.00903644271156678,
    -57.33136596656189,
    17.271578947510108,
    3.95405635738817,
    -33.02831088707065,
    11.599983465216118,
    118.19837088636794,
    -0.07314262569707591,
    -0.08264391327443153,
    -0.009514373218510034,
    -0.0006203835417736282,
    -16.06881880337654,
    -0.003949422536512501,
    -2.2434995573219765,
    -6.367396809625825,
    -6.761840006065365,
    -14.016186491977493,
]
QUANTILE_L2_WEIGHTED_OBJECTIVE = 24.313378773606647
QUANTILE_L2_WEIGHTED_COEF = [
    0.02783351630196,
    -0.1742809861167576,
    0.3618649070962421,
    0.08471323282167185,
    0.020698620014241158,
    0.01930344201516114,
    -0.09406801639677004,
    0.9645312350046599,
    3.416970825746927,
    0.09139817667577654,
]
HINGE_L2_WEIGHTED_OBJECTIVE = 0.06221794286997723
HINGE_L2_WEIGHTED_COEF = [
    -0.069955562425761,
    -0.09027781219476542,
    -0.009748879532263926,
    -0.0006991161129011025,
    3.5339682680714666,
    4.3387396275523615,
    -5.3319762168606655,
    -9.47990808674899,
    -2.219788805706181,
    44.288264392080855,
    -2.045035889802018,
    0.46582963005484657,
    -0.2197300588950589,
    -0.010220376338552844,
    -53.62050869700018,
    16.61454358999634,
    2.9655697809232873,
    -32.97599693784751,
    12.457208700202255,
    128.71671144716936,
    -0.07578874871591593,
    -0.06812438526273838,
    -0.009571896151515068,
    -0.0006379604159676872,
    -18.34734115850533,
    -0.24099356745195272,
    -2.218157782346041,
    -5.106617475719015,
    -6.71279653577879,
    -12.76953808745897,
]
HINGE_L2_NO_INTERCEPT_OBJECTIVE = 0.16626400708901196
HINGE_L2_NO_INTERCEPT_COEF = [
    0.04158561804408106,
    -0.013109397861003996,
    0.005922382012130102,
    -0.00015774170052467387,
    7.535778795087138,
    1.8573237908776659,
    -8.354227180412119,
    -14.97624507427074,
    2.992109489606411,
    17.706390970747716,
    -1.15991954537865,
    0.24056365484445935,
    -0.07773650022009959,
    -0.015937980042504213,
    -4.365399217152122,
    9.865366336697882,
    9.404188798268775,
    24.99177555455178,
    1.1340280029013163,
    64.45796302036597,
    0.01293405706426357,
    -0.02363831076750323,
    0.002000681946181335,
    -0.0006736670683472564,
    1.9779340448373508,
    -1.3454527056627539,
    -1.9795454103263768,
    -5.066692125463902,
    -0.7766809914871253,
    4.517680811316532,
]

QUANTILE_ENET_OBJECTIVE = 23.412757341684816
QUANTILE_ENET_COEF = [
    0.009714194467573184,
    3.091243594423281e-13,
    0.3322982735893139,
    0.07722121192129074,
    0.00356740132949993,
    7.423944734690974e-14,
    -0.04423872075035546,
    0.605045513307312,
    2.272601388661003,
    0.07089611597842908,
]
HINGE_ENET_OBJECTIVE = 0.1255080787915895
HINGE_ENET_COEF = [
    -0.034643866361323494,
    -0.0448722619200258,
    -0.002392675702611465,
    -0.0003885292924691438,
    -1.218320176864653e-12,
    1.4173455970463843e-12,
    -2.083871198091755,
    -8.074519632602605,
    -3.6320334261639175e-13,
    23.035569693528103,
    -1.2923091280994539,
    2.385264306727701e-13,
    -2.0499363214724092e-13,
    -0.002908456069957604,
    -2.0208977331724443e-10,
    2.1267329498825167,
    4.465136294921827e-14,
    -1.2213621565475346e-12,
    1.0654431127394459e-12,
    1.2739814529113285e-11,
    -0.11081469345041796,
    -0.0731151739166045,
    -0.011251936103000711,
    -0.0007556266879782351,
    -15.082180983549007,
    5.821953800772268e-14,
    -0.580608772108866,
    -4.7706015121799545,
    -5.452449620469473,
    -1.3852930989177846e-12,
]
EPS_ENET_OBJECTIVE = 59.49260678731903
EPS_ENET_COEF = [
    0.013528343548690954,
    -5.259648221440546e-15,
    0.1769864288019286,
    0.04414174831657788,
    0.005736641264110959,
    0.004816468394208232,
    -0.04462066685460655,
    0.44947662103772384,
    1.582870527949975,
    0.040909906618772404,
]


def run(file: str, loss: str, params=None, **kw):
    config = TrainConfig(optimizer=kw.pop("optimizer", "auto"), **kw.pop("config", {}))
    return train(
        TrainRequest(
            source=str(SAMPLES / file), loss=make_loss(loss, **(params or {})), config=config, **kw
        )
    )


def standardized(file: str, target: str):
    """(Z, y, σ) as the trainer builds them: population σ, centred features."""
    data = np.genfromtxt(SAMPLES / file, delimiter=",", names=True)
    names = [n for n in data.dtype.names if n != target]
    x = np.column_stack([data[n] for n in names]).astype(np.float64)
    sigma = x.std(axis=0)
    return (x - x.mean(axis=0)) / sigma, np.asarray(data[target], dtype=np.float64), sigma


def sample_weights(n: int):
    """The oracle's weights: 1 + (i mod 5)/2."""
    return 1.0 + (np.arange(n) % 5) / 2.0


def assert_exact(r, objective, coef):
    assert r.fit.optimizer == "qp"
    assert r.fit.stop_reason is StopReason.CONVERGED
    assert r.fit.certificate.kind == "duality_gap" and r.fit.certificate.bound
    assert r.fit.certificate.value <= 1e-12 * max(1.0, abs(r.fit.objective))
    assert r.fit.objective == pytest.approx(objective, rel=1e-9)
    scale = float(np.abs(coef).max())
    np.testing.assert_allclose(r.model.coef, coef, rtol=1e-6, atol=1e-7 * scale)


# ------------------------------------------------------------- exact optima


@pytest.mark.parametrize(
    ("loss", "params", "l2", "objective", "coef"),
    [
        ("quantile", {"quantile": 0.8}, 0.1, QUANTILE_L2_OBJECTIVE, QUANTILE_L2_COEF),
        ("mae", {}, 1.0, MAE_L2_OBJECTIVE, MAE_L2_COEF),
        ("epsilon_insensitive", {"epsilon": 5.0}, 0.5, EPS_L2_OBJECTIVE, EPS_L2_COEF),
    ],
)
def test_regression_optima_match_the_exact_qp(loss, params, l2, objective, coef):
    assert_exact(run("diabetes.csv", loss, params, l2=l2), objective, coef)


def test_hinge_optimum_matches_the_exact_qp():
    r = run("breast_cancer.csv", "hinge", l2=0.01, target="target")
    assert_exact(r, HINGE_L2_OBJECTIVE, HINGE_L2_COEF)


def test_hinge_without_intercept_matches_the_exact_qp():
    r = run("breast_cancer.csv", "hinge", l2=0.01, target="target", intercept=False)
    assert_exact(r, HINGE_L2_NO_INTERCEPT_OBJECTIVE, HINGE_L2_NO_INTERCEPT_COEF)
    assert r.model.intercept[0] == 0.0


@pytest.mark.parametrize(
    ("file", "target", "loss", "params", "l2", "objective", "coef"),
    [
        (
            "diabetes.csv",
            "y",
            "quantile",
            {"quantile": 0.3},
            0.1,
            QUANTILE_L2_WEIGHTED_OBJECTIVE,
            QUANTILE_L2_WEIGHTED_COEF,
        ),
        (
            "breast_cancer.csv",
            "target",
            "hinge",
            {},
            0.01,
            HINGE_L2_WEIGHTED_OBJECTIVE,
            HINGE_L2_WEIGHTED_COEF,
        ),
    ],
)
def test_sample_weights_match_the_exact_qp(file, target, loss, params, l2, objective, coef):
    """Sample weights live on the DataSource (the trainer has none): the solver level."""
    z, y, sigma = standardized(file, target)
    obj = Objective(make_loss(loss, **params), z.shape[1], logits=loss == "hinge", l2=l2)
    r = solve(obj, InMemory(z, y, sample_weights(len(y))))
    assert r.converged and r.certificate.kind == "duality_gap"
    assert r.objective == pytest.approx(objective, rel=1e-9)
    w = np.asarray(coef) * sigma  # the oracle's coefficients, back on the standardized scale
    np.testing.assert_allclose(r.theta[:-1], w, rtol=1e-6, atol=1e-7 * float(np.abs(w).max()))


def solve(obj, data, **kw):
    kw = {"tol": 1e-12, "max_iter": 500, **kw}
    return kinked_qp.qp(obj, data, np.zeros(obj.size), **kw)


def random_problem(loss: str, n: int = 400, d: int = 5, seed: int = 7, **kw):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    s = x @ rng.normal(size=d)
    if loss == "hinge":
        y = (s + 0.7 * rng.normal(size=n) > 0.2).astype(float)
    else:
        y = s + 3.0 + rng.standard_t(3, size=n)
    params = {"quantile": {"quantile": 0.7}, "epsilon_insensitive": {"epsilon": 0.3}}
    loss_obj = make_loss(loss, **params.get(loss, {}))
    return Objective(loss_obj, d, logits=loss == "hinge", **kw), x, y


@pytest.mark.parametrize("loss", ["quantile", "mae", "epsilon_insensitive", "hinge"])
def test_integer_weights_equal_repeated_rows(loss):
    obj, x, y = random_problem(loss, l2=0.05)
    reps = (np.arange(len(y)) % 3) + 1
    weighted = solve(obj, InMemory(x, y, reps.astype(float)))
    repeated = solve(obj, InMemory(np.repeat(x, reps, axis=0), np.repeat(y, reps)))
    assert weighted.converged and repeated.converged
    assert weighted.objective == pytest.approx(repeated.objective, rel=1e-12)
    np.testing.assert_allclose(weighted.theta[:-1], repeated.theta[:-1], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("loss", ["quantile", "mae", "epsilon_insensitive"])
def test_intercept_is_unpenalised(loss):
    """Shifting y by a constant moves only b (an L2 on b would pull it toward 0)."""
    obj, x, y = random_problem(loss, l2=0.2)
    base = fit(obj, x, y, TrainConfig())
    shifted = fit(obj, x, y + 1000.0, TrainConfig())
    assert shifted.stop_reason is StopReason.CONVERGED
    assert shifted.objective == pytest.approx(base.objective, rel=1e-10)
    np.testing.assert_allclose(shifted.theta[:-1], base.theta[:-1], rtol=1e-7, atol=1e-10)
    assert shifted.theta[-1] - base.theta[-1] == pytest.approx(1000.0, rel=1e-10)


def test_without_the_penalty_qp_meets_the_lp_in_the_limit():
    """λ → 0: the QP optimum's objective tends to the LP's (from above, by at most O(λ))."""
    obj, x, y = random_problem("quantile")
    exact = fit(obj, x, y, TrainConfig(optimizer="lp")).objective
    for lam in (1e-4, 1e-6):
        obj_l2 = random_problem("quantile", l2=lam)[0]
        r = fit(obj_l2, x, y, TrainConfig())
        loss_only = r.objective - obj_l2.l2_penalty(r.theta)
        assert r.stop_reason is StopReason.CONVERGED
        assert exact - 1e-9 <= loss_only <= r.objective <= exact + 50 * lam


# ------------------------------------------------------------- the certificate


def true_optimum(obj, x, y):
    return fit(obj, x, y, TrainConfig(optimizer="qp", tol=0.0)).objective


@pytest.mark.parametrize("loss", ["quantile", "mae", "epsilon_insensitive", "hinge"])
def test_gap_bounds_the_true_excess_at_any_point(loss):
    obj, x, y = random_problem(loss, l2=0.05)
    best = fit(obj, x, y, TrainConfig())
    k = kinked_qp.Kinked.of(obj, InMemory(x, y))
    rng = np.random.default_rng(0)
    for scale in (1e-6, 1e-3, 0.1, 1.0):
        theta = best.theta + scale * rng.normal(size=best.theta.shape)
        a = k.side(k.residuals(theta))
        primal, gap = kinked_qp.gap_at(k, theta, a, None)
        assert primal == pytest.approx(obj.value(theta, x, y), rel=1e-12)
        assert gap >= primal - best.objective - 1e-12 * abs(primal)
        assert gap > 0


def test_stopped_early_is_not_converged_and_its_gap_still_bounds():
    obj, x, y = random_problem("hinge", n=2000, l2=1e-3)
    optimum = fit(obj, x, y, TrainConfig()).objective
    r = fit(obj, x, y, TrainConfig(optimizer="qp", epochs=2))
    assert r.stop_reason in (StopReason.MAX_EPOCHS, StopReason.NOT_OPTIMAL)
    assert r.certificate.value >= r.objective - optimum >= 0.0
    assert not r.certificate.certifies(r.objective, 1e-10)


def test_balance_restores_the_equality_inside_the_boxes():
    obj, x, y = random_problem("quantile", l2=0.05)
    k = kinked_qp.Kinked.of(obj, InMemory(x, y, sample_weights(len(y))))
    a = np.clip(np.random.default_rng(1).normal(scale=0.4, size=len(y)), k.lo, k.hi)
    out = kinked_qp._balance(k, a, None)
    assert out is not None
    assert abs(float(k.s @ (k.z * out))) <= 1e-12 * float(k.s.sum())
    assert out.min() >= k.lo and out.max() <= k.hi
    # The zone rows are preferred: the others stay where they were.
    zone = np.zeros(len(y), dtype=bool)
    zone[:50] = True
    a = np.full(len(y), 0.01)
    out = kinked_qp._balance(k, a, zone)
    assert out is not None and abs(float(k.s @ out)) <= 1e-12 * float(k.s.sum())
    assert np.array_equal(out[50:], a[50:])


# ------------------------------------------------------------- choice, CLI, errors


@pytest.mark.parametrize(
    ("loss", "kw", "expected"),
    [
        ("mae", {"l2": 0.1}, "qp"),
        ("quantile", {"l2": 1e-4}, "qp"),
        ("epsilon_insensitive", {"l2": 1.0}, "qp"),
        ("hinge", {"l2": 1e-4}, "qp"),
        ("hinge", {"l2": 1e-4, "l1": 1e-3}, "qp"),  # elastic net
        ("mae", {"l1": 1e-3}, "lp"),
        ("quantile", {}, "lp"),
    ],
)
def test_auto_picks_qp_for_kinked_losses_with_l2(loss, kw, expected):
    obj = Objective(make_loss(loss), 20, logits=loss == "hinge", **kw)
    name, why = solvers.choose(obj, 100_000)
    assert name == expected
    assert ("QP" in why) == (expected == "qp")


@pytest.mark.parametrize(
    ("file", "target", "loss", "params", "l2", "l1", "objective", "coef"),
    [
        (
            "diabetes.csv",
            "y",
            "quantile",
            {"quantile": 0.8},
            0.1,
            0.05,
            QUANTILE_ENET_OBJECTIVE,
            QUANTILE_ENET_COEF,
        ),
        (
            "breast_cancer.csv",
            "target",
            "hinge",
            {},
            0.01,
            0.01,
            HINGE_ENET_OBJECTIVE,
            HINGE_ENET_COEF,
        ),
        (
            "diabetes.csv",
            "y",
            "epsilon_insensitive",
            {"epsilon": 5.0},
            0.5,
            0.05,
            EPS_ENET_OBJECTIVE,
            EPS_ENET_COEF,
        ),
    ],
)
def test_elastic_net_matches_the_exact_qp_with_exact_zeros(
    file, target, loss, params, l2, l1, objective, coef
):
    r = run(file, loss, params, l2=l2, l1=l1, target=target)
    assert "elastic net" in r.fit.choice
    assert_exact(r, objective, coef)
    # The oracle's zeros (|c| < 1e-9 of the largest) are exact zeros here.
    scale = max(abs(c) for c in coef)
    assert [i for i, c in enumerate(coef) if abs(c) < 1e-9 * scale] == [
        i for i, c in enumerate(r.model.coef) if c == 0.0
    ]


def test_cli_reports_qp_its_choice_and_the_gap():
    argv = ["train", str(SAMPLES / "breast_cancer.csv"), "--loss", "hinge", "--l2", "0.01"]
    result = CliRunner().invoke(cli, [*argv, "--target", "target", "-f", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["optimizer"] == "qp" and "QP" in out["optimizer_choice"]
    assert out["stop_reason"] == "converged"
    assert out["gap"]["kind"] == "duality_gap" and out["gap"]["bound"] is True
    assert out["objective"] == pytest.approx(HINGE_L2_OBJECTIVE, rel=1e-9)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ([], "qp needs --l2 > 0"),
        (["--l2", "0.1", "--loss", "mse"], "qp fits the kinked losses"),
    ],
)
def test_cli_errors_for_qp(flags, message):
    argv = ["train", str(SAMPLES / "diabetes.csv"), "--optimizer", "qp", "--loss", "mae", *flags]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 3


def test_qp_needs_the_rows_in_memory():
    obj, x, y = random_problem("mae", l2=0.1)
    with pytest.raises(Exception, match="in memory"):
        kinked_qp.qp(obj, Blocks.split(x, y, 100), np.zeros(obj.size), tol=1e-10, max_iter=10)


@pytest.mark.parametrize("loss", ["quantile", "hinge"])
def test_zero_weight_rows_are_the_same_as_dropped_rows(loss):
    obj, x, y = random_problem(loss, l2=0.05)
    keep = np.arange(len(y)) % 4 != 0
    weighted = solve(obj, InMemory(x, y, keep.astype(float)))
    dropped = solve(obj, InMemory(x[keep], y[keep]))
    assert weighted.converged and dropped.converged
    assert weighted.objective == pytest.approx(dropped.objective, rel=1e-12)
    np.testing.assert_allclose(weighted.theta, dropped.theta, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    ("loss", "params"),
    [("quantile", {"quantile": 0.5}), ("mae", {}), ("epsilon_insensitive", {"epsilon": 0.5})],
)
def test_ties_and_duplicated_rows_still_certify(loss, params):
    """8 distinct feature rows, integer targets: thousands of rows sit exactly on a kink."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(3000, 3)).astype(float)
    y = rng.integers(0, 6, size=3000).astype(float) + x[:, 0]
    obj = Objective(make_loss(loss, **params), 3, l2=1e-3)
    r = solve(obj, InMemory(x, y))
    assert r.converged and r.certificate.value <= 1e-12 * max(1.0, r.objective)
    for step in np.eye(4) * 1e-4:  # and no nearby point is lower
        for sign in (1.0, -1.0):
            assert obj.value(r.theta + sign * step, x, y) >= r.objective - 1e-12
