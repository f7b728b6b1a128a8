"""The full-batch solvers reach the exact optimum, and their certificates hold.

Golden optima are literals from scikit-learn's exact solvers on the sample
data (tests/oracle/derive_solvers.py, run with /work/oracle-venv: scikit-learn
1.9.1); the objectives are written out there.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.fit import solvers
from losscli.fit.data import Blocks, InMemory, sum_partials
from losscli.fit.loop import StopReason, TrainConfig, fit
from losscli.fit.objective import Objective
from losscli.losses import make_loss
from losscli.train import TrainRequest, train

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"

# ---- scikit-learn 1.9.1 (tests/oracle/derive_solvers.py) -------------------
MSE_COEF = [
    -0.036361224223623534,
    -22.859648090498354,
    5.602962091923719,
    1.1168079933181838,
    -1.0899963340632226,
    0.7464504555142124,
    0.3720047150891379,
    6.53383193599034,
    68.48312496478829,
    0.2801169893214981,
]
MSE_INTERCEPT = -334.5671385187875
MSE_OBJECTIVE = 2859.6963475867506
LASSO_COEF = [
    -0.0,
    -20.61621900323757,
    5.661605879137485,
    1.0617840352486294,
    -0.22491597334328112,
    -0.0,
    -0.652667419216325,
    2.5620207239204116,
    47.82500752147319,
    0.25314434947475056,
]
LASSO_OBJECTIVE = 2973.6761124552686
POISSON_COEF = [
    7.184372465731761e-05,
    -0.1514983338894854,
    0.03208607532092746,
    0.007166607022578636,
    -0.012297818006946369,
    0.011195370028967864,
    0.004632757638312519,
    0.006470316958402876,
    0.6288270651247718,
    0.0014888991741036199,
]
POISSON_OBJECTIVE = -622.3924303345264
QUANTILE_OBJECTIVE = 14.956426803405817
BCE_COEF = [
    -0.11816529151326018,
    -0.10587660289738647,
    -0.016638518618503347,
    -0.0011777204224640615,
    -11.379801480941158,
    1.8039152794816864,
    -5.902549609889259,
    -14.0832798871816,
    -1.6193502481856314,
    41.4106517956407,
    -2.329679395604586,
    0.1403931274996946,
    -0.22244797724600504,
    -0.01084938653790264,
    -31.230633667401,
    21.465352142425196,
    1.411305335332342,
    -27.442570758245328,
    22.60373450790078,
    127.70963661029086,
    -0.13041652340298815,
    -0.11748370512279008,
    -0.01683556293637804,
    -0.0010120253148092572,
    -22.24982109868382,
    -0.7234589453491587,
    -2.4564700384626845,
    -9.302049094956997,
    -8.602857503436981,
    -10.481800873850203,
]
BCE_OBJECTIVE = 0.09959137548470548
CE_COEF = [
    [-1.1828615973942633, 0.5953364937018695, 0.5875251036923945],
    [2.3942446216288285, -0.8614677044573963, -1.5327769171714307],
    [-0.9626507014294703, -0.13795985492027427, 1.1006105563497441],
    [-2.0880324986983028, -0.9383909378080598, 3.0264234365063634],
]
CE_OBJECTIVE = 0.243677226649395


def run(file: str, loss: str = "mse", optimizer: str = "auto", params=None, **kw):
    config = TrainConfig(optimizer=optimizer, **kw.pop("config", {}))
    return train(
        TrainRequest(
            source=str(SAMPLES / file), loss=make_loss(loss, **(params or {})), config=config, **kw
        )
    )


# ------------------------------------------------------------- exact optima


@pytest.mark.parametrize("optimizer", ["auto", "newton", "lbfgs"])
def test_mse_reaches_least_squares(optimizer):
    r = run("diabetes.csv", optimizer=optimizer)
    assert r.fit.stop_reason is StopReason.CONVERGED
    tight = optimizer != "lbfgs"
    np.testing.assert_allclose(r.model.coef, MSE_COEF, rtol=1e-10 if tight else 1e-5)
    assert r.model.intercept[0] == pytest.approx(MSE_INTERCEPT, rel=1e-10 if tight else 1e-6)
    assert r.fit.objective == pytest.approx(MSE_OBJECTIVE, rel=1e-13)


@pytest.mark.parametrize("optimizer", ["auto", "newton", "lbfgs"])
def test_logistic_l2_optimum(optimizer):
    r = run("breast_cancer.csv", "bce", optimizer, l2=0.01)
    assert r.fit.stop_reason is StopReason.CONVERGED
    np.testing.assert_allclose(r.model.coef, BCE_COEF, rtol=1e-5 if optimizer == "lbfgs" else 1e-8)
    assert r.fit.objective == pytest.approx(BCE_OBJECTIVE, rel=1e-12)
    # the certificate's promise: within tol = 1e-14 of the optimum (Newton: to rounding)
    assert r.fit.objective <= BCE_OBJECTIVE + (1e-14 if optimizer == "lbfgs" else 1e-16)


@pytest.mark.parametrize("optimizer", ["auto", "newton", "lbfgs"])
def test_softmax_l2_optimum(optimizer):
    r = run("iris.csv", "ce", optimizer, l2=0.01)
    assert r.fit.stop_reason is StopReason.CONVERGED
    # scikit-learn's lbfgs stops 1.3e-14 above the optimum (its tolerance), so
    # its coefficients agree to ~1e-6 only; ours are lower and certified.
    np.testing.assert_allclose(r.model.coef, CE_COEF, rtol=5e-6, atol=1e-9)
    assert r.fit.objective == pytest.approx(CE_OBJECTIVE, rel=1e-12)
    assert r.fit.objective <= CE_OBJECTIVE
    exact = run("iris.csv", "ce", "newton", l2=0.01, config={"tol": 1e-20})
    np.testing.assert_allclose(r.model.coef, exact.model.coef, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("optimizer", ["auto", "newton"])
def test_poisson_l2_optimum(optimizer):
    r = run("diabetes.csv", "poisson", optimizer, l2=1e-3)
    assert r.fit.stop_reason is StopReason.CONVERGED
    np.testing.assert_allclose(r.model.coef, POISSON_COEF, rtol=1e-8, atol=1e-12)
    assert r.fit.objective == pytest.approx(POISSON_OBJECTIVE, rel=1e-12)


@pytest.mark.parametrize("optimizer", ["auto", "lp"])
def test_quantile_lp_optimum(optimizer):
    r = run("diabetes.csv", "quantile", optimizer, params={"quantile": 0.8})
    assert r.fit.optimizer == "lp"
    assert r.fit.stop_reason is StopReason.CONVERGED
    assert r.fit.certificate.kind == "duality_gap"
    assert r.fit.objective == pytest.approx(QUANTILE_OBJECTIVE, rel=1e-9)


@pytest.mark.parametrize("optimizer", ["auto", "prox_newton"])
def test_lasso_optimum_with_exact_zeros(optimizer):
    r = run("diabetes.csv", optimizer=optimizer, l1=1.0)
    assert r.fit.optimizer == "prox_newton"
    assert r.fit.stop_reason is StopReason.CONVERGED
    assert [i for i, c in enumerate(r.model.coef) if c == 0.0] == [
        i for i, c in enumerate(LASSO_COEF) if c == 0.0
    ]
    np.testing.assert_allclose(r.model.coef, LASSO_COEF, rtol=1e-8, atol=1e-12)
    assert r.fit.objective == pytest.approx(LASSO_OBJECTIVE, rel=1e-12)


def random_problem(loss: str, n: int = 600, d: int = 4, seed: int = 3, **kw):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    s = x @ rng.normal(size=d)
    y = {
        "mse": s + rng.normal(size=n),
        "bce": (rng.random(n) < 1 / (1 + np.exp(-s))).astype(float),
        "poisson": rng.poisson(np.exp(0.3 * s)).astype(float),
        "quantile": s + rng.standard_t(3, size=n),
        "mae": s + rng.standard_t(3, size=n),
        "epsilon_insensitive": s + rng.normal(size=n),
        "hinge": (s + rng.normal(size=n) > 0).astype(float),
    }[loss]
    logits = loss in ("bce", "poisson", "hinge")
    return Objective(make_loss(loss), d, logits=logits, **kw), x, y


@pytest.mark.parametrize(
    ("loss", "kw"),
    [("mse", {}), ("bce", {"l2": 0.01}), ("poisson", {"l2": 1e-3}), ("mse", {"l1": 0.05})],
)
def test_blocks_and_memory_reach_the_same_optimum(loss, kw):
    """The DataSource contract: many blocks give the one-block optimum (exact sums)."""
    obj, x, y = random_problem(loss, **kw)
    method = "prox_newton" if kw.get("l1") else "newton"
    one = solvers.SOLVERS[method](obj, InMemory(x, y), np.zeros(obj.size), tol=1e-14, max_iter=50)
    many = solvers.SOLVERS[method](
        obj, Blocks.split(x, y, 77), np.zeros(obj.size), tol=1e-14, max_iter=50
    )
    assert one.converged and many.converged
    np.testing.assert_allclose(many.theta, one.theta, rtol=1e-10, atol=1e-13)
    assert many.objective == pytest.approx(one.objective, rel=1e-14)


def test_sum_partials_is_exact():
    parts = [(1e16, np.array([1e16, 1.0])), (1.0, np.array([-1e16, 1.0])), (-1e16, np.zeros(2))]
    total, vec = sum_partials(parts)
    assert total == 1.0
    assert vec.tolist() == [0.0, 2.0]


@pytest.mark.parametrize("loss", ["quantile", "mae", "epsilon_insensitive", "hinge"])
@pytest.mark.parametrize("l1", [0.0, 0.02])
def test_lp_optimum_beats_every_nearby_point(loss, l1):
    obj, x, y = random_problem(loss, l1=l1)
    out = solvers.lp(obj, InMemory(x, y), tol=1e-9)
    assert out.converged and out.certificate.value <= 1e-9 * max(1.0, out.objective)
    rng = np.random.default_rng(0)
    for _ in range(30):
        probe = out.theta + 1e-3 * rng.normal(size=obj.size)
        assert obj.value(probe, x, y) >= out.objective - 1e-12


# ------------------------------------------------------------- certificates


def excess(obj, x, y, theta, optimum):
    return obj.value(theta, x, y) - optimum


@pytest.mark.parametrize(
    ("loss", "kw", "kind"),
    [
        ("mse", {}, "quadratic_gap"),
        ("mse", {"l2": 0.1}, "quadratic_gap"),
        ("bce", {"l2": 0.05}, "strong_convexity"),
        ("poisson", {"l2": 0.05}, "strong_convexity"),
        ("mse", {"l1": 0.1}, "duality_gap"),
    ],
)
def test_certificate_bounds_the_true_excess(loss, kw, kind):
    obj, x, y = random_problem(loss, **kw)
    data = InMemory(x, y)
    method = "prox_newton" if kw.get("l1") else "newton"
    best = solvers.SOLVERS[method](obj, data, np.zeros(obj.size), tol=1e-16, max_iter=50)
    rng = np.random.default_rng(1)
    for scale in (1e-4, 1e-2, 0.3):
        theta = best.theta + scale * rng.normal(size=obj.size)
        cert = solvers.certify(obj, theta, data)
        assert cert.kind == kind and cert.bound
        true = excess(obj, x, y, theta, best.objective)
        assert true > 0
        assert cert.value >= true * (1 - 1e-9)
        if kind != "duality_gap":
            assert cert.value <= 1e3 * true  # and it is not vacuous


def test_gradient_norm_is_named_and_not_a_bound():
    obj, x, y = random_problem("bce")  # no L2: not strongly convex
    cert = solvers.certify(obj, np.zeros(obj.size), InMemory(x, y))
    assert (cert.kind, cert.bound) == ("gradient_norm", False)
    obj, x, y = random_problem("quantile", l2=0.1)
    cert = solvers.certify(obj, np.zeros(obj.size), InMemory(x, y))
    assert (cert.kind, cert.bound) == ("subgradient_norm", False)
    assert not cert.certifies(0.0, 1.0)  # a subgradient norm never certifies


# ------------------------------------------------------------- not_optimal


def test_first_order_fit_of_a_kinked_loss_is_not_optimal():
    r = run("diabetes.csv", "quantile", "gd", params={"quantile": 0.8})
    assert r.fit.stop_reason is StopReason.NOT_OPTIMAL
    assert r.fit.certificate.kind == "subgradient_norm"
    assert r.fit.objective > QUANTILE_OBJECTIVE  # it really stops short


def test_kinked_loss_by_gd_with_l2_says_not_optimal():
    r = run("diabetes.csv", "mae", "gd", l2=0.1)
    assert r.fit.optimizer == "gd"
    assert r.fit.stop_reason is StopReason.NOT_OPTIMAL


def test_solver_out_of_iterations_is_max_epochs_not_converged():
    obj, x, y = random_problem("bce", l2=1e-3)
    r = fit(obj, x, y, TrainConfig(optimizer="lbfgs", epochs=2))
    assert r.stop_reason is StopReason.MAX_EPOCHS
    assert not r.certificate.certifies(r.objective, 1e-12)


# ------------------------------------------------------------- auto


@pytest.mark.parametrize(
    ("loss", "kw", "outputs", "d", "expected"),
    [
        ("mse", {}, 1, 20, "newton"),
        ("bce", {"l2": 1e-4}, 1, 20, "newton"),
        ("poisson", {"l2": 1e-4}, 1, 20, "newton"),
        ("mse", {}, 1, 2000, "lbfgs"),
        ("ce", {"l2": 1e-4}, 10, 50, "lbfgs"),
        ("focal", {}, 1, 5, "lbfgs"),
        ("mse", {"l1": 0.1}, 1, 20, "prox_newton"),
        ("mse", {"l1": 0.1}, 1, 1000, "gd"),
        ("quantile", {}, 1, 20, "lp"),
        ("hinge", {"l1": 0.1}, 1, 20, "lp"),
        ("mae", {"l2": 0.1}, 1, 20, "qp"),
        ("mae", {"l2": 0.1, "l1": 0.1}, 1, 20, "qp"),
    ],
)
def test_auto_choices(loss, kw, outputs, d, expected):
    logits = make_loss(loss).logit_space != "never"
    obj = Objective(make_loss(loss), d, outputs=outputs, logits=logits, **kw)
    name, why = solvers.choose(obj, 100_000)
    assert name == expected and why


def test_cli_reports_the_choice_and_the_gap():
    result = CliRunner().invoke(
        cli, ["train", str(SAMPLES / "diabetes.csv"), "--loss", "quantile", "--quantile", "0.8"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["optimizer"] == "lp" and "LP" in out["optimizer_choice"]
    assert out["gap"]["kind"] == "duality_gap" and out["gap"]["bound"] is True
    assert out["gap"]["value"] <= 1e-9 * out["objective"]
    assert out["stop_reason"] == "converged"


def test_cli_refuses_a_learning_rate_for_a_solver():
    result = CliRunner().invoke(
        cli, ["train", str(SAMPLES / "diabetes.csv"), "--optimizer", "newton", "--lr", "0.1"]
    )
    assert result.exit_code == 2
    assert "newton is a full-batch solver" in result.output
    assert "Traceback" not in result.output


def test_fast_softmax_kernel_and_intercept_hessian_match_the_general_path():
    rng = np.random.default_rng(5)
    n, d, k = 300, 3, 4
    x = rng.normal(size=(n, d))
    y = rng.integers(0, k, n).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    obj = Objective(make_loss("ce"), d, outputs=k, logits=True, l2=0.1)
    theta = rng.normal(size=obj.size)
    for weights in (None, w):
        data = InMemory(x, y, weights)
        value, grad = obj.data_smooth_value_and_grad(theta, data)
        pw = obj.loss.pointwise(y, obj.scores(theta, x), logits=True)
        s = np.ones(n) if weights is None else weights
        expect = float(s @ pw.loss) / s.sum() + obj.l2_penalty(theta)
        assert value == pytest.approx(expect, rel=1e-12)
        g = pw.grad * s[:, None]
        np.testing.assert_allclose(
            grad[: d * k],
            (x.T @ g).ravel() / s.sum() + 0.1 * theta[: d * k],
            rtol=1e-12,
            atol=1e-15,
        )
        hbb = obj.data_intercept_hessian(theta, data)
        cols = [obj.data_hvp(theta, np.eye(obj.size)[d * k + j], data)[d * k :] for j in range(k)]
        np.testing.assert_allclose(hbb, np.array(cols).T, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("loss", "kw"), [("mse", {}), ("mse", {"l2": 0.3}), ("bce", {"l2": 0.1}), ("bce", {})]
)
def test_lean_batch_gradient_equals_the_general_one(loss, kw):
    obj, x, y = random_problem(loss, n=40, **kw)
    obj = Objective(
        obj.loss, obj.n_features, logits=obj.logits, penalty_scale=np.arange(1, 5.0), **kw
    )
    theta = np.random.default_rng(2).normal(size=obj.size) * 3
    lean = obj.lean_batch_gradient(y)
    assert lean is not None
    got, want = np.empty(obj.size), np.empty(obj.size)
    lean(theta, x[:32], y[:32], got)
    obj.batch_gradient(theta, x[:32], y[:32], want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_lean_batch_gradient_declines_what_it_cannot_do():
    obj, _, y = random_problem("bce")
    assert obj.lean_batch_gradient(y * 0.5) is None  # soft labels: the general path
    assert (
        Objective(make_loss("bce", pos_weight=2.0), 4, logits=True).lean_batch_gradient(y) is None
    )
    assert Objective(make_loss("huber"), 4).lean_batch_gradient(y) is None
