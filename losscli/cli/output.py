"""What every command shares about where its output goes and how loud it is.

* ``-o/--output FILE``: stdout goes to FILE instead, atomically (a temporary
  file renamed at the end, :mod:`losscli.io.atomic`): a failed run leaves no
  half-written FILE.  A file is not a terminal, so the default format is the
  machine one, exactly as with ``> FILE``.
* ``-q/--quiet``: no progress bars, notes, warnings or "wrote …" lines on
  stderr; errors are still shown.

People's text goes to stderr through :func:`note` and :func:`warn`, which
honour ``--quiet``; data goes to stdout.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
_QUIET = "losscli.quiet"


def output_options(func: F) -> F:
    """Add ``-o/--output`` and ``-q/--quiet`` to a command (below ``@cli.command``)."""
    takes_quiet = "quiet" in inspect.signature(func).parameters

    @functools.wraps(func)
    def command(*args: Any, output: str | None, quiet: bool, **kwargs: Any) -> Any:
        click.get_current_context().meta[_QUIET] = quiet
        if takes_quiet:
            kwargs["quiet"] = quiet
        if output is None or output == "-":
            return func(*args, **kwargs)
        from losscli.io.atomic import atomic_output

        with atomic_output(output) as handle, contextlib.redirect_stdout(handle):
            result = func(*args, **kwargs)
        note(f"wrote {output}")
        return result

    command = click.option(
        "--quiet", "-q", is_flag=True, help="No progress, notes or warnings on stderr."
    )(command)
    command = click.option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the output to FILE (atomically) instead of stdout.",
    )(command)
    return command  # type: ignore[return-value]


def is_quiet() -> bool:
    """Whether the running command was given ``--quiet`` (False outside a command)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().meta.get(_QUIET, False))


def _say(text: str) -> None:
    """One message on stderr; on a terminal wrapped at spaces, never inside a word."""
    from losscli.cli.options import stderr_is_terminal

    if stderr_is_terminal():
        import shutil
        import textwrap

        width = shutil.get_terminal_size().columns
        text = "\n".join(textwrap.wrap(text, width, subsequent_indent="  ", break_long_words=False))
    click.echo(text, err=True)


def note(text: str) -> None:
    """A line for people on stderr, unless ``--quiet``."""
    if not is_quiet():
        _say(f"note: {text}" if not text.startswith("wrote ") else text)


def warn(text: str) -> None:
    """A warning on stderr, unless ``--quiet``."""
    if not is_quiet():
        _say(f"warning: {text}")


def dim(text: str) -> None:
    """A dim line on stderr, only when a person reads it there (a terminal) and not quiet."""
    from losscli.cli.options import stderr_console, stderr_is_terminal

    if is_quiet() or not stderr_is_terminal():
        return
    from rich.text import Text

    stderr_console().print(Text(text, style="dim"))
