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


class Worst:
    """Keeps the N worst rows of one loss across blocks."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.kept: WorstRows | None = None

    def add(
        self, rows: NDArray[np.int64], y_true: Array, y_pred: Array, loss: Array, grad: Array
    ) -> None:
        take = _top(loss, rows, self.n)
        block = WorstRows(rows[take], y_true[take], y_pred[take], loss[take], grad[take])
        if self.kept is not None:
            block = WorstRows(
                *(
                    np.concatenate([a, b])
                    for a, b in zip(_fields(self.kept), _fields(block), strict=True)
                )
            )
            take = _top(block.loss, block.rows, self.n)
            block = WorstRows(*(a[take] for a in _fields(block)))
        self.kept = block


def _fields(w: WorstRows) -> tuple[Array, ...]:
    return (w.rows, w.y_true, w.y_pred, w.loss, w.grad)
