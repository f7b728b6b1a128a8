"""``losscli compute`` end to end: exit code, stdout and stderr exactly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from losscli.cli import cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def run(*args: str, stdin: str | bytes | None = None):
    return CliRunner().invoke(cli, ["compute", *args], input=stdin)


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


# --------------------------------------------------------------------------- values and formats


def test_seed_mse_value_format():
    r = run("-l", "mse", "-f", "value", str(SAMPLES / "seed_regression.csv"))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "0.019999999999999997\n", "")


def test_default_format_when_piped_is_tsv():
    r = run("-l", "mse,mae", str(SAMPLES / "seed_regression.csv"))
    assert r.exit_code == 0
    assert r.stdout == (
        "loss\treduction\tvalue\nmse\tmean\t0.019999999999999997\nmae\tmean\t0.13333333333333333\n"
    )


def test_csv_summary_and_alias_reports_canonical_name():
    r = run("-l", "l2", "-f", "csv", "--reduction", "sum", str(SAMPLES / "seed_regression.csv"))
    assert r.stdout == "loss,reduction,value\nmse,sum,0.05999999999999999\n"


def test_json_shape_with_gradient():
    r = run("-l", "mse", "-f", "json", "--grad", str(SAMPLES / "seed_regression.csv"))
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["n"] == 3
    assert obj["predictions"] == "value"
    (res,) = obj["results"]
    assert res["loss"] == "mse"
    assert res["params"] == {}
    assert res["reduction"] == "mean"
    assert res["value"] == pytest.approx(0.02, rel=1e-12)
    # ERRATA 4.1: one number per prediction, torch autograd of mean MSE
    assert res["gradient"] == pytest.approx(
        [0.0666666666666667, 0.0666666666666667, -0.1333333333333333], rel=1e-12
    )


def test_json_multiclass_gradient_is_rows_and_logits_are_reported():
    r = run("-l", "ce", "--logits", "-f", "json", "--grad", str(SAMPLES / "seed_cross_entropy.csv"))
    obj = json.loads(r.stdout)
    assert obj["predictions"] == "logit"
    res = obj["results"][0]
    assert res["loss"] == "cross_entropy"
    assert res["value"] == pytest.approx(
        1.1858409334340292, rel=1e-12
    )  # torch 2.13 F.cross_entropy
    assert len(res["gradient"]) == 3 and len(res["gradient"][0]) == 3
    assert res["gradient"][0] == pytest.approx([-0.248457, 0.093803, 0.154654], abs=1e-6)


def test_reduction_none_lists_per_sample_values():
    r = run("-l", "mae", "--reduction", "none", "-f", "json", str(SAMPLES / "seed_regression.csv"))
    value = json.loads(r.stdout)["results"][0]["value"]
    assert value == pytest.approx([0.1, 0.1, 0.2], rel=1e-12)


def test_reduction_none_tsv_is_one_row_per_sample():
    r = run("-l", "mae", "--reduction", "none", str(SAMPLES / "seed_regression.csv"))
    lines = r.stdout.splitlines()
    assert lines[0] == "row\tmae\tmae_grad"
    assert [line.split("\t")[0] for line in lines[1:]] == ["1", "2", "3"]
    assert [float(line.split("\t")[2]) for line in lines[1:]] == [1.0, 1.0, -1.0]


def test_value_format_round_trips_exactly():
    r = run("-l", "bce", "-f", "value", str(SAMPLES / "binary_preds.csv"))
    j = run("-l", "bce", "-f", "json", str(SAMPLES / "binary_preds.csv"))
    assert float(r.stdout) == json.loads(j.stdout)["results"][0]["value"]


def test_table_format_names_the_prediction_space():
    r = run("-l", "bce", "-f", "table", "--rows", "2", str(SAMPLES / "binary_preds.csv"))
    assert r.exit_code == 0
    assert "300 rows · predictions read as probabilities (pass --logits for raw scores)" in r.stdout
    assert "showing 2 of 300 rows" in r.stdout
    assert "∂L/∂y_pred" in r.stdout


def test_grad_out_writes_per_sample_csv(tmp_path):
    out = tmp_path / "g.csv"
    r = run(
        "-l", "mse", "--grad-out", str(out), "-f", "value", str(SAMPLES / "seed_regression.csv")
    )
    assert r.exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "row,mse,mse_grad"
    assert float(lines[3].split(",")[2]) == pytest.approx(-0.13333333333333333, rel=1e-12)


def test_grad_out_dash_is_stdouts_only_output():
    r = run("-l", "mse", "--grad-out", "-", str(SAMPLES / "seed_regression.csv"))
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0] == "row,mse,mse_grad" and len(r.stdout.splitlines()) == 4
    clash = run("-l", "mse", "--grad-out", "-", "-f", "json", str(SAMPLES / "seed_regression.csv"))
    assert clash.exit_code == 2 and "both write to stdout" in clash.stderr


def test_grad_out_failure_leaves_existing_file_untouched(tmp_path):
    out = tmp_path / "g.csv"
    out.write_text("precious\n")
    bad = write(tmp_path, "y_true,y_pred\n1,2\n1,abc\n")
    r = run("-l", "mse", "--grad-out", str(out), bad)
    assert r.exit_code == 2
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.csv", "in.csv"]


def test_check_grad_reports_errors():
    r = run("-l", "focal", "--check-grad", "-f", "json", str(SAMPLES / "seed_focal.csv"))
    check = json.loads(r.stdout)["results"][0]["check_grad"]
    assert check["compared"] == 3
    assert check["max_rel_error"] < 1e-6


def test_several_losses_with_parameters():
    r = run(
        "-l",
        "huber",
        "-l",
        "smooth_l1",
        "--delta",
        "0.05",
        "--beta",
        "0.05",
        "-f",
        "value",
        str(SAMPLES / "seed_regression.csv"),
    )
    huber, smooth = (float(x) for x in r.stdout.split())
    assert smooth == pytest.approx(huber / 0.05, rel=1e-12)  # torch: smooth_l1 = huber/beta


def test_weights_are_a_weighted_mean():
    r = run("-l", "mse", "--weight", "weight", "-f", "value", str(SAMPLES / "weighted_preds.csv"))
    import pandas as pd

    df = pd.read_csv(SAMPLES / "weighted_preds.csv")
    expected = ((df.y_pred - df.y_true) ** 2 * df.weight).sum() / df.weight.sum()
    assert float(r.stdout) == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- columns


@pytest.mark.parametrize(
    ("header", "flags"),
    [
        ("a,b", []),
        ("y,pred", []),
        ("target,prediction", []),
        ("label,y_hat", []),
        ("x,truth,score", ["--true", "truth", "--pred", "score"]),
    ],
)
def test_column_defaults(tmp_path, header, flags):
    cols = header.split(",")
    body = "\n".join(
        ",".join(["7"] * (len(cols) - 2) + [t, p]) for t, p in [("1", "1.5"), ("2", "2")]
    )
    path = write(tmp_path, header + "\n" + body + "\n")
    r = run("-l", "mse", "-f", "value", *flags, path)
    assert (r.exit_code, r.stdout) == (0, "0.125\n"), r.output


def test_class_columns_and_names_without_flags(tmp_path):
    path = write(tmp_path, "id,y_true,p_cat,p_dog\n1,dog,0.25,0.75\n2,cat,0.5,0.5\n")
    r = run("-l", "ce", "-f", "value", path)
    # sklearn 1.9 log_loss(["dog","cat"], [[.25,.75],[.5,.5]], labels=["cat","dog"])
    assert float(r.stdout) == pytest.approx(0.49041462650586315, rel=1e-12)


def test_pred_glob_and_soft_labels(tmp_path):
    path = write(tmp_path, "t_a,t_b,s_a,s_b\n0.2,0.8,0.5,0.5\n1,0,0.9,0.1\n")
    r = run("-l", "kl_div", "--true", "t_*", "--pred", "s_*", "-f", "value", path)
    # torch 2.13 F.kl_div(log p, y, reduction='batchmean'), float64
    assert float(r.stdout) == pytest.approx(0.14905263633979182, rel=1e-12)


def test_class_index_targets(tmp_path):
    path = write(tmp_path, "y,p_0,p_1,p_2\n2,0.1,0.2,0.7\n0,0.6,0.3,0.1\n")
    r = run("-l", "ce", "-f", "value", path)
    # sklearn 1.9 log_loss([2, 0], [[.1,.2,.7],[.6,.3,.1]], labels=[0, 1, 2])
    assert float(r.stdout) == pytest.approx(0.4337502838523616, rel=1e-12)


def test_true_false_labels(tmp_path):
    path = write(tmp_path, "y_true,y_pred\ntrue,0.8\nFALSE,0.3\n")
    r = run("-l", "bce", "-f", "value", path)
    # sklearn 1.9 log_loss([1, 0], [0.8, 0.3])
    assert float(r.stdout) == pytest.approx(0.2899092476264711, rel=1e-12)


# --------------------------------------------------------------------------- CSV quirks


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfy_true,y_pred\n1,1.5\n2,2\n",
        b"y_true,y_pred\r\n1,1.5\r\n2,2\r\n",
        b'"y_true","y_pred"\n"1","1.5"\n2,"2"\n',
        b" y_true , y_pred \n1, 1.5\n2,2\n",
        b"y_true,y_pred\n1,1.5\n2,2\n\n",
    ],
    ids=["bom", "crlf", "quoted", "spaces", "trailing-blank"],
)
def test_valid_csv_quirks(tmp_path, data):
    r = run("-l", "mse", "-f", "value", write(tmp_path, data))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "0.125\n", "")


def test_gzip_by_path_and_stdin(tmp_path):
    data = gzip.compress(b"y_true,y_pred\n1,1.5\n2,2\n")
    path = write(tmp_path, data, "in.csv.gz")
    assert run("-l", "mse", "-f", "value", path).stdout == "0.125\n"
    assert run("-l", "mse", "-f", "value", "-", stdin=data).stdout == "0.125\n"


def test_stdin_dash():
    r = run("-l", "mse", "-f", "value", "-", stdin="y_true,y_pred\n1,1.5\n2,2\n")
    assert r.stdout == "0.125\n"


def test_stdin_grad_output_reads_input_once():
    r = run("-l", "mse", "-f", "csv", "--grad", "-", stdin="y_true,y_pred\n1,1.5\n2,2\n")
    assert r.stdout == "row,mse,mse_grad\n1,0.25,0.5\n2,0.0,0.0\n"


# --------------------------------------------------------------------------- errors


ERRORS = [
    (
        "y_true,y_pred\n1,2\n3,abc\n4,x\n",
        [],
        "Error: column 'y_pred' has non-numeric values in rows 2, 3 (e.g. 'abc', 'x')\n"
        "use --dropna to skip such rows\n",
    ),
    (
        "y_true,y_pred\n1,2\n3,\n",
        [],
        "Error: column 'y_pred' has missing values in row 2\nuse --dropna to skip such rows\n",
    ),
    (
        "y_true,y_pred\n1,2\n3,inf\n",
        [],
        "Error: column 'y_pred' has infinite or overflowing values in row 2\n"
        "every value must be a finite float64 number\n",
    ),
    (
        "y_true,y_pred\n1,2\n3,1e999\n",
        [],
        "Error: column 'y_pred' has infinite or overflowing values in row 2\n"
        "every value must be a finite float64 number\n",
    ),
    (
        "y_true,y_pred\n1,2\n3,4,5\n",
        [],
        "Error: in.csv: line 3 has 3 fields but the header has 2 (ragged rows)\n"
        "every row needs one value per column; quote values that contain commas\n",
    ),
    (
        'y_true,y_pred\n1,2\n"3,4\n5,6\n',
        [],
        "Error: in.csv: a quote opened near line 3 is never closed\n"
        'close the quote, or remove the stray " character\n',
    ),
    ("", [], "Error: in.csv is empty\ngive a CSV file with a header row and data rows\n"),
    ("y_true,y_pred\n", [], "Error: in.csv has a header but no data rows\n"),
    (
        "y_true,y_pred,y_pred\n1,2,3\n",
        [],
        "Error: the header names column 'y_pred' 2 times\n"
        "rename the duplicates so that each column in use has one name\n",
    ),
    (
        "a,b,c\n1,2,3\n",
        [],
        "Error: no prediction column found "
        "(looked for y_pred, pred, prediction, y_hat, p_<class>)\n"
        "name it with --pred; the columns are: a, b, c\n",
    ),
    (
        "y_true,y_pred\n1,2\n",
        ["--pred", "nope"],
        "Error: no column named 'nope' (from --pred)\nthe columns are: y_true, y_pred\n",
    ),
    (
        "y_true,y_pred,w\n1,2,0\n1,3,0\n",
        ["--weight", "w"],
        "Error: mse: the weights add up to 0, so the mean is undefined\n"
        "give some rows a positive weight, or use --reduction sum\n",
    ),
    (
        "y_true,y_pred,w\n1,2,-1\n1,3,0\n",
        ["--weight", "w"],
        "Error: column 'w' is negative in row 1 (e.g. -1.0)\nweights must be ≥ 0\n",
    ),
]


@pytest.mark.parametrize(("text", "flags", "stderr"), ERRORS)
def test_input_errors(tmp_path, monkeypatch, text, flags, stderr):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    r = run("-l", "mse", *flags, "in.csv")
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", stderr)


def test_dropna_skips_and_reports(tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,1.5\nx,2\n2,\n2,2\n")
    r = run("-l", "mse", "-f", "value", "--dropna", path)
    assert (r.exit_code, r.stdout) == (0, "0.125\n")
    assert r.stderr == "note: dropped 2 rows with missing or non-numeric values\n"


def test_binary_data_is_refused(tmp_path):
    r = run("-l", "mse", write(tmp_path, b"\x00\x01\x02\x03garbage"))
    assert r.exit_code == 2
    assert "looks like binary data, not CSV text" in r.stderr


def test_a_folder_without_data_files_is_refused(tmp_path):
    # a folder of CSV/Parquet files is an input (issue 14); one without any is an error
    r = run("-l", "mse", str(tmp_path))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: the folder {tmp_path} holds no CSV or Parquet files\n")


def test_probabilities_outside_unit_interval_suggest_logits(tmp_path):
    r = run("-l", "bce", write(tmp_path, "y_true,y_pred\n1,1.1\n0,0.5\n1,1.8\n"))
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: column 'y_pred' has values outside [0, 1] in rows 1, 3 (e.g. 1.1, 1.8)\n"
        "if these are raw scores (logits), pass --logits\n"
    )


def test_unused_parameter_flag_is_an_error():
    r = run("-l", "mse", "--gamma", "2", str(SAMPLES / "seed_regression.csv"))
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --gamma is not a parameter of mse\n"
        "it applies to focal; remove it or choose one of those losses\n",
    )


def test_unknown_loss_suggests_names():
    r = run("-l", "hubber", str(SAMPLES / "seed_regression.csv"))
    assert r.exit_code == 2
    assert (
        r.stderr == "Error: unknown loss 'hubber'\n"
        "did you mean huber? see `losscli losses` for the catalogue\n"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["-l", "huber", "--delta", "nan"], "huber: delta must be a positive number (got nan)"),
        (
            ["-l", "quantile", "--quantile", "1.5"],
            "quantile: quantile must lie strictly between 0 and 1",
        ),
        (["-l", "rmse", "--reduction", "sum"], "rmse supports --reduction mean only"),
        (["-l", "mse", "--logits"], "--logits does not apply to mse"),
    ],
)
def test_option_values_out_of_range(flags, message):
    r = run(*flags, str(SAMPLES / "seed_regression.csv"))
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: " + message)
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) <= 3


def test_no_file_on_a_terminal_is_a_usage_error(monkeypatch):
    monkeypatch.setattr("losscli.cli.options.stdin_is_terminal", lambda: True)
    r = CliRunner().invoke(cli, ["compute", "-l", "mse"])
    assert r.exit_code == 2
    assert "no input: give a CSV FILE, or pipe CSV into standard input" in r.stderr


def test_labels_that_match_no_class(tmp_path):
    path = write(tmp_path, "y_true,p_cat,p_dog\ncow,0.5,0.5\n")
    r = run("-l", "ce", path)
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: column 'y_true' has labels that match no prediction column ('cow')\n"
        "the classes are cat, dog; labels may be class names or indices 0…1\n"
    )


def test_probability_rows_must_sum_to_one(tmp_path):
    path = write(tmp_path, "y,p_a,p_b\n0,0.5,0.6\n1,0.5,0.5\n")
    r = run("-l", "ce", path)
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: columns 'p_a', 'p_b' probability rows do not sum to 1 (±0.0001) "
        "in row 1 (e.g. 1.1)\n"
        "if these are raw scores (logits), pass --logits\n"
    )


# --------------------------------------------------------------------------- losses, version


def test_losses_lists_every_loss():
    from losscli.losses import LOSSES

    r = CliRunner().invoke(cli, ["losses", "-f", "json"])
    names = [e["name"] for e in json.loads(r.stdout)]
    assert names == list(LOSSES)


def test_losses_detail_shows_gradient():
    r = CliRunner().invoke(cli, ["losses", "huber"])
    assert r.exit_code == 0
    assert "e if |e| < δ, else δ·sign(e)" in r.stdout
    assert "torch.nn.functional.huber_loss" in r.stdout


def test_version_and_help():
    from losscli import __version__

    assert CliRunner().invoke(cli, ["--version"]).stdout == f"losscli, version {__version__}\n"
    for cmd in (["-h"], ["compute", "-h"], ["losses", "--help"]):
        r = CliRunner().invoke(cli, cmd)
        assert r.exit_code == 0
        assert "Usage:" in r.stdout
