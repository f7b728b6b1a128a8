"""`losscli train`: fit a model under a loss."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from losscli.cli.app import cli
from losscli.cli.options import (
    loss_param_options,
    require_input,
    stderr_console,
    stdout_console,
)
from losscli.fit.optimizers import OPTIMIZERS, SCHEDULES
from losscli.losses import make_losses

if TYPE_CHECKING:
    pass


@cli.command()
@click.argument("file", required=False, metavar="[FILE]")
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
@click.option("--target", metavar="COL", help="Target column [default: y/target/label, else last].")
@click.option("--features", metavar="COLS", help="Feature columns: comma list or globs.")
@click.option("--one-hot", metavar="COLS", help="Categorical columns to one-hot encode.")
@click.option(
    "--model",
    type=click.Choice(("auto", "linear", "logistic", "softmax")),
    default="auto",
    show_default=True,
)
@click.option(
    "--optimizer",
    type=click.Choice(tuple(OPTIMIZERS)),
    default="auto",
    show_default=True,
    help="auto picks newton, prox_newton, lbfgs, lp or gd by loss, penalty and shape.",
)
@click.option(
    "--lr",
    type=float,
    help="Learning rate [default: automatic step for gd; "
    + ", ".join(f"{o.default_lr:g} {o.name}" for o in OPTIMIZERS.values() if not o.full_batch)
    + "].",
)
@click.option(
    "--epochs",
    type=int,
    help="Epoch (solver iteration) budget [default: 100 newton, 15000 lbfgs, "
    "20000 gd, 1000 others].",
)
@click.option("--batch-size", type=int, help="Mini-batch size for the sgd family [default: 32].")
@click.option("--momentum", type=float, help="Momentum (momentum, nesterov) [0.9].")
@click.option("--beta1", type=float, help="Adam β1 [0.9].")
@click.option("--beta2", type=float, help="Adam β2 [0.999].")
@click.option(
    "--schedule",
    type=click.Choice(tuple(SCHEDULES)),
    help="Learning-rate schedule [default: constant for gd, adaptive otherwise].",
)
@click.option("--l1", type=float, default=0.0, show_default=True, help="L1 penalty λ1.")
@click.option("--l2", type=float, default=0.0, show_default=True, help="L2 penalty λ2.")
@click.option(
    "--standardize/--no-standardize",
    default=True,
    show_default=True,
    help="Penalise standardized coefficients (else the original ones).",
)
@click.option("--no-intercept", is_flag=True, help="Fit without an intercept.")
@click.option(
    "--tol",
    type=float,
    help="Convergence tolerance [1e-14 solvers (certified gap, relative), "
    "1e-12 gd (gradient), 1e-5 others (objective)].",
)
@click.option(
    "--patience",
    type=int,
    default=5,
    show_default=True,
    help="Epochs without improvement before stopping.",
)
@click.option(
    "--val-split",
    type=float,
    default=0.0,
    metavar="FRAC",
    help="Hold out this fraction for early stopping on the validation loss.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--dropna", is_flag=True, help="Skip rows with missing or non-numeric cells.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(("table", "json")),
    help="Output format [default: table on a terminal, json otherwise].",
)
@click.option("--save", metavar="FILE", help="Save the model as JSON.")
@click.option("--history", metavar="FILE", help="Write one CSV row per epoch.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or notes.")
def train(
    file: str | None,
    loss_name: str,
    target: str | None,
    features: str | None,
    one_hot: str | None,
    model: str,
    optimizer: str,
    lr: float | None,
    epochs: int | None,
    batch_size: int | None,
    momentum: float | None,
    beta1: float | None,
    beta2: float | None,
    schedule: str | None,
    l1: float,
    l2: float,
    standardize: bool,
    no_intercept: bool,
    tol: float | None,
    patience: int,
    val_split: float,
    seed: int,
    dropna: bool,
    fmt: str | None,
    save: str | None,
    history: str | None,
    quiet: bool,
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
    from losscli.fit.loop import StopReason, TrainConfig
    from losscli.train import TrainRequest
    from losscli.train import train as run_train

    source = require_input(file)
    (loss,) = make_losses((loss_name,), params, logits=False, single=True)
    config = TrainConfig(
        optimizer=optimizer,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        momentum=momentum,
        beta1=beta1,
        beta2=beta2,
        schedule=schedule,
        tol=tol,
        patience=patience,
        seed=seed,
    )
    request = TrainRequest(
        source=source,
        loss=loss,
        config=config,
        model=model,
        target=target,
        features=features,
        one_hot=one_hot,
        dropna=dropna,
        l1=l1,
        l2=l2,
        standardize=standardize,
        intercept=not no_intercept,
        val_split=val_split,
    )
    console = stdout_console()
    fmt = fmt or ("table" if console.is_terminal else "json")
    with _progress(config.resolved_epochs(), quiet) as callback:
        report = run_train(request, callback=callback)
    if history:
        from losscli.io.atomic import atomic_output

        with atomic_output(history) as handle:
            handle.writelines(render_train.history_lines(report))
    fit = report.fit
    if fit.stop_reason is StopReason.DIVERGED:
        from losscli.errors import RunError

        rate = f" (now {lr:g})" if lr is not None else ""
        raise RunError(
            f"training diverged at epoch {fit.epochs}: the objective blew up "
            "(NaN, infinite, or 10⁴ times its starting value)",
            f"try a smaller --lr{rate}",
        )
    if save:
        from losscli.fit.model import save as save_model

        save_model(report.model, save)
    if fmt == "json":
        sys.stdout.write(render_train.train_json(report))
    else:
        render_train.train_tables(report, console, curve=console.is_terminal)
    if not quiet:
        if report.dropped:
            click.echo(f"note: dropped {report.dropped} row(s) with missing values", err=True)
        if fit.stop_reason is StopReason.NOT_OPTIMAL:  # solvers hook: uncertified stop
            cert = fit.certificate
            gap = f" ({cert.kind} {cert.value:.3g})" if cert is not None else ""
            if report.model.classes and not l2:
                fix = "the classes may be separable — add --l2"
            elif cert is not None and cert.kind == "subgradient_norm":
                fix = "a kinked loss: use --optimizer auto (an exact LP) and no --l2"
            else:
                fix = "lower --tol or raise --epochs"
            click.echo(f"warning: stopped short of a certified optimum{gap}; {fix}", err=True)
        if fit.stop_reason is StopReason.MAX_EPOCHS:
            hint = "; the classes may be separable — add --l2" if report.model.classes else ""
            click.echo(
                f"warning: stopped at the epoch limit ({fit.epochs}) before converging; "
                f"raise --epochs{hint}",
                err=True,
            )


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
