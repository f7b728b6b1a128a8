"""Where a command runs: --engine, --scheduler; and train's --memory-limit, --cache-dir.

Grouped like the other shared options (:func:`losscli.cli.options.grouped`):
each command gains one decorator and receives one frozen object.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from losscli.cli.options import grouped
from losscli.engine.dask import ENGINES, SCHEDULER_VARIABLE
from losscli.engine.memory import DEFAULT_SHARE
from losscli.engine.parts import DEFAULT_PARTITION_BYTES


@dataclass(frozen=True)
class EngineOptions:
    """--engine and --scheduler: this process, or a Dask cluster."""

    engine: str
    scheduler: str | None
    partition_size: int | None = None  # bytes per partition on Dask; 0 = one per file


@dataclass(frozen=True)
class MemoryOptions:
    """--memory-limit (bytes, None = the default share) and --cache-dir."""

    memory_limit: int | None
    cache_dir: str | None


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    from losscli.engine.memory import parse_size
    from losscli.errors import InputError

    if value is None:
        return None
    try:
        if param.name == "partition_size":  # any size; 0 = one partition per file
            return parse_size(value, "--partition-size", minimum=0)
        return parse_size(value)
    except InputError as exc:
        raise click.BadParameter(str(exc).replace("\n", "; ")) from None


engine_options = grouped(
    "where",
    [
        click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="local",
            show_default=True,
            help="Where to run: this process, or a Dask cluster (needs losscli[dask]); "
            "FILE may be a glob or folder of CSV/Parquet files.",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            envvar=SCHEDULER_VARIABLE,
            help=f"Dask scheduler to join, e.g. tcp://10.0.0.5:8786 [default: "
            f"${SCHEDULER_VARIABLE}, else a LocalCluster of one worker per core].",
        ),
        click.option(
            "--partition-size",
            metavar="SIZE",
            callback=_size,
            help="Dask: cut CSV files into byte ranges and Parquet files into runs of row "
            "groups of about SIZE each, e.g. 64MB; 0 = one partition per file "
            f"[default: {DEFAULT_PARTITION_BYTES // 1_000_000}MB].",
        ),
    ],
    EngineOptions,
)

memory_options = grouped(
    "memory",
    [
        click.option(
            "--memory-limit",
            metavar="SIZE",
            callback=_size,
            help="Memory for the whole run, e.g. 200MB or 2GiB; past it the design matrix "
            f"is cached on disk [default: {DEFAULT_SHARE:.0%} of available memory].",
        ),
        click.option(
            "--cache-dir",
            metavar="DIR",
            help="Folder for that cache [default: the temporary folder].",
        ),
    ],
    MemoryOptions,
)
