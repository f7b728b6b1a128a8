"""``--worst N``: the N rows with the largest weighted loss contributions sᵢℓᵢ.

A bounded selection while streaming: each block's candidates are merged
with the N kept so far and cut back to N, so memory is O(N) whatever the
size of the input.  Ties are broken by the earlier file row, so the result
is the head of a stable sort by contribution, descending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")


@dataclass(frozen=True)
class WorstRows:
    """The kept rows of one loss: file row, targets, predictions, sᵢℓᵢ, unscaled sᵢ∂ℓᵢ/∂ŷᵢ."""

    rows: NDArray[np.int64]
    y_true: Array
    y_pred: Array
    loss: Array
    grad: Array


def _top(contrib: Array, rows: NDArray[np.int64], n: int) -> NDArray[np.intp]:
    """Positions of the n largest contributions, ties to the earlier row, in that order."""
    if contrib.shape[0] > n:
        threshold = np.partition(contrib, contrib.shape[0] - n)[contrib.shape[0] - n]
        candidates = np.flatnonzero(contrib >= threshold)
    else:
        candidates = np.arange(contrib.shape[0])
    order = np.lexsort((rows[candidates], -contrib[candidates]))
    return candidates[order[:n]]


class TopRows:
    """The N rows of largest key across blocks, with any per-row arrays carried along.

    The one bounded selection behind compute's and compare's ``--worst``.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: NDArray[np.int64] | None = None
        self.key: Array | None = None
        self.columns: tuple[Array, ...] = ()

    def add(self, rows: NDArray[np.int64], key: Array, *columns: Array) -> None:
        take = _top(key, rows, self.n)
        rows, key, columns = rows[take], key[take], tuple(c[take] for c in columns)
        if self.rows is not None and self.key is not None:
            rows = np.concatenate([self.rows, rows])
            key = np.concatenate([self.key, key])
            columns = tuple(
                np.concatenate([a, b]) for a, b in zip(self.columns, columns, strict=True)
            )
            take = _top(key, rows, self.n)
            rows, key, columns = rows[take], key[take], tuple(c[take] for c in columns)
        self.rows, self.key, self.columns = rows, key, columns


class Worst:
    """Keeps the N worst rows of one loss across blocks."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._top = TopRows(n)

    def add(
        self, rows: NDArray[np.int64], y_true: Array, y_pred: Array, loss: Array, grad: Array
    ) -> None:
        self._top.add(rows, loss, y_true, y_pred, grad)

    def merge(self, other: Worst) -> None:
        """Another partition's kept rows (rows numbered in the whole input)."""
        kept = other.kept
        if kept is not None:
            self.add(kept.rows, kept.y_true, kept.y_pred, kept.loss, kept.grad)

    @property
    def kept(self) -> WorstRows | None:
        t = self._top
        if t.rows is None or t.key is None:
            return None
        y_true, y_pred, grad = t.columns
        return WorstRows(t.rows, y_true, y_pred, t.key, grad)
