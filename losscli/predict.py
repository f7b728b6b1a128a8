"""``losscli predict``: a saved model applied to an input, written as CSV.

The output pipes into ``compute`` without flags: ``y_true`` (when the input
has the model's target column), then ``y_pred`` or one ``p_<class>`` column
per class.  Binary targets are written as 0/1 (1 = the model's second
class); multi-class targets keep their class names, which ``compute``
matches to the ``p_<class>`` columns.  Any input format works (the one
input layer, :mod:`losscli.io`); memory stays that of one block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from losscli._lazy import callable_module
from losscli._types import ModelKind
from losscli.errors import (
    MAX_ROWS_SHOWN,
    InputError,
    LossCliError,
    NoRows,
    RunError,
    format_rows,
)
from losscli.fit.model import Model, load
from losscli.io.design import predict_blocks
from losscli.io.formats import InputOptions, open_any
from losscli.io.labels import known_classes
from losscli.io.writer import BlockWriter

if TYPE_CHECKING:
    import pandas as pd


def load_model(path: str) -> Model:
    """Read and validate the model file (exit 2 on anything malformed)."""
    return load(path)


def prediction_columns(
    model: Model, x: np.ndarray, truth: Any, *, logits: bool, first: int = 1
) -> dict[str, np.ndarray]:
    """The output columns for one block: y_true (if present), then the predictions.

    ``first`` is the block's first file row, for naming rows whose score overflows.
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        pred = model.predict(x, logits=logits)
    _check_finite(pred, first + np.arange(len(pred)))
    out: dict[str, np.ndarray] = {}
    if truth is not None:
        out["y_true"] = _truth(model, truth)
    # Raw scores are named for what they are, so that nobody (compute included)
    # reads a logit as a probability: y_score, or logit_<class> per class.
    raw = logits and model.link.name != "identity"
    if pred.ndim == 1:
        out["y_score" if raw else "y_pred"] = pred
    else:
        assert model.classes is not None
        for j, cls in enumerate(model.classes):
            out[f"{'logit' if raw else 'p'}_{cls}"] = pred[:, j]
    return out


def prediction_frame(
    model: Model, x: np.ndarray, truth: Any, *, logits: bool, first: int = 1
) -> pd.DataFrame:
    """The output table for one block, as a DataFrame (for library callers)."""
    import pandas as pd

    return pd.DataFrame(prediction_columns(model, x, truth, logits=logits, first=first))


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


def _truth(model: Model, column: Any) -> np.ndarray:
    if model.classes is None:
        return np.asarray(column.to_numpy() if hasattr(column, "to_numpy") else column)
    return known_classes(column, model.classes, binary=model.kind is ModelKind.LOGISTIC)


def _prediction_blocks(
    model: Model, source: Any, *, logits: bool, input: InputOptions | None
) -> Generator[dict[str, np.ndarray], None, None]:
    """The output columns of ``source`` (a path, "-" or a DataFrame), one block at a time."""
    table = open_any(source, input or InputOptions())
    wrote = False
    try:
        for x, truth, first in predict_blocks(table, model.design, model.target):
            yield prediction_columns(model, x, truth, logits=logits, first=first)
            wrote = True
    except InputError as exc:  # the readers' fix names --dropna, which predict lacks
        if exc.fix and "--dropna" in exc.fix:
            raise InputError(exc.problem, NO_DROPNA_FIX) from None
        raise
    finally:
        table.close()
    if not wrote:
        raise NoRows(f"{table.name} has a header but no data rows")


def prediction_frames(
    model: Model, source: Any, *, logits: bool, input: InputOptions | None = None
) -> Iterator[pd.DataFrame]:
    """The output table of ``source`` (a path, "-" or a DataFrame), one block at a time."""
    import pandas as pd

    for columns in _prediction_blocks(model, source, logits=logits, input=input):
        yield pd.DataFrame(columns)


def write_predictions(
    model: Model,
    source: Any,
    out: IO[str],
    *,
    logits: bool,
    input: InputOptions | None = None,
    streamed: bool = True,
) -> None:
    """Predict ``source`` block by block and write CSV; memory stays that of one block.

    Floats are written as the shortest text that reads back to the same
    float64 (repr's digits: round-trip exact), by :mod:`losscli.io.writer`.
    A block that fails after earlier rows reached ``out`` cannot take them
    back; when ``streamed`` (the rows went where someone may read them, not
    to a staged file) the error then says from which row the output is
    incomplete, as its last line.
    """
    blocks = _prediction_blocks(model, source, logits=logits, input=input)
    writer = BlockWriter(out)
    try:
        with writer, contextlib.closing(blocks):  # the input closed on any exit
            for i, columns in enumerate(blocks):
                writer.write(columns, header=i == 0)
    except LossCliError as exc:
        if not streamed or not writer.rows:
            raise
        raise incomplete(exc, writer.rows) from None


def incomplete(exc: LossCliError, rows: int) -> LossCliError:
    """``exc`` with a last line saying which output rows were written before it."""
    kind = InputError if exc.exit_code == InputError.exit_code else RunError
    fix = f"{exc.fix}\n" if exc.fix else ""
    return kind(
        exc.problem,
        f"{fix}the output is incomplete from row {rows + 1}: rows 1…{rows} were already written",
    )


callable_module(__name__, "predict")  # losscli.predict(...) is the public API call
