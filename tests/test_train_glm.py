"""Training with the Tweedie-family losses reaches scikit-learn's GLM optima.

Golden optima: scikit-learn 1.9 GammaRegressor, PoissonRegressor and
TweedieRegressor(power=1.5, link='log') with alpha = λ2/2 on standardized
features (tests/oracle/derive_glm.py states the mapping and prints these).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from losscli.fit.loop import StopReason
from losscli.losses import make_loss
from losscli.losses.links import LOG
from losscli.train import TrainRequest, train

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
L2 = 0.02

GAMMA_COEF = [
    -7.584705388332789e-05,
    -0.18250186117337966,
    0.03233909609448595,
    0.007537708396224262,
    -0.004541802374601617,
    0.004047093844278214,
    -0.00549952188320682,
    -0.016493326643459233,
    0.4376276867406012,
    0.0010337098566739352,
]
GAMMA_INTERCEPT = 2.268797353076516
POISSON_COEF = [
    7.274083211983102e-05,
    -0.15144281115668423,
    0.03209697663005637,
    0.0071659449641361984,
    -0.01221503700245555,
    0.011120601925967347,
    0.004534079149066779,
    0.0062240435788781185,
    0.6265234372064852,
    0.0014896088233745913,
]
POISSON_INTERCEPT = 1.382689749640523
TWEEDIE_1_5_COEF = [
    -7.28034970317727e-05,
    -0.16780763315265013,
    0.032194221679632234,
    0.007367958894597191,
    -0.010185971935347394,
    0.009338552477876556,
    0.0013202205802616213,
    -0.004082317656160298,
    0.5784758544524748,
    0.0011752777704509166,
]
TWEEDIE_1_5_INTERCEPT = 1.6670858961460024

CASES = [
    ("gamma", {}, GAMMA_COEF, GAMMA_INTERCEPT),
    ("poisson_deviance", {}, POISSON_COEF, POISSON_INTERCEPT),
    ("tweedie", {"power": 1.5}, TWEEDIE_1_5_COEF, TWEEDIE_1_5_INTERCEPT),
]


@pytest.mark.parametrize(("loss", "params", "coef", "intercept"), CASES, ids=[c[0] for c in CASES])
def test_glm_reaches_the_sklearn_optimum(loss, params, coef, intercept):
    r = train(
        TrainRequest(source=str(SAMPLES / "diabetes.csv"), loss=make_loss(loss, **params), l2=L2)
    )
    assert r.fit.stop_reason is StopReason.CONVERGED
    assert r.model.link is LOG
    np.testing.assert_allclose(r.model.coef, coef, rtol=1e-6, atol=1e-12)
    assert r.model.intercept[0] == pytest.approx(intercept, rel=1e-6)


@pytest.mark.parametrize(
    ("loss", "file"),
    [
        ("brier", "breast_cancer.csv"),
        ("perceptron", "breast_cancer.csv"),
        ("poly1", "breast_cancer.csv"),
        ("poly1", "iris.csv"),
        ("brier", "iris.csv"),
        ("multiclass_hinge", "iris.csv"),
        ("categorical_hinge", "iris.csv"),
        ("mape", "diabetes.csv"),
        ("msle", "diabetes.csv"),
        ("expectile", "diabetes.csv"),
    ],
)
def test_new_losses_train_a_model_that_beats_the_constant(loss, file):
    r = train(TrainRequest(source=str(SAMPLES / file), loss=make_loss(loss), l2=0.01))
    history = r.fit.history
    assert history[-1].loss < history[0].loss


def test_train_refuses_losses_it_has_no_model_for():
    from losscli.errors import InputError

    with pytest.raises(InputError, match="train has no model for gaussian_nll"):
        train(TrainRequest(source=str(SAMPLES / "diabetes.csv"), loss=make_loss("gaussian_nll")))
