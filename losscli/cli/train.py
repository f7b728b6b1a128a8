"""`losscli train`: fit a model under a loss."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from losscli.cli import numbers
from losscli.cli.app import cli
from losscli.cli.options import (
    complete_losses,
    loss_param_options,
    require_input,
    stdout_console,
    stdout_is_terminal,
)
from losscli.cli.output import note, output_options, warn
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
    shell_complete=complete_losses,
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
@click.option("--optimizer", type=click.Choice(tuple(OPTIMIZERS)), default="gd", show_default=True)
@click.option(
    "--lr",
    type=float,
    help="Learning rate [default: automatic step for gd; "
    + ", ".join(f"{o.default_lr:g} {o.name}" for o in OPTIMIZERS.values() if not o.full_batch)
    + "].",
)
@click.option("--epochs", type=int, help="Epoch budget [default: 20000 gd, 1000 others].")
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
    help="Convergence tolerance [1e-12 gd (gradient), 1e-5 others (objective)].",
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
@click.option(
    "--plot",
    "plot_path",
    metavar="FILE",
    help="Draw the objective per epoch and the coefficients (.png/.svg/.pdf; needs losscli[plot]).",
)
@output_options
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
    plot_path: str | None,
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
    if plot_path:
        from losscli import plot

        plot.check_target(plot_path)  # before the work: a missing matplotlib fails fast
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
    fmt = fmt or ("table" if stdout_is_terminal() else "json")
    label = "standard input" if source == "-" else source
    with _progress(label, config.resolved_epochs()) as bar:
        report = run_train(request, callback=bar)
        if bar is not None:
            bar.finish(report.fit.epochs, report.fit.stop_reason.value)
    if history:
        from losscli.io.atomic import atomic_output

        with atomic_output(history) as handle:
            handle.writelines(render_train.history_lines(report))
        note(f"wrote {history}: {numbers.plural(len(report.fit.history), 'epoch')}")
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
        note(f"wrote {save}: {report.model.kind} model, {len(report.model.features)} features")
    if plot_path:
        plot.train_figure(report, plot_path)
        note(f"wrote {plot_path}")
    if fmt == "json":
        sys.stdout.write(render_train.train_json(report))
    else:
        render_train.train_tables(report, console, curve=stdout_is_terminal())
    if report.dropped:
        note(f"dropped {numbers.plural(report.dropped, 'row')} with missing values")
    if fit.stop_reason is StopReason.MAX_EPOCHS:
        warn(
            f"stopped at the epoch limit ({numbers.count(fit.epochs)}) "
            "before converging; raise --epochs"
        )
    for text in report.notes:
        warn(text)


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
