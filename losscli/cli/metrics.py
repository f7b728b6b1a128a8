"""`losscli metrics`: the metrics `compute --metric` knows, from the one registry."""

from __future__ import annotations

import json
from typing import Any

import click

from losscli.cli.app import cli
from losscli.cli.options import TABLE_OR_JSON, stdout_console
from losscli.cli.output import output_options


@cli.command("metrics")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(TABLE_OR_JSON),
    default="table",
    show_default=True,
)
@output_options
def metrics_cmd(fmt: str) -> None:
    """The metrics of `compute --metric NAME[,NAME…]`, each equal to scikit-learn 1.9's.

    \b
    Examples:
      losscli metrics
      losscli compute -l bce --metric roc_auc,ece --bins 10 sample_data/binary_preds.csv
    """
    from losscli.fit.metrics import METRICS, RANK_METRICS, THRESHOLD_METRICS

    rows: list[dict[str, Any]] = [
        {
            "name": s.name,
            "task": s.task,
            "description": s.description,
            "greater_is_better": s.greater_is_better,
            "reference": s.reference,
            "options": (
                ["--threshold"]
                if s.name in THRESHOLD_METRICS
                else ["--bins"]
                if s.name == "ece"
                else []
            ),
            "exact_in_memory": s.name in RANK_METRICS,
        }
        for s in METRICS.values()
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title="losscli metrics (compute --metric NAME)")
    for col in ("name", "task", "description", "reference"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["name"], r["task"], r["description"], r["reference"])
    console = stdout_console()
    console.print(table)
    console.print(
        "[dim]--threshold T (default 0.5): class 1 when p > T; --bins N: ece's equal-width bins. "
        "Every metric holds the rows in memory (at most 20,000,000).[/dim]"
    )
