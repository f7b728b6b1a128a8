"""Optimizers, schedules and the L1 proximal step (losscli/optimizers.py).

Golden trajectories come from torch.optim and are literals here, so the tests
never need torch; tests/oracle/derive_optim_metrics.py derives them, and
``test_golden_values_rederived`` re-runs it when torch is importable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from losscli.fit.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    AdamState,
    make_optimizer,
    make_schedule,
    soft_threshold,
)

# ------------------------------------------------------------ golden inputs
# The oracle script tests/oracle/derive_optim_metrics.py imports these inputs and
# derives the golden values below from them with torch.

THETA0 = [0.5, -1.2, 2.0, 0.3]
GRADS = [
    [0.8, -0.3, 0.0, 1.5],
    [0.6, 0.1, -0.4, 1.1],
    [-0.2, 0.5, -0.9, 0.7],
    [0.05, -1.2, 0.3, 0.2],
    [1.3, 0.0, 0.25, -0.6],
    [-0.7, 0.45, 0.6, 0.1],
]
TINY = 1e-9  # gradients at the scale of Adam's eps
LRS = [0.1, 0.05, 0.2, 0.1, 0.07, 0.15]  # a new rate every step, as a schedule gives
MASK = [True, True, True, False]  # last coordinate = intercept, not decayed

OPT_CASES: list[tuple[str, str, dict[str, Any], float]] = [
    ("sgd", "sgd", {}, 1.0),
    ("momentum", "momentum", {}, 1.0),
    ("momentum-0.5", "momentum", {"momentum": 0.5}, 1.0),
    ("nesterov", "nesterov", {}, 1.0),
    ("nesterov-0.6", "nesterov", {"momentum": 0.6}, 1.0),
    ("adagrad", "adagrad", {}, 1.0),
    ("adagrad-eps", "adagrad", {"eps": 1e-3}, 1.0),
    ("rmsprop", "rmsprop", {}, 1.0),
    ("rmsprop-0.9", "rmsprop", {"alpha": 0.9, "eps": 1e-6}, 1.0),
    ("adam", "adam", {}, 1.0),
    ("adam-betas", "adam", {"beta1": 0.8, "beta2": 0.95, "eps": 1e-6}, 1.0),
    ("adam-tiny", "adam", {}, TINY),
    ("adamw", "adamw", {}, 1.0),
    ("adamw-masked", "adamw", {"weight_decay": 0.5, "decay_mask": MASK}, 1.0),
    ("adamw-tiny", "adamw", {"weight_decay": 0.1}, TINY),
]

# ----------------------------------------------------------- golden outputs
# torch 2.13.0 (CPU) torch.optim.SGD / SGD(momentum) / SGD(nesterov=True) /
# Adagrad / RMSprop / Adam / AdamW, float64, default options except those in
# OPT_CASES: θ after each of 6 steps from THETA0, gradient GRADS[t]·scale set
# by hand, param_group lr = LRS[t]. AdamW's mask = one param group per
# coordinate, weight_decay 0 for the intercept.
TORCH_TRAJECTORIES: dict[str, list[list[float]]] = {
    "sgd": [
        [0.42, -1.17, 2.0, 0.14999999999999997],
        [0.38999999999999996, -1.1749999999999998, 2.02, 0.09499999999999996],
        [0.42999999999999994, -1.275, 2.2, -0.04500000000000004],
        [0.42499999999999993, -1.1549999999999998, 2.1700000000000004, -0.06500000000000004],
        [0.3339999999999999, -1.1549999999999998, 2.1525000000000003, -0.02300000000000004],
        [0.4389999999999999, -1.2224999999999997, 2.0625000000000004, -0.03800000000000004],
    ],
    "momentum": [
        [0.42, -1.17, 2.0, 0.14999999999999997],
        [0.354, -1.1615, 2.02, 0.02749999999999995],
        [0.15639999999999993, -1.2308999999999999, 2.2720000000000002, -0.5535000000000001],
        [0.0624799999999999, -1.1421299999999999, 2.3554000000000004, -0.8349500000000002],
        [-0.08768960000000016, -1.0862048999999998, 2.390442, -0.9702635000000003],
        [-0.2723024000000002, -1.04584935, 2.368023, -1.2462252500000004],
    ],
    "momentum-0.5": [
        [0.42, -1.17, 2.0, 0.14999999999999997],
        [0.37, -1.1675, 2.02, 0.057499999999999954],
        [0.31, -1.2625, 2.24, -0.26750000000000007],
        [0.29, -1.16625, 2.265, -0.3687500000000001],
        [0.19199999999999995, -1.1325625, 2.25625, -0.36218750000000005],
        [0.19199999999999992, -1.16396875, 2.156875, -0.3701562500000001],
    ],
    "nesterov": [
        [0.348, -1.143, 2.0, 0.014999999999999965],
        [0.2586, -1.14035, 2.038, -0.15025000000000005],
        [0.12075999999999996, -1.30281, 2.4448, -0.8131500000000002],
        [0.03123199999999993, -1.102917, 2.4898599999999997, -1.0864550000000002],
        [-0.19492064000000014, -1.05258441, 2.5038978, -1.1662371500000002],
        [-0.2560721600000002, -1.0837644149999999, 2.3937207, -1.4296027250000003],
    ],
    "nesterov-0.6": [
        [0.372, -1.152, 2.0, 0.059999999999999984],
        [0.3096, -1.1545999999999998, 2.032, -0.055000000000000014],
        [0.29584, -1.3088399999999998, 2.3488, -0.423],
        [0.271712, -1.1331119999999997, 2.3418400000000004, -0.5234],
        [0.11807824, -1.1097062399999997, 2.3235168, -0.48996799999999996],
        [0.20554912, -1.1876131199999997, 2.1784584000000002, -0.524984],
    ],
    "adagrad": [
        [0.40000000001249997, -1.1000000000333332, 2.0, 0.20000000000666662],
        [0.3700000000155, -1.1158113883291751, 2.0499999999875, 0.17043181682688036],
        [0.40922322703929065, -1.284842239246307, 2.232762309692995, 0.0999901720706968],
        [0.40432620597102636, -1.1951500281227787, 2.2036237338251072, 0.08997764858476287],
        [0.3492757010086364, -1.1951500281227787, 2.187106212590261, 0.11011510724618348],
        [0.40776721139969013, -1.2429694815402585, 2.113189071984545, 0.10293141010736888],
    ],
    "adagrad-eps": [
        [0.40012484394506864, -1.1003322259136212, 2.0, 0.20006662225183208],
        [0.3701548139750387, -1.1160937718299222, 2.0498753117206983, 0.17051432648308748],
        [0.4093396171419093, -1.2848393906202507, 2.2324522426580806, 0.10010810693697493],
        [0.4044473875434487, -1.1952141685262072, 2.2033419412116064, 0.09010059347371933],
        [0.3494301652795685, -1.1952141685262072, 2.1868399954745814, 0.110228401590774],
        [0.407889110416765, -1.2429997688909142, 2.112983513306989, 0.10304814317173959],
    ],
    "rmsprop": [
        [-0.4999998750000153, -0.20000033333322265, 2.0, -0.6999999333333375],
        [-0.8009644775212045, -0.3588305173766009, 2.499999875000031, -0.9966478568171648],
        [-0.40561494171425844, -2.0537235740610367, 4.329131971675521, -1.7061910523561203],
        [-0.45522144704271983, -1.1554525861450826, 4.03618280609778, -1.8075404556193897],
        [-1.0094643006536694, -1.1554525861450826, 3.8693821192843316, -1.602972545999279],
        [-0.4186819742656126, -1.638630194646336, 3.121901088575523, -1.6763127563145812],
    ],
    "rmsprop-0.9": [
        [0.1837734839782209, -0.8837755672813593, 2.0, -0.016227099351576846],
        [0.08571573692090176, -0.9361892596726655, 2.158112633018301, -0.11292672291055189],
        [0.22037175866664052, -1.4850902191686615, 2.7408822636463155, -0.35297138524730703],
        [0.2026571338103409, -1.197306229859328, 2.643477928912507, -0.388884562197198],
        [0.017174607150282406, -1.197306229859328, 2.585664065767562, -0.3140659756768087],
        [0.22090242654298564, -1.3654862702904313, 2.324175652007887, -0.3421827738367953],
    ],
    "adam": [
        [0.40000000125, -1.1000000033333333, 2.0, 0.20000000066666665],
        [0.35087124787191254, -1.0799890756307071, 2.0372068398632175, 0.1509778809172722],
        [0.22699530383016522, -1.1549469814500493, 2.2006717876639694, -0.03590337261396265],
        [0.17347105413740152, -1.1163834094841971, 2.2477713378214634, -0.11788429509635323],
        [0.12388223606523804, -1.0935669012139828, 2.2658308375718175, -0.15333005352425666],
        [0.07013344783976369, -1.0786244535136336, 2.256206460676772, -0.22247666964247215],
    ],
    "adam-betas": [
        [0.4000001249998438, -1.1000003333322221, 2.0, 0.2000000666666222],
        [0.3511125837932748, -1.082427605109494, 2.038789420260942, 0.15123800979908877],
        [0.23918624211628897, -1.1744474431964531, 2.2109860085929767, -0.03230840318995565],
        [0.19253503788271553, -1.1307409001710873, 2.25500741558986, -0.10985768390169809],
        [0.14139226263149426, -1.1063884381627322, 2.2677845782610984, -0.13712017351156483],
        [0.09881416966545487, -1.098050221768103, 2.237921770328943, -0.18931062987636582],
    ],
    "adam-tiny": [
        [0.4925925925925926, -1.1970873786407767, 2.0, 0.28695652173913044],
        [0.4893482985470134, -1.196649792974563, 2.001023670561946, 0.28125854835755837],
        [0.48246211604669853, -1.199126078000835, 2.009822057142902, 0.2620258222656785],
        [0.47986367280086256, -1.1967067438192827, 2.0121284273073488, 0.2545846055830309],
        [0.4764491206107472, -1.195418208815344, 2.0129454216136393, 0.2515620884482797],
        [0.47277820249277785, -1.1946038768434644, 2.012489614672619, 0.24613477747687448],
    ],
    "adamw": [
        [0.39950000125, -1.0988000033333332, 1.998, 0.19970000066666663],
        [0.35017149787128754, -1.0782396756290404, 2.0342078398632175, 0.1505780309169389],
        [0.22559521083379766, -1.1510411020971245, 2.193604371984243, -0.03660437867612984],
        [0.17184536593020017, -1.1113264890291752, 2.238510317769753, -0.1185486967798443],
        [0.12213625610188555, -1.0877320522166405, 2.255002860297668, -0.1539114711200018],
        [0.06820426349225839, -1.0711580064379664, 2.241995979112176, -0.22282722003153727],
    ],
    "adamw-masked": [
        [0.37500000125, -1.0400000033333332, 1.9, 0.20000000066666665],
        [0.3164962478406625, -0.9939890755473736, 1.8897068398632173, 0.1509778809172722],
        [0.16097067901484893, -0.9695480738119783, 1.8642011036776474, -0.03590337261396265],
        [0.09939789537134278, -0.8825070981555272, 1.8180905986512588, -0.11788429509635323],
        [0.046330150961182294, -0.8288028414498693, 1.7725169274488186, -0.15333005352425666],
        [-0.01089339858638072, -0.7517001806407799, 1.629953780995112, -0.22247666964247215],
    ],
    "adamw-tiny": [
        [0.4875925925925926, -1.1850873786407767, 1.98, 0.28395652173913044],
        [0.48191033558405044, -1.1787243560813592, 1.9711236705619457, 0.27683876574886274],
        [0.46538594637205455, -1.157626153986004, 1.9404995837316632, 0.2520692643420056],
        [0.45813364366249804, -1.1436305582645916, 1.9234009580587932, 0.24210735501593797],
        [0.45151215596674515, -1.1343366093528007, 1.9107541456586719, 0.2373900863960752],
        [0.44106855550927465, -1.116507228240629, 1.8816370265327715, 0.22840192412872884],
    ],
}

ALL = [name for name, spec in OPTIMIZERS.items() if not spec.solver]  # the update rules
SOLVER_ENTRIES = ["auto", "newton", "prox_newton", "lbfgs", "lp", "qp"]


def run(name: str, hyper: dict[str, Any], scale: float = 1.0) -> list[list[float]]:
    """Our trajectory on the golden inputs; copies because update works in place."""
    hyper = dict(hyper)
    if "decay_mask" in hyper:
        hyper["decay_mask"] = np.array(hyper["decay_mask"])
    opt = make_optimizer(name, **hyper)
    params = np.array(THETA0)
    state = opt.init(params)
    out = []
    for grad, lr in zip(GRADS, LRS, strict=True):
        params, state = opt.update(np.array(grad) * scale, state, params, lr)
        out.append(params.tolist())
    return out


@pytest.mark.parametrize(
    ("case", "name", "hyper", "scale"), OPT_CASES, ids=[c[0] for c in OPT_CASES]
)
def test_trajectory_matches_torch(
    case: str, name: str, hyper: dict[str, Any], scale: float
) -> None:
    np.testing.assert_allclose(
        run(name, hyper, scale), TORCH_TRAJECTORIES[case], rtol=1e-12, atol=1e-12
    )


def test_every_registered_optimizer_has_a_torch_case() -> None:
    assert {name for _, name, _, _ in OPT_CASES} | {"gd"} == set(ALL)


def test_gd_takes_the_sgd_step() -> None:
    assert run("gd", {}) == run("sgd", {})
    assert OPTIMIZERS["gd"].full_batch
    assert not any(OPTIMIZERS[name].full_batch for name in ALL if name != "gd")
    assert all(OPTIMIZERS[name].full_batch and OPTIMIZERS[name].solver for name in SOLVER_ENTRIES)


# ------------------------------------------------------------- convergence


def quadratic(d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """f(θ) = ½(θ−θ*)ᵀA(θ−θ*), A symmetric with eigenvalues in [0.5, 4]."""
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a = q @ np.diag(np.linspace(0.5, 4.0, d)) @ q.T
    return a, rng.normal(size=d)


@pytest.mark.parametrize("name", ALL)
def test_decreases_a_convex_quadratic_at_its_default_lr(name: str) -> None:
    a, optimum = quadratic()

    def f(theta: np.ndarray) -> float:
        r = theta - optimum
        return 0.5 * float(r @ a @ r)

    spec = OPTIMIZERS[name]
    lr = spec.default_lr
    if lr is None:  # gd chooses its steps itself; its rule is sgd's
        lr = OPTIMIZERS["sgd"].default_lr
    opt = make_optimizer(name)
    params = np.zeros_like(optimum)
    state = opt.init(params)
    start = f(params)
    values = []
    for _ in range(200):
        grad = a @ (params - optimum)
        params, state = opt.update(grad, state, params, lr)
        values.append(f(params))
    assert all(math.isfinite(v) for v in values)
    assert values[-1] < 0.5 * start
    assert min(values[10:]) < values[9]  # still improving after the first steps


def test_adamw_decay_pulls_towards_zero_and_spares_masked_coordinates() -> None:
    # With a zero gradient Adam's step is 0/(0+eps) = 0, so only the decay acts.
    opt = make_optimizer("adamw", weight_decay=0.5, decay_mask=np.array([True, False]))
    params = np.array([2.0, 2.0])
    state = opt.init(params)
    for _ in range(10):
        params, state = opt.update(np.zeros(2), state, params, 0.1)
    assert params[1] == 2.0
    assert params[0] == pytest.approx(2.0 * 0.95**10, rel=1e-14)


# ------------------------------------------------------------ in place / purity


def fresh_copies_trajectory(name: str, grads: list[np.ndarray]) -> list[np.ndarray]:
    """Reference: give update fresh copies every call, so in-place writes can't leak."""
    opt = make_optimizer(name)
    params = np.array(THETA0)
    state = opt.init(params.copy())
    out = []
    for grad, lr in zip(grads, LRS, strict=True):
        state = type(state)(*(s.copy() if isinstance(s, np.ndarray) else s for s in state))
        params, state = opt.update(grad.copy(), state, params.copy(), lr)
        out.append(params.copy())
    return out


