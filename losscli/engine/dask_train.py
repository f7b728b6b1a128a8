"""``train --engine dask``: read the partitions on the workers, keep them there, fit.

1. Every partition (file) is read on a worker by the one input layer into
   (X_p, y_p) — labels as the file's own class indices — with its column
   statistics; only the statistics, the row counts, the design and the
   class names come back.
2. The client checks that every file gives the same features and target,
   merges μ and σ over all rows, and the classes through the one label
   normaliser (with a map from each file's class indices to the merged ones).
3. The workers standardize their partitions in place of the raw ones; those
   futures (lineage: the file read) are the :class:`~losscli.engine.dask.DaskSource`
   every full-batch solver reduces over.

The labels come back once for the warm start (8 bytes a row) and, for
classification, with the predictions for the metrics (ROC AUC ranks every
row); regression metrics are per-partition sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli.engine.dask import Client, DaskSource, gather
from losscli.engine.outofcore import Streamed
from losscli.engine.parts import (
    Part,
    PartRequest,
    check_same_design,
    expand_inputs,
    merge_classes,
    part_request,
    partitions,
    read_part,
)
from losscli.errors import InputError
from losscli.fit.blocked import ColumnStats

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli.io.design import Design

    Array = NDArray[Any]


@dataclass(frozen=True)
class _Loaded:
    """A partition on a worker: rows, labels (its own class indices), statistics."""

    x: Array
    y: Array
    classes: tuple[str, ...] | None
    design: Design
    target: str
    stats: ColumnStats
    dropped: int


def _load(part: Part, spec: PartRequest) -> _Loaded:
    data = read_part(part, spec)
    stats = ColumnStats(data.x.shape[1])
    stats.add(data.x)
    y = data.labels.y
    return _Loaded(data.x, y, data.labels.classes, data.design, data.target, stats, data.dropped)


def _summary(loaded: _Loaded) -> tuple[int, int, ColumnStats, Any, Design, str]:
    return (
        len(loaded.y),
        loaded.dropped,
        loaded.stats,
        loaded.classes,
        loaded.design,
        loaded.target,
    )


def _standardize(
    loaded: _Loaded, mu: Array, sigma: Array, relabel: Array | None
) -> tuple[Array, Array, None]:
    z = (loaded.x - mu) / sigma
    y = loaded.y if relabel is None else relabel[loaded.y.astype(np.int64)].astype(np.float64)
    return z, y, None


def _labels(data: tuple[Array, Array, None]) -> Array:
    return data[1]


class DaskParts:
    """The raw partitions on the workers until ``standardized`` replaces them."""

    def __init__(
        self, client: Client, raw: list[Any], n_rows: int, width: int, relabels: list[Any]
    ) -> None:
        self.client, self.raw, self.relabels = client, raw, relabels
        self.n_rows, self.width = n_rows, width

    def standardized(self, mu: Array, sigma: Array) -> tuple[DaskSource, Array]:
        """The standardized partitions (held on the workers) and every label, in order."""
        k = len(self.raw)
        parts = self.client.map(_standardize, self.raw, [mu] * k, [sigma] * k, self.relabels)
        self.raw = []  # the raw copies go; the lineage stays for recomputation
        labels = gather(self.client, self.client.map(_labels, parts))
        y = np.concatenate(labels) if labels else np.zeros(0)
        return DaskSource(self.client, parts, self.n_rows, self.width), y


def read_on_workers(client: Client, request: Any, *, classification: bool) -> Streamed:
    """Steps 1–2 above: the partitions read and summarised; a Streamed whose cache is Dask."""
    from losscli.engine.parts import DEFAULT_PARTITION_BYTES

    files = expand_inputs(request.source)
    spec = part_request(request, classification=classification, many=len(files) > 1)
    size = DEFAULT_PARTITION_BYTES if request.partition_size is None else request.partition_size
    if spec.one_hot:
        size = 0  # a file's categories must all be known before its first block: whole files
    parts = partitions(files, spec.input, size)
    raw = client.map(_load, parts, [spec] * len(parts), pure=False)
    summaries = gather(client, client.map(_summary, raw))
    n = sum(s[0] for s in summaries)
    dropped = sum(s[1] for s in summaries)
    designs, targets = [s[4] for s in summaries], [s[5] for s in summaries]
    check_same_design(designs, targets, [p.path for p in parts])
    stats = ColumnStats(len(designs[0].names))
    for s in summaries:
        stats.merge(s[2])
    if n == 0:
        raise InputError("no rows left after --dropna")
    classes = None
    relabels: list[Any] = [None] * len(parts)
    if classification:
        classes, relabels = merge_classes([s[3] for s in summaries], targets[0])
    cache = DaskParts(client, raw, n, len(designs[0].names), relabels)
    return Streamed(designs[0], targets[0], classes, dropped, stats, cache=cache)
