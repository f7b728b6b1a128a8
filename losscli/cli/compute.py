"""`losscli compute`: losses and gradients of a file of predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from losscli.cli import numbers
from losscli.cli.app import cli
from losscli.cli.engine_options import EngineOptions, engine_options
from losscli.cli.evaluate_options import evaluate_options
from losscli.cli.options import (
    REDUCTIONS,
    CompatOptions,
    ComputeData,
    InputSource,
    compat_options,
    complete_losses,
    compute_data_options,
    compute_output_options,
    input_options,
    loss_param_options,
    stdout_console,
    stdout_is_terminal,
)
from losscli.cli.output import note, output_options, warn
from losscli.losses import make_losses

if TYPE_CHECKING:
    from losscli.cli.progress import ReadBar
    from losscli.cli.render_compute import OutputOptions, OutputPlan
    from losscli.compute import ComputeReport
    from losscli.evaluate import EvaluateOptions
    from losscli.losses import Loss


@cli.command()
@input_options
@click.option(
    "--loss",
    "-l",
    "loss_names",
    multiple=True,
    metavar="NAME",
    shell_complete=complete_losses,
    help="Loss to compute; repeat or comma-separate for several.",
)
@compute_data_options
@click.option(
    "--logits", is_flag=True, help="Predictions are raw scores (logits), not probabilities."
)
@loss_param_options
@click.option("--reduction", type=click.Choice(REDUCTIONS), default="mean", show_default=True)
@compute_output_options
@click.option(
    "--check-grad", is_flag=True, help="Compare the gradient with central finite differences."
)
@evaluate_options()  # hook: losscli.evaluate (--baseline, --bootstrap, --ci, --seed, --by, --worst)
@compat_options
@click.option(
    "--metric",
    "metric_names",
    multiple=True,
    metavar="NAME",
    help="Metric(s) beside the losses, comma-separated (see `losscli metrics`).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    help="Threshold metrics: class 1 when p > threshold.",
)
@click.option(
    "--bins",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Equal-width bins of ece.",
)
@output_options
@engine_options
def compute(
    data_in: InputSource,
    loss_names: tuple[str, ...],
    columns: ComputeData,
    logits: bool,
    reduction: str,
    out: OutputOptions,
    check_grad: bool,
    evaluate: EvaluateOptions,
    conventions: CompatOptions,
    metric_names: tuple[str, ...],
    threshold: float,
    bins: int,
    where: EngineOptions,
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
    from losscli import compute as computing
    from losscli.cli import progress
    from losscli.cli import render_compute as render
    from losscli.fit.metrics import MetricOptions, metric_list
    from losscli.io.columns import ColumnRequest

    metrics = metric_list(metric_names)  # --metric alone needs no --loss
    losses = _losses(loss_names, params, logits, conventions) if loss_names or not metrics else []
    output = render.plan(out, stdout_console)
    bar = progress.ReadBar("standard input" if data_in.source == "-" else data_in.source)
    request = computing.ComputeRequest(
        source=data_in.source,
        input=data_in.reading(),
        losses=tuple(losses),
        columns=ColumnRequest(
            columns.true, columns.pred, columns.weight, columns.var, group=evaluate.by
        ),
        logits=logits,
        reduction=reduction,  # type: ignore[arg-type]
        dropna=columns.dropna,
        head_rows=output.head_rows,
        per_sample=output.per_sample(reduction),
        check_grad=check_grad,
        evaluate=evaluate,
        table=output.fmt == "table",
        hessian=out.hessian,
        hazards=conventions.hazards,
        metrics=metrics,
        metric_options=MetricOptions(threshold=threshold, bins=bins),
        progress=bar if progress.wanted() else None,
    )
    _check_outputs(output)  # bad paths fail before the input is read
    _freeze_imports()
    from losscli.engine.compute_parts import compute_any
    from losscli.io.atomic import staged_outputs

    engine = compute_any(request, where.engine, where.scheduler, where.partition_size)
    with bar, engine as report:
        bar.close()  # pass 1 is over: the bar must not interleave with what is printed next
        with staged_outputs():  # files renamed into place only once stdout succeeded too
            _show(report, output, bar)
        _notes(report, output)


def _check_outputs(output: OutputPlan) -> None:
    """--grad-out and --plot paths writable (--grad-out DIR/: a folder, one file per partition)."""
    from losscli.engine.rows_parts import check_folder, is_folder_target
    from losscli.io.atomic import check_output_paths

    if is_folder_target(output.grad_out):
        check_folder(str(output.grad_out))
        check_output_paths(output.plot)
    else:
        check_output_paths(output.grad_out, output.plot)


def _losses(
    names: tuple[str, ...], params: dict[str, Any], logits: bool, conventions: CompatOptions
) -> list[Loss]:
    return make_losses(
        names, params, logits=logits, compat=conventions.compat, dtype=conventions.dtype
    )


def _show(report: ComputeReport, output: OutputPlan, bar: ReadBar) -> None:
    """Everything printed after pass 1; pass 2 (``samples``) is asked for here, explicitly."""
    from losscli import compute as computing
    from losscli.cli import render_compute as render
    from losscli.cli.output import dim

    dim(render.columns_line(report))
    # files first: stdout never shows a result of a run that then fails
    from losscli.engine.rows_parts import is_folder_target, write_folder

    if is_folder_target(output.grad_out):  # hook: one CSV per partition, by the workers
        write_folder(report, str(output.grad_out), render.sample_lines)
        bar.close()
    elif output.grad_out:
        from losscli.io.atomic import atomic_output

        with atomic_output(output.grad_out) as handle:
            lines = render.sample_lines(report, computing.samples(report), ",")
            render.write_lines(handle, lines)
        bar.close()
    if output.plot:
        from losscli import plot

        plot.compute_figure(report, output.plot)
        bar.close()
    if output.to_stdout:
        bar.paused = stdout_is_terminal()  # rows streaming to the screen are the progress
        render.emit(report, output, computing.samples(report))
        bar.paused = False


def _notes(report: ComputeReport, output: OutputPlan) -> None:
    """People's lines, last: a run that fails prints its error alone (one to three lines)."""
    from losscli.cli import render_compute as render

    if report.logits_look_like_probabilities:
        warn(report.logits_look_like_probabilities)
    for line in render.notes(report, checks=output.checks_on_stderr):
        note(line)
    if output.grad_out and output.grad_out != "-":
        note(f"wrote {output.grad_out}: {numbers.plural(report.n, 'row')}")
    if output.plot:
        note(f"wrote {output.plot}")


def _freeze_imports() -> None:
    """Load the CSV parser, then exempt everything alive from the collector's scans.

    Modules, the parser's and NumPy's included, live until exit; without the
    freeze every collection that the per-block parser objects trigger
    re-scans their hundreds of thousands of objects (3-5% of compute's time
    on 10M rows, benchmarks/run.py).
    """
    import gc

    from losscli.io import csvblocks as dataio

    dataio.load_parser()
    gc.freeze()
