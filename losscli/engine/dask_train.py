"""``train --engine dask``: read the partitions on the workers, keep them there, fit.

1. Every partition (file) is read on a worker by the one input layer into
   (X_p, y_p) — labels as the file's own class indices — with its column
   statistics; only the statistics, the row counts, the design and the
   class names come back.
2. The client checks that every file gives the same features and target,
   merges μ and σ over all rows, and the classes through the one label
   normaliser (with a map from each file's class indices to the merged ones).
   With ``--one-hot`` the partitions' categories are merged (sorted, as
   one file's are) and each partition's matrix is widened onto them on its
   worker (:mod:`losscli.engine.part_designs`).
3. With ``--val-split`` the client draws the local engine's split of the
   concatenated rows (:func:`losscli.train.split`: a seeded permutation,
   stratified by class) and sends each partition the held-out rows inside
   its span; the statistics of the training rows give μ and σ.
4. The workers standardize their partitions in place of the raw ones
   (training and validation rows apart); those futures (lineage: the file
   read) are the :class:`~losscli.engine.dask.DaskSource` every full-batch
   solver reduces over, and the validation loss is one more reduce.

The labels come back once for the warm start (8 bytes a row) and, for
classification, with the predictions for the metrics (ROC AUC ranks every
row); regression metrics are per-partition sums.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli.engine.dask import Client, DaskSource, gather
from losscli.engine.outofcore import Arranged, Streamed, scaling_of
from losscli.engine.part_designs import layout, merge_designs
from losscli.engine.parts import (
    Part,
    PartRequest,
    expand_inputs,
    merge_classes,
    part_request,
    partitions,
    read_part,
)
from losscli.errors import InputError, NoRows
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
    try:
        data = read_part(part, spec)
    except NoRows as exc:
        if part.count == 1 or exc.empty is None:  # a whole file: as the local engine, an error
            raise
        data = exc.empty  # its file's other partitions have rows (--dropna emptied this one)
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


def _widened(loaded: _Loaded, where: Any, design: Design) -> _Loaded:
    """The partition on the merged --one-hot design (engine.part_designs), its stats anew."""
    from losscli.engine.part_designs import widen

    if where is None:
        return loaded
    x = widen(loaded.x, where, len(design.names))
    stats = ColumnStats(x.shape[1])
    stats.add(x)
    return _Loaded(x, loaded.y, loaded.classes, design, loaded.target, stats, loaded.dropped)


def _stats(loaded: _Loaded) -> ColumnStats:
    return loaded.stats


def _relabelled(loaded: _Loaded, relabel: Array | None) -> Array:
    """The partition's labels as the merged classes' indices."""
    if relabel is None:
        return loaded.y
    out: Array = relabel[loaded.y.astype(np.int64)].astype(np.float64)
    return out


def _train_stats(loaded: _Loaded, val: Array) -> ColumnStats:
    """Column statistics of the partition's rows not held out for validation."""
    keep = np.ones(len(loaded.y), dtype=bool)
    keep[val] = False
    stats = ColumnStats(loaded.x.shape[1])
    stats.add(loaded.x[keep])
    return stats


def _standardize(
    loaded: _Loaded, mu: Array, sigma: Array, relabel: Array | None, val: Array | None
) -> tuple[tuple[Array, Array, None], tuple[Array, Array, None] | None]:
    """(training rows, validation rows) standardized; validation None without a split."""
    z = (loaded.x - mu) / sigma
    y = _relabelled(loaded, relabel)
    if val is None:
        return (z, y, None), None
    keep = np.ones(len(y), dtype=bool)
    keep[val] = False
    return (z[keep], y[keep], None), (z[~keep], y[~keep], None)


def _pick(pair: tuple[Any, Any], which: int) -> Any:
    return pair[which]


def _labels(data: tuple[Array, Array, None]) -> Array:
    return data[1]


