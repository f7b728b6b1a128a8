"""Tables for training and prediction: features X, labels y, and how X was built.

A :class:`Design` records which input columns make the features (numeric
ones as they are, ``--one-hot`` ones expanded to one 0/1 column per
category), so that ``predict`` rebuilds exactly the same matrix from a
saved model.  Labels become numbers here: values for regression, class
indices for classification (classes sorted, as scikit-learn does).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from losscli.errors import InputError, format_rows
from losscli.io import reader as dataio

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention

TARGET_DEFAULTS = ("y", "target", "label")
BOOL_WORDS = {"true": 1, "false": 0}


def read_table(source: str) -> pd.DataFrame:
    """The whole CSV as one DataFrame (header names stripped)."""
    name = "standard input" if source == "-" else source
    stream = dataio.open_source(source)
    header = dataio.read_header(stream, name)
    for col in set(header):
        if header.count(col) > 1:
            raise InputError(
                f"the header names column {col!r} {header.count(col)} times",
                "rename the duplicates so that each column has one name",
            )
    frames = list(dataio.iter_frames(stream, name))
    frame = frames[0] if len(frames) == 1 else pd.concat(frames)
    frame.index = pd.RangeIndex(1, len(frame) + 1)  # 1-based data rows, for messages
    return frame


def _pick(spec: str, columns: Sequence[str], flag: str) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        found = [c for c in columns if fnmatch.fnmatchcase(c, part)]
        if not found:
            raise InputError(
                f"{flag} {part!r} matches no column", f"the columns are: {', '.join(columns)}"
            )
        out.extend(c for c in found if c not in out)
    return out


def target_column(frame: pd.DataFrame, target: str | None) -> str:
    """--target, else y/target/label, else the last column."""
    columns = list(frame.columns)
    if target:
        if target not in columns:
            raise InputError(
                f"no column named {target!r} (from --target)",
                f"the columns are: {', '.join(columns)}",
            )
        return target
    return next((c for c in TARGET_DEFAULTS if c in columns), columns[-1])


@dataclass(frozen=True)
class Design:
    """How the feature matrix is built from input columns."""

    columns: tuple[str, ...]
    one_hot: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Feature names after expansion: ``col`` or ``col=category``."""
        out: list[str] = []
        for c in self.columns:
            out.extend(f"{c}={v}" for v in self.one_hot[c]) if c in self.one_hot else out.append(c)
        return out

    def matrix(self, frame: pd.DataFrame) -> Array:
        """The float64 feature matrix (C order); missing inputs are errors."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise InputError(
                f"the input lacks feature column(s) {', '.join(repr(m) for m in missing)}",
                "give a CSV with the columns the model was trained on",
            )
        blocks: list[Array] = []
        for c in self.columns:
            if c in self.one_hot:
                text = _text(frame[c])
                cats = self.one_hot[c]
                unknown = ~text.isin(cats).to_numpy()
                if unknown.any():
                    rows = frame.index[unknown].tolist()
                    raise InputError(
                        f"column {c!r} has categories not seen in training in "
                        f"{format_rows(rows[:5], len(rows))} (e.g. {text[unknown].iloc[0]!r})",
                        f"known categories: {', '.join(cats)}",
                    )
                blocks.append((text.to_numpy()[:, None] == np.array(cats)[None, :]).astype(float))
            else:
                blocks.append(_numeric_column(frame[c], c)[:, None])
        if not blocks:
            return np.zeros((len(frame), 0))
        return np.ascontiguousarray(np.hstack(blocks), dtype=np.float64)


def _text(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip()


def _numeric_column(series: pd.Series, name: str) -> Array:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        rows = series.index[bad].tolist()
        blank = series.isna().to_numpy()[bad].all()
        what = "missing values" if blank else "missing, non-numeric or infinite values"
        raise InputError(
            f"column {name!r} has {what} in {format_rows(rows[:5], len(rows))}",
            "use --dropna to skip such rows",
        )
    return values


def build_design(
    frame: pd.DataFrame, target: str, features: str | None, one_hot: str | None
) -> Design:
    """Choose the feature columns: --features, else every other numeric column."""
    others = [c for c in frame.columns if c != target]
    encode = _pick(one_hot, others, "--one-hot") if one_hot else []
    chosen = _pick(features, others, "--features") if features else list(others)
    for c in encode:
        if c not in chosen:
            chosen.append(c)
    if target in chosen:
        raise InputError(f"the target {target!r} cannot also be a feature")
    text_cols = [c for c in chosen if c not in encode and not _is_numeric(frame[c])]
    if text_cols:
        raise InputError(
            f"non-numeric feature column(s): {', '.join(repr(c) for c in text_cols)}",
            "encode them with --one-hot COLS, or leave them out with --features",
        )
    if not chosen:
        raise InputError("no feature columns", "the CSV needs columns besides the target")
    categories = {c: tuple(sorted(_text(frame[c]).unique().tolist())) for c in encode}
    return Design(tuple(chosen), categories)


def _is_numeric(series: pd.Series) -> bool:
    if series.dtype.kind in "ifb":
        return True
    converted = pd.to_numeric(series, errors="coerce")
    return bool(converted.notna().sum() == series.notna().sum())


def drop_missing(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """--dropna: rows with a blank or non-numeric cell in a used column go."""
    keep = np.ones(len(frame), dtype=bool)
    for c in columns:
        s = frame[c]
        keep &= s.notna().to_numpy()
        if s.dtype.kind not in "ifb" and _is_numeric(s.dropna()):
            keep &= pd.to_numeric(s, errors="coerce").notna().to_numpy()
    return frame[keep], int((~keep).sum())


@dataclass(frozen=True)
class Labels:
    """Targets as numbers: values, or class indices with the class names."""

    y: Array
    classes: tuple[str, ...] | None


def regression_labels(series: pd.Series, name: str) -> Labels:
    """Numeric targets; a text column gets a message that points at classification."""
    if not _is_numeric(series):
        example = _text(series[pd.to_numeric(series, errors="coerce").isna()]).iloc[0]
        raise InputError(
            f"the target {name!r} holds text (e.g. {example!r}), not numbers to regress on",
            "for classes use a classification loss (--loss bce, ce or focal), "
            "or pick another --target",
        )
    return Labels(_numeric_column(series, name), None)


def class_labels(series: pd.Series, name: str) -> Labels:
    """Class indices 0..K-1 over the sorted distinct labels (numbers sort numerically)."""
    if series.isna().any():
        rows = series.index[series.isna().to_numpy()].tolist()
        raise InputError(
            f"column {name!r} has missing labels in {format_rows(rows[:5], len(rows))}",
            "use --dropna to skip such rows",
        )
    if series.dtype.kind in "ifb":
        values = series.to_numpy(dtype=np.float64)
        uniq = np.unique(values)
        names = tuple(str(int(v)) if float(v).is_integer() else repr(float(v)) for v in uniq)
        return Labels(np.searchsorted(uniq, values).astype(np.float64), names)
    text = _text(series)
    lower = text.str.lower()
    if lower.isin(list(BOOL_WORDS)).all():
        values = lower.map(BOOL_WORDS).to_numpy(dtype=np.float64)
        return Labels(values, ("false", "true"))
    uniq_text = tuple(sorted(text.unique().tolist()))
    lookup = {c: float(i) for i, c in enumerate(uniq_text)}
    return Labels(text.map(lookup).to_numpy(dtype=np.float64), uniq_text)
