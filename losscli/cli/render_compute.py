"""Output: rich tables for people, json/csv/tsv/value for machines.

Machine formats print every number with ``repr`` (shortest round-trip), so
what a pipeline reads back is bit-for-bit what was computed; tables follow
the people's policy of :mod:`losscli.cli.numbers` and the no-cut layout of
:mod:`losscli.cli.layout`.  Data goes to stdout; notes for
people (clipping, dropped rows, gradient checks) go to stderr.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.cli import numbers, render_compat, render_evaluate
from losscli.cli.layout import Col, print_table

if TYPE_CHECKING:
    import numpy as np
    from rich.console import Console

    from losscli._types import Array
    from losscli.compute import ComputeReport, LossSummary, Samples
    from losscli.losses import Loss
    from losscli.losses.gradcheck import GradCheck
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
    plot: str | None = None
    hessian: bool = False


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
    plot: str | None = None
    hessian: bool = False  # per-row ∂²L/∂ŷ² beside the gradient

    @property
    def to_stdout(self) -> bool:
        """``--grad-out -`` makes the per-sample CSV stdout's only output."""
        return self.grad_out != "-"

    def per_sample(self, reduction: str) -> bool:
        """Does some output list every row (so pass 2 must be possible)?"""
        listed = reduction == "none" and self.fmt != "table"
        return bool(self.grad or self.hessian or self.grad_out or self.plot or listed)

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
    if fmt is None:  # a terminal on stdout, never a colour setting, picks the table
        from losscli.cli.options import stdout_is_terminal

        fmt = "table" if screen is not None and stdout_is_terminal() else "tsv"
    for option, on in (("--grad", options.grad), ("--hessian", options.hessian)):
        if on and fmt == "value":
            raise InputError(f"{option} does not apply to --format value", "use json, csv or tsv")
    if options.plot:
        from losscli import plot as plotting

        plotting.check_target(options.plot)  # before the work: a missing matplotlib fails fast
    return OutputPlan(
        fmt, options.rows, options.grad, grad_out, screen, options.plot, options.hessian
    )


def emit(report: ComputeReport, out: OutputPlan, samples: Iterable[Samples]) -> None:
    """Write the chosen format to stdout; ``samples`` (pass 2) is read only if needed."""
    stdout: IO[str] = sys.stdout
    if out.fmt == "table":
        assert out.console is not None
        rows = len(report.head.rows) if out.grad else out.rows
        compute_table(report, out.console, rows=rows)
    elif out.fmt == "json":
        stdout.write(compute_json(report, samples, grad=out.grad, hessian=out.hessian))
    elif out.fmt == "value":
        write_lines(stdout, value_lines(report, samples))
    else:
        sep = "," if out.fmt == "csv" else "\t"
        if out.grad or out.hessian or report.request.reduction == "none":
            write_lines(stdout, sample_lines(report, samples, sep))
        elif report.evaluation is not None and report.evaluation.worst is not None:
            write_lines(stdout, render_evaluate.worst_lines(report, sep))  # --worst: its rows
        else:
            write_lines(stdout, summary_lines(report, sep))


# --------------------------------------------------------------------------- per-sample


def sample_header(report: ComputeReport) -> list[str]:
    """Columns of the per-sample table: row, then each loss and its gradient."""
    header = ["row"]
    classes = report.columns.classes
    parts = ("grad", "hess") if report.request.hessian else ("grad",)
    for summary in report.summaries:
        name = render_compat.stem(summary)
        header.append(name)
        for part in parts:
            if report.head.y_pred.ndim == 2:
                names = classes if classes is not None else report.columns.pred
                header.extend(f"{name}_{part}_{c}" for c in names)
            else:
                header.append(f"{name}_{part}")
    return header


