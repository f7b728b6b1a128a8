"""Every loss against PyTorch 2.13 / scikit-learn 1.9 golden values.

The numbers live in ``tests/golden_cases.py`` as literals, each case naming
its oracle; ``tests/oracle/derive_golden.py`` re-derives them where torch is
installed.  Values must agree to 1e-9 relative, gradients to 1e-9 relative
(with an absolute floor of 1e-12 for entries that are zero in the oracle),
Hessian diagonals (torch double backward) to 1e-7 relative.
"""

from __future__ import annotations

import numpy as np
import pytest

from losscli.losses import LOSSES, make_loss
from tests.golden_cases import CASES


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_oracle(case):
    loss = make_loss(
        case["loss"],
        **{k: tuple(v) if isinstance(v, list) else v for k, v in case["params"].items()},
    )
    weight = None if case["weight"] is None else np.array(case["weight"])
    result = loss.evaluate(
        np.array(case["y_true"], dtype=float),
        np.array(case["y_pred"], dtype=float),
        logits=case["logits"],
        reduction=case["reduction"],
        weight=weight,
        hessian="hess" in case,
    )
    np.testing.assert_allclose(
        result.value, case["value"], rtol=1e-9, atol=1e-12, err_msg=case["oracle"]
    )
    np.testing.assert_allclose(
        result.gradient, case["grad"], rtol=1e-9, atol=1e-12, err_msg=case["oracle"]
    )
    if "hess" in case:
        np.testing.assert_allclose(
            result.hessian, case["hess"], rtol=1e-7, atol=1e-12, err_msg=case["oracle"]
        )


def test_every_loss_has_golden_cases_in_each_space():
    covered = {(c["loss"], c["logits"]) for c in CASES}
    for name, cls in LOSSES.items():
        spaces = (False, True) if cls.logit_space == "optional" else (False,)
        for logits in spaces:
            assert (name, logits) in covered, f"no golden case for {name} logits={logits}"


def test_every_loss_has_golden_hessians_in_each_space():
    covered = {(c["loss"], c["logits"]) for c in CASES if "hess" in c}
    for name, cls in LOSSES.items():
        for logits in (False, True) if cls.logit_space == "optional" else (False,):
            assert (name, logits) in covered, f"no golden Hessian for {name} logits={logits}"


def test_every_case_names_its_oracle():
    for case in CASES:
        assert case["oracle"].split()[0] in {
            "torch",
            "sklearn",
            "torchvision",
            "numpy",
            "scipy",
            "optax",
            "keras",
        }, case["id"]
