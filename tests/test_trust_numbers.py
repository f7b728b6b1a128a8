"""Issue 7, wrong numbers: totals past float64, extreme features, overflowing scores,
duplicated model names, narrow terminals.  One regression test per class."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.compute import ComputeRequest, run_compute
from losscli.errors import InputError
from losscli.losses import make_loss
from losscli.losses.totals import Scaled, TotalOverflow, scaled_dot, scaled_sum, total

# no raw NumPy warning on any of these paths, library or command line
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def invoke(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, env=env)


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --------------------------------------------------------------------------- totals


def test_mean_of_rows_whose_sum_overflows_is_printed(tmp_path):
    """1,000 rows of (0, 1e153) under mse: each loss is 1e306, the sum 1e309, the mean 1e306."""
    path = write(tmp_path, "y_true,y_pred\n" + "0,1e153\n" * 1000)
    r = invoke("compute", "-l", "mse", "-f", "value", path)
    assert r.exit_code == 0, r.output
    # reference: the mean of equal terms is the term itself (1e153² in float64)
    assert float(r.stdout) == pytest.approx(1e153 * 1e153, rel=1e-15)


def test_weights_whose_sum_overflows_give_the_weighted_mean(tmp_path):
    """Two rows of weight 1e308, losses 0 and 1: Σw overflows, the mean is 0.5."""
    path = write(tmp_path, "y_true,y_pred,w\n0,0,1e308\n0,1,1e308\n")
    r = invoke("compute", "-l", "mse", "--weight", "w", "-f", "json", "--grad", path)
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["results"][0]
    assert res["value"] == 0.5
    assert res["gradient"] == [0.0, 1.0]  # 2·(ŷ−y)·w/Σw = 2·1·0.5


def test_log_cosh_at_the_edge_of_float64(tmp_path):
    path = write(tmp_path, "y_true,y_pred\n0,1e308\n0,-1e308\n")
    r = invoke("compute", "-l", "log_cosh", "-f", "value", path)
    assert r.exit_code == 0, r.output
    assert float(r.stdout) == pytest.approx(1e308 - math.log(2), rel=1e-15)


def test_blocks_each_summing_to_1e308_add_up(tmp_path):
    """Per-block totals near float64's top overflow a plain fsum of the blocks."""
    rows = "y_true,y_pred\n" + "0,1e152\n" * 20_000  # 20,000 × 1e304 = 2e308 in total
    path = write(tmp_path, rows)
    report = run_compute(
        ComputeRequest(source=path, losses=(make_loss("mse"),), block_bytes=64 << 10)
    )
    assert report.summaries[0].value == pytest.approx(1e304, rel=1e-12)


def test_a_result_that_really_overflows_is_exit_1_and_one_message(tmp_path):
    path = write(tmp_path, "y_true,y_pred\n" + "0,1e153\n" * 1000)
    r = invoke("compute", "-l", "mse", "--reduction", "sum", "-f", "value", path)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith("Error: mse: the sum of the losses lies beyond float64")
    assert len(r.stderr.splitlines()) <= 3


def test_library_evaluate_uses_the_same_totals():
    loss = make_loss("mse")
    res = loss.evaluate([0.0, 0.0], [0.0, 1.0], weight=[1e308, 1e308])
    assert res.value == 0.5
    assert res.gradient.tolist() == [0.0, 1.0]
    with pytest.raises(TotalOverflow):
        loss.evaluate([0.0, 0.0], [1e154, 1e154], reduction="sum")


def test_scaled_sums_against_exact_integers():
    """Powers of two are exact: the scaled totals must be exact too."""
    x = np.array([2.0**1020, 2.0**1020, 2.0**1021, 2.0**-1070])
    s = scaled_sum(x)
    assert (s.m, s.e) == (0.5, 1023)  # 2^1022 = 0.5·2^1023
    d = scaled_dot(np.array([2.0**1000, 2.0**1000]), np.array([2.0**100, 2.0**100]))
    assert (d.m, d.e) == (0.5, 1102)
    t = total([Scaled(0.5, 1024), Scaled(0.5, 1024), Scaled(0.0)])
    assert (t.m, t.e) == (0.5, 1025)
    assert Scaled.of(3.0).shifted(0) == 3.0


