"""Output: rich tables for people, json/csv/tsv/value for machines.

Machine formats print every number with ``repr`` (shortest round-trip), so
what a pipeline reads back is bit-for-bit what was computed.  Tables round
to 10 significant digits for reading.  Data goes to stdout; notes for
people (clipping, dropped rows, gradient checks) go to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.cli import render_compat

if TYPE_CHECKING:
    import numpy as np
    from rich.console import Console

    from losscli._types import Array
    from losscli.compute import ComputeReport, LossSummary, Samples
    from losscli.losses import Loss
else:
    np = lazy_module("numpy", globals(), "np")

FORMATS = ("table", "json", "csv", "tsv", "value")
SPACE_NOTE = {
    "probability": "predictions read as probabilities (pass --logits for raw scores)",
    "logit": "predictions read as logits (raw scores)",
    "value": "predictions read as values",
}


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class OutputOptions:
    """compute's output flags as given (``fmt`` None = decide by the terminal)."""

    fmt: str | None = None
    rows: int = 10
    grad: bool = False
    grad_out: str | None = None


@dataclass(frozen=True)
class OutputPlan:
    """What compute prints, and therefore what pass 1 must keep and whether pass 2 runs.

    ``console`` is set only for a table (rich costs ~20 ms of start-up).
    """

    fmt: str
    rows: int
    grad: bool
    grad_out: str | None
    console: Console | None

    @property
    def to_stdout(self) -> bool:
        """``--grad-out -`` makes the per-sample CSV stdout's only output."""
        return self.grad_out != "-"

    def per_sample(self, reduction: str) -> bool:
        """Does some output list every row (so pass 2 must be possible)?"""
        return bool(self.grad or self.grad_out or (reduction == "none" and self.fmt != "table"))

    @property
    def checks_on_stderr(self) -> bool:
        """Gradient checks go to stderr where the format itself cannot show them."""
        return self.fmt not in ("table", "json")

    @property
    def head_rows(self) -> int:
        """Rows pass 1 keeps for the table: every row for a table with --grad."""
        return sys.maxsize if self.grad and self.fmt == "table" else self.rows


def plan(options: OutputOptions, console: Callable[[], Console]) -> OutputPlan:
    """Resolve the format (table on a terminal, else tsv) and refuse clashing flags."""
    from losscli.errors import InputError

    fmt, grad_out = options.fmt, options.grad_out
    if grad_out == "-" and fmt is not None:
        raise InputError("--grad-out - and --format both write to stdout", "choose one")
    screen = console() if fmt in (None, "table") and grad_out != "-" else None
    if fmt is None:
        fmt = "table" if screen is not None and screen.is_terminal else "tsv"
    if options.grad and fmt == "value":
        raise InputError("--grad does not apply to --format value", "use json, csv or tsv")
    return OutputPlan(fmt, options.rows, options.grad, grad_out, screen)


def emit(report: ComputeReport, out: OutputPlan, samples: Iterable[Samples]) -> None:
    """Write the chosen format to stdout; ``samples`` (pass 2) is read only if needed."""
    stdout: IO[str] = sys.stdout
    if out.fmt == "table":
        assert out.console is not None
        rows = len(report.head.rows) if out.grad else out.rows
        compute_table(report, out.console, rows=rows)
    elif out.fmt == "json":
        stdout.write(compute_json(report, samples, grad=out.grad))
    elif out.fmt == "value":
        write_lines(stdout, value_lines(report, samples))
    else:
        sep = "," if out.fmt == "csv" else "\t"
        if out.grad or report.request.reduction == "none":
            write_lines(stdout, sample_lines(report, samples, sep))
        else:
            write_lines(stdout, summary_lines(report, sep))


# --------------------------------------------------------------------------- numbers


def number(x: float) -> str:
    """Shortest text that reads back as the same float64."""
    return repr(float(x))


def people(x: float, digits: int = 10) -> str:
    """A number for a table: 10 significant digits (6 in the per-row tables)."""
    return f"{float(x):.{digits}g}"


def format_floats(values: Array) -> list[str]:
    """``repr`` of every element: the shortest text that reads back exactly.

    About 0.5 µs a number (CPython's shortest-repr search); NumPy's and
    json's formatters are no faster, and nothing faster is exact.
    """
    return list(map(float.__repr__, values.tolist()))


# --------------------------------------------------------------------------- per-sample


