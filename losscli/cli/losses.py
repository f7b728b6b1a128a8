"""`losscli losses`: the catalogue."""

from __future__ import annotations

import click

from losscli.cli.app import cli
from losscli.cli.options import TABLE_OR_JSON, stdout_console
from losscli.losses import LOSSES, canonical_name


@cli.command("losses")
@click.argument("name", required=False)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(TABLE_OR_JSON),
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
    from losscli.cli import render_catalogue as catalogue

    entries = list(LOSSES.values()) if name is None else [LOSSES[canonical_name(name)]]
    if fmt == "json":
        click.echo(catalogue.as_json(entries))
    elif name is None:
        catalogue.table(entries, stdout_console())
    else:
        catalogue.detail(entries[0], stdout_console())
