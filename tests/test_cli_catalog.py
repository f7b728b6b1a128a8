"""The issue-10 losses from the command line: extra columns, switches, the catalogue."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from losscli.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "in.csv"
    path.write_text(text)
    return str(path)


def test_gaussian_nll_reads_the_var_column_and_full_switch(tmp_path):
    f = write(tmp_path, "y_true,y_pred,v\n1,1.5,0.5\n2,1.0,2\n")
    r = run("compute", "-l", "gaussian_nll", "--var", "v", "--full", "-f", "json", "--grad", f)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["columns"]["pred"] == ["y_pred", "v"]
    res = out["results"][0]
    assert res["params"] == {"full": True}
    # ½(log v + e²/v) + ½log 2π, averaged: rows (0.5, 0.5) and (−1, 2)
    rows = [0.5 * (math.log(0.5) + 0.25 / 0.5), 0.5 * (math.log(2.0) + 1.0 / 2.0)]
    assert res["value"] == sum(rows) / 2 + 0.5 * math.log(2 * math.pi)
    assert res["gradient"] == [[0.5, 0.25], [-0.25, 0.0625]]


def test_gaussian_nll_without_a_variance_says_how_to_give_one(tmp_path):
    f = write(tmp_path, "y_true,y_pred\n1,1.5\n")
    r = run("compute", "-l", "gaussian_nll", f)
    assert r.exit_code == 2
    assert "--var COL" in r.stderr


def test_a_switch_of_another_loss_is_an_error(tmp_path):
    f = write(tmp_path, "y_true,y_pred\n1,1.5\n")
    r = run("compute", "-l", "mse", "--full", f)
    assert r.exit_code == 2
    assert "--full is not a parameter of mse" in r.stderr


def test_cosine_distance_takes_k_target_and_k_prediction_columns(tmp_path):
    f = write(tmp_path, "t1,t2,p1,p2\n1,0,1,1\n0,2,0,-3\n")
    r = run(
        "compute", "-l", "cosine_distance", "--true", "t1,t2", "--pred", "p1,p2", "-f", "value", f
    )
    assert r.exit_code == 0, r.output
    assert float(r.stdout) == (1 - 1 / math.sqrt(2) + 2) / 2


def test_catalogue_shows_the_hessian():
    r = run("losses", "tweedie")
    assert r.exit_code == 0
    assert "Hessian" in r.stdout and "2μ^{−p−1}" in r.stdout
    entries = json.loads(run("losses", "--format", "json").stdout)
    assert all(e["hessian"] for e in entries)


def test_hessian_in_json_csv_and_grad_out(tmp_path):
    f = write(tmp_path, "y_true,y_pred\n1,1.5\n2,1.0\n3,3.5\n4,4\n")
    r = run("compute", "-l", "mse", "--hessian", "-f", "json", f)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["results"][0]["hessian"] == [0.5, 0.5, 0.5, 0.5]  # 2/n
    r = run("compute", "-l", "mse", "--reduction", "sum", "--hessian", "-f", "csv", f)
    lines = r.stdout.splitlines()
    assert lines[0] == "row,mse,mse_grad,mse_hess"
    assert lines[1] == "1,0.25,1.0,2.0"
    out = tmp_path / "g.csv"
    r = run("compute", "-l", "log_cosh", "--hessian", "--grad-out", str(out), "-f", "json", f)
    assert r.exit_code == 0, r.output
    header, first = out.read_text().splitlines()[:2]
    assert header == "row,log_cosh,log_cosh_grad,log_cosh_hess"
    assert float(first.split(",")[3]) == 1 / math.cosh(0.5) ** 2 / 4


def test_hessian_of_k_columns_has_one_column_per_class(tmp_path):
    f = write(tmp_path, "y_true,p_a,p_b,p_c\n0,2,0,-1\n2,0,1,0\n")
    r = run("compute", "-l", "ce", "--logits", "--reduction", "sum", "--hessian", "-f", "tsv", f)
    assert r.exit_code == 0, r.output
    header = r.stdout.splitlines()[0].split("\t")
    assert header[-3:] == ["cross_entropy_hess_a", "cross_entropy_hess_b", "cross_entropy_hess_c"]


def test_check_grad_checks_the_hessian_when_asked(tmp_path):
    f = write(tmp_path, "y_true,y_pred\n0,0.3\n1,0.8\n1,0.6\n")
    r = run("compute", "-l", "bce,focal", "--hessian", "--check-grad", "-f", "json", f)
    assert r.exit_code == 0, r.output
    for item in json.loads(r.stdout)["results"]:
        check = item["check_hessian"]
        assert check["compared"] == 3 and check["max_rel_error"] < 1e-5
    r = run("compute", "-l", "bce", "--check-grad", "-f", "json", f)
    assert "check_hessian" not in json.loads(r.stdout)["results"][0]


def test_hessian_with_format_value_is_refused(tmp_path):
    f = write(tmp_path, "y_true,y_pred\n1,1.5\n")
    r = run("compute", "-l", "mse", "--hessian", "-f", "value", f)
    assert r.exit_code == 2
    assert "--hessian does not apply to --format value" in r.stderr


def test_table_shows_the_hessian_column(tmp_path):
    f = write(tmp_path, "y_true,y_pred\n1,1.5\n2,1.0\n")
    r = run("compute", "-l", "mse", "--hessian", "-f", "table", f)
    assert r.exit_code == 0, r.output
    assert "∂²L/∂y_pred²" in r.stdout


def test_log_target_needs_log_probability_columns(tmp_path):
    f = write(tmp_path, "y_true,p_a,p_b\n0,0.3,0.7\n")
    r = run("compute", "-l", "kl_div", "--log-target", f)
    assert r.exit_code == 2
    assert "--log-target takes one log-probability target column per class" in r.stderr


def test_multilabel_bce_with_per_label_pos_weight(tmp_path):
    f = write(tmp_path, "a,b,pa,pb\n1,0,0.8,0.3\n0,1,0.4,0.6\n")
    r = run(
        "compute", "-l", "bce", "--pos-weight", "2,1", "--true", "a,b", "--pred", "pa,pb",
        "-f", "value", f,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    elems = [-2 * math.log(0.8), -math.log(0.7), -math.log(0.6), -math.log(0.6)]
    assert float(r.stdout) == pytest.approx(sum(elems) / 4, rel=1e-12)