def sample_header(report: ComputeReport) -> list[str]:
    """Columns of the per-sample table: row, then each loss and its gradient."""
    header = ["row"]
    classes = report.columns.classes
    for summary in report.summaries:
        name = render_compat.stem(summary)
        header.append(name)
        if report.head.y_pred.ndim == 2 and classes is not None:
            header.extend(f"{name}_grad_{c}" for c in classes)
        else:
            header.append(f"{name}_grad")
    return header


def sample_lines(report: ComputeReport, samples: Iterable[Samples], sep: str) -> Iterator[str]:
    """Per-sample rows as delimited text, chunk by chunk."""
    yield sep.join(sample_header(report)) + "\n"
    for chunk in samples:
        columns: list[list[str]] = [list(map(str, chunk.rows.tolist()))]
        for value, grad in zip(chunk.values, chunk.grads, strict=True):
            columns.append(format_floats(value))
            if grad.ndim == 1:
                columns.append(format_floats(grad))
            else:
                columns.extend(format_floats(grad[:, j]) for j in range(grad.shape[1]))
        yield "\n".join(map(sep.join, zip(*columns, strict=True))) + "\n"


# --------------------------------------------------------------------------- machine formats


def _params(loss: Loss) -> dict[str, Any]:
    return loss.params()


def compute_json(report: ComputeReport, samples: Iterable[Samples], *, grad: bool) -> str:
    """The SPEC's ``compute --format json`` object (gathers per-sample lists)."""
    none = report.request.reduction == "none"
    values: list[list[Any]] = [[] for _ in report.summaries]
    grads: list[list[Any]] = [[] for _ in report.summaries]
    if grad or none:
        per_row = len(report.summaries) * (none + grad * len(report.columns.pred))
        from losscli.compute import check_held

        check_held("--format json", report.n * per_row)
        for chunk in samples:
            for i, (v, g) in enumerate(zip(chunk.values, chunk.grads, strict=True)):
                if none:
                    values[i].extend(v.tolist())
                if grad:
                    grads[i].extend(g.tolist())
    results = []
    for i, s in enumerate(report.summaries):
        if not render_compat.shown(s, report):
            continue
        item: dict[str, Any] = {
            "loss": s.loss.name,
            "params": _params(s.loss),
            "reduction": s.reduction,
            "predictions": s.space,
            "value": values[i] if s.value is None else s.value,
            "clipped": s.clipped,
        }
        if grad:
            item["gradient"] = grads[i]
        if s.check is not None:
            item["check_grad"] = check_dict(s)
        item.update(render_compat.result_extras(s, report))
        results.append(item)
    obj = {
        "n": report.n,
        "predictions": report.predictions,
        "columns": {
            "true": list(report.columns.true),
            "pred": list(report.columns.pred),
            "weight": report.columns.weight,
        },
        "dropped": report.dropped,
        "results": results,
        **render_compat.report_extras(report),
    }
    return json.dumps(obj, allow_nan=False) + "\n"


def check_dict(s: LossSummary) -> dict[str, Any]:
    assert s.check is not None
    return {
        "max_abs_error": s.check.max_abs,
        "max_rel_error": s.check.max_rel,
        "compared": s.check.compared,
        "skipped": s.check.skipped,
    }


def summary_lines(report: ComputeReport, sep: str) -> Iterator[str]:
    """One row per loss: loss, reduction, value."""
    yield sep.join(["loss", "reduction", "value"]) + "\n"
    for s in report.summaries:
        assert s.value is not None
        if s.loss.shadow:
            continue
        yield sep.join([render_compat.label(s), s.reduction, number(s.value)]) + "\n"


def value_lines(report: ComputeReport, samples: Iterable[Samples]) -> Iterator[str]:
    """Bare numbers: one per loss; per-sample values (tab-separated by loss) for none."""
    if report.request.reduction != "none":
        for s in report.summaries:
            assert s.value is not None
            if render_compat.shown(s, report):
                yield number(s.value) + "\n"
        return
    for chunk in samples:
        cols = [format_floats(v) for v in chunk.values]
        yield "\n".join(map("\t".join, zip(*cols, strict=True))) + "\n"


def write_lines(out: IO[str], lines: Iterable[str]) -> None:
    for line in lines:
        out.write(line)


# --------------------------------------------------------------------------- people


