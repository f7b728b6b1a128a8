"""Out-of-core training: the design matrix past the memory budget, on disk.

The one input layer (:func:`losscli.io.design.read_training`) fills the
matrix block by block through a row sink; :class:`SpillingRows` keeps the
rows in memory while the in-memory fit they add up to stays inside the
budget (:func:`losscli.engine.memory.in_memory_bytes`), and past it sends
them, and every later block, to a :class:`~losscli.fit.blocked.BlockFile`
cache.  A file that fits never touches the disk.  Labels stay the reader's
(the one label normaliser), written beside the matrix at the end.  Column
statistics are merged as rows are committed
(:class:`~losscli.fit.blocked.ColumnStats`), so the cache is read once to
standardize it (and split off validation rows), then only by the solver.

A glob or folder read on this machine (:func:`read_files`) fills one such
matrix file after file (:class:`SharedRows`), so many files past the
budget spill exactly as one large file does; with ``--one-hot`` each file's
matrix is widened onto the merged categories
(:mod:`losscli.engine.part_designs`) and they are held in memory, as one
file's are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from losscli.engine.memory import data_budget, in_memory_bytes, resolve_limit_bytes
from losscli.engine.parts import expand_inputs, merge_classes, part_request, partitions, read_part
from losscli.errors import InputError
from losscli.fit.blocked import BlockedSource, BlockFile, ColumnStats
from losscli.fit.data import DataSource
from losscli.io.design import Design

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention

T = TypeVar("T")
MIN_ROWS = 1024


@dataclass
class Streamed:
    """The design matrix and labels after the first pass.

    Exactly one of (``x``, ``y``) and ``cache`` is set: arrays when the data
    fit the budget, a raw (unstandardized) cache when they did not.
    ``stats`` are the column statistics of every row (all of them training
    rows unless a validation split takes some).
    """

    design: Design
    target: str
    classes: tuple[str, ...] | None
    dropped: int
    stats: ColumnStats
    x: Array | None = None
    y: Array | None = None
    cache: BlockedSource | Any = None  # or the partitions on Dask workers (DaskParts)

    @property
    def n_rows(self) -> int:
        if self.cache is not None:
            return self.cache.n_rows
        assert self.y is not None
        return len(self.y)


class SpillingRows:
    """The design matrix as ``read_training`` fills it: in memory, or past the budget on disk.

    The same protocol as the reader's own growing matrix (``reserve`` rows,
    fill them, ``commit``; ``result`` at the end).  While the in-memory fit
    of the rows so far fits the budget they grow in one array; the block
    that would break it sends them, and every later block, to a
    :class:`~losscli.fit.blocked.BlockFile`.  When the format knows its row
    count (Parquet, Arrow) the choice is made before the first block.
    Column statistics are taken as rows are committed, so a spilled matrix
    is read again only to be standardized.
    """

    def __init__(
        self, width: int, hint: int | None, *, budget: int, open_folder: Callable[[], str]
    ) -> None:
        self.width, self.n, self.budget = width, 0, budget
        self.open_folder = open_folder
        self.stats = ColumnStats(width)
        self.cache: BlockedSource | None = None
        # The most rows the budget holds in memory, allocated once: pages are
        # resident only as rows fill them, and a matrix grown by reallocation
        # left its old copies in the heap (3× the rows in RSS, measured).
        self.capacity = max(MIN_ROWS, budget // in_memory_bytes(1, width))
        if hint is not None and hint > self.capacity:
            self._spill()
            self.data = np.empty((0, width))
        else:
            self.data = _allocate(hint if hint is not None else self.capacity, width)
            self.capacity = len(self.data)
        self._buffer = np.empty((0, width))

    def _spill(self) -> None:
        folder = self.open_folder()
        self.cache = BlockedSource(
            BlockFile(f"{folder}/x.f64", self.width), BlockFile(f"{folder}/y.f64", 0)
        )
        if self.n:
            held = self.data[: self.n]
            self.stats.add(held)
            self.cache.x.append(held)
        self.data = np.empty((0, self.width))  # the held rows go back to the heap

    def reserve(self, more: int) -> Array:
        need = self.n + more
        if self.cache is None and need > self.capacity:
            self._spill()
        if self.cache is not None:
            if len(self._buffer) < more:
                self._buffer = np.empty((more, self.width))
            return self._buffer[:more]
        return self.data[self.n : need]

    def commit(self, rows: int) -> None:
        if self.cache is not None:
            block = self._buffer[:rows]
            self.stats.add(block)
            self.cache.x.append(block)
        self.n += rows

    def result(self) -> Array:
        if self.cache is not None:
            return np.zeros((0, self.width))
        self.data.resize((self.n, self.width), refcheck=False)
        return self.data

    def finish(
        self,
        y: Array,
        design: Design,
        target: str,
        classes: tuple[str, ...] | None,
        dropped: int,
    ) -> Streamed:
        """The spilled matrix with its labels written beside it."""
        assert self.cache is not None
        step = self.cache.rows_per_block
        for a in range(0, len(y), step):
            self.cache.y.append(y[a : a + step])
        return Streamed(design, target, classes, dropped, self.stats, cache=self.cache)

    @staticmethod
    def factory(limit: int | None, open_folder: Callable[[], str], *, spill: bool) -> Sink | None:
        """What ``read_training(rows=...)`` calls; None keeps the reader's in-memory matrix."""
        return Sink(resolve_limit_bytes(limit), open_folder) if spill else None