@pytest.mark.parametrize("name", ALL)
def test_in_place_updates_repeat_correctly(name: str) -> None:
    grads = [np.array(g) for g in GRADS]
    expected = fresh_copies_trajectory(name, grads)

    opt = make_optimizer(name)
    params = np.array(THETA0)
    state = opt.init(params)
    buffer = np.empty(4)  # one gradient buffer reused every step, as a trainer may
    for t, (grad, lr) in enumerate(zip(grads, LRS, strict=True)):
        buffer[:] = grad
        params, state = opt.update(buffer, state, params, lr)
        np.testing.assert_array_equal(buffer, grad)  # the gradient is only read
        np.testing.assert_array_equal(params, expected[t])


@pytest.mark.parametrize("name", ALL)
def test_two_states_of_one_optimizer_do_not_interfere(name: str) -> None:
    opt = make_optimizer(name)
    p1, p2 = np.array(THETA0), -np.array(THETA0)
    s1, s2 = opt.init(p1), opt.init(p2)
    for grad, lr in zip(GRADS, LRS, strict=True):
        p1, s1 = opt.update(np.array(grad), s1, p1, lr)
        p2, s2 = opt.update(-np.array(grad), s2, p2, lr)
    np.testing.assert_array_equal(p2, -p1)


@pytest.mark.parametrize("name", ALL)
def test_matrix_parameters_step_like_their_flattening(name: str) -> None:
    # Softmax coefficients may be a (features, classes) matrix: the rules are elementwise.
    opt = make_optimizer(name)
    grads = np.arange(1.0, 25.0).reshape(4, 6) / 10.0
    flat, matrix = np.linspace(-1, 1, 6), np.linspace(-1, 1, 6).reshape(2, 3)
    fs, ms = opt.init(flat), opt.init(matrix)
    for g, lr in zip(grads, LRS, strict=False):
        flat, fs = opt.update(g, fs, flat, lr)
        matrix, ms = opt.update(g.reshape(2, 3), ms, matrix, lr)
    np.testing.assert_array_equal(matrix.ravel(), flat)


