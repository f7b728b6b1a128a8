"""`losscli losses`: the catalogue."""

from __future__ import annotations

import sys

import click

from losscli.cli.app import cli
from losscli.cli.options import complete_losses, stdout_console, stdout_is_terminal
from losscli.cli.output import output_options
from losscli.losses import LOSSES, canonical_name


@cli.command("losses")
@click.argument("name", required=False, shell_complete=complete_losses)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(("table", "tsv", "json")),
    help="Output format [default: table on a terminal, tsv otherwise: a header, then one "
    "loss per line — name, aliases, task, parameters, formula].",
)
@output_options
def losses_cmd(name: str | None, fmt: str | None) -> None:
    """The loss catalogue, or one loss with its gradient formula.

    \b
    Examples:
      losscli losses
      losscli losses focal
      losscli losses | cut -f1          # the names, one per line
    """
    from losscli.cli import render_catalogue as catalogue

    entries = list(LOSSES.values()) if name is None else [LOSSES[canonical_name(name)]]
    fmt = fmt or ("table" if stdout_is_terminal() else "tsv")
    if fmt == "json":
        click.echo(catalogue.as_json(entries))
    elif fmt == "tsv" and name is None:
        sys.stdout.writelines(catalogue.tsv_lines(entries))
    elif fmt == "tsv":
        sys.stdout.writelines(catalogue.detail_tsv_lines(entries[0]))
    elif name is None:
        catalogue.table(entries, stdout_console())
    else:
        catalogue.detail(entries[0], stdout_console())
