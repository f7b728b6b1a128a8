"""--compat, --dtype and --hazards through the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from losscli.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["compute", *args])


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "in.csv"
    path.write_text(text)
    return str(path)


def test_hazards_name_the_rows_built_with_them(tmp_path):
    # row 2: p = 0 under y = 1 (clipped, and it dominates the loss); row 4: blank (skipped)
    rows = ["y_true,y_pred", "1,0.9", "1,0", "0,0.2", "1,", "0,0.1", "1,1", "0,"]
    r = run("-l", "bce", "--hazards", "--dropna", "-f", "json", write(tmp_path, "\n".join(rows)))
    assert r.exit_code == 0, r.output
    hazards = json.loads(r.stdout)["hazards"]
    assert hazards["clipped"]["rows"] == [2, 6] and hazards["clipped"]["count"] == 2
    # the last row is counted; its number is not seen after the last kept row
    assert hazards["skipped"] == {**hazards["skipped"], "count": 2, "rows": [4]}
    assert hazards["dominant"]["rows"] == [2]
    assert hazards["dominant"]["shares"]["2"] > 0.9
    assert hazards["saturated"]["count"] == 0 and hazards["row_sum"]["count"] == 0


def test_hazards_find_saturated_logits_and_rows_off_one(tmp_path):
    logits = ["y_true,y_pred", "1,3", "0,-40", "1,800", "0,0.5"]
    r = run("-l", "bce", "--logits", "--hazards", "-f", "json", write(tmp_path, "\n".join(logits)))
    assert json.loads(r.stdout)["hazards"]["saturated"]["rows"] == [2, 3]
    probs = ["y,p_a,p_b", "0,0.5,0.5", "1,0.2,0.79", "0,0.7,0.3"]
    path = write(tmp_path, "\n".join(probs))
    r = run("-l", "ce", "--compat", "keras", "--hazards", "-f", "json", path)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["hazards"]["row_sum"]["rows"] == [2]


def test_hazards_in_float32_see_float32_saturation(tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,20\n0,-5\n")  # σ(20) rounds to 1 in float32 only
    single = run("-l", "bce", "--logits", "--hazards", "--dtype", "float32", "-f", "json", path)
    double = run("-l", "bce", "--logits", "--hazards", "-f", "json", path)
    assert json.loads(single.stdout)["hazards"]["saturated"]["rows"] == [1]
    assert json.loads(double.stdout)["hazards"]["saturated"]["count"] == 0


def test_compat_all_marks_the_libraries_that_differ(tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,0\n0,0.3\n1,0.8\n")
    r = run("-l", "bce", "--compat", "all", "-f", "json", path)
    assert r.exit_code == 0, r.output
    (result,) = json.loads(r.stdout)["results"]
    compat = result["compat"]
    assert compat["torch"]["differs"] and compat["keras"]["differs"]
    assert not compat["sklearn"]["differs"]  # sklearn clips at the float64 epsilon, as losscli
    assert compat["optax"] == {"value": None, "unavailable": "not for these inputs or options"}
    # torch clamps log 0 at −100: (100 + log(1/0.7) + log(1/0.8)) / 3
    assert math.isclose(compat["torch"]["value"], (100 - math.log(0.7) - math.log(0.8)) / 3)


def test_compat_all_table_for_people(tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,0\n0,0.3\n")
    from losscli import compute as computing
    from losscli.cli import render_compat
    from losscli.io.columns import ColumnRequest
    from losscli.losses import make_losses

    losses = make_losses(("bce",), {}, logits=False, compat="all")
    request = computing.ComputeRequest(path, tuple(losses), ColumnRequest())
    report = computing.run_compute(request)
    console = Console(width=100, record=True, color_system=None)
    render_compat.tables(report, console)
    text = console.export_text()
    assert "torch" in text and "≠" in text and "optax" in text and "—" in text


def test_dtype_float32_shows_how_far_it_moved(tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,0\n0,0.3\n")
    r = run("-l", "bce", "--dtype", "float32", "-f", "tsv", path)
    assert r.exit_code == 0
    assert r.stdout.splitlines()[1].startswith("bce [float32]\tmean\t")
    assert "largest per-row loss is 15.94 in float32 and 36.04 in float64" in r.stderr


def test_a_library_without_the_loss_exits_2(tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,0.5\n")
    r = run("-l", "hinge", "--compat", "torch", path)
    assert r.exit_code == 2
    assert "torch has no hinge loss" in r.stderr
    assert "Traceback" not in r.output


def test_the_catalogue_lists_each_librarys_convention():
    r = CliRunner().invoke(cli, ["losses", "bce", "--format", "json"])
    (entry,) = json.loads(r.stdout)
    libraries = {row["library"]: row for row in entry["compat"]}
    assert set(libraries) == {"torch", "keras", "sklearn", "optax"}
    assert "−100" in libraries["torch"]["differs"]