def test_adam_state_counts_steps() -> None:
    opt = make_optimizer("adam")
    params = np.zeros(3)
    state = opt.init(params)
    assert isinstance(state, AdamState) and state.step == 0
    for _ in range(3):
        params, state = opt.update(np.ones(3), state, params, 0.1)
    assert state.step == 3


def test_init_rejects_non_float64_parameters() -> None:
    with pytest.raises(ValueError, match="float64"):
        make_optimizer("sgd").init(np.array([1, 2, 3]))


def test_adamw_mask_must_match_the_parameters() -> None:
    opt = make_optimizer("adamw", decay_mask=np.array([True, False]))
    with pytest.raises(ValueError, match="decay_mask"):
        opt.init(np.zeros(3))


# ------------------------------------------------------------- registry


def test_registry_names_and_fields() -> None:
    assert ALL == [
        "gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
    ]  # fmt: skip
    assert sorted(set(OPTIMIZERS) - set(ALL)) == sorted(SOLVER_ENTRIES)
    for name, spec in OPTIMIZERS.items():
        assert spec.name == name
        assert set(spec.hyperparameters) <= set(spec.keywords)
        assert (spec.default_lr is None) == spec.full_batch and spec.description
        assert spec.default_lr is None or spec.default_lr > 0
        assert spec.solver == (name in SOLVER_ENTRIES)
    with pytest.raises(ValueError, match="no update rule"):
        make_optimizer("newton")
    assert OPTIMIZERS["momentum"].hyperparameters == ("momentum",)
    assert OPTIMIZERS["adam"].hyperparameters == ("beta1", "beta2")
    assert "decay_mask" in OPTIMIZERS["adamw"].keywords
    assert OPTIMIZERS["adamw"].hyperparameters == ("beta1", "beta2", "weight_decay")