# --------------------------------------------------------------------------- training scale


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_training_on_extreme_feature_scales(tmp_path, scale):
    """y = 1.25·(x/scale) − 1/3 exactly solvable: coef 1.25/scale, not 0 and "converged"."""
    text = "x,y\n" + "".join(f"{k * scale!r},{y}\n" for k, y in ((1, 1), (2, 2), (3, 3.5)))
    r = invoke("train", "-f", "json", "-q", write(tmp_path, text))
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    # reference: numpy lstsq on the rescaled feature
    x = np.array([[1.0, 1], [2, 1], [3, 1]])
    coef, intercept = np.linalg.lstsq(x, [1.0, 2.0, 3.5], rcond=None)[0]
    assert obj["coef"][0] == pytest.approx(coef / scale, rel=1e-8)
    assert obj["intercept"] == pytest.approx(intercept, rel=1e-8)
    assert obj["metrics"]["train"]["r2"] == pytest.approx(0.9868421052631579, rel=1e-8)


def test_subnormal_features_whose_coefficient_cannot_be_held_are_refused(tmp_path):
    text = "x,y\n1e-310,1\n2e-310,2\n3e-310,3.5\n"  # coef 1.25e310: beyond float64
    r = invoke("train", "-f", "json", "-q", write(tmp_path, text))
    assert r.exit_code == 2
    assert r.stdout == ""
    assert "lie beyond float64" in r.stderr


def test_targets_near_1e300_report_overflowing_metrics_as_null(tmp_path):
    text = "x,y\n1,1e300\n2,2e300\n3,3.5e300\n"
    r = invoke("train", "-l", "mae", "-f", "json", write(tmp_path, text))
    assert r.exit_code == 0, r.output
    metrics = json.loads(r.stdout)["metrics"]["train"]
    assert metrics["mse"] is None
    assert math.isfinite(metrics["mae"])
    assert "mse overflows float64" in r.stderr


# --------------------------------------------------------------------------- predict


def _model(tmp_path: Path) -> str:
    path = str(tmp_path / "m.json")
    r = invoke("train", "-q", "--save", path, write(tmp_path, "x,y\n1,1\n2,2\n3,3.5\n", "t.csv"))
    assert r.exit_code == 0, r.output
    return path


def test_predict_names_the_rows_whose_score_overflows(tmp_path):
    model = _model(tmp_path)
    data = write(tmp_path, "x\n1\n1.7e308\n-1.7e308\n2\n")
    r = invoke("predict", "-m", model, data)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith("Error: the model's score overflows float64 in rows 2, 3\n")


def test_model_files_with_duplicated_names_are_refused(tmp_path):
    model = _model(tmp_path)
    obj = json.loads(Path(model).read_text())
    obj["features"] = ["x", "x"]
    obj["inputs"]["columns"] = ["x", "x"]
    obj["coef"] = [1.0, 2.0]
    Path(model).write_text(json.dumps(obj))
    r = invoke("predict", "-m", model, write(tmp_path, "x\n1\n"))
    assert r.exit_code == 2
    assert "names 'x' twice" in r.stderr
    obj = json.loads(Path(_model(tmp_path)).read_text())
    obj.update(kind="logistic", link="logit", classes=["a", "a"])
    Path(model).write_text(json.dumps(obj))
    r = invoke("predict", "-m", model, write(tmp_path, "x\n1\n"))
    assert r.exit_code == 2
    assert "classes names 'a' twice" in r.stderr


# --------------------------------------------------------------------------- narrow terminals


@pytest.mark.parametrize("width", ["10", "40", "80"])
def test_narrow_terminals_never_cut_a_number(tmp_path, width):
    """Every number a wide terminal shows appears whole (digits and exponent) when narrow."""
    path = write(tmp_path, "y_true,y_pred\n1,1.0018743\n2,2.0000001\n")
    wide = invoke("compute", "-l", "mse", "-f", "table", path, env={"COLUMNS": "200"})
    r = invoke("compute", "-l", "mse", "-f", "table", path, env={"COLUMNS": width})
    assert r.exit_code == 0, r.output
    numbers = set(re.findall(r"\d[\d.]*(?:e[+-]\d+)?", wide.stdout))
    assert {"1.7565e-06", "3.513e-06", "0.0018743", "1e-07"} <= numbers
    for number in numbers:
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.e])", r.stdout), number
    assert "…" not in r.stdout


