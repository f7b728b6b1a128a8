"""The data that the baseline reads again after pass 1, in bounded memory.

The best constant depends on the targets, the weights and the group of each
row only, never on the predictions.  Pass 1 keeps them in one of three forms,
whichever is smallest and still exact:

* a *summary* of the distinct (group, target) values with their total
  weight, while there are at most :data:`SUMMARY_CAP` of them: labels,
  counts and rounded targets collapse to a handful of rows, and every
  later pass is free;
* the one block of the input itself, when the input was a single block;
* otherwise a *spool*: a temporary file of float64 records (group, weight,
  target…) written while pass 1 streams, read back in blocks of
  :data:`SPOOL_ROWS` rows — a few passes over it cost a fraction of
  parsing the CSV once, and memory stays a few blocks whatever the size.

The baseline runs each pass through :meth:`Rows.each`: a function of one
partition's rows (a :class:`ChunkSource`) whose partial results it combines.
One file is one partition; a glob or a Dask cluster holds one
:class:`PassData` per partition where it was read
(:mod:`losscli.engine.evaluate_parts`), with its group codes mapped to the
merged ones by :class:`Regrouped`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from losscli._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")

T = TypeVar("T")
SUMMARY_CAP = 65_536  # distinct (group, target) rows kept before falling back to the spool
SPOOL_ROWS = 1 << 18  # rows per block read back from the spool


@dataclass(frozen=True)
class Chunk:
    """Rows for a baseline pass: targets (n,) or (n, K), weights, group indices."""

    y: Array
    w: Array
    g: NDArray[np.intp]


class ChunkSource(Protocol):
    """One partition's rows, replayed in chunks."""

    def chunks(self) -> Iterator[Chunk]: ...


class Rows(Protocol):
    """All the rows of a run, in one or more partitions: a pass is one call per partition."""

    def each(self, fn: Callable[[ChunkSource], T]) -> list[T]: ...


class Regrouped:
    """A partition's rows with its own group codes mapped to the merged ones."""

    def __init__(self, rows: ChunkSource, codes: NDArray[np.intp]) -> None:
        self.rows, self.codes = rows, codes

    def chunks(self) -> Iterator[Chunk]:
        for c in self.rows.chunks():
            yield Chunk(c.y, c.w, self.codes[c.g])


class PassData:
    """Collects the rows of pass 1 and replays them, as often as asked, afterwards."""

    def __init__(self) -> None:
        self._summary: tuple[Array, Array] | None = (np.zeros((0, 0)), np.zeros(0))
        self._first: Chunk | None = None
        self._chunks = 0
        self._spool: IO[bytes] | None = None
        self._width = 0
        self._shape: tuple[int, ...] = ()

    # -- pass 1 ----------------------------------------------------------------

    def add(self, y: Array, w: Array | None, g: NDArray[np.intp]) -> None:
        """One block of pass 1 (rows of zero weight carry no information and are skipped)."""
        weight = np.ones(y.shape[0]) if w is None else w
        keep = weight > 0
        if not keep.all():
            y, weight, g = y[keep], weight[keep], g[keep]
        chunk = Chunk(y, weight, g)
        self._chunks += 1
        self._shape = y.shape[1:]
        if self._summary is not None:
            self._summarise(chunk)
        if self._chunks == 1:
            self._first = chunk
            return
        if self._spool is None:
            # closed and removed by finish() or close(), not by a with-block
            self._spool = tempfile.NamedTemporaryFile(prefix="losscli-baseline-", delete=False)  # noqa: SIM115
            assert self._first is not None
            self._write(self._first)
            self._first = None
        self._write(chunk)

    def _records(self, chunk: Chunk) -> Array:
        y = chunk.y.reshape(chunk.y.shape[0], -1)
        return np.column_stack([chunk.g.astype(np.float64), chunk.w, y])

    def _write(self, chunk: Chunk) -> None:
        assert self._spool is not None
        records = self._records(chunk)
        self._width = records.shape[1]
        self._spool.write(np.ascontiguousarray(records).tobytes())

    def _summarise(self, chunk: Chunk) -> None:
        assert self._summary is not None
        records = self._records(chunk)
        keys = np.delete(records, 1, axis=1)  # group and target, without the weight
        old_keys, old_w = self._summary
        if old_keys.size:
            keys = np.concatenate([old_keys, keys])
            weights = np.concatenate([old_w, chunk.w])
        else:
            weights = chunk.w
        distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
        if distinct.shape[0] > SUMMARY_CAP:
            self._summary = None
            return
        self._summary = distinct, np.bincount(inverse.ravel(), weights=weights)

    # -- later passes ----------------------------------------------------------

    def each(self, fn: Callable[[ChunkSource], T]) -> list[T]:
        """One file is one partition."""
        return [fn(self)]

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a Dask worker may spill or move it): the spool travels as its bytes."""
        state = dict(self.__dict__)
        spool = state.pop("_spool")
        state["_spooled"] = None
        if spool is not None:
            with open(spool.name, "rb") as handle:
                state["_spooled"] = handle.read()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        raw = state.pop("_spooled")
        self.__dict__.update(state)
        self._spool = None
        if raw is not None:
            self._spool = tempfile.NamedTemporaryFile(prefix="losscli-baseline-", delete=False)  # noqa: SIM115
            self._spool.write(raw)
            self._spool.close()

    def finish(self) -> None:
        """End of pass 1: keep the smallest exact form, drop the others."""
        if self._spool is not None:
            self._spool.close()
        if self._summary is not None or self._chunks <= 1:
            self._drop_spool()

    def chunks(self) -> Iterator[Chunk]:
        """One more pass over the rows (in the summary form, with summed weights)."""
        if self._summary is not None:
            keys, weights = self._summary
            if keys.size:
                y = keys[:, 1:].reshape((keys.shape[0], *self._shape))
                yield Chunk(y, weights, keys[:, 0].astype(np.intp))
            return
        if self._first is not None:
            yield self._first
            return
        assert self._spool is not None
        with open(self._spool.name, "rb") as handle:
            while True:
                raw = handle.read(SPOOL_ROWS * self._width * 8)
                if not raw:
                    return
                records = np.frombuffer(raw, dtype=np.float64).reshape(-1, self._width)
                y = records[:, 2:].reshape((records.shape[0], *self._shape))
                yield Chunk(y, records[:, 1], records[:, 0].astype(np.intp))

    def close(self) -> None:
        """Remove the spool file, if any."""
        self._drop_spool()

    def _drop_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._spool.name)
            self._spool = None