def test_exposed_settings_have_flags_of_their_own() -> None:
    """Each becomes a `train` flag and a `losscli.train` keyword: no clash allowed."""
    from dataclasses import fields

    from losscli.fit.loop import TrainConfig
    from losscli.fit.optimizers import exposed_hyperparameters
    from losscli.losses import PARAM_FLAGS
    from losscli.train import TrainRequest

    taken = set(PARAM_FLAGS) | {f.name for f in (*fields(TrainConfig), *fields(TrainRequest))}
    assert set(exposed_hyperparameters()).isdisjoint(taken)


def test_make_optimizer_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamx' \(choose from: auto, .*gd, "):
        make_optimizer("adamx")


@pytest.mark.parametrize(
    ("name", "hyper", "message"),
    [
        ("adam", {"momentum": 0.9}, r"'adam' does not take momentum .*takes: beta1, beta2"),
        ("sgd", {"beta1": 0.9}, r"'sgd' does not take beta1 .*takes: none of them"),
        ("momentum", {"beta2": 0.9, "beta1": 0.9}, r"does not take beta1, beta2"),
        ("adam", {"weight_decay": 0.1}, r"does not take weight_decay"),
    ],
)
def test_make_optimizer_rejects_hyperparameters_it_does_not_take(
    name: str, hyper: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, **hyper)


