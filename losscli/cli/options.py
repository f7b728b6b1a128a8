"""Options shared by the commands, generated from the registries, and grouped.

Each decorator here adds a family of click options and hands their values to
the command as one frozen object (sqlite-utils' shared ``output_options``,
one step further): ``train`` receives ``data``, ``model``, ``fit`` and
``out`` instead of 28 parameters.  Loss parameters come from the loss
registry, optimizer settings and training defaults from the optimizer
registry, so neither a flag nor a default is typed twice.
"""

from __future__ import annotations

import functools
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from losscli._types import ModelKind
from losscli.cli.render_compute import FORMATS, OutputOptions
from losscli.fit.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    OptimizerSpec,
    exposed_hyperparameters,
)
from losscli.io import INPUT_FORMATS
from losscli.losses import CHOICE_PARAMS, FLAG_PARAMS, PARAM_FLAGS, REDUCTIONS

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.fit.loop import TrainConfig

F = TypeVar("F", bound=Callable[..., Any])
TABLE_OR_JSON = ("table", "json")  # the formats of train and losses
Decorator = Callable[[Any], Any]

__all__ = [
    "FORMATS",
    "REDUCTIONS",
    "TABLE_OR_JSON",
    "CompatOptions",
    "ComputeData",
    "InputSource",
    "ModelOptions",
    "TrainData",
    "TrainOutput",
    "compat_options",
    "complete_losses",
    "compute_data_options",
    "compute_output_options",
    "input_flag_options",
    "input_options",
    "loss_param_options",
    "model_options",
    "optimizer_options",
    "require_input",
    "stderr_console",
    "stderr_is_terminal",
    "stdout_console",
    "stdout_is_terminal",
    "train_data_options",
    "train_output_options",
]


