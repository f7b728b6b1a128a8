"""The click group, exit codes and the console-script entry point.

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
from typing import Any

import click

from losscli import __version__
from losscli.errors import LossCliError


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


# --------------------------------------------------------------------------- entry point


def main() -> None:
    """Console-script entry: exit codes 0/1/2, 130 on Ctrl-C, quiet on a closed pipe."""
    from losscli._process import tune_process

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