def test_none_means_not_given() -> None:
    # The CLI forwards every optional flag; unset ones arrive as None.
    opt = make_optimizer("sgd", momentum=None, beta1=None, beta2=None)
    assert run("sgd", {}) == run("sgd", {"momentum": None})
    assert opt.init(np.zeros(2)) is not None


@pytest.mark.parametrize(
    ("name", "hyper"),
    [
        ("momentum", {"momentum": 1.0}),
        ("momentum", {"momentum": -0.1}),
        ("nesterov", {"momentum": float("nan")}),
        ("adam", {"beta1": 1.0}),
        ("adam", {"beta2": 1.5}),
        ("adamw", {"eps": 0.0}),
        ("adamw", {"weight_decay": -0.1}),
        ("rmsprop", {"alpha": 1.0}),
        ("adagrad", {"eps": float("inf")}),
    ],
)
def test_make_optimizer_rejects_out_of_range_values(name: str, hyper: dict[str, Any]) -> None:
    key = next(iter(hyper))
    with pytest.raises(ValueError, match=key):
        make_optimizer(name, **hyper)


# ------------------------------------------------------------- schedules


def test_schedule_registry() -> None:
    assert list(SCHEDULES) == ["constant", "inverse-scaling", "cosine", "adaptive"]
    assert [s.plateau for s in SCHEDULES.values()] == [False, False, False, True]


