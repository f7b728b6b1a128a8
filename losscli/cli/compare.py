"""`losscli compare`: is the new model really better than the old one?"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from losscli.cli.app import cli
from losscli.cli.evaluate_options import evaluate_options
from losscli.cli.options import (
    FORMATS,
    REDUCTIONS,
    InputSource,
    input_flag_options,
    loss_param_options,
    stdin_is_terminal,
    stdout_console,
)
from losscli.cli.output import output_options
from losscli.evaluate import DEFAULT_REPLICATES
from losscli.losses import make_losses

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.evaluate import EvaluateOptions
    from losscli.evaluate.paired import CompareReport, PairedResult


@cli.command()
@output_options
@click.argument("files", nargs=-1, metavar="FILE [FILE]")
@input_flag_options
@click.option(
    "--loss", "-l", "loss_names", multiple=True, metavar="NAME", help="Loss(es) to compare."
)
@click.option("--true", "true_col", metavar="COL", help="Target column(s).")
@click.option(
    "--pred",
    "pred_col",
    metavar="COLS",
    help="One file: the models' prediction columns, comma-separated (base first). "
    "Two files: the prediction column(s) of both.",
)
@click.option("--weight", "weight_col", metavar="COL", help="Per-sample weight column.")
@click.option("--logits", is_flag=True, help="Predictions are raw scores (logits).")
@loss_param_options
@click.option("--reduction", type=click.Choice(REDUCTIONS[:2]), default="mean", show_default=True)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice([f for f in FORMATS if f != "value"]),
    help="Output format [default: table on a terminal, tsv otherwise].",
)
@click.option("--dropna", is_flag=True, help="Skip rows with missing or non-numeric cells.")
@evaluate_options(default_replicates=DEFAULT_REPLICATES)
def compare(
    files: tuple[str, ...],
    data_in: InputSource,
    loss_names: tuple[str, ...],
    true_col: str | None,
    pred_col: str | None,
    weight_col: str | None,
    logits: bool,
    reduction: str,
    fmt: str | None,
    dropna: bool,
    evaluate: EvaluateOptions,
    **params: Any,
) -> None:
    """Compare two predictions of the same targets: difference, paired interval, p-value.

    \b
    The difference is new − base; its interval comes from a paired Poisson
    bootstrap (the same resamples for both), its p-value from a paired
    sign-flip permutation test (--bootstrap B sets both).  --baseline adds
    each model's D² against the same best constant; --worst N the rows where
    new − base weighted loss contribution is largest.
    \b
    Examples:
      losscli compare --loss mse,mae base.csv new.csv
      losscli compare --loss mse --pred m1,m2 preds.csv
      losscli compare -l bce --pred p_old,p_new --by segment scored.csv
      losscli compare -l mae --baseline --worst 5 base.csv new.csv
    """
    from losscli.evaluate.paired import CompareRequest, run_compare

    options = evaluate
    if not files:
        files = ("-",) if not stdin_is_terminal() else ()
    if len(files) not in (1, 2):
        raise click.UsageError("give two files (base, new), or one file with --pred m1,m2")
    losses = make_losses(loss_names, params, logits=logits)
    preds = tuple(p.strip() for p in pred_col.split(",") if p.strip()) if pred_col else ()
    request = CompareRequest(
        sources=files,
        losses=tuple(losses),
        true=true_col,
        preds=preds if len(files) == 1 else ((pred_col,) if pred_col else ()),
        weight=weight_col,
        logits=logits,
        reduction=reduction,  # type: ignore[arg-type]
        dropna=dropna,
        input=data_in.reading(),  # --input-format, -d/--delimiter, -t/--tab, --no-header
        options=options,
    )
    report = run_compare(request)
    console = stdout_console() if fmt in (None, "table") else None
    if fmt is None:
        fmt = "table" if console is not None and console.is_terminal else "tsv"
    if fmt == "table":
        assert console is not None
        compare_table(report, console)
    elif fmt == "json":
        sys.stdout.write(compare_json(report))
    else:
        for line in compare_lines(report, "," if fmt == "csv" else "\t"):
            sys.stdout.write(line)


def compare_json(report: CompareReport) -> str:
    obj: dict[str, Any] = {
        "n": report.n,
        "dropped": report.dropped,
        "models": list(report.names),
        "test": report.test,
        "replicates": report.options.replicates,
        "seed": report.options.seed,
        "results": [r.to_json() for r in report.results],
    }
    if report.groups is not None:
        obj["by"] = report.options.by
        obj["groups"] = [
            {"key": g.key, "n": g.n, "results": [r.to_json() for r in g.results]}
            for g in report.groups
        ]
    for r, w in zip(obj["results"], report.worst or [], strict=False):
        r["worst"] = w.to_json()
    return json.dumps(obj, allow_nan=False) + "\n"


def compare_lines(report: CompareReport, sep: str) -> Any:
    from losscli.cli.render_compute import csv_line

    if report.worst is not None:  # as compute --worst: the rows instead of the summary
        yield from worst_lines(report, sep)
        return
    head = ["loss", "base_name", "new_name", "base", "new", "diff", "ci_low", "ci_high", "p_value"]
    with_baseline = report.options.baseline
    if with_baseline:
        head += ["baseline", "baseline_value", "d2_base", "d2_new"]
    grouped = report.groups is not None
    yield csv_line((["group"] if grouped else []) + head, sep)
    sets = [("(all)", report.results)] + [(str(g.key), g.results) for g in report.groups or []]
    for key, results in sets:
        for r in results:
            cells = [r.loss.name, r.base_name, r.new_name, repr(r.base), repr(r.new), repr(r.diff)]
            cells += ["", ""] if r.ci is None else [repr(r.ci.low), repr(r.ci.high)]
            cells.append("" if r.p_value is None else repr(r.p_value))
            if with_baseline:
                cells += _baseline_cells(r)
            yield csv_line(([key] if grouped else []) + cells, sep)


def _baseline_cells(r: PairedResult) -> list[str]:
    b = r.baseline
    if b is None:
        return ["", "", "", ""]
    c = b.constant
    const = ";".join(repr(x) for x in c) if isinstance(c, tuple) else repr(c)
    return [
        const,
        repr(b.value),
        "" if b.d2 is None else repr(b.d2),
        "" if r.new_d2 is None else repr(r.new_d2),
    ]


def worst_lines(report: CompareReport, sep: str) -> Any:
    """One line per kept row: loss, models, rank, row, y_true, both predictions, sᵢℓᵢ of both."""
    from losscli.cli.render_compute import csv_line

    head = ["loss", "base_name", "new_name", "rank", "row", "y_true", "base_pred", "new_pred"]
    yield csv_line([*head, "base", "new", "diff"], sep)
    inner = ";" if sep == "," else ","

    def joined(x: Any) -> str:
        return inner.join(repr(float(v)) for v in x.reshape(-1))

    for w in report.worst or []:
        for r in range(w.rows.shape[0]):
            cells = [w.loss.name, w.base_name, w.new_name, str(r + 1), str(int(w.rows[r]))]
            cells += [joined(w.y_true[r]), joined(w.base_pred[r]), joined(w.new_pred[r])]
            b, n = float(w.base[r]), float(w.new[r])
            yield csv_line([*cells, repr(b), repr(n), repr(n - b)], sep)


def compare_table(report: CompareReport, console: Console) -> None:
    from rich.text import Text

    from losscli.cli.layout import Col, print_table
    from losscli.cli.numbers import count, human

    level = f"{report.options.level:.0%}"
    console.print(
        Text(
            f"{count(report.n)} rows · base {report.names[0]} · {level} intervals: paired "
            f"Poisson bootstrap (BCa) · p: {report.test} test · "
            f"{count(report.options.replicates)} replicates, seed {report.options.seed}"
        )
    )
    sets = [("all rows", report.results)] + [
        (f"{report.options.by} = {g.key} (n = {count(g.n)})", g.results)
        for g in report.groups or []
    ]
    cols = [Col("loss", "left", key=True), Col("base"), Col("new"), Col("new − base")]
    if report.options.baseline:
        cols += [Col("baseline c*"), Col("L₀"), Col("D² base"), Col("D² new")]
    for title, results in sets:
        names = [
            r.loss.name if len(report.names) == 2 else f"{r.loss.name} ({r.new_name})"
            for r in results
        ]
        rows = [
            [name, human(r.base), human(r.new), human(r.diff), *_baseline_table(r, report)]
            for name, r in zip(names, results, strict=True)
        ]
        print_table(console, cols, rows, title=title if report.groups is not None else None)
        for name, r in zip(names, results, strict=True):  # the verdict, in words
            console.print(Text(f"{name}: {r.sentence()}"))
    for w in report.worst or []:
        wcols = [Col("row", key=True), Col("y_true"), Col(f"{w.base_name}"), Col(f"{w.new_name}")]
        wcols += [Col("sℓ base"), Col("sℓ new"), Col("new − base")]
        wrows = [
            [
                str(int(w.rows[r])),
                ", ".join(human(x) for x in w.y_true[r].reshape(-1)),
                ", ".join(human(x) for x in w.base_pred[r].reshape(-1)),
                ", ".join(human(x) for x in w.new_pred[r].reshape(-1)),
                human(w.base[r]),
                human(w.new[r]),
                human(w.new[r] - w.base[r]),
            ]
            for r in range(w.rows.shape[0])
        ]
        title = (
            f"{w.loss.name}: the {w.rows.shape[0]} rows where {w.new_name} loses most "
            f"to {w.base_name} (largest sᵢℓᵢ new − base)"
        )
        print_table(console, wcols, wrows, title=title)


def _baseline_table(r: PairedResult, report: CompareReport) -> list[str]:
    from losscli.cli.numbers import human, maybe

    if not report.options.baseline:
        return []
    b = r.baseline
    if b is None:
        return ["—", "—", "—", "—"]
    c = b.constant
    const = ", ".join(human(x) for x in c) if isinstance(c, tuple) else human(c)
    return [const, human(b.value), maybe(b.d2), maybe(r.new_d2)]
