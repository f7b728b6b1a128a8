"""``train --engine dask``: read the partitions on the workers, keep them there, fit.

1. A worker reads the first frame of the first partition to fix the target
   and the feature design (as the local engine does from its first block).
2. Every partition is read on a worker into (X_p, y_p) — labels as codes in
   order of appearance — with its column statistics; only the statistics,
   the row counts and the distinct labels come back.
3. The client merges them: μ and σ over all rows (exactly as the streamed
   local engine), the sorted classes through the one label normaliser, and
   a code → class map per partition.
4. The workers standardize their partitions in place of the raw ones; those
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
from losscli.engine.outofcore import LabelCodes, Streamed, frame_rows, infer_design
from losscli.engine.parts import Part, expand_inputs, named, part_frames, partitions
from losscli.errors import InputError
from losscli.fit.blocked import ColumnStats

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli.io.table import Design

    Array = NDArray[Any]


@dataclass(frozen=True)
class _Spec:
    """What a worker needs to turn a partition into rows."""

    target: str
    design: Design
    regression: bool
    dropna: bool
    many: bool


@dataclass(frozen=True)
class _Loaded:
    """A partition on a worker: rows, label codes, statistics."""

    x: Array
    y: Array
    codes: LabelCodes
    stats: ColumnStats
    dropped: int


def _first_design(
    part: Part, target: str | None, features: str | None, one_hot: str | None, many: bool
) -> tuple[str, Design]:
    with named(part, many):
        for frame in part_frames(part):
            return infer_design(frame, target, features, one_hot)
    raise InputError(f"{part.label} has no data rows")


def _load(part: Part, spec: _Spec) -> _Loaded:
    codes = LabelCodes()
    stats = ColumnStats(len(spec.design.names))
    xs: list[Array] = []
    ys: list[Array] = []
    dropped = 0
    with named(part, spec.many):
        for frame in part_frames(part):
            xb, yb, gone = frame_rows(
                frame,
                spec.design,
                spec.target,
                regression=spec.regression,
                dropna=spec.dropna,
                codes=codes,
            )
            dropped += gone
            stats.add(xb)
            xs.append(xb)
            ys.append(yb)
    width = len(spec.design.names)
    x = np.concatenate(xs) if xs else np.zeros((0, width))
    y = np.concatenate(ys) if ys else np.zeros(0)
    return _Loaded(x, y, codes, stats, dropped)


def _summary(loaded: _Loaded) -> tuple[int, int, ColumnStats, LabelCodes]:
    return len(loaded.y), loaded.dropped, loaded.stats, loaded.codes


def _standardize(
    loaded: _Loaded, mu: Array, sigma: Array, relabel: Array | None
) -> tuple[Array, Array, None]:
    z = (loaded.x - mu) / sigma
    y = loaded.y if relabel is None else relabel[loaded.y.astype(np.int64)]
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
        parts = self.client.map(
            _standardize, self.raw, [mu] * len(self.raw), [sigma] * len(self.raw), self.relabels
        )
        self.raw = []  # the raw copies go; the lineage stays for recomputation
        labels = gather(self.client, self.client.map(_labels, parts))
        y = np.concatenate(labels) if labels else np.zeros(0)
        return DaskSource(self.client, parts, self.n_rows, self.width), y


def read_on_workers(
    client: Client,
    source: str,
    *,
    target: str | None,
    features: str | None,
    one_hot: str | None,
    dropna: bool,
    regression: bool,
) -> Streamed:
    """Steps 1–3 above: the partitions read and summarised; a Streamed whose cache is Dask."""
    files = expand_inputs(source)
    parts = partitions(files)
    many = len(files) > 1
    if one_hot:
        raise InputError(
            "--one-hot needs every category before the partitions are read, "
            "which --engine dask does not do yet",
            "encode the column before training, or use --engine local",
        )
    first = client.submit(_first_design, parts[0], target, features, one_hot, many)
    target_name, design = gather(client, [first])[0]
    spec = _Spec(target_name, design, regression, dropna, many)
    raw = client.map(_load, parts, [spec] * len(parts), pure=False)
    summaries = gather(client, client.map(_summary, raw))
    stats = ColumnStats(len(design.names))
    merged = LabelCodes()
    local_maps: list[Array] = []
    n = dropped = 0
    for rows, gone, part_stats, codes in summaries:
        n += rows
        dropped += gone
        stats.merge(part_stats)
        merged.text = merged.text or codes.text
        local_maps.append(
            np.array([merged.values.setdefault(k, len(merged.values)) for k in codes.values])
        )
    if n == 0:
        raise InputError("no rows left after --dropna" if dropped else f"{source} has no data rows")
    classes = None
    relabels: list[Any] = [None] * len(parts)
    if not regression:
        classes, relabel = merged.finish(target_name)
        relabels = [relabel[m] if len(m) else np.zeros(0) for m in local_maps]
    cache = DaskParts(client, raw, n, len(design.names), relabels)
    return Streamed(design, target_name, classes, dropped, stats, cache=cache)
