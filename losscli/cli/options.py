"""Options and helpers shared by the commands, generated from the registries."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

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


def stdin_is_terminal() -> bool:
    return sys.stdin is None or sys.stdin.isatty()


def require_input(file: str | None) -> str:
    """No FILE and a terminal on stdin is a usage error, never a silent wait."""
    if file is None:
        if stdin_is_terminal():
            raise click.UsageError("no input: give a CSV FILE, or pipe CSV into standard input")
        return "-"
    if file == "-" and sys.stdin is None:  # `<&-`
        raise click.UsageError("standard input is closed: give a CSV FILE, or pipe CSV into it")
    return file