class DaskParts:
    """The raw partitions on the workers until ``arrange`` replaces them."""

    def __init__(
        self, client: Client, raw: list[Any], counts: list[int], width: int, relabels: list[Any]
    ) -> None:
        self.client, self.raw, self.relabels = client, raw, relabels
        self.counts, self.n_rows, self.width = counts, sum(counts), width
        self._labels: Array | None = None

    def labels(self) -> Array:
        """Every label (merged class indices), in partition order: 8 bytes a row."""
        if self._labels is None:
            got = gather(self.client, self.client.map(_relabelled, self.raw, self.relabels))
            self._labels = np.concatenate(got) if got else np.zeros(0)
        return self._labels

    def arrange(
        self,
        stats: ColumnStats,
        val_rows: NDArray[np.intp],
        *,
        center: bool,
        widen: Callable[[Array], Array],
    ) -> Arranged:
        """Standardized training (and validation) partitions held on the workers.

        ``val_rows`` are indices into the concatenation of the partitions in
        order — the rows the local engine's :func:`losscli.train.split` picks
        on the same files; each partition is sent the ones inside its span
        (global offset = the rows before it).  μ and σ are those of the
        training rows only, as the local engine's.
        """
        k = len(self.raw)
        local: list[Any] = [None] * k
        if len(val_rows):
            offsets = np.concatenate([[0], np.cumsum(self.counts)])
            bounds = np.searchsorted(val_rows, offsets)
            local = [val_rows[bounds[i] : bounds[i + 1]] - offsets[i] for i in range(k)]
            stats = ColumnStats(self.width)
            for part in gather(self.client, self.client.map(_train_stats, self.raw, local)):
                stats.merge(part)
        mu, sigma = scaling_of(stats, center=center)
        sigma = widen(sigma)
        pairs = self.client.map(_standardize, self.raw, [mu] * k, [sigma] * k, self.relabels, local)
        self.raw = []  # the raw copies go; the lineage stays for recomputation
        train = self.client.map(_pick, pairs, [0] * k)
        n_val = len(val_rows)
        validation = None
        if n_val:
            val = self.client.map(_pick, pairs, [1] * k)
            validation = DaskSource(self.client, val, n_val, self.width)
        del pairs
        got = gather(self.client, self.client.map(_labels, train))
        y_train = np.concatenate(got) if got else np.zeros(0)
        source = DaskSource(self.client, train, self.n_rows - n_val, self.width)
        return Arranged(source, validation, mu, sigma, y_train)


def read_on_workers(client: Client, request: Any, *, classification: bool) -> Streamed:
    """Steps 1–2 above: the partitions read and summarised; a Streamed whose cache is Dask."""
    from losscli.engine.parts import DEFAULT_PARTITION_BYTES

    files = expand_inputs(request.source)
    spec = part_request(request, classification=classification, many=len(files) > 1)
    size = DEFAULT_PARTITION_BYTES if request.partition_size is None else request.partition_size
    parts = partitions(files, spec.input, size)
    raw = client.map(_load, parts, [spec] * len(parts), pure=False)
    summaries = gather(client, client.map(_summary, raw))
    n = sum(s[0] for s in summaries)
    dropped = sum(s[1] for s in summaries)
    designs, targets = [s[4] for s in summaries], [s[5] for s in summaries]
    design = merge_designs(designs, targets, [p.path for p in parts])
    wheres = [layout(d, design) for d in designs]
    stats_parts = [s[2] for s in summaries]
    if any(w is not None for w in wheres):  # --one-hot: categories merged, then widened
        raw = client.map(_widened, raw, wheres, [design] * len(raw))
        stats_parts = gather(client, client.map(_stats, raw))
    stats = ColumnStats(len(design.names))
    for part in stats_parts:
        stats.merge(part)
    if n == 0:
        raise InputError("no rows left after --dropna")
    classes = None
    relabels: list[Any] = [None] * len(parts)
    if classification:
        classes, relabels = merge_classes([s[3] for s in summaries], targets[0])
    # partitions --dropna emptied hold no rows to sum: every later map skips them
    kept = [i for i, s in enumerate(summaries) if s[0] > 0]
    counts = [summaries[i][0] for i in kept]
    raw, relabels = [raw[i] for i in kept], [relabels[i] for i in kept]
    cache = DaskParts(client, raw, counts, len(design.names), relabels)
    return Streamed(design, targets[0], classes, dropped, stats, cache=cache)
