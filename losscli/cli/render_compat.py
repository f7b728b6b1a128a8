"""What --compat, --dtype and --hazards add to compute's output.

A run under these options holds extra loss instances beside the user's: each
library's version (``--compat all``) and the float64 twin of a float32 loss
(its ``shadow``).  They are not results of their own; this module folds them
into the result they describe, for JSON and for people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from losscli.cli import numbers
from losscli.losses.compat import conventions, describe

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.compute import ComputeReport, LossSummary
    from losscli.losses.base import Value

DIFFERS = 1e-9  # relative difference from losscli's own value that --compat all marks


def shown(summary: LossSummary, report: ComputeReport) -> bool:
    """Is this summary a result of its own (not a twin, not a library's version under all)?"""
    if summary.loss.shadow:
        return False
    return not (_compare_all(report) and summary.loss.library is not None)


def _compare_all(report: ComputeReport) -> bool:
    own = {s.loss.name for s in report.summaries if s.loss.library is None}
    return any(s.loss.library is not None and s.loss.name in own for s in report.summaries)


def _twin(summary: LossSummary, report: ComputeReport) -> LossSummary | None:
    for s in report.summaries:
        if (
            s.loss.shadow
            and s.loss.name == summary.loss.name
            and s.loss.library == summary.loss.library
        ):
            return s
    return None


def _relative(a: Value | None, b: Value | None) -> float | None:
    """Relative difference; for one value per output (--multioutput raw) the largest."""
    if a is None or b is None:
        return None
    pairs = zip(a, b, strict=True) if isinstance(a, tuple) and isinstance(b, tuple) else [(a, b)]
    worst = 0.0
    for x, y in pairs:
        assert isinstance(x, float) and isinstance(y, float)
        scale = max(abs(x), abs(y))
        worst = max(worst, 0.0 if scale == 0 else abs(x - y) / scale)
    return worst


def _precise(x: Value) -> str:
    return ", ".join(map(numbers.precise, x)) if isinstance(x, tuple) else numbers.precise(x)


def _versions(summary: LossSummary, report: ComputeReport) -> dict[str, Any]:
    """``--compat all``: each library's value of this loss, or why it has none."""
    out: dict[str, Any] = {}
    versions = {
        s.loss.library: s
        for s in report.summaries
        if s.loss.name == summary.loss.name and s.loss.library and not s.loss.shadow
    }
    for library, conv in conventions(summary.loss.name):
        s = versions.get(library.value)
        if s is None:
            reason = "no such loss" if conv is None else "not for these inputs or options"
            out[library.value] = {"value": None, "unavailable": reason}
            continue
        rel = _relative(s.value, summary.value)
        out[library.value] = {
            "value": s.value,
            "function": None if conv is None else conv.function,
            "dtype": s.loss.precision,
            "differs": rel is not None and rel > DIFFERS,
        }
    return out


def result_extras(summary: LossSummary, report: ComputeReport) -> dict[str, Any]:
    """Keys a JSON result gains: library, dtype, the float64 comparison, the versions."""
    loss = summary.loss
    out: dict[str, Any] = {}
    if loss.library is not None:
        out["library"] = loss.library
    if loss.library is not None or loss.precision != "float64":
        out["dtype"] = loss.precision
        out["max_row"] = summary.max_row
    twin = _twin(summary, report)
    if twin is not None:
        out["float64"] = {"value": twin.value, "max_row": twin.max_row}
    if _compare_all(report) and loss.library is None:
        out["compat"] = _versions(summary, report)
    return out


def report_extras(report: ComputeReport) -> dict[str, Any]:
    """Top-level JSON keys: the hazards, when asked for."""
    return {} if report.hazards is None else {"hazards": report.hazards.as_dict()}


def stem(summary: LossSummary) -> str:
    """The per-row column name: ``bce``, ``bce_keras``, ``bce_float64`` (a twin)."""
    loss = summary.loss
    parts = [loss.name, loss.library or "", "float64" if loss.shadow else ""]
    return "_".join(p for p in parts if p)


def label(summary: LossSummary) -> str:
    """The loss column for people and csv/tsv: ``bce [keras, float32]``."""
    return summary.label


def notes(report: ComputeReport) -> list[str]:
    """People's lines: how far float32 moved each loss."""
    out = []
    for s in report.summaries:
        twin = _twin(s, report) if not s.loss.shadow else None
        if twin is None or s.value is None or twin.value is None:
            continue
        out.append(
            f"{label(s)}: {_precise(s.value)} in float32, "
            f"{_precise(twin.value)} in float64; "
            f"the largest per-row loss is {s.max_row:.4g} in float32 and {twin.max_row:.4g} "
            "in float64"
        )
    return out


def tables(report: ComputeReport, console: Console) -> None:
    """The sections for people: libraries side by side, then the hazards with fixes."""
    from rich.markup import escape
    from rich.table import Table

    if _compare_all(report):
        table = Table(title="the same loss under each library's convention")
        for col in ("loss", "library", "value", "dtype", "function"):
            table.add_column(col, justify="right" if col == "value" else "left")
        for s in report.summaries:
            if s.loss.library is not None or s.loss.shadow:
                continue
            table.add_row(s.loss.name, "losscli", _value(s.value), s.loss.precision, "")
            for library, entry in _versions(s, report).items():
                if entry["value"] is None:
                    table.add_row("", library, "—", "", escape(entry["unavailable"]))
                    continue
                mark = " ≠" if entry["differs"] else ""
                table.add_row(
                    "",
                    library,
                    _value(entry["value"]) + mark,
                    entry["dtype"],
                    escape(entry["function"] or ""),
                )
        console.print(table)
        console.print("≠ differs from losscli's value by more than 1e-9 relative")
    if report.hazards is not None:
        table = Table(title="hazards: where the numbers are fragile")
        for col in ("hazard", "rows", "first rows", "fix"):
            table.add_column(col, justify="right" if col == "rows" else "left", overflow="fold")
        for name, entry in report.hazards.as_dict().items():
            first = ", ".join(str(r) for r in entry["rows"]) or "—"
            table.add_row(name, f"{entry['count']:,}", first, escape(entry["fix"]))
        console.print(table)


def _value(x: Value | None) -> str:
    return "per row" if x is None else _precise(x)


def catalogue(name: str, console: Console) -> None:
    """`losscli losses NAME`: per library, its function and what differs from losscli."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{name} in other libraries (--compat)")
    for col in ("library", "function", "differs from losscli", "style"):
        table.add_column(col, overflow="fold")
    for row in describe(name):
        if row["function"] is None:
            table.add_row(row["library"], "—", "has no such loss", "")
            continue
        differs = row["differs"] + (f"; takes {', '.join(row['takes'])}" if row["takes"] else "")
        table.add_row(row["library"], escape(row["function"]), escape(differs), row["style"])
    console.print(table)