def csv_line(fields: Sequence[str], sep: str) -> str:
    """One CSV/TSV line through the csv module: names with a comma, quote or newline
    (a class called ``a,b``) are quoted, so the header has as many fields as a row."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def sample_lines(report: ComputeReport, samples: Iterable[Samples], sep: str) -> Iterator[str]:
    """Per-sample rows as delimited text, chunk by chunk (numbers need no quoting)."""
    yield csv_line(sample_header(report), sep)
    for chunk in samples:
        columns: list[list[str]] = [list(map(str, chunk.rows.tolist()))]
        hessians: Sequence[Array | None] = chunk.hessians or [None] * len(chunk.values)
        for value, grad, hess in zip(chunk.values, chunk.grads, hessians, strict=True):
            columns.append(numbers.exact_all(value))
            for d in (grad, hess):
                if d is None:
                    continue
                if d.ndim == 1:
                    columns.append(numbers.exact_all(d))
                else:
                    columns.extend(numbers.exact_all(d[:, j]) for j in range(d.shape[1]))
        yield "\n".join(map(sep.join, zip(*columns, strict=True))) + "\n"


# --------------------------------------------------------------------------- machine formats


def _params(loss: Loss) -> dict[str, Any]:
    return loss.params()


def per_output(s: LossSummary, report: ComputeReport, label: str) -> list[tuple[str, float]]:
    """(label, value) lines of a reduced loss: one per output for ``--multioutput raw``
    (``mse[p_a]``, named by the prediction column), else the one value."""
    assert s.value is not None
    if isinstance(s.value, tuple):
        names = report.columns.pred
        return [(f"{label}[{c}]", v) for c, v in zip(names, s.value, strict=True)]
    return [(label, s.value)]


def compute_json(
    report: ComputeReport, samples: Iterable[Samples], *, grad: bool, hessian: bool = False
) -> str:
    """The SPEC's ``compute --format json`` object (gathers per-sample lists)."""
    none = report.request.reduction == "none"
    values: list[list[Any]] = [[] for _ in report.summaries]
    grads: list[list[Any]] = [[] for _ in report.summaries]
    hessians: list[list[Any]] = [[] for _ in report.summaries]
    if grad or none or hessian:
        per_row = len(report.summaries) * (none + (grad + hessian) * len(report.columns.pred))
        from losscli.compute import check_held

        check_held("--format json", report.n * per_row)
        for chunk in samples:
            for i, (v, g) in enumerate(zip(chunk.values, chunk.grads, strict=True)):
                if none:
                    values[i].extend(v.tolist())
                if grad:
                    grads[i].extend(g.tolist())
                if hessian and chunk.hessians is not None:
                    hessians[i].extend(chunk.hessians[i].tolist())
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
        if isinstance(s.value, tuple):  # --multioutput raw: value[j] is output j's
            item["value"] = list(s.value)
            item["outputs"] = list(report.columns.pred)
        if grad:
            item["gradient"] = grads[i]
        if hessian:
            item["hessian"] = hessians[i]
        if s.check is not None:
            item["check_grad"] = check_dict(s)
        if s.hess_check is not None:
            item["check_hessian"] = check_dict(s, s.hess_check)
        item.update(render_evaluate.result_extras(report, i))  # hook: losscli.evaluate
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
        **({"metrics": report.metrics} if report.metrics else {}),
        **render_evaluate.report_extras(report),
        **render_compat.report_extras(report),
    }
    return json.dumps(obj, allow_nan=False) + "\n"


def check_dict(s: LossSummary, check: GradCheck | None = None) -> dict[str, Any]:
    c = s.check if check is None else check
    assert c is not None
    return {
        "max_abs_error": c.max_abs,
        "max_rel_error": c.max_rel,
        "compared": c.compared,
        "skipped": c.skipped,
    }


def summary_lines(report: ComputeReport, sep: str) -> Iterator[str]:
    """One row per loss: loss, reduction, value."""
    extra = render_evaluate.summary_header(report)  # hook: losscli.evaluate
    lead, extra = (extra[:1], extra[1:]) if extra[:1] == ["group"] else ([], extra)
    extra = [*extra, *render_evaluate.metric_header(report)]
    yield csv_line([*lead, "loss", "reduction", "value", *extra], sep)
    if report.evaluation is not None:
        yield from render_evaluate.summary_rows(report, sep)
    else:
        for s in report.summaries:
            assert s.value is not None
            if s.loss.shadow:
                continue
            for label, value in per_output(s, report, render_compat.label(s)):
                yield csv_line([label, s.reduction, numbers.exact(value)], sep)
    where = ["(all)"] if lead else []
    for name, metric in report.metrics.items():  # metrics follow, marked as such
        cells = render_evaluate.metric_cells(report, name, extra)
        value_cell = "" if metric is None else numbers.exact(metric)
        yield csv_line([*where, name, "metric", value_cell, *cells], sep)