def _allocate(rows: int, width: int) -> Array:
    """An (uninitialised) matrix of up to ``rows`` rows: fewer if the system refuses."""
    while True:
        try:
            return np.empty((rows, width))
        except MemoryError:
            if rows <= MIN_ROWS:
                raise
            rows //= 2


class Sink:
    """Makes the one SpillingRows of a read and keeps it (``made``) for the caller."""

    def __init__(self, limit: int, open_folder: Callable[[], str]) -> None:
        self.limit, self.open_folder = limit, open_folder
        self.made: SpillingRows | None = None

    def __call__(self, width: int, hint: int | None) -> SpillingRows:
        budget = data_budget(self.limit)
        self.made = SpillingRows(width, hint, budget=budget, open_folder=self.open_folder)
        return self.made


class SharedRows:
    """One :class:`SpillingRows` that the files of a glob fill in turn (its budget is the run's).

    ``read_training`` calls it once per file; each call gets a view that
    adds to the shared matrix and counts that file's rows (its own empty
    file is still an error).  A file whose width differs from the first is
    refused before its rows are read.
    """

    def __init__(self, limit: int, open_folder: Callable[[], str]) -> None:
        self.limit, self.open_folder = limit, open_folder
        self.rows: SpillingRows | None = None
        self.path, self.first = "", ""

    def __call__(self, width: int, hint: int | None) -> _FileRows:
        if self.rows is None:
            # no hint: it is the first file's length, not the glob's
            budget = data_budget(self.limit)
            self.rows = SpillingRows(width, None, budget=budget, open_folder=self.open_folder)
            self.first = self.path
        elif width != self.rows.width:
            raise InputError(
                f"{self.path} gives {width} numeric feature columns, but {self.first} "
                f"gives {self.rows.width}",
                "give files with the same columns, or name them with --target and --features",
            )
        return _FileRows(self.rows)


class _FileRows:
    """One file's share of a :class:`SharedRows` matrix (the reader's matrix protocol)."""

    def __init__(self, rows: SpillingRows) -> None:
        self.rows, self.n = rows, 0

    def reserve(self, more: int) -> Array:
        return self.rows.reserve(more)

    def commit(self, rows: int) -> None:
        self.rows.commit(rows)
        self.n += rows

    def result(self) -> Array:
        return np.zeros((0, self.rows.width))  # the rows are the shared matrix's


