"""The issue-10 losses from the command line: extra columns, switches, the catalogue."""

from __future__ import annotations

import json
import math
from pathlib import Path

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
