"""``--one-hot`` over many partitions: each reads its own categories; the client merges them.

A partition read alone numbers only the categories it holds, so its
matrix has fewer one-hot columns than the whole input's.  The merged
design takes, per --one-hot column, the sorted union of the partitions'
categories (the one input layer sorts a single file's categories the same
way, so a glob gets the design a concatenated file gets), and each
partition's matrix is widened onto it where it lies — its columns moved to
their merged positions, zeros for categories it never saw — which is the
matrix the merged design would have built from its rows.  Nothing is read
twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli.engine.parts import check_same_design
from losscli.errors import InputError
from losscli.io.design import MAX_LEVELS, Design

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]


def merge_designs(
    designs: Sequence[Design], targets: Sequence[str], files: Sequence[str]
) -> Design:
    """One design for every partition: the same features and target, categories merged."""
    if not any(d.one_hot for d in designs):
        check_same_design(designs, targets, files)
        return designs[0]
    bare = [Design(d.columns) for d in designs]
    check_same_design(bare, targets, files)
    merged: dict[str, tuple[str, ...]] = {}
    for column in designs[0].one_hot:
        union = sorted({c for d in designs for c in d.one_hot.get(column, ())})
        if len(union) > MAX_LEVELS:
            raise InputError(
                f"--one-hot column {column!r} has more than {MAX_LEVELS:,} distinct values: "
                "too many categories (one feature per value)",
                "a numeric column is a feature as it is: leave it out of --one-hot, "
                "or bin it into fewer categories first",
            )
        merged[column] = tuple(union)
    return Design(designs[0].columns, merged)


def layout(part: Design, merged: Design) -> NDArray[np.intp] | None:
    """Where each of the partition's columns goes in the merged matrix (None: nowhere new)."""
    names = merged.names
    own = part.names
    if own == names:
        return None
    at = {name: j for j, name in enumerate(names)}
    return np.array([at[name] for name in own], dtype=np.intp)


def widen(x: Array, where: NDArray[np.intp] | None, width: int) -> Array:
    """The partition's matrix on the merged design's columns."""
    if where is None:
        return x
    out = np.zeros((x.shape[0], width))
    out[:, where] = x
    return out