def read_files(
    request: Any, *, classification: bool, open_folder: Callable[[], str] | None
) -> Streamed:
    """A glob or folder on the local engine: every file read in turn into one matrix.

    Without ``--one-hot`` (and with a cache folder on demand) the files fill
    one :class:`SharedRows`, in memory while the budget holds, on disk past
    it; with it, each file's matrix is widened onto the merged categories.
    Classes are merged through the one label normaliser.
    """
    from losscli.engine.part_designs import layout, merge_designs, widen

    files = expand_inputs(request.source)
    spec = part_request(request, classification=classification, many=len(files) > 1)
    shared = None
    if open_folder is not None and not request.one_hot:
        shared = SharedRows(resolve_limit_bytes(request.memory_limit), open_folder)
    datas = []
    for part in partitions(files):
        if shared is not None:
            shared.path = part.label
        datas.append(read_part(part, spec, sink=shared))
    design = merge_designs([d.design for d in datas], [d.target for d in datas], files)
    first = datas[0]
    classes = None
    ys = [d.labels.y for d in datas]
    if classification:
        classes, maps = merge_classes([d.labels.classes for d in datas], first.target)
        ys = [m[y.astype(np.int64)].astype(np.float64) for m, y in zip(maps, ys, strict=True)]
    y = np.concatenate(ys)
    dropped = sum(d.dropped for d in datas)
    if shared is not None and shared.rows is not None:
        if shared.rows.cache is not None:
            return shared.rows.finish(y, design, first.target, classes, dropped)
        x = shared.rows.result()
    else:
        width = len(design.names)
        x = np.concatenate([widen(d.x, layout(d.design, design), width) for d in datas])
    del datas
    return Streamed(design, first.target, classes, dropped, ColumnStats(x.shape[1]), x=x, y=y)


def split_cache(
    raw: BlockedSource,
    val_rows: NDArray[np.intp],
    folder: str,
    mu: Array,
    sigma: Array,
) -> tuple[BlockedSource, BlockedSource | None]:
    """Standardize the cache, moving the validation rows (sorted) into their own.

    Without validation rows the matrix is rewritten in place; with them, the
    training and validation rows go to two new caches in file order and the
    raw one is removed.
    """
    if len(val_rows) == 0:
        for a, b in raw.spans():
            xb = raw.x.read(a, b, raw.x.buffer(b - a))
            xb -= mu
            xb /= sigma
            raw.x.write(a, xb)
        return raw, None
    width = raw.n_features
    train = BlockedSource(BlockFile(f"{folder}/xt.f64", width), BlockFile(f"{folder}/yt.f64", 0))
    val = BlockedSource(BlockFile(f"{folder}/xv.f64", width), BlockFile(f"{folder}/yv.f64", 0))
    for (a, b), (xb, yb) in zip(raw.spans(), raw.blocks(), strict=True):
        lo, hi = np.searchsorted(val_rows, [a, b])
        is_val = np.zeros(b - a, dtype=bool)
        is_val[val_rows[lo:hi] - a] = True
        z = (xb - mu) / sigma
        train.x.append(z[~is_val])
        train.y.append(yb[~is_val])
        val.x.append(z[is_val])
        val.y.append(yb[is_val])
    raw.x.close()
    raw.y.close()
    return train, val


def train_stats(raw: BlockedSource, val_rows: NDArray[np.intp]) -> ColumnStats:
    """Column statistics of the rows not held out for validation."""
    stats = ColumnStats(raw.n_features)
    for (a, b), (xb, _) in zip(raw.spans(), raw.blocks(), strict=True):
        lo, hi = np.searchsorted(val_rows, [a, b])
        keep = np.ones(b - a, dtype=bool)
        keep[val_rows[lo:hi] - a] = False
        stats.add(xb[keep])
    return stats


# --------------------------------------------------------------------------- after pass 1