def value_lines(report: ComputeReport, samples: Iterable[Samples]) -> Iterator[str]:
    """Bare numbers: one per loss; per-sample values (tab-separated by loss) for none."""
    if report.request.reduction != "none":
        for s in report.summaries:
            assert s.value is not None
            if render_compat.shown(s, report):
                for _, value in per_output(s, report, s.loss.name):
                    yield numbers.exact(value) + "\n"
        return
    for chunk in samples:
        cols = [numbers.exact_all(v) for v in chunk.values]
        yield "\n".join(map("\t".join, zip(*cols, strict=True))) + "\n"


def write_lines(out: IO[str], lines: Iterable[str]) -> None:
    for line in lines:
        out.write(line)


# --------------------------------------------------------------------------- people


def notes(report: ComputeReport, *, checks: bool = True) -> list[str]:
    """Lines for stderr: dropped rows, clipped probabilities, gradient checks."""
    out = []
    if report.dropped:
        out.append(
            f"dropped {numbers.plural(report.dropped, 'row')} with missing or non-numeric values"
        )
    for s in report.summaries:
        if s.clipped:
            what = numbers.plural(s.clipped, "probability", "probabilities")
            out.append(
                f"{s.loss.name}: clipped {what} to [eps, 1 − eps]; "
                "their gradient is taken at the clipped value"
            )
        if s.check is not None and checks:
            c = s.check
            out.append(
                f"{s.loss.name}: gradient check max abs error {numbers.human(c.max_abs)}, "
                f"max rel error {numbers.human(c.max_rel)} over {numbers.count(c.compared)} values"
                + (f" ({numbers.count(c.skipped)} clipped skipped)" if c.skipped else "")
            )
        if s.hess_check is not None and checks:
            h = s.hess_check
            out.append(
                f"{s.loss.name}: Hessian check (differences of the gradient) max abs error "
                f"{numbers.human(h.max_abs)}, max rel error {numbers.human(h.max_rel)} over "
                f"{numbers.count(h.compared)} values"
            )
    return out + render_compat.notes(report)


def columns_line(report: ComputeReport) -> str:
    """``target: y · predictions: p_a, p_b`` — which columns the run read (a dim stderr line)."""
    cols = report.columns
    parts = [f"target: {', '.join(cols.true)}", f"predictions: {', '.join(cols.pred)}"]
    if cols.weight:
        parts.append(f"weight: {cols.weight}")
    return " · ".join(parts)


def compute_table(report: ComputeReport, console: Console, *, rows: int) -> None:
    """Results, then per loss the first ``rows`` rows with loss and gradient."""
    from rich.text import Text

    line = f"{numbers.plural(report.n, 'row')} · {SPACE_NOTE[report.predictions]}"
    if report.dropped:
        line += f" · {numbers.count(report.dropped)} dropped"
    console.print(Text(line))
    show_clip = any(s.clipped for s in report.summaries)
    cols = [Col("loss", "left", key=True), Col("params", "left"), Col("reduction", "left")]
    cols.append(Col("value"))
    if show_clip:
        cols.append(Col("clipped"))
    cols.extend(Col(name) for name in render_evaluate.table_headers(report))  # losscli.evaluate
    cells = []
    for i, s in enumerate(report.summaries):
        if not render_compat.shown(s, report):
            continue
        params = ", ".join(f"{k}={numbers.setting(v)}" for k, v in _changed(s.loss).items())
        if s.value is None:
            lines = [(render_compat.label(s), "per row (below)")]
        else:
            each = per_output(s, report, render_compat.label(s))
            lines = [(label, numbers.human(v)) for label, v in each]
        for label, value in lines:
            row = [label, params or "—", s.reduction, value]
            if show_clip:
                row.append(numbers.count(s.clipped))
            if report.evaluation is not None:
                row.extend(render_evaluate.table_cells(report.evaluation.overall[i]))
            cells.append(row)
    print_table(console, cols, cells)
    if report.metrics:
        from losscli.fit.metrics import METRICS

        cis = report.metric_intervals  # --bootstrap: losscli.evaluate.metric_intervals
        level = next((f"{ci.level:.0%} CI" for ci in cis.values() if ci is not None), None)
        metric_rows = [
            [
                name,
                "undefined" if v is None else numbers.human(v),
                *([render_evaluate.interval_cell(cis.get(name))] if level else []),
                METRICS[name].reference,
            ]
            for name, v in report.metrics.items()
        ]
        metric_cols = [Col("metric", "left", key=True), Col("value")]
        metric_cols += [Col(level)] if level else []
        print_table(
            console,
            [*metric_cols, Col("reference", "left")],
            metric_rows,
            title="metrics (scikit-learn 1.9 definitions)",
        )
    render_evaluate.print_tables(report, console)
    if any(s.check is not None for s in report.summaries):
        check_cols = [Col("loss", "left", key=True), Col("max abs error"), Col("max rel error")]
        check_cols.append(Col("values"))
        check_rows = [
            [
                s.loss.name,
                numbers.human(s.check.max_abs),
                numbers.human(s.check.max_rel),
                numbers.count(s.check.compared),
            ]
            for s in report.summaries
            if s.check is not None
        ]
        check_rows += [
            [
                f"{s.loss.name} (Hessian)",
                numbers.human(s.hess_check.max_abs),
                numbers.human(s.hess_check.max_rel),
                numbers.count(s.hess_check.compared),
            ]
            for s in report.summaries
            if s.hess_check is not None
        ]
        print_table(console, check_cols, check_rows, title="gradient check (central differences)")
    render_compat.tables(report, console)
    if rows > 0:
        _gradient_tables(report, console, rows)


