"""The one label normaliser: what a target cell means, for every command.

- numbers are numbers: 0/1 and −1/+1 binary labels, class indices 0…K−1,
  or regression values (the losses take −1/+1 themselves);
- ``true``/``false`` (any case, spaces around) are 1/0, alone or mixed with
  the numbers 0 and 1 (``0,true,1,FALSE``: four binary labels) — one rule,
  :func:`binary_words`, for every command, whatever the block boundaries;
- class names: for ``compute`` they must name a prediction column
  (``cat`` ↔ ``p_cat``); for ``train`` the distinct labels sorted as
  scikit-learn's ``LabelEncoder`` sorts them (numbers numerically, text
  lexicographically) become the classes, indexed 0…K−1;
- numeric class names that are not 0…K−1 (``1,2,3``) name classes too.

A label set too large to be classes (a continuous column given to a
classification loss) is refused before anything of size n × K is allocated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.errors import InputError, shown

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

    from losscli._types import Array
    from losscli.io.blocks import Problems
else:
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")

BOOL_WORDS = {"true": 1.0, "false": 0.0}
# More distinct labels than this are not classes: a softmax over them needs
# n × K numbers per step (8.7k classes on 1M rows: 70 GB) and runs for days.
MAX_CLASSES = 1000


def binary_words(cells: Any) -> Array | None:
    """Text cells that are binary labels, as 0/1 floats; None if any cell is not one.

    A cell is a binary label when it is ``true``/``false`` in any case or a
    number equal to 0 or 1 (``0``, ``1.0``), spaces around allowed.  The
    column must hold at least one word: numbers alone are numbers, read
    before this.  Blank cells (None/NaN) stay NaN, for the missing-value check.
    """
    series = pd.Series(np.asarray(cells, dtype=object))
    blank = series.isna().to_numpy()
    words = series[~blank].astype(str).str.strip().str.lower()
    is_word = words.isin(list(BOOL_WORDS)).to_numpy()
    if not is_word.any():
        return None
    numbers = pd.to_numeric(words[~is_word], errors="coerce").to_numpy(dtype=np.float64)
    if not np.isin(numbers, (0.0, 1.0)).all():  # NaN (text) is in neither
        return None
    out = np.full(len(series), np.nan)
    values = np.empty(len(words))
    values[is_word] = words[is_word].map(BOOL_WORDS).to_numpy(dtype=np.float64)
    values[~is_word] = numbers
    out[~blank] = values
    return out


def numeric_names(classes: tuple[str, ...]) -> bool:
    """Class names like '1','2','3' (but not '0'..'K-1') make numeric labels names."""
    if not all(re.fullmatch(r"-?\d+", c) for c in classes):
        return False
    return [int(c) for c in classes] != list(range(len(classes)))


def class_name(value: float) -> str:
    """How a numeric label is named as a class: '3' for 3.0, repr otherwise."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def compute_targets(
    column: Any, name: str, classes: tuple[str, ...] | None, problems: Problems
) -> Array:
    """compute's target column: numbers, true/false, or class names matching predictions."""
    from losscli.io.blocks import numeric

    if isinstance(column, np.ndarray):  # plain finite numbers
        if classes and numeric_names(classes):
            column = pd.Series(column)
        else:
            return column
    series: pd.Series = column
    blank = series.isna().to_numpy()
    if series.dtype.kind in "ifb":
        if classes and numeric_names(classes):
            lookup: dict[object, float] = {float(c): float(i) for i, c in enumerate(classes)}
            return _to_index(series.astype(np.float64), blank, lookup, classes, name, problems)
        values = series.to_numpy(dtype=np.float64)
        problems.add(name, "missing values", blank, [])
        return values
    text = series.astype(str).str.strip()
    binary = binary_words(series)
    if binary is not None:
        problems.add(name, "missing values", blank, [])
        return binary
    if classes:
        lookup = {label: float(i) for i, label in enumerate(classes)}
        return _to_index(text, blank, lookup, classes, name, problems)
    return numeric(series, name, problems)


