"""Typed blocks: raw columns of one block of rows become checked float64 arrays.

Every format reader yields :class:`RawBlock` s: the columns in use, keyed by
their 0-based position in the file, each either a float64 array (a reader
that already knows every cell is a finite number: the Arrow paths) or a
pandas Series of whatever the cells hold.  The cell rules live here once,
for every format and command: a blank is a *missing value*, text is a
*non-numeric value*, ``inf`` or a number too large for float64 is an
*infinite or overflowing value*; each is an error naming the column, the
1-based data rows and an example, or with ``--dropna`` the row is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.errors import InputError, format_rows, shown

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

    from losscli._types import Array
    from losscli.io.columns import Columns
else:
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")

DROPNA_FIX = "use --dropna to skip such rows"


@dataclass
class RawBlock:
    """One block of rows: column position -> float64 array (all finite) or pandas Series."""

    columns: dict[int, Any]
    rows: int


class Problems:
    """Collects per-cell problems of a block, reported (or dropped) together."""

    def __init__(self, n: int) -> None:
        self.missing = np.zeros(n, dtype=bool)
        self.first: tuple[str, str, Array, list[str]] | None = None

    def add(self, column: str, kind: str, mask: Array, examples: list[str]) -> None:
        if mask.any():
            self.missing |= mask
            if self.first is None:
                self.first = (column, kind, mask, examples)

    def raise_first(self, rows: NDArray[np.int64]) -> None:
        """The first problem as an error naming its file rows."""
        if self.first is None:
            return
        column, kind, mask, examples = self.first
        where = format_rows([int(r) for r in rows[mask][:5]], int(mask.sum()))
        eg = f" (e.g. {', '.join(examples)})" if examples else ""
        raise InputError(f"column {column!r} has {kind} in {where}{eg}", DROPNA_FIX)


def _overflowing(text: pd.Series) -> Array:
    """Cells that are numbers too large for float64 (a 200-digit integer, 1e999)."""
    pattern = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
    return text.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)


def numeric(column: Any, name: str, problems: Problems) -> Array:
    """A column as float64; blanks, text and overflow recorded as problems (NaN/inf kept)."""
    if isinstance(column, np.ndarray):
        return column
    series: pd.Series = column
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    if series.dtype.kind in "iuf":
        values = series.to_numpy(dtype=np.float64)
        problems.add(name, "missing values", np.isnan(values), [])
        return values
    blank = series.isna().to_numpy().copy()
    text = series.astype(str).str.strip()
    with np.errstate(all="ignore"):
        numbers = pd.to_numeric(text, errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(values) & ~blank
    if bad.any():
        # A number pandas will not convert because it overflows is inf, not text.
        huge = np.zeros(len(values), dtype=bool)
        huge[bad] = _overflowing(text[bad])
        if huge.any():
            values = values.copy()
            values[huge] = np.inf
        bad &= ~huge
        blank |= (text == "").to_numpy() & bad
        bad &= ~blank
    examples = [shown(v) for v in series[bad].head(3)]
    problems.add(name, "non-numeric values", bad, examples)
    problems.add(name, "missing values", blank, [])
    return values


def check_finite(values: Array, names: Sequence[str], rows: NDArray[np.int64]) -> None:
    """inf, -inf and overflowing numbers like 1e999 are errors, never silently used."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    col = 0 if values.ndim == 1 else int(np.flatnonzero(bad.any(axis=0))[0])
    mask = bad if values.ndim == 1 else bad[:, col]
    raise InputError(
        f"column {names[col]!r} has infinite or overflowing values in "
        f"{format_rows([int(r) for r in rows[mask][:5]], int(mask.sum()))}",
        "every value must be a finite float64 number",
    )


# --------------------------------------------------------------------------- compute


@dataclass(frozen=True)
class Batch:
    """One chunk of input as arrays, with the 1-based data-row number of each row."""

    y_true: Array
    y_pred: Array
    weight: Array | None
    rows: NDArray[np.int64]
    dropped: int
    key: Array | None = None  # the --by column's values (numbers, or text as objects)


def _group_values(column: Any) -> Array:
    """The --by column's values: float64 for numbers, stripped text otherwise."""
    if isinstance(column, np.ndarray):
        return column
    values: Array
    if column.dtype.kind in "iufb":
        values = column.to_numpy(dtype=np.float64)
    else:
        values = column.astype(str).str.strip().to_numpy(dtype=object)
    return values


def _stack(arrays: list[Array]) -> Array:
    return arrays[0] if len(arrays) == 1 else np.column_stack(arrays)


def _all_clean(block: RawBlock, used: Sequence[int]) -> bool:
    """Every column in use holds finite numbers (checked with one sum per column)."""
    for at in used:
        column = block.columns[at]
        if isinstance(column, np.ndarray):
            continue
        if column.dtype.kind not in "iuf":
            return False
        values = column.to_numpy(dtype=np.float64)
        # A sum is finite only if every term is (an overflowing sum of finite
        # terms just takes the careful path).
        if column.dtype.kind == "f":
            with np.errstate(over="ignore", invalid="ignore"):
                finite = math.isfinite(values.sum())
            if not finite:
                return False
        block.columns[at] = values
    return True


def to_batch(block: RawBlock, columns: Columns, *, dropna: bool, first_row: int) -> Batch:
    """compute's arrays for one block; report (or with ``dropna`` drop) bad cells."""
    from losscli.io.labels import compute_targets, numeric_names

    n = block.rows
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    cols = block.columns
    group = cols[columns.group_at] if columns.group_at is not None else None
    if group is not None and not isinstance(group, np.ndarray):
        group = group.copy()  # as read: _all_clean may turn a numeric target into floats
    blank_group = group is not None and not isinstance(group, np.ndarray) and group.isna().any()
    if (
        not (columns.classes and numeric_names(columns.classes))
        and not blank_group
        and _all_clean(block, columns.numeric_at)
    ):
        y_true = _stack([cols[i] for i in columns.true_at])
        y_pred = _stack([cols[i] for i in columns.pred_at])
        weight = cols[columns.weight_at] if columns.weight_at is not None else None
        key = None if group is None else _group_values(group)
        return Batch(y_true, y_pred, weight, rows, 0, key)
    problems = Problems(n)
    if len(columns.true_at) == 1:
        y_true = compute_targets(
            cols[columns.true_at[0]], columns.true[0], columns.classes, problems
        )
    else:
        y_true = _stack(
            [
                numeric(cols[i], c, problems)
                for i, c in zip(columns.true_at, columns.true, strict=True)
            ]
        )
    y_pred = _stack(
        [numeric(cols[i], c, problems) for i, c in zip(columns.pred_at, columns.pred, strict=True)]
    )
    weight = None
    if columns.weight_at is not None and columns.weight is not None:
        weight = numeric(cols[columns.weight_at], columns.weight, problems)
    key = None
    if group is not None and columns.group is not None:
        if not isinstance(group, np.ndarray):
            problems.add(columns.group, "missing values", group.isna().to_numpy(), [])
        key = _group_values(group)
    dropped = 0
    if problems.first is not None:
        if not dropna:
            problems.raise_first(rows)
        keep = ~problems.missing
        dropped = int(n - keep.sum())
        y_true, y_pred, rows = y_true[keep], y_pred[keep], rows[keep]
        weight = weight[keep] if weight is not None else None
        key = key[keep] if key is not None else None
    check_finite(y_true, columns.true, rows)
    check_finite(y_pred, columns.pred, rows)
    if weight is not None and columns.weight:
        check_finite(weight, (columns.weight,), rows)
    return Batch(y_true, y_pred, weight, rows, dropped, key)
