"""What a person sees: fixed-width renders, formats chosen by the terminal, guesses, figures.

Renders go to rich consoles of a fixed width (80 and 160 columns, the widths
people use) and are read back as text: no value may lose a digit or its
exponent, no header or loss name may be cut, every formula must print whole.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from losscli.cli import cli, numbers
from losscli.cli.layout import Col, column_groups, print_table, table_width
from losscli.losses import LOSSES

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
WIDTHS = (80, 160)


def invoke(*args: str, width: int = 80, stdin: str | None = None, **env: str):
    return CliRunner().invoke(cli, list(args), input=stdin, env={"COLUMNS": str(width), **env})


def console(width: int) -> Console:
    return Console(width=width, record=True, file=open(os.devnull, "w"), color_system=None)


def cells_of(text: str) -> list[str]:
    """Every table cell on a screen, stripped (box rules and empty cells dropped)."""
    out = []
    for line in text.splitlines():
        for cell in line.replace("┃", "│").split("│"):
            if cell.strip():
                out.append(cell.strip())
    return out


def assert_fits(text: str, width: int) -> None:
    from rich.cells import cell_len

    assert all(cell_len(line) <= width for line in text.splitlines()), text
    assert "…" not in text, text


# --------------------------------------------------------------------------- numbers


def test_one_number_policy_for_people_exact_repr_for_machines():
    assert numbers.human(0.1 + 0.2) == "0.3"
    assert numbers.human(-1.0863512345e-08) == "-1.08635e-08"  # the exponent always shown
    assert numbers.human(7061.51723) == "7061.52"
    assert numbers.human(-0.0) == "0" and numbers.human(float("inf")) == "inf"
    assert numbers.count(10_000_000) == "10,000,000"
    assert numbers.plural(1, "row") == "1 row" and numbers.plural(2500, "row") == "2,500 rows"
    assert numbers.exact(0.1 + 0.2) == "0.30000000000000004"
    assert numbers.exact_all(np.array([1 / 3, 2.0])) == ["0.3333333333333333", "2.0"]


# --------------------------------------------------------------------------- layout


def test_column_groups_keep_keys_in_every_part_and_give_up_when_nothing_fits():
    widths, keys = [3, 10, 10, 10, 10], [True, False, False, False, False]
    assert column_groups(widths, keys, 200) == [[0, 1, 2, 3, 4]]
    parts = column_groups(widths, keys, 35)
    assert parts is not None and all(p[0] == 0 for p in parts)
    assert sorted({i for p in parts for i in p}) == [0, 1, 2, 3, 4]
    assert all(table_width([widths[i] for i in p]) <= 35 for p in parts)
    assert column_groups([3, 40], [True, False], 30) is None


def test_a_table_too_wide_for_any_split_becomes_vertical_with_every_value_whole():
    c = console(30)
    value = "-1.23457e-308"
    print_table(
        c, [Col("row", key=True), Col("a very long column header"), Col("b")], [["1", value, "2"]]
    )
    text = c.export_text()
    assert_fits(text, 30)
    assert f"  a very long column header\n    {value}\n" in text and "  b  " in text


@pytest.mark.parametrize("width", WIDTHS)
def test_multiclass_compute_table_cuts_nothing(width):
    r = invoke(
        "compute",
        "-l",
        "ce,focal",
        "-f",
        "table",
        "--rows",
        "5",
        str(SAMPLES / "multiclass_preds.csv"),
        width=width,
    )
    assert r.exit_code == 0, r.output
    assert_fits(r.stdout, width)
    cells = cells_of(r.stdout)
    for header in ("p_versicolor", "∂L/∂p_versicolor", "∂L/∂p_virginica", "y_true"):
        assert header in cells
    # row 2 of the file, as the per-row table must show it: digits and exponents intact
    assert {"0.918778", "0.081211", "1.1e-05", "-0.00725601"} <= set(cells)
    tsv = invoke("compute", "-l", "ce", "--grad", str(SAMPLES / "multiclass_preds.csv")).stdout
    grad_row_2 = [float(v) for v in tsv.splitlines()[2].split("\t")[2:]]
    assert numbers.human(grad_row_2[0]) == "-0.00725601"


def test_table_names_the_real_columns_and_right_aligns_numbers(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("actual_value,model_pred\n1.5,1.25\n10,9.5\n")
    r = invoke(
        "compute",
        "-l",
        "mse",
        "-f",
        "table",
        "--true",
        "actual_value",
        "--pred",
        "model_pred",
        str(path),
    )
    assert r.exit_code == 0, r.output
    assert "actual_value" in r.stdout and "∂L/∂model_pred" in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.startswith("│   2 │"))
    assert re.search(r"^│   2 │ +10 │ +9\.5 │", row)  # y_true shown like y_pred: right-aligned


# --------------------------------------------------------------------------- formats


def test_force_color_in_a_pipe_still_prints_tsv():
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "80"}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "losscli",
            "compute",
            "-l",
            "mse",
            str(SAMPLES / "seed_regression.csv"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert r.stdout == "loss\treduction\tvalue\nmse\tmean\t0.019999999999999997\n"


def test_value_format_is_documented_as_for_machines():
    r = invoke("compute", "--help")
    assert "value are for machines: every number exact (repr)" in " ".join(r.stdout.split())


def test_output_file_is_written_atomically_and_nothing_on_failure(tmp_path):
    out = tmp_path / "out.tsv"
    r = invoke("compute", "-l", "mse", "-o", str(out), str(SAMPLES / "seed_regression.csv"))
    assert (r.exit_code, r.stdout) == (0, "")
    assert out.read_text() == "loss\treduction\tvalue\nmse\tmean\t0.019999999999999997\n"
    assert r.stderr == f"wrote {out}\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("y_true,y_pred\n1,x\n")
    failed = tmp_path / "failed.tsv"
    r = invoke("compute", "-l", "mse", "-o", str(failed), str(bad))
    assert r.exit_code == 2 and not failed.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_quiet_and_output(command):
    """Every registered command, today's and tomorrow's (cli.output.output_options)."""
    options = {opt for p in cli.commands[command].params for opt in p.opts}
    assert {"-q", "--quiet", "-o", "--output"} <= options


def test_grad_out_says_what_it_wrote_and_quiet_silences_it(tmp_path):
    g = tmp_path / "g.csv"
    r = invoke(
        "compute",
        "-l",
        "mse",
        "-f",
        "value",
        "--grad-out",
        str(g),
        str(SAMPLES / "regression_preds.csv"),
    )
    assert r.stderr == f"wrote {g}: 221 rows\n"
    assert len(g.read_text().splitlines()) == 222
    r = invoke(
        "compute",
        "-q",
        "-l",
        "mse",
        "-f",
        "value",
        "--grad-out",
        str(g),
        str(SAMPLES / "regression_preds.csv"),
    )
    assert r.stderr == ""


# --------------------------------------------------------------------------- the catalogue


def test_catalogue_in_a_pipe_is_one_loss_per_line():
    r = invoke("losses")
    lines = r.stdout.splitlines()
    assert lines[0] == "name\taliases\ttask\tparameters\tformula"
    rows = [line.split("\t") for line in lines[1:]]
    assert [row[0] for row in rows] == list(LOSSES)
    assert all(len(row) == 5 for row in rows)
    for row in rows:
        assert row[4] == LOSSES[row[0]].formula  # whole, brackets and all
    bce = dict(zip(lines[0].split("\t"), rows[list(LOSSES).index("bce")], strict=True))
    assert bce["aliases"] == "binary_cross_entropy,log_loss"
    assert bce["formula"] == "−[w·y·log p + (1 − y)·log(1 − p)], w = pos_weight"


@pytest.mark.parametrize("width", WIDTHS)
def test_catalogue_on_a_terminal_cuts_no_name_and_eats_no_bracket(width):
    r = invoke("losses", "-f", "table", width=width)
    assert r.exit_code == 0
    assert_fits(r.stdout, width)
    words = set(re.sub(r"[,()]", " ", r.stdout).split())
    for cls in LOSSES.values():
        assert cls.name in words
        assert all(alias in words for alias in cls.aliases)
    assert "−[w·y·log p" in r.stdout  # markup would have eaten "[w·y·log p + …]"


@pytest.mark.parametrize("width", WIDTHS)
def test_catalogue_detail_is_complete(width):
    r = invoke("losses", "-f", "table", "bce", width=width)
    flat = " ".join(r.stdout.split())
    assert "clipped to [eps, 1 − eps]" in flat.replace("│ ", "").replace(" │", "")
    assert "``" not in r.stdout  # reStructuredText backquotes are dropped
    focal = invoke("losses", "focal").stdout  # a pipe: field<TAB>value
    fields = dict(line.split("\t", 1) for line in focal.splitlines())
    assert fields["gradient ∂ℓ/∂ŷ"] == LOSSES["focal"].gradient
    assert "p_t = p if y = 1 else 1 − p" in fields["loss ℓ"]


def test_shell_completion_offers_loss_names_after_a_comma():
    from losscli.cli.options import complete_losses

    offered = [item.value for item in complete_losses(None, None, "mse,fo")]  # type: ignore[arg-type]
    assert offered == ["mse,focal"]
    env = {
        **os.environ,
        "_LOSSCLI_COMPLETE": "bash_complete",
        "COMP_WORDS": "losscli train --optimizer ad",
        "COMP_CWORD": "3",
    }
    r = subprocess.run([sys.executable, "-m", "losscli"], capture_output=True, text=True, env=env)
    assert r.stdout.split() == ["plain,adagrad", "plain,adam", "plain,adamw"]


# --------------------------------------------------------------------------- guesses


def test_mse_on_a_binary_target_suggests_bce():
    r = invoke("train", "-f", "json", str(SAMPLES / "breast_cancer.csv"))
    assert r.exit_code == 0
    assert "target looks binary (only 0 and 1)" in r.stderr
    assert "--loss bce fits a logistic model" in r.stderr


def test_bce_on_a_continuous_target_does_not_suggest_cross_entropy():
    r = invoke("train", "-l", "bce", str(SAMPLES / "diabetes.csv"))
    assert r.exit_code == 2
    assert "looks continuous (214 distinct values" in r.stderr
    assert "cross_entropy" not in r.stderr and "--loss mse" in r.stderr


def test_separable_classes_are_named_for_every_classification_loss():
    for loss in ("focal", "bce"):
        r = invoke("train", "-l", loss, "-f", "json", str(SAMPLES / "imbalanced.csv"))
        out = json.loads(r.stdout)
        assert out["separable"] is True, loss
        assert "the classes are separable" in r.stderr and "--l2" in r.stderr
    # with a penalty the optimum is finite: nothing to warn about
    r = invoke(
        "train", "-l", "focal", "--l2", "0.01", "-f", "json", str(SAMPLES / "imbalanced.csv")
    )
    assert json.loads(r.stdout)["separable"] is False and "separable" not in r.stderr
    # hinge reaches zero loss at a finite margin: its coefficients do not run away
    r = invoke("train", "-l", "hinge", "-f", "json", str(SAMPLES / "imbalanced.csv"))
    assert json.loads(r.stdout)["separable"] is False


def test_logits_that_look_like_probabilities_warn():
    r = invoke("compute", "-l", "bce", "--logits", "-f", "value", str(SAMPLES / "binary_preds.csv"))
    assert r.stderr.startswith("warning: read as logits, but every prediction lies in [0, 1]")
    r = invoke(
        "compute", "-l", "ce", "--logits", "-f", "value", str(SAMPLES / "multiclass_preds.csv")
    )
    assert "every prediction row lies in [0, 1] and sums to 1" in r.stderr
    r = invoke("compute", "-l", "bce", "-f", "value", str(SAMPLES / "binary_preds.csv"))
    assert r.stderr == ""


# --------------------------------------------------------------------------- train summary


def test_summary_shows_both_objectives_penalties_and_optimizer_settings():
    r = invoke(
        "train",
        "-l",
        "bce",
        "--optimizer",
        "adam",
        "--val-split",
        "0.2",
        "--l2",
        "0.01",
        "-f",
        "table",
        str(SAMPLES / "breast_cancer.csv"),
    )
    assert r.exit_code == 0, r.output
    flat = " ".join(r.stdout.replace("│", " ").split())
    assert "adam: lr 0.1, beta1 0.9, beta2 0.999, batch 32" in flat
    assert "l1 0, l2 0.01 (on the standardized coefficients)" in flat
    assert "final " in flat and "(its weights were restored)" in flat
    assert "target target · classes 0, 1" in flat and "features 30: mean_radius," in flat


def test_convergence_chart_plots_the_objective_with_best_and_stop():
    from losscli.cli.render_train import BEST_MARK, TRAIN_MARK, VAL_MARK, convergence_chart
    from losscli.fit.loop import EpochRecord

    val = [10.0 ** -(min(e, 4) + 0.5) for e in range(1, 10)]  # stops improving after epoch 4
    history = [EpochRecord(e, 10.0**-e, 10.0**-e, val[e - 1], 0.1, 0.0) for e in range(1, 10)]
    lines = convergence_chart(history, best_epoch=4, stop="early_stopping", width=80)
    assert lines[0] == "objective per epoch (log scale)"
    plot = lines[1:11]
    assert plot[0].startswith("  0.1 ┤" + TRAIN_MARK)  # epoch 1 at the top: 10⁻¹
    assert plot[-1].startswith("1e-09 ┤") and plot[-1].rstrip().endswith(TRAIN_MARK)
    best_column = plot[0].index(BEST_MARK)
    assert all(line[best_column] in (BEST_MARK, VAL_MARK, TRAIN_MARK) for line in plot)
    assert any(VAL_MARK in line for line in plot)
    assert lines[12].split() == ["1", "4", "9", "epoch"]
    assert "┊ best epoch 4 (kept)" in lines[-1] + " ".join(lines[13:])
    assert "stop: epoch 9 (early_stopping)" in " ".join(lines[13:])
    assert all(len(line) <= 80 for line in lines)


def test_train_table_at_80_columns_cuts_nothing():
    r = invoke("train", "-l", "ce", "--l2", "0.01", "-f", "table", str(SAMPLES / "iris.csv"))
    assert r.exit_code == 0
    assert_fits(r.stdout, 80)
    assert "versicolor" in r.stdout and "(intercept)" in r.stdout


# --------------------------------------------------------------------------- progress


def test_compute_reports_progress_of_both_passes(tmp_path):
    from losscli.compute import ComputeRequest, compute_session, samples
    from losscli.losses import make_loss

    path = tmp_path / "p.csv"
    path.write_text("y_true,y_pred\n" + "".join(f"{i},{i + 0.5}\n" for i in range(5000)))
    seen = []
    request = ComputeRequest(
        source=str(path),
        losses=(make_loss("mse"),),
        per_sample=True,
        block_bytes=4096,
        progress=seen.append,
    )
    with compute_session(request) as report:
        list(samples(report))
    size = path.stat().st_size
    for phase in (1, 2):
        mine = [p for p in seen if p.phase == phase]
        assert len(mine) > 3 and mine[-1].rows == 5000 and mine[-1].total == size
        assert mine[-1].bytes == size and [p.bytes for p in mine] == sorted(p.bytes for p in mine)


# --------------------------------------------------------------------------- figures


def _png(path: Path) -> np.ndarray:
    import matplotlib.image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(str(path))


def _has_colour(img: np.ndarray, rgb: tuple[int, int, int], region: slice) -> bool:
    target = np.array(rgb) / 255
    part = img[:, region, :3]
    return bool((np.abs(part - target).max(axis=2) < 0.03).sum() > 50)


C0, C1, C3 = (31, 119, 180), (255, 127, 14), (214, 39, 40)  # matplotlib's default colours


def test_train_plot(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "train.png"
    r = invoke(
        "train",
        "-l",
        "bce",
        "--val-split",
        "0.2",
        "--optimizer",
        "adam",
        "-f",
        "json",
        "--plot",
        str(out),
        str(SAMPLES / "breast_cancer.csv"),
    )
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.stderr and out.stat().st_size > 20_000
    img = _png(out)
    half = img.shape[1] // 2
    assert _has_colour(img, C0, slice(0, half))  # the objective curve, left
    assert _has_colour(img, C1, slice(0, half))  # the validation curve, left
    assert _has_colour(img, C0, slice(half, None))  # the coefficient bars, right


@pytest.mark.parametrize(
    ("args", "sample"),
    [
        (("-l", "mse"), "regression_preds.csv"),
        (("-l", "bce"), "binary_preds.csv"),
        (("-l", "ce"), "multiclass_preds.csv"),
    ],
)
def test_compute_plot(tmp_path, args, sample):
    pytest.importorskip("matplotlib")
    out = tmp_path / "c.png"
    r = invoke("compute", *args, "-f", "value", "--plot", str(out), str(SAMPLES / sample))
    assert r.exit_code == 0, r.output
    img = _png(out)
    half = img.shape[1] // 2
    assert out.stat().st_size > 20_000
    left = C3 if sample.startswith("regression") else C0  # the identity line, or the curve
    assert _has_colour(img, left, slice(0, half)) and _has_colour(img, C0, slice(half, None))


def test_plot_types_and_a_missing_matplotlib(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    svg, pdf = tmp_path / "c.svg", tmp_path / "c.pdf"
    for out in (svg, pdf):
        r = invoke(
            "compute",
            "-l",
            "bce",
            "-q",
            "-f",
            "value",
            "--plot",
            str(out),
            str(SAMPLES / "binary_preds.csv"),
        )
        assert r.exit_code == 0
    assert b"<svg" in svg.read_bytes()[:400] and pdf.read_bytes()[:5] == b"%PDF-"
    r = invoke(
        "compute", "-l", "bce", "--plot", str(tmp_path / "c.gif"), str(SAMPLES / "binary_preds.csv")
    )
    assert r.exit_code == 2 and "end the file name in .png, .svg, .pdf" in r.stderr
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    r = invoke("train", "--plot", str(tmp_path / "t.png"), str(SAMPLES / "diabetes.csv"))
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: --plot needs matplotlib, which is not installed\n"
        "pip install 'losscli[plot]'  (or: pip install matplotlib)\n"
    )


def test_roc_and_reliability_numbers():
    from losscli.plot import reliability, roc_curve

    outcome = np.array([1.0, 0, 1, 0, 1, 0])
    score = np.array([2.1, -0.5, 0.3, 0.8, 1.5, -2.0])
    fpr, tpr, auc = roc_curve(outcome, score)
    assert auc == pytest.approx(8 / 9, rel=1e-12)  # 8 of the 9 (positive, negative) pairs in order
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    mean_p, rate, count = reliability(np.array([0.0, 1, 1, 1]), np.array([0.05, 0.15, 0.95, 0.99]))
    assert count.tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert rate[9] == 1.0 and mean_p[9] == pytest.approx(0.97)


# --------------------------------------------------------------------------- README


def test_readme_convergence_table_is_current():
    """The table is written by benchmarks/convergence_table.py; its figures cannot go stale."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "convergence_table.py"
    spec = importlib.util.spec_from_file_location("convergence_table", path)
    assert spec is not None and spec.loader is not None
    table = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = table  # its dataclasses look their module up
    spec.loader.exec_module(table)
    readme = (path.parent.parent / "README.md").read_text(encoding="utf-8")
    shown = [table.deterministic(row) for row in table.table_in(readme)]
    assert shown == [table.deterministic(row) for row in table.rows(timed=False)], (
        "run: python benchmarks/convergence_table.py"
    )


