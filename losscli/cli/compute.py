"""`losscli compute`: losses and gradients of a file of predictions."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any

import click

from losscli.cli.app import cli
from losscli.cli.engine_options import engine_options
from losscli.cli.options import (
    FORMATS,
    loss_param_options,
    require_input,
    stdout_console,
)
from losscli.errors import InputError
from losscli.losses import REDUCTIONS, make_losses

if TYPE_CHECKING:
    from rich.console import Console


@cli.command()
@click.argument("file", required=False, metavar="[FILE]")
@click.option(
    "--loss",
    "-l",
    "loss_names",
    multiple=True,
    metavar="NAME",
    help="Loss to compute; repeat or comma-separate for several.",
)
@click.option("--true", "true_col", metavar="COL", help="Target column(s): name, list or glob.")
@click.option(
    "--pred",
    "pred_col",
    metavar="COL",
    help="Prediction column(s): name, comma list or glob (one per class).",
)
@click.option("--weight", "weight_col", metavar="COL", help="Per-sample weight column.")
@click.option(
    "--logits", is_flag=True, help="Predictions are raw scores (logits), not probabilities."
)
@loss_param_options
@click.option("--reduction", type=click.Choice(REDUCTIONS), default="mean", show_default=True)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format [default: table on a terminal, tsv otherwise].",
)
@click.option(
    "--rows",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Rows of the per-row gradient table.",
)
@click.option("--grad", is_flag=True, help="Add the full gradient to json/csv/tsv output.")
@click.option(
    "--grad-out", metavar="FILE", help="Write per-sample loss and gradient as CSV (- = stdout)."
)
@click.option(
    "--check-grad", is_flag=True, help="Compare the gradient with central finite differences."
)
@click.option("--dropna", is_flag=True, help="Skip rows with missing or non-numeric cells.")
@engine_options
def compute(
    file: str | None,
    loss_names: tuple[str, ...],
    true_col: str | None,
    pred_col: str | None,
    weight_col: str | None,
    logits: bool,
    reduction: str,
    fmt: str | None,
    rows: int,
    grad: bool,
    grad_out: str | None,
    check_grad: bool,
    dropna: bool,
    engine: str,
    scheduler: str | None,
    **params: Any,
) -> None:
    """Compute losses and their gradients from a CSV of targets and predictions.

    \b
    Examples:
      losscli compute --loss mse sample_data/seed_regression.csv
      losscli compute -l ce --logits sample_data/seed_cross_entropy.csv
      losscli compute -l bce,focal --format json --grad sample_data/binary_preds.csv
      cat preds.csv | losscli compute --loss huber --delta 2 --format value
    """
    from losscli.cli import render_compute as render
    from losscli.compute import ComputeRequest
    from losscli.io.reader import ColumnRequest

    source = require_input(file)
    losses = make_losses(loss_names, params, logits=logits)
    if grad_out == "-" and fmt is not None:
        raise InputError("--grad-out - and --format both write to stdout", "choose one")
    # rich (~20 ms of start-up) loads only when a table may be printed
    console = stdout_console() if fmt in (None, "table") and grad_out != "-" else None
    if fmt is None:
        fmt = "table" if console is not None and console.is_terminal else "tsv"
    if grad and fmt == "value":
        raise InputError("--grad does not apply to --format value", "use json, csv or tsv")
    per_sample = bool(grad or grad_out or (reduction == "none" and fmt != "table"))
    request = ComputeRequest(
        source=source,
        losses=tuple(losses),
        columns=ColumnRequest(true_col, pred_col, weight_col),
        logits=logits,
        reduction=reduction,  # type: ignore[arg-type]
        dropna=dropna,
        head_rows=rows if not (grad and fmt == "table") else sys.maxsize,
        per_sample=per_sample,
        check_grad=check_grad,
    )
    _freeze_imports()
    from losscli.engine.compute_parts import compute_any

    report = compute_any(request, engine, scheduler)
    try:
        for line in render.notes(report, checks=fmt not in ("table", "json")):
            click.echo(f"note: {line}", err=True)
        if grad_out != "-":  # `--grad-out -` makes the per-sample CSV stdout's only output
            _emit_compute(report, fmt, grad, rows, console)
        if grad_out:
            from losscli.io.atomic import atomic_output

            with atomic_output(grad_out) as handle:
                render.write_lines(handle, render.sample_lines(report, report.samples(), ","))
    finally:
        report.close()


def _freeze_imports() -> None:
    """Load the CSV parser, then exempt everything alive from the collector's scans.

    Modules, the parser's and NumPy's included, live until exit; without the
    freeze every collection that the per-block parser objects trigger
    re-scans their hundreds of thousands of objects (3-5% of compute's time
    on 10M rows, benchmarks/run.py).
    """
    import gc

    from losscli.io import reader as dataio

    dataio.load_parser()
    gc.freeze()


def _emit_compute(report: Any, fmt: str, grad: bool, rows: int, console: Console | None) -> None:
    from losscli.cli import render_compute as render

    out: IO[str] = sys.stdout
    if fmt == "table":
        assert console is not None
        render.compute_table(report, console, rows=len(report.head.rows) if grad else rows)
    elif fmt == "json":
        out.write(render.compute_json(report, grad=grad))
    elif fmt == "value":
        render.write_lines(out, render.value_lines(report))
    else:
        sep = "," if fmt == "csv" else "\t"
        if grad or report.request.reduction == "none":
            render.write_lines(out, render.sample_lines(report, report.samples(), sep))
        else:
            render.write_lines(out, render.summary_lines(report, sep))