def grouped(name: str, options: Sequence[Decorator], build: Callable[..., Any]) -> Decorator:
    """Add ``options`` to a command and pass their values as ``name=build(**values)``."""
    probe: Any = lambda: None  # noqa: E731  (collects the options' parameter names)
    for option in options:
        probe = option(probe)
    names = [param.name for param in probe.__click_params__]

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            values = {key: kwargs.pop(key) for key in names}
            kwargs[name] = build(**values)
            return func(*args, **kwargs)

        wrapped: Any = command
        for option in reversed(options):
            wrapped = option(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorator


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class InputSource:
    """Where the rows come from (a path, or ``-`` for standard input: the FILE argument),
    and the input layer's reading flags (format, delimiter, header)."""

    source: str
    format: str | None = None
    delimiter: str | None = None
    header: bool = True

    def reading(self) -> Any:
        """The library's :class:`losscli.io.formats.InputOptions` (imported only now)."""
        from losscli.io.formats import InputOptions as Reading

        reading = Reading(format=self.format, delimiter=self.delimiter, header=self.header)
        reading.check()
        return reading


def require_input(file: str | None) -> str:
    """No FILE and a terminal on stdin is a usage error, never a silent wait."""
    if file is None:
        if stdin_is_terminal():
            raise click.UsageError("no input: give a CSV FILE, or pipe CSV into standard input")
        return "-"
    if file == "-" and sys.stdin is None:  # `<&-`
        raise click.UsageError("standard input is closed: give a CSV FILE, or pipe CSV into it")
    return file


def _input(
    file: str | None, input_format: str | None, delimiter: str | None, tab: bool, no_header: bool
) -> InputSource:
    flags = _input_flags(input_format, delimiter, tab, no_header)
    return InputSource(require_input(file), flags.format, flags.delimiter, flags.header)


def _input_flags(
    input_format: str | None, delimiter: str | None, tab: bool, no_header: bool
) -> InputSource:
    """The reading flags alone (``source`` empty: the command takes its own FILE arguments)."""
    if tab:
        if delimiter not in (None, "\t"):
            raise click.UsageError("--tab and --delimiter disagree: give one of them")
        delimiter = "\t"
    if delimiter == "\\t":  # -d '\t' typed literally
        delimiter = "\t"
    if delimiter is not None and len(delimiter) != 1:
        raise click.BadParameter(
            f"the delimiter must be one character (got {delimiter!r})", param_hint="--delimiter"
        )
    return InputSource("", input_format, delimiter, not no_header)


# The same input flags on every command (the one input layer, losscli/io/).
_INPUT_FLAGS: list[Decorator] = [
    click.option(
        "--input-format",
        "input_format",
        type=click.Choice(INPUT_FORMATS),
        help="Input format [default: from the content, then the extension, else csv].",
    ),
    click.option(
        "--delimiter",
        "-d",
        "delimiter",
        metavar="CHAR",
        help="Field delimiter of CSV input [default: ',', tab for .tsv/.tab].",
    ),
    click.option("--tab", "-t", "tab", is_flag=True, help="CSV input is tab-separated."),
    click.option(
        "--no-header",
        "no_header",
        is_flag=True,
        help="The first row is data; columns are named 1, 2, … (--true 1 --pred 2).",
    ),
]
input_options = grouped(
    "data_in", [click.argument("file", required=False, metavar="[FILE]"), *_INPUT_FLAGS], _input
)
# The flags without the FILE argument, for a command that reads several files (compare).
input_flag_options = grouped("data_in", _INPUT_FLAGS, _input_flags)


@dataclass(frozen=True)
class ComputeData:
    """compute's column flags (names, lists or globs) and --dropna."""

    true: str | None
    pred: str | None
    weight: str | None
    var: str | None
    dropna: bool


compute_data_options = grouped(
    "columns",
    [
        click.option("--true", "true", metavar="COL", help="Target column(s): name, list or glob."),
        click.option(
            "--pred",
            "pred",
            metavar="COL",
            help="Prediction column(s): name, comma list or glob (one per class).",
        ),
        click.option("--weight", "weight", metavar="COL", help="Per-sample weight column."),
        click.option(
            "--var", "var", metavar="COL", help="Predicted-variance column (gaussian_nll)."
        ),
        click.option("--dropna", is_flag=True, help="Skip rows with missing or non-numeric cells."),
    ],
    ComputeData,
)


@dataclass(frozen=True)
class TrainData:
    """train's column flags and --dropna."""

    target: str | None
    features: str | None
    one_hot: str | None
    dropna: bool


train_data_options = grouped(
    "data",
    [
        click.option(
            "--target", metavar="COL", help="Target column [default: y/target/label, else last]."
        ),
        click.option("--features", metavar="COLS", help="Feature columns: comma list or globs."),
        click.option("--one-hot", metavar="COLS", help="Categorical columns to one-hot encode."),
        click.option("--dropna", is_flag=True, help="Skip rows with missing or non-numeric cells."),
    ],
    TrainData,
)


# --------------------------------------------------------------------------- losses


def loss_param_options(func: F) -> F:
    """One option per loss parameter in the registry (--delta, --gamma, …)."""
    for name, (doc, is_list, users) in reversed(PARAM_FLAGS.items()):
        flag = "--" + name.replace("_", "-")
        if name in FLAG_PARAMS:
            func = click.option(flag, name, is_flag=True, help=f"{doc} ({', '.join(users)}).")(func)
            continue
        if name in CHOICE_PARAMS:
            func = click.option(
                flag,
                name,
                type=click.Choice(CHOICE_PARAMS[name]),
                default=None,
                help=f"{doc} ({', '.join(users)}).",
            )(func)
            continue
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


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class ModelOptions:
    """The model and its objective: kind, penalties, scaling, intercept, validation split."""

    model: str
    l1: float
    l2: float
    standardize: bool
    intercept: bool
    val_split: float


model_options = grouped(
    "model",
    [
        click.option(
            "--model",
            type=click.Choice(("auto", *(kind.value for kind in ModelKind))),
            default="auto",
            show_default=True,
        ),
        click.option("--l1", type=float, default=0.0, show_default=True, help="L1 penalty λ1."),
        click.option("--l2", type=float, default=0.0, show_default=True, help="L2 penalty λ2."),
        click.option(
            "--standardize/--no-standardize",
            default=True,
            show_default=True,
            help="Penalise standardized coefficients (else the original ones).",
        ),
        click.option("--no-intercept", is_flag=True, help="Fit without an intercept."),
        click.option(
            "--val-split",
            type=float,
            default=0.0,
            metavar="FRAC",
            help="Hold out this fraction for early stopping on the validation loss.",
        ),
    ],
    lambda no_intercept, **values: ModelOptions(intercept=not no_intercept, **values),
)


def per_optimizer(value: Callable[[OptimizerSpec], Any]) -> list[tuple[Any, str]]:
    """Each default with the optimizers it belongs to ("gd"), the commonest last ("others")."""
    groups = Counter(value(spec) for spec in OPTIMIZERS.values())
    common = groups.most_common(1)[0][0]
    named = [
        (v, ", ".join(s.name for s in OPTIMIZERS.values() if value(s) == v))
        for v in groups
        if v != common
    ]
    return [*named, (common, "others")]


def _g(x: float) -> str:
    """1e-05 as 1e-5."""
    return f"{x:g}".replace("e-0", "e-").replace("e+0", "e+")


def _epochs_help() -> str:
    parts = per_optimizer(lambda s: s.defaults.epochs)
    return f"Epoch budget [default: {', '.join(f'{v} {who}' for v, who in parts)}]."


def _schedule_help() -> str:
    parts = per_optimizer(lambda s: s.defaults.schedule)
    text = ", ".join(f"{v} for {who}" for v, who in parts)
    return f"Learning-rate schedule [default: {text}]."


def _tol_help() -> str:
    parts = per_optimizer(lambda s: (s.defaults.tol, s.defaults.criterion))
    text = ", ".join(f"{_g(tol)} {who} ({criterion})" for (tol, criterion), who in parts)
    return f"Convergence tolerance [{text}]."


def _rates() -> str:
    auto = [s.name for s in OPTIMIZERS.values() if s.default_lr is None and not s.solver]
    fixed = [f"{s.default_lr:g} {s.name}" for s in OPTIMIZERS.values() if s.default_lr]
    solvers = [s.name for s in OPTIMIZERS.values() if s.solver and s.name != "auto"]
    return (
        f"automatic step for {', '.join(auto)}; "
        + ", ".join(fixed)
        + f"; none for the solvers ({', '.join(solvers)})"
    )


def _hyper_options() -> list[Decorator]:
    options = []
    for name, (hyper, specs) in exposed_hyperparameters().items():
        defaults = sorted({f"{spec.default(name):g}" for spec in specs})
        users = ", ".join(spec.name for spec in specs)
        options.append(
            click.option(
                "--" + name.replace("_", "-"),
                name,
                type=float,
                help=f"{hyper.help} ({users}) [{', '.join(defaults)}].",
            )
        )
    return options


def _train_config(
    optimizer: str,
    lr: float | None,
    epochs: int | None,
    batch_size: int | None,
    schedule: str | None,
    tol: float | None,
    patience: int,
    seed: int,
    **hyper: float | None,
) -> TrainConfig:
    from losscli.fit.loop import TrainConfig

    return TrainConfig(
        optimizer=optimizer,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        hyper={k: v for k, v in hyper.items() if v is not None},
        schedule=schedule,
        tol=tol,
        patience=patience,
        seed=seed,
    )


def _batch_help() -> str:
    sizes = sorted({s.defaults.batch_size for s in OPTIMIZERS.values() if s.defaults.batch_size})
    return f"Mini-batch size for the sgd family [default: {', '.join(map(str, sizes))}]."


optimizer_options = grouped(
    "fit",
    [
        click.option(
            "--optimizer",
            type=click.Choice(tuple(OPTIMIZERS)),
            default="auto",
            show_default=True,
            help="auto picks newton, prox_newton, lbfgs, lp, qp or gd by loss, penalty and shape.",
        ),
        click.option("--lr", type=float, help=f"Learning rate [default: {_rates()}]."),
        click.option("--epochs", type=int, help=_epochs_help()),
        click.option("--batch-size", type=int, help=_batch_help()),
        *_hyper_options(),
        click.option("--schedule", type=click.Choice(tuple(SCHEDULES)), help=_schedule_help()),
        click.option("--tol", type=float, help=_tol_help()),
        click.option(
            "--patience",
            type=int,
            default=5,
            show_default=True,
            help="Epochs without improvement before stopping.",
        ),
        click.option("--seed", type=int, default=0, show_default=True),
    ],
    _train_config,
)


@dataclass(frozen=True)
class TrainOutput:
    """What train writes: the format, the model file, the history, and notes or not."""

    fmt: str | None
    save: str | None
    history: str | None
    plot: str | None


train_output_options = grouped(
    "out",
    [
        click.option(
            "--format",
            "-f",
            "fmt",
            type=click.Choice(TABLE_OR_JSON),
            help="Output format [default: table on a terminal, json otherwise].",
        ),
        click.option("--save", metavar="FILE", help="Save the model as JSON."),
        click.option("--history", metavar="FILE", help="Write one CSV row per epoch."),
        click.option(
            "--plot",
            metavar="FILE",
            help="Draw the objective per epoch and the coefficients (.png/.svg/.pdf; "
            "needs losscli[plot]).",
        ),
    ],
    TrainOutput,
)


# --------------------------------------------------------------------------- compute output


compute_output_options = grouped(
    "out",
    [
        click.option(
            "--format",
            "-f",
            "fmt",
            type=click.Choice(FORMATS),
            help="Output format [default: table on a terminal, tsv otherwise]. table is for "
            "people (6 significant digits); json, csv, tsv and value are for machines: every "
            "number exact (repr). value prints the bare loss value(s), one per line.",
        ),
        click.option(
            "--rows",
            type=click.IntRange(min=0),
            default=10,
            show_default=True,
            help="Rows of the per-row gradient table.",
        ),
        click.option("--grad", is_flag=True, help="Add the full gradient to json/csv/tsv output."),
        click.option(
            "--grad-out",
            metavar="FILE",
            help="Write per-sample loss and gradient as CSV (- = stdout; DIR/ = one "
            "part-NNNNN.csv per partition).",
        ),
        click.option(
            "--plot",
            metavar="FILE",
            help="Draw a figure (.png/.svg/.pdf; needs losscli[plot]): predicted vs true and "
            "residuals, or reliability diagram and ROC curve.",
        ),
        click.option(
            "--hessian",
            is_flag=True,
            help="Add the per-sample second derivative ∂²L/∂ŷ² to json/csv/tsv and --grad-out"
            " (with --check-grad, check it too).",
        ),
    ],
    OutputOptions,
)


# --------------------------------------------------------------------------- consoles


# --------------------------------------------------------------------------- conventions


@dataclass(frozen=True)
class CompatOptions:
    """Whose convention, in which float type, and whether to scan for hazards."""

    compat: str | None
    dtype: str | None
    hazards: bool


def _compat_options() -> list[Decorator]:
    from losscli.losses.compat import STYLES, Library

    libraries = tuple(lib.value for lib in Library)
    return [
        click.option(
            "--compat",
            type=click.Choice((*libraries, "all")),
            help="Reproduce a library's convention (clips, defaults, weighted mean, float type);"
            " all: every library beside losscli's own.",
        ),
        click.option(
            "--dtype",
            type=click.Choice(("float64", "float32")),
            help="Compute in this float type [default: float64; "
            + ", ".join(f"{lib.value}: {s.precision}" for lib, s in STYLES.items())
            + "].",
        ),
        click.option(
            "--hazards", is_flag=True, help="Report clipped, saturated, dominant and skipped rows."
        ),
    ]


compat_options = grouped("conventions", _compat_options(), CompatOptions)


def _console(**kwargs: Any) -> Console:
    """A rich console whose closed pipe exits 141 quietly (rich's own choice is 1)."""
    from rich.console import Console

    from losscli.cli.streams import quiet_pipe

    class QuietPipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            quiet_pipe()

    return QuietPipeConsole(**kwargs)


def stdout_console() -> Console:
    return _console(file=sys.stdout)


def stderr_console() -> Console:
    return _console(file=sys.stderr, stderr=True)


def stdout_is_terminal() -> bool:
    """Whether a person reads stdout: the only thing that picks ``table`` over a machine format.

    ``isatty`` and not rich's ``Console.is_terminal``: FORCE_COLOR makes rich
    claim a terminal in a pipe, and colour settings must never change what
    a script reads.
    """
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except ValueError:  # closed
        return False


def stderr_is_terminal() -> bool:
    """Whether a person reads stderr (progress bars, the dim ``target: …`` line)."""
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except ValueError:
        return False


def complete_losses(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of loss names and aliases; after a comma, of the next name."""
    from click.shell_completion import CompletionItem

    from losscli.losses import LOSSES

    done, _, part = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    names = [n for cls in LOSSES.values() for n in (cls.name, *cls.aliases)]
    return [
        CompletionItem(prefix + n, help=str(LOSSES[n].task) if n in LOSSES else None)
        for n in names
        if n.startswith(part)
    ]


def stdin_is_terminal() -> bool:
    return sys.stdin is None or sys.stdin.isatty()
