"""`losscli train`: fit a model under a loss."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

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
    input_options,
    loss_param_options,
    model_options,
    optimizer_options,
    stderr_console,
    stdout_console,
    train_data_options,
    train_output_options,
)
from losscli.losses import make_losses

if TYPE_CHECKING:
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
    help="Loss to minimise (see `losscli losses`).",
)
@loss_param_options
@train_data_options
@model_options
@optimizer_options
@train_output_options
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
    from losscli.cli import render_train
    from losscli.train import TrainingDiverged, TrainRequest
    from losscli.train import train as run_train

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
    console = stdout_console()
    with _progress(fit.resolved_epochs(), out.quiet) as callback:
        try:
            report = run_train(request, callback=callback)
        except TrainingDiverged as exc:
            _write_history(out.history, exc.report)
            raise
    _write_history(out.history, report)
    if out.save:
        report.model.save(out.save)
    if (out.fmt or ("table" if console.is_terminal else "json")) == "json":
        sys.stdout.write(render_train.train_json(report))
    else:
        render_train.train_tables(report, console, curve=console.is_terminal)
    if not out.quiet:
        if report.note:
            click.echo(f"note: {report.note}", err=True)
        if report.dropped:
            click.echo(f"note: dropped {report.dropped} row(s) with missing values", err=True)
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)


def _write_history(path: str | None, report: TrainReport) -> None:
    if path:
        from losscli.cli import render_train
        from losscli.io.atomic import atomic_output

        with atomic_output(path) as handle:
            handle.writelines(render_train.history_lines(report))


class _progress:
    """A rich progress bar on a terminal's stderr; otherwise a no-op callback."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.quiet = total, quiet
        self.bar: Any = None

    def __enter__(self) -> Callable[[Any], None] | None:
        console = stderr_console()
        if self.quiet or not console.is_terminal:
            return None
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("epoch {task.completed}/{task.total}"),
            BarColumn(),
            TextColumn("objective {task.fields[objective]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task("train", total=self.total, objective="…")

        def update(record: Any) -> None:
            self.bar.update(task, completed=record.epoch, objective=f"{record.objective:.6g}")

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
