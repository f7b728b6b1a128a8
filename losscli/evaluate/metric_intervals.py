"""Bootstrap intervals for ``compute --metric`` (accuracy, R², ROC AUC, …).

Metrics hold every row in memory already (medians and ranks are exact; see
:data:`losscli.fit.metrics.MAX_METRIC_ROWS`), so each replicate is the metric
of a real resample: row i repeated mᵢᵦ ~ Poisson(1) times, weights carried
along.  Repeating rows rather than multiplying weights keeps the interval
right for metrics that ignore weights (max error) or read them in ranks.

The counts come from the same scheme as the losses' intervals (Philox keyed by
(seed, stream), one byte per row through the Poisson(1) thresholds of
:mod:`~losscli.evaluate.bootstrap`), laid out replicate by replicate: replicate
b's counts are the Philox stream at counter word 2 = b, indexed by the
*data-row number*.  One replicate's counts cost one byte per row, so memory
stays at a copy of the rows whatever B, and the same ``--seed`` gives the same
interval whatever the block size or the rows ``--dropna`` removed.

The interval is the bias-corrected percentile interval (BCa with acceleration
0): the acceleration would need a jackknife, n more evaluations of a metric.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.evaluate.bootstrap import Interval, bca_interval, poisson_thresholds

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from losscli.fit.metrics import MetricOptions

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")

METRIC_STREAM = 2  # Philox stream of the metrics' counts (0: losses' bootstrap, 1: swaps)
METHOD = "poisson bootstrap BC (resampled rows)"


def replicate_counts(seed: int, replicate: int, rows: NDArray[np.int64]) -> NDArray[np.intp]:
    """Poisson(1) counts of the given 1-based data rows in one replicate."""
    upto = int(rows[-1]) if rows.shape[0] else 0
    key = np.array([seed % 2**64, METRIC_STREAM], dtype=np.uint64)
    counter = np.array([0, 0, replicate, 0], dtype=np.uint64)
    raw = np.random.Philox(key=key, counter=counter).random_raw(-(-upto // 8))
    byte = raw.view(np.uint8)[rows - 1]
    counts = np.zeros(rows.shape[0], dtype=np.intp)
    for t in poisson_thresholds():
        counts += byte >= t
    return counts


def metric_intervals(
    names: tuple[str, ...],
    values: dict[str, float | None],
    data: tuple[Array, Array, Array | None, NDArray[np.int64]],
    *,
    logits: bool,
    options: MetricOptions,
    replicates: int,
    level: float,
    seed: int,
) -> dict[str, Interval | None]:
    """Each metric's interval (None where the metric itself is undefined)."""
    from losscli.fit.metrics import score_metrics

    y, p, w, rows = data
    order = np.argsort(rows, kind="stable")  # counts are indexed by ascending row numbers
    y, p, rows = y[order], p[order], rows[order]
    w = None if w is None else w[order]
    reps = {name: np.full(replicates, np.nan) for name in names}
    for b in range(replicates):
        take = np.repeat(np.arange(rows.shape[0]), replicate_counts(seed, b, rows))
        if take.shape[0] == 0:
            continue
        scored = score_metrics(
            names,
            y[take],
            p[take],
            None if w is None else w[take],
            logits=logits,
            options=options,
        )
        for name, v in scored.items():
            if v is not None:
                reps[name][b] = v
    out: dict[str, Interval | None] = {}
    for name in names:
        value = values.get(name)
        if value is None:
            out[name] = None
            continue
        ci = bca_interval(value, reps[name], 0.0, level)
        method = METHOD if "BCa" in ci.method else ci.method + " (resampled rows)"
        out[name] = Interval(ci.low, ci.high, level, method, replicates)
    return out
