"""--compat and --dtype against golden values taken from the libraries themselves."""

from __future__ import annotations

import numpy as np
import pytest

from losscli.losses import LOSSES
from losscli.losses.compat import Library, make
from tests.compat_cases import CASES
from tests.compat_inputs import INPUTS

# input key -> (targets, predictions, logits)
SPACES = {
    "pb": ("yb", "pb", False),
    "xb": ("yb", "xb", True),
    "pr": ("yr", "pr", False),
    "pc": ("yc", "pc", False),
    "pm": ("ym", "pm", False),
    "pm99": ("ym", "pm99", False),
    "xm": ("ym", "xm", True),
    "xh": ("ym", "xh", True),
    "pp": ("yp", "pp", False),
    "pn": ("yn", "pn", False),
    "vp": ("vt", "vp", False),
}
WEIGHTS = {"yb": "wb", "yr": "wr"}


def _case_id(key: tuple[str, ...]) -> str:
    return "-".join(key)


@pytest.mark.parametrize("key", sorted(CASES), ids=_case_id)
def test_compat_matches_the_library(key: tuple[str, ...]) -> None:
    library, name, inputs, *weighted = key
    want_value, want_grad = CASES[key]
    y_key, p_key, logits = SPACES[inputs]
    precision = "float32" if library.endswith("32") else None  # torch32: torch in float32
    loss = make(
        LOSSES[name],
        {},
        logits=logits,
        library=Library(library.removesuffix("32")),
        precision=precision,
    )
    weight = np.array(INPUTS[WEIGHTS[y_key]]) if weighted else None
    result = loss.evaluate(
        np.array(INPUTS[y_key]), np.array(INPUTS[p_key]), logits=logits, weight=weight
    )
    single = loss.precision == "float32"
    rtol = 1e-6 if single else 1e-9
    assert result.value == pytest.approx(want_value, rel=rtol)
    if want_grad is not None:
        want = np.array(want_grad)
        scale = float(np.abs(want).max()) or 1.0
        np.testing.assert_allclose(result.gradient, want, rtol=rtol, atol=rtol * scale)


def test_a_library_without_the_loss_is_an_error_naming_it() -> None:
    from losscli.errors import InputError

    with pytest.raises(InputError, match="torch has no hinge loss"):
        make(LOSSES["hinge"], {}, logits=True, library=Library.TORCH)
    with pytest.raises(
        InputError, match=r"torch's torch\.nn\.functional\.cross_entropy takes logits"
    ):
        make(LOSSES["cross_entropy"], {}, logits=False, library=Library.TORCH)
    with pytest.raises(InputError, match="no equivalent of --pos-weight"):
        make(LOSSES["bce"], {"pos_weight": 2.0}, logits=False, library=Library.KERAS)


def test_float32_clips_at_float32_epsilon() -> None:
    """The issue's example: the largest per-row log-loss is 15.94 in float32, 36.04 in float64."""
    y, p = np.array([1.0, 0.0]), np.array([0.0, 0.3])
    single = make(LOSSES["bce"], {}, logits=False, precision="float32")
    double = make(LOSSES["bce"], {}, logits=False)
    assert single.evaluate(y, p, reduction="none").per_sample[0] == pytest.approx(
        15.942385152878742, rel=1e-7
    )
    assert double.evaluate(y, p, reduction="none").per_sample[0] == pytest.approx(
        36.04365338911715, rel=1e-12
    )


def test_float32_refuses_values_beyond_its_range() -> None:
    from losscli.errors import BadValues

    loss = make(LOSSES["mse"], {}, logits=False, precision="float32")
    with pytest.raises(BadValues, match="float32's range"):
        loss.evaluate(np.array([1.0, 2.0]), np.array([1e39, 0.0]))
