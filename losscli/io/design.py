"""The design matrix: features X straight from blocks, and how X was built (:class:`Design`).

Training reads the input block by block into **one** float64 matrix that
grows in place (``ndarray.resize`` reallocates; for large arrays glibc moves
pages with ``mremap`` instead of copying, and a format that records its
row count — Parquet, Arrow — allocates the exact size at once).  No
DataFrame of the whole table is ever built, so the peak is the matrix plus
a few blocks.  ``--one-hot`` columns are kept as integer codes while
reading and expanded into the final matrix at the end (one more copy of
X, only then).

:class:`Design` is plain data (feature columns and one-hot categories): the
saved model holds it, and ``predict`` rebuilds the same columns from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.errors import InputError, NoRows, format_rows, name_list, shown
from losscli.io.blocks import Problems, RawBlock, check_finite, numeric
from losscli.io.columns import TrainColumns, feature_positions, resolve_train
from losscli.io.formats import first_row as table_first_row
from losscli.io.formats import guarded_blocks
from losscli.io.labels import Labels, encode_classes, label_cells

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

    from losscli._types import Array
    from losscli.io.formats import Table
else:
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")

# More distinct values than this in a --one-hot column are not categories:
# one feature per value (a continuous column would make one per row).
MAX_LEVELS = 1000
PREDICT_FIX = "predict needs a finite number in every feature cell: fill or remove such rows"


@dataclass(frozen=True)
class Design:
    """How the feature matrix is built from input columns (plain data, no pandas)."""

    columns: tuple[str, ...]
    one_hot: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Feature names after expansion: ``col`` or ``col=category``."""
        out: list[str] = []
        for c in self.columns:
            out.extend(f"{c}={v}" for v in self.one_hot[c]) if c in self.one_hot else out.append(c)
        return out


@dataclass(frozen=True)
class TrainingData:
    """What train reads: X (n × p, C order), the labels, and how X was built."""

    x: Array
    labels: Labels
    design: Design
    target: str
    dropped: int
    note: str | None


