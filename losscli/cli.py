"""The command line: thin click commands over the library.

Each command parses its flags, calls one library function, and renders the
result.  Library errors (:class:`losscli.errors.LossCliError`) become
one-to-three-line messages with exit code 2 (bad input) or 1 (run failure)
at the group boundary; Ctrl-C exits 130 and a closed pipe exits quietly.
Heavy modules load inside the commands, so ``--help`` stays instant.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from losscli import __version__
from losscli.errors import InputError, LossCliError
from losscli.losses import LOSSES, REDUCTIONS, Loss, canonical_name, make_loss
from losscli.optimizers import OPTIMIZERS, SCHEDULES

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "csv", "tsv", "value")


class CliError(click.ClickException):
    """A run-time failure shown as ``Error: problem`` + fix (exit code 1)."""

    exit_code = 1


class CliInputError(CliError):
    """Bad input or options (exit code 2, click's usage-error code)."""

    exit_code = 2


def cli_error(error: LossCliError) -> CliError:
    """The click exception that shows ``error`` and exits with its code."""
    return (CliInputError if error.exit_code == 2 else CliError)(str(error))


class LossCliGroup(click.Group):
    """Converts library errors raised by any subcommand into CliError."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LossCliError as exc:
            raise cli_error(exc) from None


@click.group(cls=LossCliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="losscli")
def cli() -> None:
    """Loss values, gradients and gradient-descent models from CSV.

    \b
      losscli compute --loss mse preds.csv
      losscli train --loss focal --gamma 2 data.csv --save model.json
      losscli predict -m model.json test.csv | losscli compute --loss bce
      losscli losses
    """


# --------------------------------------------------------------------------- shared options


def _param_flags() -> dict[str, tuple[str, bool, list[str]]]:
    """Every loss parameter once: flag name -> (help, is a list, losses using it)."""
    flags: dict[str, tuple[str, bool, list[str]]] = {}
    for cls in LOSSES.values():
        for p in cls.param_info():
            doc, is_list, users = flags.get(p.name, (p.doc, p.is_list, []))
            users.append(cls.name)
            flags[p.name] = (doc, is_list, users)
    return flags


PARAM_FLAGS = _param_flags()


def loss_param_options(func: F) -> F:
    """One option per loss parameter in the registry (--delta, --gamma, …)."""
    for name, (doc, is_list, users) in reversed(PARAM_FLAGS.items()):
        flag = "--" + name.replace("_", "-")
        kind = "W0,W1,…" if is_list else "FLOAT"
        func = click.option(
            flag,
            name,
            type=str if is_list else float,
            default=None,
            metavar=kind,
            help=f"{doc} ({', '.join(users)}).",
        )(func)
    return func


def build_losses(
    names: tuple[str, ...], params: dict[str, Any], *, logits: bool, single: bool = False
) -> list[Loss]:
    """Loss instances from --loss names and parameter flags.

    A flag that none of the chosen losses takes is an error, never ignored.
    """
    chosen: list[str] = []
    for item in names:
        for part in item.split(","):
            if part.strip():
                name = canonical_name(part)
                if name not in chosen:
                    chosen.append(name)
    if not chosen:
        raise InputError("no loss given", "choose one with --loss NAME (see `losscli losses`)")
    if single and len(chosen) > 1:
        raise InputError("train minimises one loss", "give a single --loss")
    given = {k: _parse_param(k, v) for k, v in params.items() if v is not None}
    for key in given:
        takers = [n for n in chosen if key in {p.name for p in LOSSES[n].param_info()}]
        if not takers:
            users = PARAM_FLAGS[key][2]
            raise InputError(
                f"--{key.replace('_', '-')} is not a parameter of {', '.join(chosen)}",
                f"it applies to {', '.join(users)}; remove it or choose one of those losses",
            )
    if logits and all(LOSSES[n].logit_space == "never" for n in chosen):
        raise InputError(
            f"--logits does not apply to {', '.join(chosen)} (they take predicted values)",
            "remove --logits",
        )
    losses = []
    for name in chosen:
        taken = {p.name for p in LOSSES[name].param_info()}
        losses.append(make_loss(name, **{k: v for k, v in given.items() if k in taken}))
    return losses


def _parse_param(name: str, value: Any) -> Any:
    if PARAM_FLAGS[name][1]:
        try:
            return tuple(float(x) for x in str(value).split(",") if x.strip())
        except ValueError:
            raise InputError(
                f"--{name.replace('_', '-')} takes numbers separated by commas (got {value!r})"
            ) from None
    return value


def stdout_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stdout)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, stderr=True)


def stdin_is_terminal() -> bool:
    return sys.stdin is None or sys.stdin.isatty()


def require_input(file: str | None) -> str:
    """No FILE and a terminal on stdin is a usage error, never a silent wait."""
    if file is None:
        if stdin_is_terminal():
            raise click.UsageError("no input: give a CSV FILE, or pipe CSV into standard input")
        return "-"
    return file


# --------------------------------------------------------------------------- compute


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
    from losscli import render
    from losscli.compute import ComputeRequest, run_compute
    from losscli.dataio import ColumnRequest

    source = require_input(file)
    losses = build_losses(loss_names, params, logits=logits)
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
    report = run_compute(request)
    try:
        for line in render.notes(report, checks=fmt not in ("table", "json")):
            click.echo(f"note: {line}", err=True)
        if grad_out != "-":  # `--grad-out -` makes the per-sample CSV stdout's only output
            _emit_compute(report, fmt, grad, rows, console)
        if grad_out:
            from losscli.atomic import atomic_output

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

    from losscli import dataio

    dataio.load_parser()
    gc.freeze()


def _emit_compute(report: Any, fmt: str, grad: bool, rows: int, console: Console | None) -> None:
    from losscli import render

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


# --------------------------------------------------------------------------- losses


@cli.command("losses")
@click.argument("name", required=False)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(("table", "json")),
    default="table",
    show_default=True,
)
def losses_cmd(name: str | None, fmt: str) -> None:
    """The loss catalogue, or one loss with its gradient formula.

    \b
    Examples:
      losscli losses
      losscli losses focal
    """
    from losscli import catalogue

    entries = list(LOSSES.values()) if name is None else [LOSSES[canonical_name(name)]]
    if fmt == "json":
        click.echo(catalogue.as_json(entries))
    elif name is None:
        catalogue.table(entries, stdout_console())
    else:
        catalogue.detail(entries[0], stdout_console())


# --------------------------------------------------------------------------- train


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
    from losscli import render_train
    from losscli.pipeline import TrainRequest
    from losscli.pipeline import train as run_train
    from losscli.train import StopReason, TrainConfig

    source = require_input(file)
    (loss,) = build_losses((loss_name,), params, logits=False, single=True)
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
        from losscli.atomic import atomic_output

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
        from losscli.models import save as save_model

        save_model(report.model, save)
    if fmt == "json":
        sys.stdout.write(render_train.train_json(report))
    else:
        render_train.train_tables(report, console, curve=console.is_terminal)
    if not quiet:
        if report.dropped:
            click.echo(f"note: dropped {report.dropped} row(s) with missing values", err=True)
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


# --------------------------------------------------------------------------- predict


@cli.command()
@click.argument("file", required=False, metavar="[FILE]")
@click.option(
    "--model",
    "-m",
    "model_path",
    required=True,
    metavar="FILE",
    help="Model JSON written by train --save.",
)
@click.option("--logits", is_flag=True, help="Write raw scores (logits, log-rates).")
def predict(file: str | None, model_path: str, logits: bool) -> None:
    """Apply a saved model; write CSV predictions to stdout.

    Output: y_pred (regression, or the probability of the second class), or one
    p_<class> column per class; the target column, when present, is passed
    through as y_true, so the output pipes straight into compute.

    \b
    Examples:
      losscli predict -m model.json test.csv > preds.csv
      losscli predict -m iris.json sample_data/iris.csv | losscli compute --loss ce
    """
    from losscli import predicting

    model = predicting.load_model(model_path)
    source = require_input(file)
    predicting.write_predictions(model, source, sys.stdout, logits=logits)


# --------------------------------------------------------------------------- entry point


def main() -> None:
    """Console-script entry: exit codes 0/1/2, 130 on Ctrl-C, quiet on a closed pipe."""
    from losscli._runtime import tune_process

    tune_process()
    interrupted = _watch_interrupts()
    try:
        code = cli.main(prog_name="losscli", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        _quiet_pipe()
    except LossCliError as exc:  # raised outside a subcommand
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    _flush_stdout()
    if interrupted:  # a KeyboardInterrupt that a finalizer swallowed still means 130
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _watch_interrupts() -> list[bool]:
    """SIGINT raises KeyboardInterrupt as usual, and is also remembered.

    Python swallows an exception raised inside a finalizer (``__del__``, a
    generator's close) with an "Exception ignored" note, so an interrupt that
    lands there would otherwise end in exit code 0.
    """
    seen: list[bool] = []

    def handler(signum: int, frame: object) -> None:
        seen.append(True)
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread (embedded): Python's handler
        signal.signal(signal.SIGINT, handler)
    return seen


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()


def _quiet_pipe() -> None:
    """The reader went away (``| head``): stop without a traceback, like cat does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(128 + signal.SIGPIPE)
