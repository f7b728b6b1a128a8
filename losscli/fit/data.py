"""Where full-batch solvers get their data: a source of row blocks that sums.

Every full-batch quantity of a linear model is a sum over rows — the loss
total, its normaliser, the gradient Σₚ Xₚᵀrₚ, the Hessian Σₚ XₚᵀDₚXₚ and a
Hessian-vector product — so a solver never needs the whole matrix at once,
only a way to apply a function to each block of rows and add the results.
That is :class:`DataSource`: an in-memory matrix is one block
(:class:`InMemory`), a memory-mapped block store or the partitions of a
Dask array are many, and the solvers in :mod:`losscli.fit.solvers` and the
full-batch methods of :class:`~losscli.fit.objective.Objective` run
unchanged on any of them.

The partial results are added *exactly* (``math.fsum`` per entry), so the
sum does not depend on how the rows are cut into blocks: the same data in
one block or in a hundred give the same gradient to the last bit of a
correctly rounded sum (within a block, NumPy's own pairwise sums apply).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention

T = TypeVar("T")

#: What a block function returns: a tuple of floats and float64 arrays, added
#: entry by entry over the blocks.
Partial = tuple[Any, ...]
BlockFn = Callable[["Array", "Array", "Array | None"], T]

EXACT_LIMIT = 1 << 20  # entries × blocks beyond which arrays are added pairwise


@runtime_checkable
class DataSource(Protocol):
    """Rows of (X, y, sample weights) that a full-batch solver reduces over.

    ``reduce(fn)`` calls ``fn(X_block, y_block, w_block)`` on every block
    (``w_block`` is None when the rows are unweighted) and returns the sum of
    the results, position by position in the returned tuple.  ``fn`` must
    not keep references to the blocks: an out-of-core source may reuse or
    unmap them after the call.
    """

    @property
    def n_rows(self) -> int: ...

    @property
    def n_features(self) -> int: ...

    def reduce(self, fn: Callable[[Array, Array, Array | None], T]) -> T: ...


def sum_partials(parts: Sequence[Partial]) -> Partial:
    """Entry-by-entry exact sums of the blocks' tuples (fsum per number).

    Arrays are added with one ``math.fsum`` per entry while that stays cheap
    (entries × blocks ≤ 2²⁰), else with NumPy's pairwise sum over the
    stacked partials — still independent of the order the blocks came in
    to within a few ulps.
    """
    if not parts:
        raise ValueError("a data source with no blocks has no sums")
    if len(parts) == 1:
        return parts[0]
    out: list[Any] = []
    for column in zip(*parts, strict=True):
        first = column[0]
        if isinstance(first, np.ndarray):
            stacked = np.stack([np.asarray(c, dtype=np.float64) for c in column])
            flat = stacked.reshape(len(column), -1)
            if flat.size <= EXACT_LIMIT:
                summed = np.array([math.fsum(col) for col in flat.T], dtype=np.float64)
            else:
                summed = np.ascontiguousarray(flat.T).sum(axis=1)
            out.append(summed.reshape(first.shape))
        else:
            out.append(math.fsum(float(c) for c in column))
    return tuple(out)


@dataclass(frozen=True)
class InMemory:
    """The whole matrix as one block: ``reduce`` is a single call of ``fn``."""

    x: Array
    y: Array
    w: Array | None = None

    @property
    def n_rows(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.x.shape[1])

    def reduce(self, fn: Callable[[Array, Array, Array | None], T]) -> T:
        return fn(self.x, self.y, self.w)


class Blocks:
    """Rows in several blocks, produced afresh by ``blocks()`` on every pass.

    The reference multi-block source: a memory-mapped store or a chunked
    reader gives a callable that yields ``(X_block, y_block, w_block)``;
    the tests use it to check that every solver reaches the same optimum on
    one block and on many.  ``fn`` must return a tuple (see ``Partial``).
    """

    def __init__(
        self,
        blocks: Callable[[], Iterable[tuple[Array, Array, Array | None]]],
        n_rows: int,
        n_features: int,
    ) -> None:
        self._blocks = blocks
        self._n_rows = n_rows
        self._n_features = n_features

    @classmethod
    def split(cls, x: Array, y: Array, rows: int, w: Array | None = None) -> Blocks:
        """Views of an in-memory matrix cut every ``rows`` rows (for tests)."""
        n = x.shape[0]

        def blocks() -> Iterable[tuple[Array, Array, Array | None]]:
            for start in range(0, n, rows):
                stop = start + rows
                yield x[start:stop], y[start:stop], None if w is None else w[start:stop]

        return cls(blocks, n, x.shape[1])

    @property
    def n_rows(self) -> int:
        return self._n_rows

    @property
    def n_features(self) -> int:
        return self._n_features

    def reduce(self, fn: Callable[[Array, Array, Array | None], T]) -> T:
        parts: list[Any] = [fn(x, y, w) for x, y, w in self._blocks()]
        result: Any = sum_partials(parts)
        return result  # type: ignore[no-any-return]
