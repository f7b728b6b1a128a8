"""`losscli train`: fit a model under a loss."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from losscli.cli import numbers
from losscli.cli.app import cli
from losscli.cli.engine_options import (
    EngineOptions,
    MemoryOptions,
    engine_options,
    memory_options,
)
from losscli.cli.options import (
    InputSource,
    ModelOptions,
    TrainData,
    TrainOutput,
    complete_losses,
    input_options,
    loss_param_options,
    model_options,
    optimizer_options,
    stdout_console,
    stdout_is_terminal,
    train_data_options,
    train_output_options,
)
from losscli.cli.output import note, output_options, warn
from losscli.losses import make_losses

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.fit.loop import TrainConfig
    from losscli.train import TrainReport


@cli.command()
@input_options
@click.option(
    "--loss",
    "-l",
    "loss_name",
    default="mse",
    show_default=True,
    metavar="NAME",
    shell_complete=complete_losses,
    help="Loss to minimise (see `losscli losses`).",
)
@loss_param_options
@train_data_options
@model_options
@optimizer_options
@train_output_options
@output_options
@memory_options
@engine_options
def train(
    data_in: InputSource,
    loss_name: str,
    data: TrainData,
    model: ModelOptions,
    fit: TrainConfig,
    out: TrainOutput,
    memory: MemoryOptions,
    where: EngineOptions,
    **params: Any,
) -> None:
    """Fit a linear, logistic or softmax model by gradient descent under a loss.

    \b
    Examples:
      losscli train sample_data/diabetes.csv
      losscli train --loss huber --delta 20 sample_data/diabetes.csv
      losscli train --loss focal --gamma 2 sample_data/imbalanced.csv
      losscli train --loss ce sample_data/iris.csv --l2 0.01 --save iris.json
      losscli train --loss bce --optimizer adam --val-split 0.2 sample_data/breast_cancer.csv
    """
    from losscli.io.atomic import check_output_paths
    from losscli.train import TrainRequest
    from losscli.train import train as run_train

    if out.plot:
        from losscli import plot

        plot.check_target(out.plot)  # before the work: a missing matplotlib fails fast
    (loss,) = make_losses((loss_name,), params, logits=False, single=True)
    request = TrainRequest(
        data_in.source,
        loss,
        fit,
        **asdict(data),
        **asdict(model),
        **asdict(memory),
        **asdict(where),
        input=data_in.reading(),
    )
    check_output_paths(out.save, out.history, out.plot)  # bad paths fail before reading
    console = stdout_console()
    label = "standard input" if data_in.source == "-" else data_in.source
    with _progress(label, fit.resolved_epochs()) as bar:
        report = run_train(request, callback=bar)  # a failed fit leaves every file untouched
        if bar is not None:
            bar.finish(report.fit.epochs, report.fit.stop_reason.value)
    _show(report, out, console)


def _show(report: TrainReport, out: TrainOutput, console: Console) -> None:
    """Everything written after the fit: files, the report, notes and warnings."""
    from losscli.cli import render_train

    fmt = out.fmt or ("table" if stdout_is_terminal() else "json")
    if fmt == "json":  # the table's summary names them; json on its own does not say
        from losscli.cli.output import dim

        dim(f"target: {report.model.target} · features: {', '.join(report.model.features)}")
    from losscli.io.atomic import staged_outputs

    with staged_outputs():  # files first, then stdout; renamed only when both succeeded
        _write_history(out.history, report)
        if out.save:
            report.model.save(out.save)
        if out.plot:
            from losscli import plot

            plot.train_figure(report, out.plot)
        if fmt == "json":
            sys.stdout.write(render_train.train_json(report))
        else:
            render_train.train_tables(report, console, curve=stdout_is_terminal())
    if out.history:
        note(f"wrote {out.history}: {numbers.plural(len(report.fit.history), 'epoch')}")
    if out.save:
        note(f"wrote {out.save}: {report.model.kind} model, {len(report.model.features)} features")
    if out.plot:
        note(f"wrote {out.plot}")
    if report.note:
        note(report.note)
    if report.dropped:
        note(f"dropped {numbers.plural(report.dropped, 'row')} with missing values")
    for warning in report.warnings:
        warn(warning)


def _write_history(path: str | None, report: TrainReport) -> None:
    if path:
        from losscli.cli import render_train
        from losscli.io.atomic import atomic_output

        with atomic_output(path) as handle:
            handle.writelines(render_train.history_lines(report))


class _progress:
    """The reading-then-epochs bar on a terminal's stderr; otherwise no callback."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.bar: Any = None

    def __enter__(self) -> Any:
        from losscli.cli import progress

        if progress.wanted():
            self.bar = progress.TrainBar(self.label, self.total)
        return self.bar

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