class RowSource(DataSource, Protocol):
    """A data source that can also map a function over its blocks, in order."""

    def map(self, fn: Callable[[Array, Array, Array | None], T]) -> list[T]: ...


@dataclass(frozen=True)
class Arranged:
    """A spilled matrix ready for the solver: standardized training and validation caches."""

    train: RowSource
    validation: RowSource | None
    mu: Array
    sigma: Array
    y_train: Array


def scaling_of(stats: ColumnStats, *, center: bool) -> tuple[Array, Array]:
    """(μ, σ) as ``train.scaling`` gives them, from streamed statistics."""
    mu = stats.mean if center else np.zeros(stats.width)
    sigma = stats.std() if center else stats.rms()
    sigma[sigma == 0] = 1.0
    return mu, sigma


def labels_of(source: BlockedSource | Any) -> Array:
    """Every label of a cache, in memory (8 bytes a row: warm start and metrics).

    Partitions on Dask workers (engine.dask_train.DaskParts) send theirs.
    """
    if not isinstance(source, BlockedSource):
        labels: Array = source.labels()
        return labels
    out = np.empty(source.n_rows)
    for (a, b), (_, yb) in zip(source.spans(), source.blocks(), strict=True):
        out[a:b] = yb
    return out


def arrange(
    streamed: Streamed,
    open_folder: Callable[[], str],
    *,
    val_rows: NDArray[np.intp],
    center: bool,
    widen: Callable[[Array], Array],
) -> Arranged:
    """Standardize the spilled cache on its training rows and split off validation rows.

    ``widen`` adjusts σ as the in-memory path does (``--no-standardize`` with L2).
    """
    raw = streamed.cache
    assert raw is not None
    if not isinstance(raw, BlockedSource):  # partitions on Dask workers
        arranged: Arranged = raw.arrange(streamed.stats, val_rows, center=center, widen=widen)
        return arranged
    stats = streamed.stats if len(val_rows) == 0 else train_stats(raw, val_rows)
    mu, sigma = scaling_of(stats, center=center)
    sigma = widen(sigma)
    train, validation = split_cache(raw, val_rows, open_folder(), mu, sigma)
    return Arranged(train, validation, mu, sigma, labels_of(train))


def predictions(
    predict: Callable[[Array], Array], source: RowSource, mu: Array, sigma: Array
) -> tuple[Array, Array]:
    """(predictions, labels) for every row of a standardized source, in order."""
    parts = source.map(lambda x, y, w: (predict(x * sigma + mu), y.copy()))
    return np.concatenate([p for p, _ in parts]), np.concatenate([y for _, y in parts])


def regression_scores(
    predict: Callable[[Array], Array], source: RowSource, mu: Array, sigma: Array
) -> dict[str, float | None]:
    """MSE, MAE and R² over a source without holding n predictions (two passes).

    The same definitions and conventions as ``metrics.regression_metrics``
    (constant target: R² 1.0 for perfect predictions, else 0.0; fewer than
    two rows: None), with the sums taken per block and added by ``fsum``.
    """

    def first(x: Array, y: Array, w: Array | None) -> tuple[float, float, float, float, float]:
        residual = y - predict(x * sigma + mu)
        return (
            float(residual @ residual),
            float(np.abs(residual).sum()),
            float(y.sum()),
            float(y.min()),
            float(y.max()),
        )

    parts = source.map(first)
    n = source.n_rows
    ss_res = math.fsum(p[0] for p in parts)
    r2: float | None
    if n < 2:
        r2 = None
    elif min(p[3] for p in parts) == max(p[4] for p in parts):
        r2 = 1.0 if ss_res == 0.0 else 0.0
    else:
        mean = math.fsum(p[2] for p in parts) / n
        tot = source.map(lambda x, y, w: float(((y - mean) ** 2).sum()))
        r2 = 1.0 - ss_res / math.fsum(tot)
    return {"mse": ss_res / n, "mae": math.fsum(p[1] for p in parts) / n, "r2": r2}
