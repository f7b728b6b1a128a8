"""The click group, exit codes and the console-script entry point.

Each command parses its flags, calls one library function, and renders the
result.  Library errors (:class:`losscli.errors.LossCliError`) become
one-to-three-line messages with exit code 2 (bad input) or 1 (run failure)
at the group boundary; Ctrl-C exits 130 and a closed pipe exits quietly.
Heavy modules load inside the commands, so ``--help`` stays instant.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import warnings
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


def compact_usage(exc: click.UsageError) -> CliInputError:
    """A usage error in two lines (the problem, where the help is), not click's four."""
    where = f"\nsee '{exc.ctx.command_path} --help'" if exc.ctx is not None else ""
    return CliInputError(exc.format_message() + where)


class LossCliGroup(click.Group):
    """Converts what any subcommand raises into one-to-three-line errors.

    Library errors keep their exit code; a closed pipe is quiet (exit 141)
    here, before click's own EPIPE handling (which would exit 1); a failed
    write (a full disk, a closed stdout) and running out of memory are
    run-time failures (exit 1).
    """

    def invoke(self, ctx: click.Context) -> Any:
        from losscli.cli import streams

        try:
            return super().invoke(ctx)
        except LossCliError as exc:
            raise cli_error(exc) from None
        except click.UsageError as exc:
            raise compact_usage(exc) from None
        except BrokenPipeError:
            streams.quiet_pipe()
        except OSError as exc:
            raise CliError(streams.write_failure(exc)) from None
        except MemoryError:
            raise CliError(
                "ran out of memory\nfree memory, or work on a sample of the input"
            ) from None


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
    """Console-script entry: exit codes 0/1/2, 130 on Ctrl-C (or SIGTERM/SIGHUP), 141 on a
    closed pipe; never a traceback or a raw NumPy warning."""
    from losscli._process import tune_process
    from losscli.cli import streams

    tune_process()
    streams.prepare_streams()
    # Floating-point warnings carry nothing a user can act on: every number that
    # is printed is checked (overflow is an error naming rows), so they are muted.
    warnings.simplefilter("ignore", RuntimeWarning)
    interrupted = _watch_interrupts()
    code: Any = 0
    try:
        code = cli.main(prog_name="losscli", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        code = 130
    except click.ClickException as exc:
        _flush_or_fail(streams)
        if isinstance(exc, click.UsageError):
            exc = compact_usage(exc)
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except BrokenPipeError:
        streams.quiet_pipe()
    except OSError as exc:  # click's help or usage text on a full or closed stdout
        _fail(streams.write_failure(exc))
    except LossCliError as exc:  # raised outside a subcommand
        _flush_or_fail(streams)
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    _flush_or_fail(streams)
    if interrupted:  # a KeyboardInterrupt that a finalizer swallowed still means 130
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _flush_or_fail(streams: Any) -> None:
    problem = streams.flush_stdout()
    if problem:
        _fail(problem)


def _fail(problem: str) -> None:
    click.echo(f"Error: {problem}", err=True)
    sys.exit(1)


INTERRUPTS = ("SIGINT", "SIGTERM", "SIGHUP")


def _watch_interrupts() -> list[bool]:
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt, and are remembered.

    So each unwinds like Ctrl-C: temporary files (``*.part``, the stdin spool)
    are removed by the handlers that guard them, and the exit code is 130.
    Python swallows an exception raised inside a finalizer (``__del__``, a
    generator's close) with an "Exception ignored" note, so an interrupt that
    lands there would otherwise end in exit code 0.
    """
    seen: list[bool] = []

    def handler(signum: int, frame: object) -> None:
        seen.append(True)
        raise KeyboardInterrupt

    for name in INTERRUPTS:
        number = getattr(signal, name, None)
        if number is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread: Python's own
            signal.signal(number, handler)
    return seen
