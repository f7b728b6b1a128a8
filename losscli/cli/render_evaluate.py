"""Output of ``losscli.evaluate`` inside compute's formats: baseline, interval, groups, worst rows.

JSON: each result gains ``"baseline": {"constant", "value", "d2"}``,
``"ci": {"low", "high", "level", "method", "replicates"}`` and ``"worst":
[{"row", "y_true", "y_pred", "loss", "gradient"}]``; ``--by`` adds
``"by"`` and ``"groups": [{"key", "n", "results": [...]}]``.  Tables show
the same beside the value; csv/tsv add columns (and one row per group),
or with ``--worst`` list the worst rows instead of the summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from losscli.cli.numbers import count, human, maybe

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.compute import ComputeReport, LossSummary
    from losscli.evaluate.bootstrap import Interval
    from losscli.evaluate.tracker import LossEvaluation


def _number(x: float) -> str:
    return repr(float(x))


def _gradient(summary: LossSummary, sg: Any) -> Any:
    """∂L/∂ŷᵢ of a kept row from its sᵢ·∂ℓᵢ/∂ŷᵢ, exactly as compute scales per-row
    gradients: (sᵢ·2^-k)·scale·∂ℓᵢ/∂ŷᵢ, the shift k first (losses/totals.py)."""
    import numpy as np

    with np.errstate(over="ignore", under="ignore"):
        return (
            np.ldexp(np.asarray(sg, dtype=np.float64), -summary.reduced.shift) * summary.scale + 0.0
        )


def _json_value(x: Any) -> Any:
    """JSON has no NaN: an undefined number is null."""
    if isinstance(x, float) and x != x:
        return None
    return x


def evaluation_json(e: LossEvaluation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if e.baseline is not None:
        out["baseline"] = e.baseline.to_json()
    if e.ci is not None:
        out["ci"] = {k: _json_value(v) for k, v in e.ci.to_json().items()}
    return out


def result_extras(report: ComputeReport, i: int) -> dict[str, Any]:
    """Keys added to the i-th result of compute's JSON."""
    ev = report.evaluation
    if ev is None:
        return {}
    out = evaluation_json(ev.overall[i])
    if ev.worst is not None:
        kept = ev.worst[i]
        out["worst"] = [
            {
                "row": int(kept.rows[r]),
                "y_true": kept.y_true[r].tolist(),
                "y_pred": kept.y_pred[r].tolist(),
                "loss": float(kept.loss[r]),
                "gradient": _gradient(report.summaries[i], kept.grad[r]).tolist(),
            }
            for r in range(kept.rows.shape[0])
        ]
    return out


def report_extras(report: ComputeReport) -> dict[str, Any]:
    """Top-level keys: ``by`` and ``groups`` for --by, ``seed`` (and ``metrics_ci``
    beside ``metrics``) with --bootstrap."""
    out: dict[str, Any] = {}
    if report.metric_intervals:
        out["metrics_ci"] = {
            name: None if ci is None else {k: _json_value(v) for k, v in ci.to_json().items()}
            for name, ci in report.metric_intervals.items()
        }
        out["seed"] = report.request.evaluate.seed
    ev = report.evaluation
    if ev is None:
        return out
    if any(e.ci is not None for e in ev.overall):
        out["seed"] = ev.seed
    if ev.groups is not None:
        out["by"] = ev.by
        out["groups"] = [
            {
                "key": g.key,
                "n": g.n,
                "results": [
                    {
                        "loss": s.loss.name,
                        "value": _json_value(e.value),
                        **evaluation_json(e),
                    }
                    for s, e in zip(report.summaries, g.results, strict=True)
                ],
            }
            for g in ev.groups
        ]
    return out


# --------------------------------------------------------------------------- csv / tsv


def summary_header(report: ComputeReport) -> list[str]:
    ev = report.evaluation
    if ev is None:
        return []
    head = ["group"] if ev.groups is not None else []
    first = ev.overall[0] if ev.overall else None
    if first is not None and first.baseline is not None:
        head += ["baseline", "baseline_value", "d2"]
    if first is not None and first.ci is not None:
        head += ["ci_low", "ci_high", "ci_level", "ci_method"]
    return head


def _cells(e: LossEvaluation) -> list[str]:
    cells = []
    if e.baseline is not None:
        c = e.baseline.constant
        cells += [
            ",".join(_number(x) for x in c) if isinstance(c, tuple) else _number(c),
            _number(e.baseline.value),
            "" if e.baseline.d2 is None else _number(e.baseline.d2),
        ]
    if e.ci is not None:
        cells += [_number(e.ci.low), _number(e.ci.high), _number(e.ci.level), e.ci.method]
    return cells


def metric_header(report: ComputeReport) -> list[str]:
    """The interval columns that only metrics need (--bootstrap with --metric, no --loss)."""
    if report.metric_intervals and "ci_low" not in summary_header(report):
        return ["ci_low", "ci_high", "ci_level", "ci_method"]
    return []


def metric_cells(report: ComputeReport, name: str, extra: list[str]) -> list[str]:
    """A metric's cells under the columns ``extra`` (blank but for its interval)."""
    cells = [""] * len(extra)
    ci = report.metric_intervals.get(name)
    if ci is not None and "ci_low" in extra:
        at = extra.index("ci_low")
        cells[at : at + 4] = [_number(ci.low), _number(ci.high), _number(ci.level), ci.method]
    return cells


