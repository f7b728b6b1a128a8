"""Options and helpers shared by the commands, generated from the registries."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from losscli.io import INPUT_FORMATS
from losscli.losses import PARAM_FLAGS

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "csv", "tsv", "value")


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


def input_options(func: F) -> F:
    """The input flags every command shares: --input-format, -d/--delimiter, -t/--tab,
    --no-header.  They arrive as one ``input_options`` keyword (see :func:`input_of`)."""
    options = [
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
    for option in reversed(options):
        func = option(func)
    return func


def input_of(params: dict[str, Any]) -> Any:
    """Pop the :func:`input_options` flags out of a command's keywords: an InputOptions."""
    from losscli.errors import InputError
    from losscli.io.formats import InputOptions

    fmt = params.pop("input_format", None)
    delimiter = params.pop("delimiter", None)
    tab = params.pop("tab", False)
    header = not params.pop("no_header", False)
    if tab:
        if delimiter not in (None, "\t"):
            raise InputError("--tab and --delimiter disagree", "give one of them")
        delimiter = "\t"
    if delimiter == "\\t":
        delimiter = "\t"
    options = InputOptions(format=fmt, delimiter=delimiter, header=header)
    options.check()
    return options
