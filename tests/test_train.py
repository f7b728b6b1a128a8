"""Training converges to known optima; every optimizer descends; fits are deterministic.

Golden optima are literals derived by tests/oracle/derive_train.py (numpy
lstsq, scikit-learn 1.9 Lasso, Newton's method for L2-logistic).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from losscli._types import ModelKind
from losscli.fit.loop import StopReason, TrainConfig, fit
from losscli.fit.objective import Objective
from losscli.fit.optimizers import OPTIMIZERS
from losscli.losses import make_loss
from losscli.losses.links import LOG
from losscli.train import TrainRequest, train

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"

# numpy 2.4 linalg.lstsq on sample_data/diabetes.csv with an intercept column
LSTSQ_COEF = [
    -0.036361224223630265,
    -22.85964809049842,
    5.602962091923681,
    1.1168079933181856,
    -1.0899963340632295,
    0.7464504555142166,
    0.3720047150891398,
    6.533831935990305,
    68.48312496478817,
    0.28011698932150486,
]
LSTSQ_INTERCEPT = -334.56713851878646

# sklearn 1.9 Lasso(alpha=0.5, tol=1e-14) on StandardScaler(diabetes), mapped back to the
# original scale: our mse objective (1/n)‖r‖² + λ1‖w‖₁ with λ1 = 1 is Lasso's with α = λ1/2
LASSO_COEF = [
    -0.0,
    -20.61621900323773,
    5.661605879137458,
    1.061784035248626,
    -0.22491597334324573,
    -0.0,
    -0.6526674192164474,
    2.56202072391914,
    47.82500752147285,
    0.253144349474751,
]
LASSO_INTERCEPT = -247.88881139673697

# Newton's method to machine precision for mean log-loss + (0.01/2)‖w‖² on
# StandardScaler(breast_cancer) (scikit-learn 1.9 LogisticRegression(C=1/(n·0.01)) in a
# StandardScaler pipeline agrees to 3.6e-6, its lbfgs tolerance), mapped back to raw scale
LOGISTIC_STD_COEF = [
    -0.11816529151326022,
    -0.10587660289738644,
    -0.01663851861850334,
    -0.0011777204224640609,
    -11.379801480941158,
    1.8039152794816864,
    -5.902549609889261,
    -14.08327988718159,
    -1.6193502481856283,
    41.41065179564071,
    -2.3296793956045887,
    0.1403931274996952,
    -0.222447977246005,
    -0.010849386537902628,
    -31.230633667401126,
    21.465352142425196,
    1.4113053353323528,
    -27.44257075824532,
    22.603734507900786,
    127.70963661029089,
    -0.1304165234029882,
    -0.11748370512279015,
    -0.016835562936378026,
    -0.0010120253148092574,
    -22.249821098683817,
    -0.7234589453491573,
    -2.4564700384626863,
    -9.302049094957,
    -8.602857503436983,
    -10.481800873850215,
]
LOGISTIC_STD_INTERCEPT = 23.2483452098913
# Newton's method, the same objective with the penalty on the raw coefficients
# (= LogisticRegression(C=1/(n·0.01)) on unscaled features, whose lbfgs only gets to 1e-2)
LOGISTIC_RAW_COEF = [
    0.2627309400574668,
    0.12548303321995496,
    -0.2110724082053327,
    0.029907760602136506,
    -0.03938673812970593,
    -0.06487873567871781,
    -0.12986613313898832,
    -0.06564434767148508,
    -0.058190886783338155,
    -0.00933198590536675,
    -0.015017422162015154,
    0.37634195989053315,
    0.11177365174238967,
    -0.08966885505599649,
    -0.0050133074846169315,
    0.005366130816851182,
    -0.014765367885970071,
    -0.00819660403073731,
    -0.008647777956232977,
    0.0015012062870132744,
    0.06477492672787498,
    -0.3563508582407488,
    -0.17555048278619922,
    -0.012139966306782117,
    -0.07953675905954065,
    -0.2228142423415439,
    -0.36859627198622846,
    -0.13724074397794947,
    -0.16635765519645868,
    -0.029234732969474243,
]
LOGISTIC_RAW_INTERCEPT = 34.16801377358012


def run(file: str, loss: str = "mse", **kw):
    config = kw.pop("config", TrainConfig())
    return train(
        TrainRequest(source=str(SAMPLES / file), loss=make_loss(loss), config=config, **kw)
    )


def test_mse_gd_reaches_least_squares():
    r = run("diabetes.csv")
    assert r.fit.stop_reason is StopReason.CONVERGED
    np.testing.assert_allclose(r.model.coef, LSTSQ_COEF, rtol=1e-8)
    assert r.model.intercept[0] == pytest.approx(LSTSQ_INTERCEPT, rel=1e-6)


def test_l1_gives_exact_zeros_and_the_lasso_optimum():
    r = run("diabetes.csv", l1=1.0)
    zeros = [i for i, c in enumerate(LASSO_COEF) if c == 0]
    assert [i for i, c in enumerate(r.model.coef) if c == 0.0] == zeros
    np.testing.assert_allclose(r.model.coef, LASSO_COEF, rtol=1e-6, atol=1e-9)
    assert r.model.intercept[0] == pytest.approx(LASSO_INTERCEPT, rel=1e-6)


def test_logistic_l2_reaches_the_standardized_optimum():
    r = run("breast_cancer.csv", "bce", l2=0.01)
    np.testing.assert_allclose(r.model.coef, LOGISTIC_STD_COEF, rtol=1e-6)
    assert r.model.intercept[0] == pytest.approx(LOGISTIC_STD_INTERCEPT, rel=1e-6)


def test_logistic_l2_no_standardize_reaches_the_raw_optimum():
    r = run("breast_cancer.csv", "bce", l2=0.01, standardize=False)
    assert r.fit.stop_reason is StopReason.CONVERGED
    np.testing.assert_allclose(r.model.coef, LOGISTIC_RAW_COEF, rtol=1e-5)
    assert r.model.intercept[0] == pytest.approx(LOGISTIC_RAW_INTERCEPT, rel=1e-6)


def convex_problem():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=300) > 0).astype(float)
    return Objective(make_loss("bce"), 4, logits=True, l2=0.01), x, y


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n not in ("lp", "qp")])  # kinked only
def test_every_optimizer_decreases_a_convex_objective(name):
    obj, x, y = convex_problem()
    start = obj.value(np.zeros(obj.size), x, y)
    result = fit(obj, x, y, TrainConfig(optimizer=name, epochs=30))
    assert result.stop_reason is not StopReason.DIVERGED
    assert result.objective < start - 0.1
    best = fit(obj, x, y, TrainConfig()).objective
    assert result.objective == pytest.approx(best, rel=2e-2)


def test_history_has_one_record_per_epoch():
    obj, x, y = convex_problem()
    result = fit(obj, x, y, TrainConfig(optimizer="sgd", epochs=7, tol=0.0))
    assert [r.epoch for r in result.history] == list(range(1, 8))
    assert result.stop_reason is StopReason.MAX_EPOCHS


def test_same_seed_same_bits_other_seed_other_path():
    obj, x, y = convex_problem()
    a = fit(obj, x, y, TrainConfig(optimizer="adam", epochs=5, seed=3))
    b = fit(obj, x, y, TrainConfig(optimizer="adam", epochs=5, seed=3))
    c = fit(obj, x, y, TrainConfig(optimizer="adam", epochs=5, seed=4))
    assert a.theta.tobytes() == b.theta.tobytes()
    assert a.theta.tobytes() != c.theta.tobytes()


def test_fixed_huge_learning_rate_diverges():
    obj, x, y = convex_problem()
    obj = Objective(make_loss("mse"), 4)
    result = fit(obj, x * 1e3, y, TrainConfig(lr=1e6, epochs=50))
    assert result.stop_reason is StopReason.DIVERGED


def test_validation_split_restores_the_best_weights():
    r = run(
        "breast_cancer.csv",
        "bce",
        val_split=0.25,
        config=TrainConfig(optimizer="sgd", lr=0.5, patience=3),
    )
    assert r.n_validation == 142 and r.n_train == 427
    assert r.fit.stop_reason in (StopReason.EARLY_STOPPING, StopReason.MAX_EPOCHS)
    best = min(h.val_loss for h in r.fit.history)
    assert r.metrics["validation"]["log_loss"] == pytest.approx(best, rel=1e-9)


def test_softmax_and_focal_models_train_and_report_metrics():
    soft = run("iris.csv", "ce", l2=0.01)
    assert soft.model.kind == "softmax" and soft.model.classes == (
        "setosa",
        "versicolor",
        "virginica",
    )
    assert soft.model.coef.shape == (4, 3)
    assert soft.metrics["train"]["accuracy"] > 0.9
    focal = run("imbalanced.csv", "focal", l2=0.001)
    assert focal.model.kind == "logistic"
    assert set(focal.metrics["train"]) == {
        "accuracy",
        "log_loss",
        "precision",
        "recall",
        "f1",
        "roc_auc",
    }
    assert focal.fit.stop_reason is StopReason.CONVERGED


def test_poisson_fits_a_log_link():
    r = run("diabetes.csv", "poisson")
    assert (r.model.kind, r.model.link) == (ModelKind.LINEAR, LOG)
    assert r.fit.stop_reason is StopReason.CONVERGED


def test_no_intercept_keeps_it_zero():
    r = run("diabetes.csv", intercept=False)
    assert r.model.intercept[0] == 0.0