def notes(report: ComputeReport, *, checks: bool = True) -> list[str]:
    """Lines for stderr: dropped rows, clipped probabilities, gradient checks."""
    out = []
    if report.dropped:
        out.append(f"dropped {report.dropped} row(s) with missing or non-numeric values")
    for s in report.summaries:
        if s.clipped:
            out.append(
                f"{s.loss.name}: clipped {s.clipped} probabilit{'y' if s.clipped == 1 else 'ies'}"
                " to [eps, 1 − eps]; their gradient is taken at the clipped value"
            )
        if s.check is not None and checks:
            c = s.check
            out.append(
                f"{s.loss.name}: gradient check max abs error {c.max_abs:.3g}, "
                f"max rel error {c.max_rel:.3g} over {c.compared} values"
                + (f" ({c.skipped} clipped skipped)" if c.skipped else "")
            )
    return out + render_compat.notes(report)


def compute_table(report: ComputeReport, console: Console, *, rows: int) -> None:
    """Results, then per loss the first ``rows`` rows with loss and gradient."""
    from rich.table import Table

    console.print(
        f"[bold]{report.n}[/bold] rows · {SPACE_NOTE[report.predictions]}"
        + (f" · {report.dropped} dropped" if report.dropped else "")
    )
    results = Table(title=None, show_edge=True)
    for name, justify in (("loss", "left"), ("params", "left"), ("reduction", "left")):
        results.add_column(name, justify=justify)  # type: ignore[arg-type]
    results.add_column("value", justify="right")
    show_clip = any(s.clipped for s in report.summaries)
    if show_clip:
        results.add_column("clipped", justify="right")
    for s in report.summaries:
        if not render_compat.shown(s, report):
            continue
        params = ", ".join(f"{k}={_param_text(v)}" for k, v in _changed(s.loss).items())
        value = "per row (below)" if s.value is None else people(s.value)
        cells = [render_compat.label(s), params or "—", s.reduction, value]
        if show_clip:
            cells.append(str(s.clipped))
        results.add_row(*cells)
    console.print(results)
    if any(s.check is not None for s in report.summaries):
        checks = Table(title="gradient check (central differences)")
        for col in ("loss", "max abs error", "max rel error", "values"):
            checks.add_column(col, justify="left" if col == "loss" else "right")
        for s in report.summaries:
            if s.check is not None:
                checks.add_row(
                    s.loss.name,
                    f"{s.check.max_abs:.3g}",
                    f"{s.check.max_rel:.3g}",
                    str(s.check.compared),
                )
        console.print(checks)
    render_compat.tables(report, console)
    if rows > 0:
        _gradient_tables(report, console, rows)


def _changed(loss: Loss) -> dict[str, Any]:
    """Parameters that differ from their defaults (the table stays narrow)."""
    defaults = {p.name: p.default for p in loss.param_info()}
    return {k: v for k, v in loss.params().items() if v != defaults[k]}


def _param_text(v: Any) -> str:
    if isinstance(v, list):
        return ",".join(people(x) for x in v)
    return "none" if v is None else people(v)


def _gradient_tables(report: ComputeReport, console: Console, rows: int) -> None:
    from rich.table import Table

    head = report.head
    shown = min(rows, len(head.rows))
    classes = report.columns.classes
    pred_names: Sequence[str] = report.columns.pred
    for i, s in enumerate(report.summaries):
        if s.loss.shadow:
            continue
        label = render_compat.label(s)
        table = Table(title=f"{label}: per-row loss and ∂L/∂ŷ ({s.reduction})")
        table.add_column("row", justify="right")
        table.add_column(", ".join(report.columns.true) if head.y_true.ndim == 2 else "y_true")
        for name in pred_names:
            table.add_column(name, justify="right")
        table.add_column("loss", justify="right")
        grad = head.grads[i]
        if grad.ndim == 1:
            table.add_column("∂L/∂ŷ", justify="right")
        else:
            for c in pred_names:
                table.add_column(f"∂L/∂{c}", justify="right")
        for r in range(shown):
            truth = head.y_true[r]
            truth_text = (
                ", ".join(people(t, 6) for t in truth) if np.ndim(truth) else _label(truth, classes)
            )
            pred_cells = [people(p, 6) for p in np.atleast_1d(head.y_pred[r])]
            grad_cells = [people(g, 6) for g in np.atleast_1d(grad[r])]
            loss_cell = people(head.values[i][r], 6)
            table.add_row(str(head.rows[r]), truth_text, *pred_cells, loss_cell, *grad_cells)
        console.print(table)
    if report.n > shown:
        console.print(
            f"[dim]showing {shown} of {report.n} rows; --rows N shows more, "
            "--grad-out FILE writes every row[/dim]"
        )


def _label(value: float, classes: Sequence[str] | None) -> str:
    if classes is not None and float(value).is_integer() and 0 <= value < len(classes):
        return classes[int(value)]
    return people(value)
