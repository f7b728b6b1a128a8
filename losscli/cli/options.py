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


def complete_losses(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of loss names and aliases; after a comma, of the next name."""
    from click.shell_completion import CompletionItem

    from losscli.losses import LOSSES

    done, _, part = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    names = [n for cls in LOSSES.values() for n in (cls.name, *cls.aliases)]
    return [
        CompletionItem(prefix + n, help=LOSSES[n].task if n in LOSSES else None)
        for n in names
        if n.startswith(part)
    ]


def stdout_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stdout)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, stderr=True)


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


def stdin_is_terminal() -> bool:
    return sys.stdin is None or sys.stdin.isatty()


def require_input(file: str | None) -> str:
    """No FILE and a terminal on stdin is a usage error, never a silent wait."""
    if file is None:
        if stdin_is_terminal():
            raise click.UsageError("no input: give a CSV FILE, or pipe CSV into standard input")
        return "-"
    return file