def summary_rows(report: ComputeReport, sep: str) -> Iterator[str]:
    """Rows of the summary table: loss, reduction, value, then the evaluation's columns."""
    from losscli.cli.render_compute import csv_line

    ev = report.evaluation
    assert ev is not None
    lead = ["(all)"] if ev.groups is not None else []
    for s, e in zip(report.summaries, ev.overall, strict=True):
        assert s.value is not None and not isinstance(s.value, tuple)  # refused in compute
        yield csv_line([*lead, s.loss.name, s.reduction, _number(s.value), *_cells(e)], sep)
    for g in ev.groups or []:
        for s, e in zip(report.summaries, g.results, strict=True):
            value = "" if e.value is None else _number(e.value)
            yield csv_line([str(g.key), s.loss.name, s.reduction, value, *_cells(e)], sep)


def worst_lines(report: ComputeReport, sep: str) -> Iterator[str]:
    """csv/tsv with --worst: one line per kept row (as --grad lists rows instead of the summary).

    Columns: loss, rank (1 = worst), row (1-based data row), y_true, y_pred
    (comma-joined inside the cell for several columns), loss (sᵢℓᵢ), gradient.
    """
    from losscli.cli.render_compute import csv_line

    ev = report.evaluation
    assert ev is not None and ev.worst is not None
    yield csv_line(["loss", "rank", "row", "y_true", "y_pred", "loss_value", "gradient"], sep)
    inner = ";" if sep == "," else ","
    for s, kept in zip(report.summaries, ev.worst, strict=True):
        for r in range(kept.rows.shape[0]):
            cells = [
                s.loss.name,
                str(r + 1),
                str(int(kept.rows[r])),
                inner.join(_number(x) for x in kept.y_true[r].reshape(-1)),
                inner.join(_number(x) for x in kept.y_pred[r].reshape(-1)),
                _number(kept.loss[r]),
                inner.join(_number(x) for x in _gradient(s, kept.grad[r]).reshape(-1)),
            ]
            yield csv_line(cells, sep)


# --------------------------------------------------------------------------- tables


def table_headers(report: ComputeReport) -> list[str]:
    """Columns added beside ``value`` in the results table."""
    ev = report.evaluation
    if ev is None or not ev.overall:
        return []
    first = ev.overall[0]
    head = []
    if first.baseline is not None:
        head += ["baseline c*", "L₀", "D²"]
    if first.ci is not None:
        head.append(f"{first.ci.level:.0%} CI")
    return head


def table_cells(e: LossEvaluation) -> list[str]:
    cells = []
    if e.baseline is not None:
        c = e.baseline.constant
        const = ", ".join(human(x) for x in c) if isinstance(c, tuple) else human(c)
        cells += [const, human(e.baseline.value), maybe(e.baseline.d2)]
    if e.ci is not None:
        cells.append(f"[{human(e.ci.low)}, {human(e.ci.high)}]")
    return cells


def interval_cell(ci: Interval | None) -> str:
    return "—" if ci is None else f"[{human(ci.low)}, {human(ci.high)}]"


def print_tables(report: ComputeReport, console: Console) -> None:
    """After the results: the interval method, the groups table and the worst rows."""
    from rich.text import Text

    from losscli.cli.layout import Col, print_table

    ev = report.evaluation
    intervals = [e.ci for e in ev.overall if e.ci is not None] if ev is not None else []
    intervals += [ci for ci in report.metric_intervals.values() if ci is not None]
    if intervals:
        methods = ", ".join(sorted({ci.method for ci in intervals}))
        seed = report.request.evaluate.seed
        console.print(
            Text(f"intervals: {methods}, {intervals[0].replicates} replicates, seed {seed}"),
            style="dim",
        )
    if ev is None:
        return
    if ev.groups is not None:
        cols = [Col(ev.by or "group", "left", key=True), Col("n"), Col("loss", "left", key=True)]
        cols += [Col("value"), *(Col(name) for name in table_headers(report))]
        rows = [
            [str(g.key), count(g.n), s.loss.name, maybe(e.value), *table_cells(e)]
            for g in ev.groups
            for s, e in zip(report.summaries, g.results, strict=True)
        ]
        print_table(console, cols, rows, title=f"by {ev.by}")
    for i, kept in enumerate(ev.worst or []):
        s = report.summaries[i]
        cols = [Col("row", key=True), Col("y_true"), Col("y_pred"), Col("loss"), Col("∂L/∂ŷ")]
        rows = [
            [
                str(int(kept.rows[r])),
                ", ".join(human(x) for x in kept.y_true[r].reshape(-1)),
                ", ".join(human(x) for x in kept.y_pred[r].reshape(-1)),
                human(kept.loss[r]),
                ", ".join(human(x) for x in _gradient(s, kept.grad[r]).reshape(-1)),
            ]
            for r in range(kept.rows.shape[0])
        ]
        title = f"{s.loss.name}: the {kept.rows.shape[0]} worst rows (largest sᵢℓᵢ)"
        print_table(console, cols, rows, title=title)
