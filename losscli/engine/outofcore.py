"""The first pass of ``train``: stream the input into X and y, in memory or on disk.

The input is read block by block.  Blocks are kept in memory while the
in-memory fit they add up to stays inside the budget
(:func:`losscli.engine.memory.in_memory_bytes`); the block that would break
it sends everything held so far, and every later block, to a
:class:`~losscli.fit.blocked.BlockFile` cache instead.  A file that fits is
never written to disk.

Labels are resolved over the whole file, not per block: each distinct raw
label gets a provisional code as it is first seen, and at the end the one
label normaliser (``table.class_labels``) runs on the distinct values to
give the final, sorted classes; the codes are then mapped to them.  Column
statistics for standardization are merged block by block
(:class:`~losscli.fit.blocked.ColumnStats`), so a spilled matrix is read
once to standardize it, and then only by the solver.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from losscli.engine.memory import data_budget, in_memory_bytes
from losscli.engine.parts import (
    Part,
    expand_inputs,
    is_many,
    named,
    part_frames,
    partitions,
)
from losscli.errors import InputError
from losscli.fit.blocked import BlockedSource, BlockFile, ColumnStats
from losscli.fit.data import DataSource
from losscli.io import reader as dataio
from losscli.io import table as dataset

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention

T = TypeVar("T")


def iter_table_frames(source: str) -> Iterator[pd.DataFrame]:
    """The input as DataFrames of a few MB, indexed by 1-based data row."""
    name = "standard input" if source == "-" else source
    stream = dataio.open_source(source)
    header = dataio.read_header(stream, name)
    for col in set(header):
        if header.count(col) > 1:
            raise InputError(
                f"the header names column {col!r} {header.count(col)} times",
                "rename the duplicates so that each column has one name",
            )
    first = 1
    for frame in dataio.iter_frames(stream, name):
        frame.index = pd.RangeIndex(first, first + len(frame))
        first += len(frame)
        yield frame
    stream.close()


@dataclass
class LabelCodes:
    """Class labels coded in order of first appearance; sorted classes at the end."""

    values: dict[Any, int] = field(default_factory=dict)
    text: bool = False

    def code(self, series: pd.Series, target: str) -> Array:
        if series.isna().any():
            dataset.class_labels(series, target)  # raises the missing-labels message
        if series.dtype.kind in "ifb":
            keys: Any = series.to_numpy(dtype=np.float64)
        else:
            self.text = True
            keys = series.astype(str).str.strip().to_numpy()
        uniq, inverse = np.unique(keys, return_inverse=True)
        codes = np.array([self.values.setdefault(_key(u), len(self.values)) for u in uniq])
        return codes[inverse].astype(np.float64)

    def finish(self, target: str) -> tuple[tuple[str, ...], Array]:
        """(classes, relabel) with relabel[code] = the final class index."""
        keys = list(self.values)
        series: pd.Series[Any] = (
            pd.Series([_text(k) for k in keys], dtype=object)
            if self.text
            else pd.Series(np.array(keys, dtype=np.float64))
        )
        labels = dataset.class_labels(series, target)
        assert labels.classes is not None
        return labels.classes, labels.y


def _key(value: Any) -> Any:
    return float(value) if isinstance(value, (float, np.floating)) else str(value)


def _text(key: Any) -> str:
    if isinstance(key, float):
        return str(int(key)) if key.is_integer() else repr(key)
    return str(key)


@dataclass
class Streamed:
    """The design matrix and labels after the first pass.

    Exactly one of (``x``, ``y``) and ``cache`` is set: arrays when the data
    fit the budget, a raw (unstandardized) cache when they did not.
    ``stats`` are the column statistics of every row (all of them training
    rows unless a validation split takes some).
    """

    design: dataset.Design
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


def frame_rows(
    frame: pd.DataFrame,
    design: dataset.Design,
    target: str,
    *,
    regression: bool,
    dropna: bool,
    codes: LabelCodes,
) -> tuple[Array, Array, int]:
    """(X, y, rows dropped) of one frame: the features, and labels as values or codes."""
    dropped = 0
    if dropna:
        frame, dropped = dataset.drop_missing(frame, [target, *design.columns])
    if len(frame) == 0:
        return np.zeros((0, len(design.names))), np.zeros(0), dropped
    xb = design.matrix(frame)
    series = frame[target]
    yb = dataset.regression_labels(series, target).y if regression else codes.code(series, target)
    return xb, yb, dropped


def infer_design(
    frame: pd.DataFrame, target: str | None, features: str | None, one_hot: str | None
) -> tuple[str, dataset.Design]:
    """The target and the feature design, from the first frame of the input."""
    name = dataset.target_column(frame, target)
    return name, dataset.build_design(frame, name, features, one_hot)


def input_frames(source: str) -> Iterator[tuple[Part | None, pd.DataFrame]]:
    """(partition, frame): one path (or stdin) as before (None), a glob or folder by file.

    Errors while reading name the file here; the caller names it for errors
    in what it makes of the frame (``named(part, ...)``).
    """
    if not is_many(source):
        for frame in iter_table_frames(source):
            yield None, frame
        return
    for part in partitions(expand_inputs(source)):
        with named(part, True):
            for frame in part_frames(part):
                yield part, frame


def stream_design(
    source: str,
    *,
    target: str | None,
    features: str | None,
    one_hot: str | None,
    dropna: bool,
    regression: bool,
    limit: int,
    open_folder: Callable[[], str],
    outputs_hint: int = 1,
) -> Streamed:
    """Read ``source`` once into X and y, spilling to a cache past ``limit`` bytes."""
    design: dataset.Design | None = None
    target_name = ""
    codes = LabelCodes()
    stats: ColumnStats | None = None
    held_x: list[Array] = []
    held_y: list[Array] = []
    held_rows = dropped = 0
    cache: BlockedSource | None = None
    budget = data_budget(limit)
    for part, frame in input_frames(source):
        with named(part, part is not None):
            if design is None:
                target_name, design = infer_design(frame, target, features, one_hot)
                stats = ColumnStats(len(design.names))
            xb, yb, gone = frame_rows(
                frame, design, target_name, regression=regression, dropna=dropna, codes=codes
            )
        dropped += gone
        if len(yb) == 0:
            continue
        assert stats is not None
        stats.add(xb)
        if cache is None:
            held_x.append(xb)
            held_y.append(yb)
            held_rows += len(yb)
            if in_memory_bytes(held_rows, xb.shape[1], outputs_hint) > budget:
                if one_hot:
                    raise InputError(
                        "--one-hot needs every category before the first block, "
                        "and this input is larger than --memory-limit",
                        "raise --memory-limit so that it fits in memory, "
                        "or encode the column before training",
                    )
                cache = _open_cache(open_folder(), xb.shape[1])
                for hx, hy in zip(held_x, held_y, strict=True):
                    cache.x.append(hx)
                    cache.y.append(hy)
                held_x, held_y = [], []
        else:
            cache.x.append(xb)
            cache.y.append(yb)
    if design is None:
        name = "standard input" if source == "-" else source
        raise InputError(f"{name} has no data rows")
    assert stats is not None
    if stats.n == 0:
        raise InputError("no rows left after --dropna")
    classes = None
    relabel = None
    if not regression:
        classes, relabel = codes.finish(target_name)
    if cache is not None:
        if relabel is not None:
            _relabel(cache, relabel)
        return Streamed(design, target_name, classes, dropped, stats, cache=cache)
    x = held_x[0] if len(held_x) == 1 else np.concatenate(held_x)
    del held_x
    y = held_y[0] if len(held_y) == 1 else np.concatenate(held_y)
    if relabel is not None:
        y = relabel[y.astype(np.int64)]
    return Streamed(design, target_name, classes, dropped, stats, x=x, y=y)


def _open_cache(folder: str, width: int) -> BlockedSource:
    return BlockedSource(BlockFile(f"{folder}/x.f64", width), BlockFile(f"{folder}/y.f64", 0))


def _relabel(cache: BlockedSource, relabel: Array) -> None:
    for a, b in cache.spans():
        yb = cache.y.read(a, b, cache.y.buffer(b - a))
        cache.y.write(a, relabel[yb.astype(np.int64)])


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


def labels_of(source: BlockedSource) -> Array:
    """Every label of a cache, in memory (8 bytes a row: warm start and metrics)."""
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
        if len(val_rows):
            raise InputError(
                "--val-split is not available with --engine dask",
                "drop it, or use --engine local",
            )
        mu, sigma = scaling_of(streamed.stats, center=center)
        sigma = widen(sigma)
        source, labels = raw.standardized(mu, sigma)
        return Arranged(source, None, mu, sigma, labels)
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