def test_readme_says_how_to_reach_losscli_and_states_the_errata():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in readme and ".venv/bin/losscli" in readme
    assert "ERRATA.md" not in readme  # not in the repository: the errata are in the README
    assert "**1.185841** if the rows are logits" in readme


def test_train_bar_ends_full_with_the_stop_reason(monkeypatch):
    import io

    import losscli.cli.options as options

    screen = io.StringIO()
    monkeypatch.setattr(options, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(
        options, "stderr_console", lambda: Console(file=screen, width=100, color_system=None)
    )
    r = invoke("train", "--optimizer", "gd", "-f", "json", str(SAMPLES / "diabetes.csv"))
    epochs = json.loads(r.stdout)["epochs"]
    final = screen.getvalue().splitlines()[0]
    word = "epoch" if epochs == 1 else "epochs"  # auto's Newton may need a single one
    assert final.startswith(f"✓ {epochs:,} {word} (converged) ━")  # not "epoch 41/20000"
    assert "━╸" not in final and "╺" not in final  # the bar is full
    r = invoke("train", "-q", "-f", "json", str(SAMPLES / "diabetes.csv"))
    assert screen.getvalue().count("✓") == 1  # --quiet: no bar at all


def test_log_axis_labels_stay_apart_on_a_narrow_range() -> None:
    import math

    from losscli.cli.render_train import _ticks

    exps = [math.log10(21.0), (math.log10(21.0) + math.log10(19.6)) / 2, math.log10(19.6)]
    assert _ticks(exps) == ["21", "20.3", "19.6"]
    assert _ticks([2.0, 1.0, 0.0]) == ["100", "10", "1"]  # wide ranges keep two digits


def test_a_solvers_settings_are_only_what_it_uses() -> None:
    from losscli.cli.render_train import _optimizer_text

    options = {"optimizer": "auto", "tol": 1e-12, "epochs": 500, "schedule": "constant",
               "patience": 5, "lr": None}  # fmt: skip
    assert _optimizer_text(options, None, "qp") == "qp: tol 1e-12, at most 500 iterations"
    first_order = _optimizer_text({**options, "optimizer": "gd"}, None, "gd")
    assert first_order.startswith("gd: lr automatic") and "patience 5" in first_order
