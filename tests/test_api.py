"""The Python API gives the command line's numbers and the command line's errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import losscli
from losscli.cli import cli
from losscli.errors import InputError, RunError

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def cli_json(*args: str) -> dict:
    r = CliRunner().invoke(cli, [*args, "-f", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def cli_error(*args: str) -> str:
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code in (1, 2), r.output
    assert r.stderr.startswith("Error: ")
    return r.stderr.removeprefix("Error: ").rstrip("\n")


# --------------------------------------------------------------------------- loss()

LOSS_CASES = [
    ("mse", {}, "regression_preds.csv", False),
    ("huber", {"delta": 0.5}, "regression_preds.csv", False),
    ("bce", {}, "binary_preds.csv", False),
    ("focal", {"gamma": 2.0, "alpha": 0.3}, "binary_preds.csv", False),
    ("cross_entropy", {"label_smoothing": 0.1}, "seed_cross_entropy.csv", True),
    ("ce", {"class_weights": [1.0, 2.0, 0.5]}, "seed_cross_entropy.csv", False),
]


@pytest.mark.parametrize(("name", "params", "data", "logits"), LOSS_CASES, ids=lambda c: str(c))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_equals_the_cli(name, params, data, logits, reduction):
    frame = pd.read_csv(SAMPLES / data)
    y_true = frame["y_true"]  # a pandas Series
    preds = frame.drop(columns="y_true")
    y_pred = preds["y_pred"].tolist() if list(preds.columns) == ["y_pred"] else preds.to_numpy()
    flags = []
    for key, value in params.items():
        text = ",".join(map(repr, value)) if isinstance(value, list) else repr(value)
        flags += [f"--{key.replace('_', '-')}", text]
    if logits:
        flags.append("--logits")
    out = cli_json(
        "compute", "-l", name, *flags, "--reduction", reduction, "--grad", str(SAMPLES / data)
    )
    (result,) = out["results"]
    f = losscli.loss(name, **params)
    assert f.value(y_true, y_pred, logits=logits, reduction=reduction) == result["value"]
    gradient = f.gradient(y_true, y_pred, logits=logits, reduction=reduction)
    assert gradient.tolist() == result["gradient"]
    value, grad = f.value_and_grad(y_true, y_pred, logits=logits, reduction=reduction)
    assert value == result["value"] and grad.tolist() == result["gradient"]


def test_sample_weight_and_none_equal_the_cli():
    frame = pd.read_csv(SAMPLES / "weighted_preds.csv")
    out = cli_json(
        "compute", "-l", "mae", "--weight", "weight", "--grad", str(SAMPLES / "weighted_preds.csv")
    )
    f = losscli.loss("l1")  # an alias
    v, g = f.value_and_grad(
        frame["y_true"], frame["y_pred"], sample_weight=frame["weight"].to_numpy()
    )
    assert v == out["results"][0]["value"] and g.tolist() == out["results"][0]["gradient"]
    none = f.value(
        frame["y_true"], frame["y_pred"], reduction="none", sample_weight=frame["weight"]
    )
    assert none.tolist() == (frame["weight"] * (frame["y_true"] - frame["y_pred"]).abs()).tolist()


ONE_ROW = "y_true,y_pred\n1,1\n"


@pytest.mark.parametrize(
    ("api", "flags", "stdin"),
    [
        (lambda: losscli.loss("mse", delta=1.0), ["-l", "mse", "--delta", "1"], ONE_ROW),
        (lambda: losscli.loss("huber", delta=-1.0), ["-l", "huber", "--delta", "-1"], ONE_ROW),
        (lambda: losscli.loss("nope"), ["-l", "nope"], ONE_ROW),
        (lambda: losscli.loss("hubr"), ["-l", "hubr"], ONE_ROW),
        (
            lambda: losscli.loss("mse").value([1.0, 2.0], [1.0, 2.0], logits=True),
            ["-l", "mse", "--logits"],
            ONE_ROW,
        ),
        (
            lambda: losscli.loss("bce").value([1.0, 2.0], [0.5, 0.5]),
            ["-l", "bce"],
            "y_true,y_pred\n1,0.5\n2,0.5\n",
        ),
        (
            lambda: losscli.loss("bce").value([1.0, 0.0], [0.5, 1.5]),
            ["-l", "bce"],
            "y_true,y_pred\n1,0.5\n0,1.5\n",
        ),
    ],
    ids=["param-not-taken", "param-range", "unknown", "typo", "logits", "labels", "probs"],
)
def test_loss_errors_are_the_cli_messages(api, flags, stdin):
    with pytest.raises(InputError) as caught:
        api()
    r = CliRunner().invoke(cli, ["compute", *flags, "-"], input=stdin)
    assert r.exit_code == 2
    expected = r.stderr.removeprefix("Error: ").rstrip("\n")
    # the CLI names the file's column ("column 'y_pred'"), the API its argument
    for role in ("y_true", "y_pred"):
        expected = expected.replace(f"column '{role}'", role)
    assert str(caught.value) == expected


def test_missing_and_infinite_values_are_refused():
    f = losscli.loss("mse")
    with pytest.raises(InputError, match=r"y_pred has missing values in row 2"):
        f.value([1, 2], [1, float("nan")])
    with pytest.raises(InputError, match=r"weight has infinite or overflowing values in row 1"):
        f.value([1, 2], [1, 2], sample_weight=[np.inf, 1])
    with pytest.raises(InputError, match=r"y_pred must hold numbers"):
        f.value([1, 2], ["a", "b"])


def test_unknown_keywords_are_type_errors():
    with pytest.raises(TypeError, match="'gama'"):
        losscli.loss("focal", gama=2)
    with pytest.raises(TypeError, match="'epochz'"):
        losscli.train(str(SAMPLES / "diabetes.csv"), epochz=3)


# --------------------------------------------------------------------------- compute()


def test_compute_equals_the_cli_and_pass_two_is_explicit():
    path = str(SAMPLES / "binary_preds.csv")
    out = cli_json("compute", "-l", "bce,focal", "--gamma", "3", "--grad", path)
    report = losscli.compute(path, losses=["bce", "focal"], gamma=3)
    assert report.values == {r["loss"]: r["value"] for r in out["results"]}
    chunks = list(losscli.samples(report))
    for i, result in enumerate(out["results"]):
        assert np.concatenate([c.grads[i] for c in chunks]).tolist() == result["gradient"]


def test_compute_errors_are_the_cli_messages(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("y_true,y_pred\n1,0.5\n0,abc\n")
    with pytest.raises(InputError) as caught:
        losscli.compute(path, losses="bce")  # a Path works too
    assert str(caught.value) == cli_error("compute", "-l", "bce", str(path))


# --------------------------------------------------------------------------- train()


def test_train_equals_the_cli_and_the_model_round_trips(tmp_path):
    path = str(SAMPLES / "diabetes.csv")
    args = ["--loss", "huber", "--delta", "2", "--l2", "0.01", "--optimizer", "adam"]
    out = cli_json("train", *args, "--epochs", "20", "--beta1", "0.8", path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", losscli.LossCliWarning)
        model = losscli.train(
            path, loss="huber", delta=2, l2=0.01, optimizer="adam", epochs=20, beta1=0.8
        )
    assert model.coef.tolist() == out["coef"] and float(model.intercept[0]) == out["intercept"]
    x = pd.read_csv(path)[model.features].to_numpy()
    saved = tmp_path / "m.json"
    model.save(str(saved))
    again = losscli.load_model(str(saved))
    assert again.predict(x).tolist() == model.predict(x).tolist()
    assert model.predict(x[:2].tolist()).tolist() == model.predict(x[:2]).tolist()


def test_train_warns_where_the_cli_warns():
    path = str(SAMPLES / "breast_cancer.csv")
    r = CliRunner().invoke(cli, ["train", "-l", "bce", "--epochs", "3", "-f", "json", path])
    (line,) = [s for s in r.stderr.splitlines() if s.startswith("warning: ")]
    with pytest.warns(losscli.LossCliWarning) as caught:
        losscli.train(path, loss="bce", epochs=3)
    ours = [w for w in caught if w.category is losscli.LossCliWarning]
    assert [str(w.message) for w in ours] == [line.removeprefix("warning: ")]


def test_train_errors_are_the_cli_messages():
    path = str(SAMPLES / "diabetes.csv")
    with pytest.raises(RunError) as diverged:
        losscli.train(path, lr=1000.0)
    assert str(diverged.value) == cli_error("train", "--lr", "1000", path)
    with pytest.raises(InputError) as wrong:
        losscli.train(path, optimizer="adam", momentum=0.5)
    assert str(wrong.value) == cli_error("train", "--optimizer", "adam", "--momentum", "0.5", path)
    with pytest.raises(InputError) as single:
        losscli.train(str(SAMPLES / "iris.csv"), loss="bce")
    assert str(single.value) == cli_error("train", "--loss", "bce", str(SAMPLES / "iris.csv"))


def test_predict_checks_the_shape():
    model = losscli.train(str(SAMPLES / "diabetes.csv"))
    with pytest.raises(InputError, match=r"X has shape \(2, 3\); the model takes 10 feature"):
        model.predict(np.zeros((2, 3)))


# --------------------------------------------------------------------------- laziness


def test_import_is_light_and_loss_needs_numpy_only():
    code = (
        "import sys, losscli\n"
        "heavy = lambda: sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas'})\n"
        "print(heavy())\n"
        "losscli.loss('mse').value([1.0], [2.0])\n"
        "print(heavy())\n"
        "print(callable(losscli.compute), callable(losscli.train), losscli.errors.InputError)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "[]",
        "['numpy']",
        "True True <class 'losscli.errors.InputError'>",
    ]


def test_compute_takes_the_compat_flags():
    path = str(SAMPLES / "binary_preds.csv")
    out = cli_json("compute", "-l", "bce", "--compat", "torch", "--dtype", "float32", path)
    report = losscli.compute(path, "bce", compat="torch", dtype="float32")
    assert report.values == {"bce [torch, float32]": out["results"][0]["value"]}
    both = losscli.compute(path, "bce", compat="all")
    tsv = CliRunner().invoke(cli, ["compute", "-l", "bce", "--compat", "all", "-f", "tsv", path])
    rows = [line.split("\t") for line in tsv.stdout.splitlines()[1:]]
    assert both.values == {label: float(value) for label, _, value in rows}


# --------------------------------------------------------------------------- the input layer


def test_label_words_go_through_the_one_normaliser():
    bce, ce = losscli.loss("bce"), losscli.loss("ce")
    assert bce.value(["true", "false", " TRUE "], [0.9, 0.2, 0.7]) == bce.value(
        [1, 0, 1], [0.9, 0.2, 0.7]
    )
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    text = "y_true,p_cat,p_dog,p_eel\ncat,0.7,0.2,0.1\ndog,0.1,0.8,0.1\n"
    out = json.loads(
        CliRunner().invoke(cli, ["compute", "-l", "ce", "-f", "json", "-"], input=text).stdout
    )
    assert ce.value(["cat", "dog"], p, classes=["cat", "dog", "eel"]) == out["results"][0]["value"]
    with pytest.raises(InputError) as caught:
        ce.value(["cat", "cow"], p, classes=["cat", "dog", "eel"])
    bad = CliRunner().invoke(
        cli, ["compute", "-l", "ce", "-"], input=text.replace("dog,0.1", "cow,0.1")
    )
    assert str(caught.value) == bad.stderr.removeprefix("Error: ").rstrip("\n")


def test_compute_takes_a_dataframe_and_any_format(tmp_path):
    path = SAMPLES / "regression_preds.csv"
    frame = pd.read_csv(path)
    frame.to_parquet(tmp_path / "preds.parquet")
    expected = losscli.compute(path, ["mse", "mae"]).values
    assert losscli.compute(frame, ["mse", "mae"]).values == expected
    assert losscli.compute(tmp_path / "preds.parquet", ["mse", "mae"]).values == expected
    out = cli_json("compute", "-l", "mse,mae", str(tmp_path / "preds.parquet"))
    assert expected == {r["loss"]: r["value"] for r in out["results"]}


def test_train_takes_arrays_and_dataframes_and_predict_equals_the_cli(tmp_path):
    path = SAMPLES / "diabetes.csv"
    frame = pd.read_csv(path)
    x, y = frame.drop(columns="y").to_numpy(), frame["y"].to_numpy()
    from_path = losscli.train(path, l2=0.01)
    assert losscli.train((x, y), l2=0.01).coef.tolist() == from_path.coef.tolist()
    assert losscli.train(frame, l2=0.01).coef.tolist() == from_path.coef.tolist()
    saved = tmp_path / "m.json"
    from_path.save(str(saved))
    r = CliRunner().invoke(cli, ["predict", "-m", str(saved), str(path)])
    assert (
        from_path.predict(frame).tolist() == pd.read_csv(io.StringIO(r.stdout))["y_pred"].tolist()
    )


def test_predict_is_the_cli_table_and_pipes_into_compute(tmp_path):
    path = str(SAMPLES / "iris.csv")
    saved = tmp_path / "iris.json"
    r = CliRunner().invoke(
        cli, ["train", "-l", "ce", "--l2", "0.01", "-q", "--save", str(saved), path]
    )
    assert r.exit_code == 0, r.output
    table = losscli.predict(saved, path)
    printed = CliRunner().invoke(cli, ["predict", "-m", str(saved), path]).stdout
    # the same table; the CLI prints each float as its shortest round-trip text
    # (pyarrow's writer: 1e-7 where pandas writes 1e-07), so compare values
    back = pd.read_csv(io.StringIO(printed))
    assert list(back.columns) == list(table.columns)
    assert back["y_true"].tolist() == table["y_true"].tolist()
    numbers = [c for c in table.columns if c != "y_true"]
    assert back[numbers].to_numpy().tobytes() == table[numbers].to_numpy().tobytes()
    piped = CliRunner().invoke(cli, ["compute", "-l", "ce", "-f", "value", "-"], input=printed)
    assert losscli.compute(table, "ce").values["cross_entropy"] == float(piped.stdout)