def _changed(loss: Loss) -> dict[str, Any]:
    """Parameters that differ from their defaults (the table stays narrow)."""
    defaults = {p.name: p.default for p in loss.param_info()}
    return {k: v for k, v in loss.params().items() if v != defaults[k]}


def _gradient_tables(report: ComputeReport, console: Console, rows: int) -> None:
    from rich.text import Text

    head = report.head
    shown = min(rows, len(head.rows))
    classes = report.columns.classes
    pred_names: Sequence[str] = report.columns.pred
    true_names: Sequence[str] = report.columns.true
    soft = head.y_true.ndim == 2
    for i, s in enumerate(report.summaries):
        if s.loss.shadow:
            continue
        grad = head.grads[i]
        hess = head.hessians[i] if head.hessians is not None else None
        cols = [Col("row", key=True)]
        # a class-name target is text (left); numbers, and every soft-label column, right
        label_text = classes is not None and not soft
        cols += [Col(name, "left" if label_text else "right") for name in true_names]
        cols += [Col(name) for name in pred_names]
        cols.append(Col("loss"))
        if grad.ndim == 1:
            cols.append(Col(f"∂L/∂{pred_names[0]}" if len(pred_names) == 1 else "∂L/∂ŷ"))
        else:
            cols += [Col(f"∂L/∂{c}") for c in pred_names]
        if hess is not None:
            single = (pred_names[0],) if len(pred_names) == 1 else ("ŷ",)
            names = single if hess.ndim == 1 else tuple(pred_names)
            cols += [Col(f"∂²L/∂{c}²") for c in names]
        cells = []
        for r in range(shown):
            truth = head.y_true[r]
            truth_cells = [numbers.human(t) for t in truth] if soft else [_label(truth, classes)]
            cells.append(
                [numbers.count(int(head.rows[r]))]
                + truth_cells
                + [numbers.human(p) for p in np.atleast_1d(head.y_pred[r])]
                + [numbers.human(head.values[i][r])]
                + [numbers.human(g) for g in np.atleast_1d(grad[r])]
                + ([numbers.human(h) for h in np.atleast_1d(hess[r])] if hess is not None else [])
            )
        title = f"{render_compat.label(s)}: per-row loss and gradient ({s.reduction})"
        print_table(console, cols, cells, title=title)
    if report.n > shown:
        console.print(
            Text(
                f"showing {numbers.count(shown)} of {numbers.count(report.n)} rows; "
                "--rows N shows more, --grad-out FILE writes every row",
                style="dim",
            )
        )


def _label(value: float, classes: Sequence[str] | None) -> str:
    if classes is not None and float(value).is_integer() and 0 <= value < len(classes):
        return classes[int(value)]
    return numbers.human(value)