class _Rows:
    """A float64 matrix that grows by whole blocks of rows, in place."""

    def __init__(self, width: int, hint: int | None) -> None:
        self.width, self.n = width, 0
        rows = max(hint or 0, 1024)
        try:
            self.data = np.empty((rows, width), dtype=np.float64)
        except MemoryError:
            raise _too_big(rows, width) from None

    def reserve(self, more: int) -> Array:
        """Rows n…n+more, to fill (the caller then calls :meth:`commit`)."""
        need = self.n + more
        if need > len(self.data):
            capacity = max(need, len(self.data) + len(self.data) // 2)
            try:
                self.data.resize((capacity, self.width), refcheck=False)
            except MemoryError:
                raise _too_big(capacity, self.width) from None
        return self.data[self.n : need]

    def commit(self, rows: int) -> None:
        self.n += rows

    def result(self) -> Array:
        self.data.resize((self.n, self.width), refcheck=False)
        return self.data


def _too_big(rows: int, width: int) -> InputError:
    gib = rows * width * 8 / 2**30
    return InputError(
        f"the training data does not fit in memory: {rows:,} rows × {width:,} features "
        f"need {gib:.1f} GiB as float64",
        "train on a sample of the rows, or on fewer --features",
    )


class _Codes:
    """A --one-hot column while reading: integer codes and the categories seen."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.index: dict[str, int] = {}
        self.parts: list[NDArray[np.int32]] = []

    def encode(self, text: NDArray[Any]) -> NDArray[np.int32]:
        uniq, inverse = np.unique(text.astype(str), return_inverse=True)
        for u in uniq:
            self.index.setdefault(str(u), len(self.index))
        if len(self.index) > MAX_LEVELS:
            raise InputError(
                f"--one-hot column {self.name!r} has more than {MAX_LEVELS:,} distinct values: "
                "too many categories (one feature per value)",
                "a numeric column is a feature as it is: leave it out of --one-hot, "
                "or bin it into fewer categories first",
            )
        lookup = np.array([self.index[str(u)] for u in uniq], dtype=np.int32)
        return lookup[inverse.reshape(-1)]


def _text_cells(column: Any) -> Any:
    """A column's cells as stripped text (pandas Series), blanks as NaN."""
    if isinstance(column, np.ndarray):
        from losscli.io.labels import class_name

        return pd.Series([class_name(v) for v in column], dtype=object)
    series: pd.Series = column
    if series.dtype.kind in "iuf":
        from losscli.io.labels import class_name

        return series.map(lambda v: v if v != v else class_name(v))
    return series.where(series.isna(), series.astype(str).str.strip())


def _all_text(column: Any) -> bool:
    """A feature column whose every non-blank cell is text (a categorical column)."""
    if isinstance(column, np.ndarray) or column.dtype.kind in "iufb":
        return False
    present = column.dropna()
    if not len(present):
        return False
    numbers = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    return bool(numbers.isna().all())


def read_training(
    table: Table,
    *,
    target: str | None,
    features: str | None,
    one_hot: str | None,
    dropna: bool,
    classification: bool,
    sink: Callable[[int, int | None], Any] | None = None,
) -> TrainingData:
    """X and y from the table in one pass, block by block (see the module docstring).

    ``sink`` makes the growing matrix (width, row hint) when given: the hook
    through which ``train --memory-limit`` sends a matrix past it to disk
    (:class:`losscli.engine.outofcore.SpillingRows`).
    """
    cols = resolve_train(table.names, target, features, one_hot)
    dense = [
        (f, at)
        for f, at in zip(cols.features, cols.features_at, strict=True)
        if f not in cols.one_hot
    ]
    codes = {f: _Codes(f) for f in cols.features if f in cols.one_hot}
    matrix = (sink or _Rows)(len(dense), table.rows_hint)
    code_parts: dict[str, list[NDArray[np.int32]]] = {f: [] for f in codes}
    label_parts: list[Array] = []
    dropped = 0
    first_row = table_first_row(table)  # a partition's rows are its file's
    used = [cols.target_at, *cols.features_at]
    for block in guarded_blocks(table, used):
        n = block.rows
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
        first_row += n
        problems = Problems(n)
        y = _target(block.columns[cols.target_at], cols, classification, problems, dropna)
        text = [f for f, at in dense if _all_text(block.columns[at])]
        if text:
            raise InputError(
                f"non-numeric feature column(s): {', '.join(repr(c) for c in text[:20])}",
                "encode them with --one-hot COLS, or leave them out with --features",
            )
        values = [numeric(block.columns[at], f, problems) for f, at in dense]
        cells = {}
        for f, coder in codes.items():
            at = cols.features_at[cols.features.index(f)]
            cell = _text_cells(block.columns[at])
            problems.add(f, "missing values", cell.isna().to_numpy(), [])
            cells[f] = (coder, cell)
        keep: Any = slice(None)
        if problems.first is not None:
            if not dropna:
                problems.raise_first(rows)
            keep = ~problems.missing
            dropped += int(n - keep.sum())
            rows = rows[keep]
        m = len(rows)
        out = matrix.reserve(m)
        for j, ((f, _), v) in enumerate(zip(dense, values, strict=True)):
            kept = v[keep]
            check_finite(kept, (f,), rows)
            out[:, j] = kept
        matrix.commit(m)
        for f, (coder, cell) in cells.items():
            code_parts[f].append(coder.encode(cell.to_numpy(dtype=object)[keep]))
        label_parts.append(y[keep] if not isinstance(keep, slice) else y)
    if matrix.n == 0:
        none_left = "no rows left after --dropna"
        empty = NoRows(none_left if dropped else f"{table.name} has a header but no data rows")
        empty.empty = _no_rows(dense, cols, codes, classification, dropped)
        raise empty
    if classification:
        labels = encode_classes(label_parts, cols.target)
    else:
        labels = Labels(
            np.concatenate(label_parts) if len(label_parts) > 1 else label_parts[0], None
        )
    x, design = _assemble(matrix, dense, cols, codes, code_parts)
    return TrainingData(x, labels, design, cols.target, dropped, cols.note)


def _no_rows(
    dense: list[tuple[str, int]],
    cols: TrainColumns,
    codes: dict[str, _Codes],
    classification: bool,
    dropped: int,
) -> TrainingData:
    """A partition left without rows, as far as it was read: its design and dropped count."""
    x = np.zeros((0, len(dense)))
    design = Design(cols.features, {f: () for f in codes})
    labels = Labels(np.zeros(0), () if classification else None)
    return TrainingData(x, labels, design, cols.target, dropped, cols.note)


def _target(
    column: Any, cols: TrainColumns, classification: bool, problems: Problems, dropna: bool
) -> Array:
    name = cols.target
    if classification:
        if not isinstance(column, np.ndarray):
            blank = column.isna().to_numpy()
            problems.add(name, "missing labels", blank, [])
            if column.dtype.kind == "O":  # numbers keep NaN (dropped); text gets ""
                column = column.where(~blank, "")
        return label_cells(column)
    if not dropna and _has_text(column):
        series = column.dropna()
        words = pd.to_numeric(series.astype(str).str.strip(), errors="coerce")
        example = str(series[words.isna()].iloc[0]).strip()
        raise InputError(
            f"the target {name!r} holds text (e.g. {shown(example)}), not numbers to regress on",
            "for classes use a classification loss (--loss bce, ce or focal), "
            "or pick another --target",
        )
    return numeric(column, name, problems)


def _has_text(column: Any) -> bool:
    if isinstance(column, np.ndarray) or column.dtype.kind in "iufb":
        return False
    present = column.dropna()
    numbers = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    return bool(numbers.isna().any())


def _assemble(
    matrix: _Rows,
    dense: list[tuple[str, int]],
    cols: TrainColumns,
    codes: dict[str, _Codes],
    code_parts: dict[str, list[NDArray[np.int32]]],
) -> tuple[Array, Design]:
    """The final X: the dense matrix itself, or with --one-hot columns expanded in order."""
    if not codes:
        return matrix.result(), Design(cols.features, {})
    categories = {f: tuple(sorted(c.index)) for f, c in codes.items()}
    width = sum(len(categories[f]) if f in codes else 1 for f in cols.features)
    n = matrix.n
    try:
        x = np.zeros((n, width), dtype=np.float64)
    except MemoryError:
        raise _too_big(n, width) from None
    dense_at = {f: j for j, (f, _) in enumerate(dense)}
    column = 0
    for f in cols.features:
        if f in codes:
            # codes number categories in order of appearance; columns are sorted
            where = {c: k for k, c in enumerate(categories[f])}
            rank = np.array([where[c] for c in codes[f].index], dtype=np.int64)
            sorted_codes = rank[np.concatenate(code_parts[f])]
            x[np.arange(n), column + sorted_codes] = 1.0
            column += len(categories[f])
        else:
            x[:, column] = matrix.data[:n, dense_at[f]]
            column += 1
    return x, Design(cols.features, categories)


# --------------------------------------------------------------------------- predict


def predict_blocks(table: Table, design: Design, target: str) -> Iterator[tuple[Array, Any, int]]:
    """(X, the target's cells or None, first row) per block, for a saved model's design."""
    positions = feature_positions(table.names, design.columns)
    target_at = None
    if target in table.names and target not in design.columns:
        target_at = table.names.index(target)
    used = [*positions, *([target_at] if target_at is not None else [])]
    first_row = table_first_row(table)  # a partition's rows are its file's
    for block in guarded_blocks(table, used):
        yield (
            _predict_matrix(design, block, positions, first_row),
            (block.columns[target_at] if target_at is not None else None),
            first_row,
        )
        first_row += block.rows


def _predict_matrix(
    design: Design, block: RawBlock, positions: Sequence[int], first_row: int
) -> Array:
    n = block.rows
    cells = [block.columns[at] for at in positions]
    if not design.one_hot and all(isinstance(c, np.ndarray) for c in cells):
        # the Arrow path: every cell already a finite float64; one copy into X
        x = np.empty((n, len(cells)), dtype=np.float64)
        for j, values in enumerate(cells):
            x[:, j] = values
        return x
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    problems = Problems(n)
    parts: list[Array] = []
    for c, at in zip(design.columns, positions, strict=True):
        column = block.columns[at]
        if c in design.one_hot:
            cats = design.one_hot[c]
            text = _text_cells(column).fillna("").to_numpy(dtype=object).astype(str)
            unknown = ~np.isin(text, np.array(cats, dtype=str))
            if unknown.any():
                bad = rows[unknown]
                raise InputError(
                    f"column {c!r} has categories not seen in training in "
                    f"{format_rows([int(r) for r in bad[:5]], len(bad))} "
                    f"(e.g. {shown(str(text[unknown][0]))})",
                    f"known categories: {name_list(list(cats))}",
                )
            parts.append((text[:, None] == np.array(cats, dtype=str)[None, :]).astype(np.float64))
        else:
            values = numeric(column, c, problems)
            parts.append(values[:, None])
    if problems.first is not None:
        column_name, kind, mask, examples = problems.first
        where = format_rows([int(r) for r in rows[mask][:5]], int(mask.sum()))
        eg = f" (e.g. {', '.join(examples)})" if examples else ""
        raise InputError(f"column {column_name!r} has {kind} in {where}{eg}", PREDICT_FIX)
    x = np.hstack(parts) if parts else np.zeros((n, 0))
    bad = ~np.isfinite(x)
    if bad.any():
        col = int(np.flatnonzero(bad.any(axis=0))[0])
        check_finite(x[:, col], (design.names[col].split("=")[0],), rows)
    return np.ascontiguousarray(x, dtype=np.float64)