def test_eps_that_rounds_away_is_refused():
    with pytest.raises(InputError, match="1 − eps rounds to 1"):
        make_loss("bce", eps=1e-17)
    assert make_loss("bce", eps=1.2e-16).eps == 1.2e-16


@pytest.mark.parametrize(
    ("loss", "text"),
    [
        ("ce", "y_true,logit_a,logit_b\n0,17.0,0.0\n"),
        ("ce", "y_true,y_pred\n0,-17.0\n"),  # one column: the binary case, logits [0, x]
    ],
)
def test_cross_entropy_near_p_1_keeps_its_digits(tmp_path, loss, text):
    """−log p for p = 1 − 4.1e-8: log(1 + r) lost the ninth digit, log1p(r) keeps it.
    Oracle: Python's math.log1p(math.exp(-17)) = 4.139937633089748e-08 (correctly rounded)."""
    path = tmp_path / "in.csv"
    path.write_text(text)
    r = CliRunner().invoke(cli, ["compute", "-l", loss, "--logits", "-f", "value", str(path)])
    assert r.exit_code == 0, r.output
    value = float(r.stdout)
    assert abs(value - 4.139937633089748e-08) <= 1e-15 * 4.139937633089748e-08


def test_true_false_mixed_with_0_and_1_are_binary_labels(tmp_path):
    """`0,true,FALSE,1` was text (an all-true/false column was labels): one rule now."""
    from losscli.io.labels import binary_words, encode_classes

    preds = ["0.2", "0.9", "0.1", "0.7"]

    def run(*args: str, labels: list[str], name: str) -> Any:
        path = tmp_path / name
        path.write_text("y,p\n" + "".join(f"{y},{p}\n" for y, p in zip(labels, preds, strict=True)))
        return CliRunner().invoke(cli, [*args, str(path)])

    words = run("compute", "-l", "bce", "-f", "value", labels=["0", "true", "FALSE", "1"], name="w")
    numbers = run("compute", "-l", "bce", "-f", "value", labels=["0", "1", "0", "1"], name="n")
    assert words.exit_code == 0, words.output
    assert words.stdout == numbers.stdout
    other = run("compute", "-l", "bce", labels=["2", "true", "0", "1"], name="o")
    assert other.exit_code == 2 and "non-numeric" in other.stderr  # 2 is no binary label
    train = ["train", "-l", "bce", "--target", "y", "-f", "json"]
    mixed = run(*train, labels=[" true", "0", "1", "false"], name="tw")
    plain = run(*train, labels=["1", "0", "1", "0"], name="tn")
    assert mixed.exit_code == 0, mixed.output
    a, b = json.loads(mixed.stdout), json.loads(plain.stdout)
    assert a["classes"] == b["classes"] == ["0", "1"] and a["coef"] == b["coef"]
    got = binary_words(np.array(["True", None, "0", "1.0", "false"], dtype=object))
    assert got is not None and np.array_equal(got, [1, np.nan, 0, 1, 0], equal_nan=True)
    assert binary_words(np.array(["0", "1"], dtype=object)) is None  # numbers are numbers
    assert binary_words(np.array(["true", "yes"], dtype=object)) is None
    blocks = encode_classes([np.array([0.0, 1.0]), np.array(["TRUE"], dtype=object)], "y")
    assert blocks.classes == ("0", "1") and list(blocks.y) == [0, 1, 1]


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_training_from_python_raises_no_numpy_warnings():
    """Only the command line mutes RuntimeWarnings; the library guards the overflows it
    expects and checks (a ‖w‖² penalty past float64, the warm start's mean of 1e308
    targets) where they happen, so a Python caller sees an error, not a warning."""
    import losscli
    from losscli.errors import RunError
    from losscli.losses.totals import mean

    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    for optimizer in ("sgd", "momentum"):  # gd takes the step the penalty allows: w = 0
        with pytest.raises(RunError, match="diverged"):
            losscli.train((x, y), "mse", optimizer=optimizer, epochs=5, l2=1e300)
    big = np.array([0.0, 1e308, 0.0, 1e308])
    assert mean(big) == 5e307 and mean(np.array([[1.0, 2.0], [3.0, 6.0]])) == 3.0
    with pytest.raises(RunError, match="diverged"):
        losscli.train((np.zeros((4, 1)), big), "mse", optimizer="gd", epochs=1)