def test_constant_schedule() -> None:
    schedule = make_schedule("constant", 0.3, total_steps=10)
    assert [schedule(t) for t in (0, 5, 10, 100)] == [0.3] * 4


def test_inverse_scaling_schedule() -> None:
    # sklearn SGD 'invscaling': eta0 / t**power_t with t from 1; ours counts from 0.
    schedule = make_schedule("inverse-scaling", 0.1, total_steps=10)
    assert schedule(0) == 0.1
    assert schedule(1) == 0.1 / 2**0.25
    assert schedule(15) == 0.05  # 16**0.25 = 2
    half = make_schedule("inverse-scaling", 0.1, total_steps=10, power_t=0.5)
    assert half(3) == 0.05


def test_cosine_schedule() -> None:
    schedule = make_schedule("cosine", 0.2, total_steps=10)
    assert schedule(0) == 0.2
    assert schedule(5) == pytest.approx(0.1, abs=1e-17)
    assert schedule(10) == 0.0
    assert schedule(25) == 0.0  # held at 0 after T
    values = [schedule(t) for t in range(11)]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("linear", 0.1), {"total_steps": 5}, "unknown schedule 'linear'"),
        (("cosine", -0.1), {"total_steps": 5}, "learning rate"),
        (("cosine", float("nan")), {"total_steps": 5}, "learning rate"),
        (("cosine", 0.1), {"total_steps": 0}, "total_steps"),
        (("inverse-scaling", 0.1), {"total_steps": 5, "power_t": -1.0}, "power_t"),
    ],
)
def test_make_schedule_rejects_bad_arguments(
    args: tuple[str, float], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_schedule(*args, **kwargs)


# ---------------------------------------------------------- soft threshold


def test_soft_threshold_gives_exact_zeros_and_spares_the_intercept() -> None:
    w = np.array([0.3, -0.05, 0.05, -0.7, 0.1, -0.1, 0.02])
    mask = np.array([True, True, True, True, True, True, False])
    out = soft_threshold(w, 0.1, mask)
    assert out is w  # in place
    np.testing.assert_array_equal(out, [0.19999999999999998, 0.0, 0.0, -0.6, 0.0, 0.0, 0.02])
    assert not np.signbit(out[[1, 2, 4, 5]]).any()  # +0.0, not -0.0


def test_soft_threshold_without_mask_shrinks_everything() -> None:
    np.testing.assert_array_equal(soft_threshold(np.array([0.5, -0.05]), 0.1), [0.4, 0.0])


@pytest.mark.parametrize("threshold", [-0.1, float("nan")])
def test_soft_threshold_rejects_bad_thresholds(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        soft_threshold(np.zeros(2), threshold)


@given(
    w=hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(-1e6, 1e6)),
    threshold=st.floats(0.0, 1e3),
    data=st.data(),
)
def test_soft_threshold_is_the_l1_proximal_operator(
    w: np.ndarray, threshold: float, data: st.DataObject
) -> None:
    mask = data.draw(hnp.arrays(np.bool_, w.shape))
    expected = np.where(mask, np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0), w)
    out = soft_threshold(w.copy(), threshold, mask)
    np.testing.assert_array_equal(out, expected)  # bit-equal to the textbook form
    assert np.all(out[mask & (np.abs(w) <= threshold)] == 0.0)


# --------------------------------------------------- optional re-derivation


def test_golden_values_rederived() -> None:
    pytest.importorskip("torch")
    from tests.oracle import derive_optim_metrics as derive

    assert derive.optimizer_golden() == TORCH_TRAJECTORIES
