"""Where a command runs: --engine, --scheduler; and train's --memory-limit, --cache-dir.

The options live here, beside the library's :mod:`losscli.engine`, and are
added to the commands by decorator so each command module gains one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from losscli.engine.memory import DEFAULT_SHARE

F = TypeVar("F", bound=Callable[..., Any])


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    from losscli.engine.memory import parse_size
    from losscli.errors import InputError

    if value is None:
        return None
    try:
        return parse_size(value)
    except InputError as exc:
        raise click.BadParameter(str(exc).replace("\n", "; ")) from None


def memory_options(func: F) -> F:
    """--memory-limit SIZE and --cache-dir DIR (train)."""
    func = click.option(
        "--cache-dir",
        metavar="DIR",
        help="Folder for the on-disk cache of a matrix past --memory-limit [default: $TMPDIR].",
    )(func)
    func = click.option(
        "--memory-limit",
        metavar="SIZE",
        callback=_size,
        help="Memory for the training data, e.g. 200MB or 2GiB; past it the design "
        f"matrix is cached on disk [default: {DEFAULT_SHARE:.0%} of available memory].",
    )(func)
    return func


def engine_options(func: F) -> F:
    """--engine local|dask and --scheduler ADDRESS (compute, train, predict)."""
    from losscli.engine.dask import ENGINES, SCHEDULER_VARIABLE

    func = click.option(
        "--scheduler",
        metavar="ADDRESS",
        envvar=SCHEDULER_VARIABLE,
        help=f"Dask scheduler to join, e.g. tcp://10.0.0.5:8786 [default: ${SCHEDULER_VARIABLE}, "
        "else a LocalCluster of one worker per core, closed at the end].",
    )(func)
    func = click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default="local",
        show_default=True,
        help="Where to run: this process, or a Dask cluster (needs losscli[dask]; "
        "FILE may then be a glob or folder of CSV/Parquet files).",
    )(func)
    return func
