"""``losscli train`` and ``predict`` end to end: outputs, files, and every error path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from losscli.cli import cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def train_json(*args: str) -> dict:
    r = invoke("train", "-f", "json", *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_json_has_the_spec_keys():
    out = train_json(str(SAMPLES / "diabetes.csv"))
    for key in (
        "model",
        "loss",
        "features",
        "coef",
        "intercept",
        "epochs",
        "stop_reason",
        "objective",
        "metrics",
    ):
        assert key in out
    assert out["model"] == "linear" and out["loss"] == "mse"
    assert out["stop_reason"] == "converged"
    assert set(out["metrics"]["train"]) == {"mse", "mae", "r2"}
    assert len(out["coef"]) == len(out["features"]) == 10


def test_softmax_json_has_one_coef_list_per_class():
    out = train_json("--loss", "ce", "--l2", "0.01", str(SAMPLES / "iris.csv"))
    assert out["model"] == "softmax"
    assert out["classes"] == ["setosa", "versicolor", "virginica"]
    assert len(out["coef"]) == 3 and all(len(c) == 4 for c in out["coef"])
    assert len(out["intercept"]) == 3


def test_same_command_same_output_bit_for_bit():
    args = ("--optimizer", "sgd", "--epochs", "5", "--seed", "7", str(SAMPLES / "diabetes.csv"))
    a, b = train_json(*args), train_json(*args)
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_divergence_exits_1_and_suggests_a_smaller_lr(tmp_path):
    model = tmp_path / "m.json"
    r = invoke("train", "--lr", "1000", "--save", str(model), str(SAMPLES / "diabetes.csv"))
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith("Error: training diverged at epoch ")
    assert r.stderr.endswith("try a smaller --lr (now 1000)\n")
    assert not model.exists()


def test_history_has_one_row_per_epoch(tmp_path):
    hist = tmp_path / "h.csv"
    out = train_json(
        "--optimizer",
        "adam",
        "--epochs",
        "12",
        "--tol",
        "0",
        "--history",
        str(hist),
        str(SAMPLES / "diabetes.csv"),
    )
    rows = pd.read_csv(hist)
    assert list(rows.columns) == ["epoch", "objective", "loss", "val_loss", "lr", "seconds"]
    assert list(rows["epoch"]) == list(range(1, 13)) and out["epochs"] == 12


def test_l1_prints_exact_zeros():
    out = train_json("--l1", "1", str(SAMPLES / "diabetes.csv"))
    assert out["coef"].count(0.0) == 2


def saved_model(tmp_path: Path, data: str, *args: str) -> Path:
    """Train on a sample file with ``args`` and save the model; return its path."""
    model = tmp_path / "model.json"
    r = invoke("train", *args, "-q", "--save", str(model), str(SAMPLES / data))
    assert r.exit_code == 0, r.output
    return model


def test_save_predict_compute_gives_sklearn_log_loss(tmp_path):
    model = saved_model(tmp_path, "breast_cancer.csv", "-l", "bce", "--l2", "0.01")
    pred = invoke("predict", "-m", str(model), str(SAMPLES / "breast_cancer.csv"))
    assert pred.exit_code == 0
    table = pd.read_csv(pd.io.common.StringIO(pred.stdout))
    assert list(table.columns) == ["y_true", "y_pred"]
    y, p = table["y_true"].to_numpy(float), table["y_pred"].to_numpy()
    # sklearn.metrics.log_loss on probabilities: mean of −log p of the true class
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))
    comp = invoke("compute", "-l", "bce", "-f", "value", "-", stdin=pred.stdout)
    assert float(comp.stdout) == pytest.approx(expected, rel=1e-12)
    assert json.loads(model.read_text())["metrics"]["train"]["log_loss"] == pytest.approx(
        expected, rel=1e-9
    )


def test_softmax_predictions_pipe_into_compute(tmp_path):
    model = saved_model(tmp_path, "iris.csv", "-l", "ce", "--l2", "0.01")
    pred = invoke("predict", "-m", str(model), str(SAMPLES / "iris.csv"))
    assert pred.stdout.splitlines()[0] == "y_true,p_setosa,p_versicolor,p_virginica"
    comp = invoke("compute", "-l", "ce", "-f", "json", "-", stdin=pred.stdout)
    saved = json.loads(model.read_text())["metrics"]["train"]["log_loss"]
    assert json.loads(comp.stdout)["results"][0]["value"] == pytest.approx(saved, rel=1e-9)


def test_predict_logits_are_raw_scores(tmp_path):
    model = saved_model(tmp_path, "breast_cancer.csv", "-l", "bce", "--l2", "0.01")
    probs = invoke("predict", "-m", str(model), str(SAMPLES / "breast_cancer.csv"))
    raw = invoke("predict", "-m", str(model), "--logits", str(SAMPLES / "breast_cancer.csv"))
    p = pd.read_csv(pd.io.common.StringIO(probs.stdout))["y_pred"].to_numpy()
    scores = pd.read_csv(pd.io.common.StringIO(raw.stdout))
    assert list(scores.columns) == ["y_true", "y_score"]  # never mistaken for probabilities
    z = scores["y_score"].to_numpy()
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-z)), rtol=1e-12)


def test_predict_logits_name_one_logit_column_per_class(tmp_path):
    model = saved_model(tmp_path, "iris.csv", "-l", "ce", "--l2", "0.01")
    raw = invoke("predict", "-m", str(model), "--logits", str(SAMPLES / "iris.csv"))
    header = raw.stdout.splitlines()[0]
    assert header == "y_true,logit_setosa,logit_versicolor,logit_virginica"


def test_predict_without_target_column(tmp_path):
    model = saved_model(tmp_path, "diabetes.csv")
    features = pd.read_csv(SAMPLES / "diabetes.csv").drop(columns="y").head(3)
    r = invoke("predict", "-m", str(model), stdin=features.to_csv(index=False))
    lines = r.stdout.splitlines()
    assert lines[0] == "y_pred" and len(lines) == 4


def test_one_hot_features(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,color,y\n1,red,3\n2,blue,5\n3,red,7\n4,green,9\n5,blue,11\n")
    out = train_json("--one-hot", "color", str(data))
    assert out["features"] == ["x", "color=blue", "color=green", "color=red"]


def test_saved_model_is_versioned_json(tmp_path):
    model = saved_model(tmp_path, "diabetes.csv")
    obj = json.loads(model.read_text())
    assert (obj["format"], obj["version"], obj["kind"]) == ("losscli-model", 1, "linear")
    assert obj["loss"] == {"name": "mse", "params": {}}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o.update(version=2), "file version 2"),
        (lambda o: o.update(kind="tree"), "unknown kind 'tree'"),
        (lambda o: o["coef"].pop(), "coef must be a list of 10 numbers"),
        (lambda o: o.update(coef=["a"] * 10), "coef must hold numbers only"),
        (lambda o: o.pop("intercept"), "missing field 'intercept'"),
        (lambda o: o.update(features=["a"]), "features do not match inputs"),
    ],
)
def test_tampered_model_exits_2(tmp_path, mutate, message):
    model = saved_model(tmp_path, "diabetes.csv")
    obj = json.loads(model.read_text())
    mutate(obj)
    model.write_text(json.dumps(obj))
    r = invoke("predict", "-m", str(model), str(SAMPLES / "diabetes.csv"))
    assert r.exit_code == 2
    assert message in r.stderr and len(r.stderr.splitlines()) <= 3


def test_nan_in_model_file_exits_2(tmp_path):
    model = saved_model(tmp_path, "diabetes.csv")
    model.write_text(model.read_text().replace('"intercept": ', '"intercept": NaN, "x": '))
    r = invoke("predict", "-m", str(model), str(SAMPLES / "diabetes.csv"))
    assert r.exit_code == 2 and "non-finite number NaN" in r.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x80\x04\x95garbage", "looks like a pickle"),
        (b"not json at all", "is not a losscli model (not JSON)"),
        (b"[1, 2, 3]", 'no "format": "losscli-model" field'),
    ],
)
def test_non_models_are_refused(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    r = invoke("predict", "-m", str(bad), str(SAMPLES / "diabetes.csv"))
    assert r.exit_code == 2 and message in r.stderr


def test_missing_feature_columns(tmp_path):
    model = saved_model(tmp_path, "diabetes.csv")
    r = invoke("predict", "-m", str(model), str(SAMPLES / "iris.csv"))
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: the input lacks feature column(s) 'age', 'sex'")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-l", "bce", "iris.csv"], "bce is a binary loss but the target has 3 classes"),
        (["-l", "ce", "--model", "logistic", "iris.csv"], "a logistic model has two classes"),
        (["-l", "mse", "iris.csv"], "the target 'species' holds text"),
        (
            ["--optimizer", "gd", "--batch-size", "3", "diabetes.csv"],
            "gd is full-batch and takes no --batch-size",
        ),
        (["--optimizer", "newton", "--lr", "0.1", "diabetes.csv"], "newton is a full-batch solver"),
        (["--lr", "-1", "diabetes.csv"], "--lr must be > 0"),
        (["--lr", "nan", "diabetes.csv"], "--lr must be > 0"),
        (["--l2", "-1", "diabetes.csv"], "--l2 must be a number ≥ 0"),
        (["--val-split", "1.5", "diabetes.csv"], "--val-split must lie strictly between 0 and 1"),
        (
            ["--optimizer", "adam", "--momentum", "0.5", "diabetes.csv"],
            "optimizer 'adam' does not take momentum",
        ),
        (["-l", "mse", "--gamma", "2", "diabetes.csv"], "--gamma is not a parameter of mse"),
        (["-l", "mse,mae", "diabetes.csv"], "train minimises one loss"),
        (["--target", "nope", "diabetes.csv"], "no column named 'nope' (from --target)"),
        (["--features", "zz*", "diabetes.csv"], "--features 'zz*' matches no column"),
    ],
)
def test_train_errors(monkeypatch, args, message):
    monkeypatch.chdir(SAMPLES)
    r = invoke("train", *args)
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("Error: " + message)
    assert len(r.stderr.splitlines()) <= 3 and r.stdout == ""


def test_non_numeric_features_are_named(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,color,y\n1,red,3\n2,blue,5\n")
    r = invoke("train", str(data))
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: non-numeric feature column(s): 'color'\n"
        "encode them with --one-hot COLS, or leave them out with --features\n"
    )


def test_missing_values_and_dropna(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,3\n2,\n3,7\n4,9\n")
    r = invoke("train", str(data))
    assert r.exit_code == 2 and "column 'y' has missing values in row 2" in r.stderr
    out = invoke("train", "-f", "json", "--dropna", str(data))
    assert out.exit_code == 0
    assert json.loads(out.stdout)["dropped"] == 1
    assert json.loads(out.stdout)["coef"] == pytest.approx([2.0], rel=1e-9)


def test_epoch_limit_is_said_and_overlapping_classes_are_not_called_separable():
    # versicolor and virginica overlap: not completely separable, but setosa is on its own
    r = invoke("train", "-l", "ce", "-f", "json", "--epochs", "200", str(SAMPLES / "iris.csv"))
    assert r.exit_code == 0
    assert json.loads(r.stdout)["stop_reason"] in ("max_epochs", "not_optimal")
    assert "--l2" in r.stderr
    assert "separable:" not in r.stderr


def test_table_output_shows_coefficients_and_metrics():
    r = invoke("train", "-f", "table", str(SAMPLES / "diabetes.csv"))
    assert r.exit_code == 0
    assert "coefficients" in r.stdout and "original feature scale" in r.stdout
    assert "intercept" in r.stdout and "r2" in r.stdout


def test_weight_decay_flag_reaches_adamw():
    """--weight-decay is generated from adamw's registry entry and changes the fit."""
    args = ("--optimizer", "adamw", "--epochs", "5", "--tol", "0", str(SAMPLES / "diabetes.csv"))
    plain = train_json(*args)
    decayed = train_json("--weight-decay", "0.5", *args)
    default = train_json("--weight-decay", "0.01", *args)  # adamw's own default
    assert decayed["coef"] != plain["coef"] and default["coef"] == plain["coef"]
    r = invoke(
        "train", "--optimizer", "adam", "--weight-decay", "0.1", str(SAMPLES / "diabetes.csv")
    )
    assert r.exit_code == 2 and "'adam' does not take weight_decay" in r.stderr
