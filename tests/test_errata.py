"""The seed document's examples give the values in shared/seed/ERRATA.md.

Figures from ERRATA.md (PyTorch 2.13, float64); the seed's printed outputs
(0.0833, 0.2, 0.9529, 0.1966) are wrong and must never come back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from losscli.cli import cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def compute(*args: str) -> dict:
    r = CliRunner().invoke(cli, ["compute", "-f", "json", "--grad", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["results"][0]


@pytest.mark.parametrize(
    ("loss", "file", "flags", "value", "seed_printed"),
    [
        ("mse", "seed_regression.csv", [], 0.02, 0.0833),
        ("mae", "seed_regression.csv", [], 0.1333333333333333, 0.2),
        ("cross_entropy", "seed_cross_entropy.csv", ["--logits"], 1.185841, 0.9529),
        ("cross_entropy", "seed_cross_entropy.csv", [], 1.474283, 0.9529),
        ("focal", "seed_focal.csv", ["--logits"], 0.113988, 0.1966),
        ("focal", "seed_focal.csv", [], 0.00258264, 0.1966),
    ],
)
def test_errata_values(loss, file, flags, value, seed_printed):
    res = compute("-l", loss, *flags, str(SAMPLES / file))
    assert res["value"] == pytest.approx(value, abs=5e-7, rel=1e-6)
    assert res["value"] != pytest.approx(seed_printed, rel=1e-3)


def test_mse_gradient_is_one_number_per_prediction():
    res = compute("-l", "mse", str(SAMPLES / "seed_regression.csv"))
    assert res["gradient"] == pytest.approx([0.066667, 0.066667, -0.133333], abs=5e-7)


def test_mae_gradient():
    res = compute("-l", "mae", str(SAMPLES / "seed_regression.csv"))
    assert res["gradient"] == pytest.approx([1 / 3, 1 / 3, -1 / 3], rel=1e-12)


def test_cross_entropy_gradients_row_zero():
    logits = compute("-l", "ce", "--logits", str(SAMPLES / "seed_cross_entropy.csv"))
    assert logits["gradient"][0] == pytest.approx([-0.248457, 0.093803, 0.154654], abs=5e-7)
    probs = compute("-l", "ce", str(SAMPLES / "seed_cross_entropy.csv"))
    assert probs["gradient"][0] == pytest.approx([-3.333333, 0.0, 0.0], abs=5e-7)