def _to_index(
    labels: pd.Series,
    blank: NDArray[np.bool_],
    lookup: dict[object, float],
    classes: tuple[str, ...],
    name: str,
    problems: Problems,
) -> Array:
    """Class labels to indices; a label that names no class is an error."""
    values = labels.map(lookup).to_numpy(dtype=np.float64, na_value=np.nan)
    unknown = np.isnan(values) & ~blank
    if unknown.any():
        bad = ", ".join(shown(v) for v in labels[unknown].head(3))
        raise InputError(
            f"column {name!r} has labels that match no prediction column ({bad})",
            f"the classes are {', '.join(classes)}; "
            f"labels may be class names or indices 0…{len(classes) - 1}",
        )
    problems.add(name, "missing values", blank, [])
    return values


# --------------------------------------------------------------------------- train


@dataclass(frozen=True)
class Labels:
    """Targets as numbers: values, or class indices 0…K−1 with the class names."""

    y: Array
    classes: tuple[str, ...] | None


def label_cells(column: Any) -> Array:
    """One block of a (blank-free) label column: float64 for numbers, else stripped text."""
    if isinstance(column, np.ndarray):
        return column
    series: pd.Series = column
    if series.dtype.kind in "ifb":
        return series.to_numpy(dtype=np.float64)
    return series.astype(str).str.strip().to_numpy(dtype=object)


def encode_classes(parts: list[Array], name: str) -> Labels:
    """Class indices over the sorted distinct labels of the blocks ``parts``."""
    if all(p.dtype.kind == "f" for p in parts):
        values = np.concatenate(parts) if len(parts) != 1 else parts[0]
        uniq, index = np.unique(values, return_inverse=True)
        _check_count(len(uniq), name)
        return Labels(index.astype(np.float64), tuple(class_name(v) for v in uniq))
    text = np.concatenate(
        [p if p.dtype.kind == "O" else np.array([class_name(v) for v in p], object) for p in parts]
    )
    binary = binary_words(text)
    if binary is not None:
        # Words alone are named by the words; mixed with 0/1 by the numbers, as the
        # CSV reader's parse of a true/false column (to 0/1) names them.
        words = np.char.lower(np.char.strip(text.astype(str)))
        named = ("false", "true") if np.isin(words, list(BOOL_WORDS)).all() else ("0", "1")
        return Labels(binary, named)
    uniq_text, index = np.unique(text.astype(str), return_inverse=True)
    _check_count(len(uniq_text), name)
    return Labels(index.astype(np.float64), tuple(str(u) for u in uniq_text))


def _check_count(k: int, name: str) -> None:
    if k > MAX_CLASSES:
        raise InputError(
            f"the target {name!r} has {k:,} distinct values: too many to be classes "
            f"(at most {MAX_CLASSES:,})",
            "for a continuous target use a regression loss (e.g. --loss mse), "
            "or bin the labels into fewer classes",
        )


def known_classes(column: Any, classes: tuple[str, ...], *, binary: bool) -> Array:
    """predict's pass-through of the target: a binary model's labels as 0/1 where known.

    A label of the model's classes becomes its index (as text, so an unknown
    label can stay as it is); a multi-class target keeps its class names.
    """
    cells = label_cells(column)
    # each distinct label is named once (a block has few), then spread by index
    distinct, where = np.unique(cells, return_inverse=True)
    if cells.dtype.kind == "f":
        text = np.array([class_name(v) for v in distinct], dtype=object)
    else:
        text = distinct.astype(object)
    if binary:
        index = {c: str(i) for i, c in enumerate(classes)}
        fold = set(classes) == set(BOOL_WORDS)  # true/false in any case
        text = np.array([index.get(t.lower() if fold else t, t) for t in text], dtype=object)
    return np.asarray(text[where.reshape(-1)], dtype=object)
