"""Multi-label focal with per-label ``--pos-weight`` from the command line and the API.

Golden values (torch, the torchvision focal formula with the cross-entropy of
``BCEWithLogitsLoss(pos_weight=[…])``) are in ``tests/golden_cases.py``
(ids ``multi-focal-…pos_weight…``); the registry invariants draw per-label
weights too.  These tests pin the command-line behaviour and the relations.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.errors import InputError
from losscli.losses import make_loss
from tests.golden_cases import CASES


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_golden_cases_cover_per_label_pos_weight_in_both_spaces():
    covered = {
        c["logits"]
        for c in CASES
        if c["loss"] == "focal"
        and c["params"].get("multilabel")
        and len(c["params"].get("pos_weight", [])) > 1
    }
    assert covered == {False, True}


@pytest.mark.parametrize("logits", [False, True])
def test_hard_labels_weigh_the_positive_elements(logits):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, (6, 3)).astype(float)
    x = rng.normal(0, 2, (6, 3)) if logits else rng.uniform(0.05, 0.95, (6, 3))
    w = (2.0, 0.5, 3.0)
    plain = make_loss("focal", multilabel=True).pointwise(y, x, logits=logits, hessian=True)
    weighted = make_loss("focal", multilabel=True, pos_weight=w).pointwise(
        y, x, logits=logits, hessian=True
    )
    scale = np.where(y == 1, np.array(w), 1.0)
    assert plain.hess is not None and weighted.hess is not None
    np.testing.assert_allclose(weighted.grad, scale * plain.grad, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(weighted.hess, scale * plain.hess, rtol=1e-12, atol=1e-300)


def test_cli_json_matches_the_api(tmp_path: Path):
    f = tmp_path / "ml.csv"
    f.write_text("a,b,c,pa,pb,pc\n1,0,1,0.8,0.3,0.4\n0,1,1,0.1,0.6,0.9\n")
    r = run(
        "compute", "-l", "focal", "--multilabel", "--pos-weight", "2,0.5,3", "--true", "a,b,c",
        "--pred", "pa,pb,pc", "-f", "json", "--grad", str(f),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["results"][0]
    assert res["params"]["pos_weight"] == [2.0, 0.5, 3.0]
    api = make_loss("focal", multilabel=True, pos_weight=(2.0, 0.5, 3.0)).evaluate(
        np.array([[1, 0, 1], [0, 1, 1]], float), np.array([[0.8, 0.3, 0.4], [0.1, 0.6, 0.9]])
    )
    assert res["value"] == api.value
    assert res["gradient"] == api.gradient.tolist()


def test_multiclass_focal_refuses_pos_weight_and_points_to_alpha():
    with pytest.raises(InputError, match="--alpha"):
        make_loss("focal", pos_weight=(2.0,)).evaluate(
            np.array([0.0, 2.0]), np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
        )


def test_one_weight_per_label_column(tmp_path: Path):
    f = tmp_path / "ml.csv"
    f.write_text("a,b,c,pa,pb,pc\n1,0,1,0.8,0.3,0.4\n")
    r = run(
        "compute", "-l", "focal", "--multilabel", "--pos-weight", "2,0.5", "--true", "a,b,c",
        "--pred", "pa,pb,pc", str(f),
    )  # fmt: skip
    assert r.exit_code == 2
    assert "--pos-weight has 2 values but there are 3 label columns" in r.output
    assert "Traceback" not in r.output


def test_binary_focal_takes_one_pos_weight():
    y, p = np.array([1.0, 0.0, 1.0]), np.array([0.7, 0.2, 0.4])
    plain = make_loss("focal").pointwise(y, p)
    weighted = make_loss("focal", pos_weight=2.5).pointwise(y, p)
    np.testing.assert_allclose(weighted.loss, np.where(y == 1, 2.5, 1.0) * plain.loss)
    with pytest.raises(InputError, match="one label column"):
        make_loss("focal", pos_weight=(1.0, 2.0)).pointwise(y, p)


def test_ignore_index_with_multilabel_is_refused_not_ignored():
    with pytest.raises(InputError, match="--ignore-index"):
        make_loss("focal", multilabel=True, ignore_index=1.0).evaluate(
            np.array([[1.0, 0.0]]), np.array([[0.7, 0.2]])
        )
