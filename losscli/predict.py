"""``losscli predict``: a saved model applied to a CSV, written as CSV.

The output pipes into ``compute`` without flags: ``y_true`` (when the input
has the model's target column), then ``y_pred`` or one ``p_<class>`` column
per class.  Binary targets are written as 0/1 (1 = the model's second
class); multi-class targets keep their class names, which ``compute``
matches to the ``p_<class>`` columns.
"""

from __future__ import annotations

from typing import IO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from losscli.errors import MAX_ROWS_SHOWN, InputError, format_rows
from losscli.fit.model import Model, load
from losscli.io import reader as dataio
from losscli.io import table as dataset


def load_model(path: str) -> Model:
    """Read and validate the model file (exit 2 on anything malformed)."""
    return load(path)


def prediction_frame(model: Model, frame: pd.DataFrame, *, logits: bool) -> pd.DataFrame:
    """The output table for one input table."""
    x = model.design.matrix(frame)
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        pred = model.predict(x, logits=logits)
    _check_finite(pred, frame.index.to_numpy())
    out: dict[str, object] = {}
    if model.target in frame.columns:
        out["y_true"] = _truth(model, frame[model.target])
    if pred.ndim == 1:
        out["y_pred"] = pred
    else:
        assert model.classes is not None
        for j, cls in enumerate(model.classes):
            out[f"p_{cls}"] = pred[:, j]
    return pd.DataFrame(out)


NO_DROPNA_FIX = "predict writes one row per input row: fill in or remove those rows first"


def _check_finite(pred: NDArray[np.float64], rows: NDArray[np.int64]) -> None:
    """A score (or its exp) beyond float64 is an error naming the rows, never inf/NaN cells."""
    bad = ~np.isfinite(pred) if pred.ndim == 1 else ~np.isfinite(pred).all(axis=1)
    if bad.any():
        where = format_rows([int(r) for r in rows[bad][:MAX_ROWS_SHOWN]], int(bad.sum()))
        raise InputError(
            f"the model's score overflows float64 in {where}",
            "those rows' features are far outside what the model was trained on; check units",
        )


def _truth(model: Model, series: pd.Series) -> object:
    if model.classes is None:
        return series.to_numpy()
    if model.kind == "logistic":
        labels = dataset.class_labels(series, model.target)
        if labels.classes != model.classes:  # this file's labels may be a subset
            index = {c: str(i) for i, c in enumerate(model.classes)}
            text = series.astype(str).str.strip()
            return np.array([index.get(t, t) for t in text], dtype=object)
        return labels.y.astype(np.int64)
    return series.astype(str).str.strip().to_numpy()


def write_predictions(model: Model, source: str, out: IO[str], *, logits: bool) -> None:
    """Predict ``source`` block by block and write CSV (repr floats, round-trip exact).

    Memory stays that of one block whatever the input's size, as in compute.
    """
    name = "standard input" if source == "-" else source
    stream = dataio.open_source(source)
    dataio.read_header(stream, name)
    first = 1
    for frame in dataio.iter_frames(stream, name):
        frame.index = pd.RangeIndex(first, first + len(frame))  # file rows, for messages
        try:
            table = prediction_frame(model, frame, logits=logits)
        except InputError as exc:  # the readers' fix names --dropna, which predict lacks
            if exc.fix and "--dropna" in exc.fix:
                raise InputError(exc.problem, NO_DROPNA_FIX) from None
            raise
        table.to_csv(out, index=False, header=first == 1, lineterminator="\n")
        first += len(frame)
