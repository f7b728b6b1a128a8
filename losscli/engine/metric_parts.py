"""``compute --metric`` over partitions: merged from per-partition means, or gathered.

A metric that is a (weighted) mean of a per-row term — mse, mae, accuracy,
0–1 loss, log loss, Brier — is the same mean of the partitions' means,
each weighted by its Σw (or row count): every partition scores its own rows
with the local code (:func:`losscli.fit.metrics.score_metrics`) and returns
(value, Σw); the client adds value·Σw with ``fsum``.  Nothing is gathered,
so there is no row limit; the result agrees with the local engine's
``np.average`` over all rows to a few ulps.

Every other metric needs all rows at once (ROC AUC and average precision
rank them, R² centres on the overall mean, medians sort): the partitions'
true and predicted columns (and weights) are gathered in order, within the
same :data:`~losscli.fit.metrics.MAX_METRIC_ROWS` budget as the local
engine (past it, the same refusal naming why), and scored by the same code
— the local engine's values exactly.  So are the intervals of ``--bootstrap``.
"""

from __future__ import annotations

import math
from dataclasses import replace

from losscli.compute import ComputeReport, ComputeRequest
from losscli.engine.parts import Part, Runner, on_part
from losscli.errors import NoRows
from losscli.io.blocks import Batch
from losscli.io.columns import Columns

# Metrics whose value is Σ wᵢ·termᵢ / Σ wᵢ over the rows (losscli.fit.metrics:
# _mse, _mae, _accuracy, _zero_one, _log_loss, _brier all end in _avg);
# tests/test_dask_partitions.py checks each one against the local engine.
MEANS = frozenset({"mse", "mae", "accuracy", "zero_one", "log_loss", "brier"})


def metric_batches(request: ComputeRequest, part: Part, many: bool) -> list[Batch]:
    """One partition's rows as compute reads them (true, predicted, weight, rows)."""
    return _read(request, part, many)[1]


def _read(request: ComputeRequest, part: Part, many: bool) -> tuple[Columns, list[Batch]]:
    from losscli.compute import _batches

    def read(located: Part) -> tuple[Columns, list[Batch]]:
        columns, batches = _batches(request, located)
        kept: list[Batch] = []
        try:
            kept.extend(replace(b, key=None) for b in batches)
        except NoRows:
            if part.count == 1:
                raise  # a whole file: as the local engine
        return columns, kept  # a partition of only blank lines has none

    return on_part(part, many, read)


def _part_means(
    request: ComputeRequest, part: Part, many: bool
) -> tuple[dict[str, float | None], float]:
    """One partition's metrics (all means) and its total weight (or row count)."""
    from losscli.compute import _metrics

    columns, batches = _read(request, part, many)
    if not batches or not sum(len(b.rows) for b in batches):
        return {}, 0.0
    weights = [b.weight for b in batches]
    if weights[0] is None:
        mass = float(sum(len(b.rows) for b in batches))
    else:
        mass = math.fsum(float(w.sum()) for w in weights if w is not None)
    return _metrics(request, batches, columns), mass


def with_metrics(
    report: ComputeReport, runner: Runner, request: ComputeRequest, parts: list[Part], many: bool
) -> ComputeReport:
    """The report with ``--metric`` (and with ``--bootstrap`` their intervals)."""
    names = report.request.metrics
    if set(names) <= MEANS and not report.request.evaluate.replicates:
        return replace(report, metrics=_merged_means(runner, request, parts, many, names))
    from losscli.compute import _check_metric_rows, _metric_intervals, _metrics

    _check_metric_rows(report.n)  # before anything is gathered
    k = len(parts)
    kept: list[Batch] = []
    for batches in runner.stream(metric_batches, [request] * k, parts, [many] * k):
        kept.extend(batches)
    if not kept:
        return report
    metrics = _metrics(report.request, kept, report.columns)
    intervals = _metric_intervals(report.request, kept, report.columns, metrics)
    return replace(report, metrics=metrics, metric_intervals=intervals)


def _merged_means(
    runner: Runner, request: ComputeRequest, parts: list[Part], many: bool, names: tuple[str, ...]
) -> dict[str, float | None]:
    k = len(parts)
    results = runner.map(_part_means, [request] * k, parts, [many] * k)
    total = math.fsum(mass for _, mass in results)
    out: dict[str, float | None] = {}
    for name in names:
        terms = [(m.get(name), mass) for m, mass in results if mass]
        if total == 0 or any(v is None for v, _ in terms):
            out[name] = None
            continue
        out[name] = math.fsum(float(v) * mass for v, mass in terms if v is not None) / total
    return out
