"""Per-row output as CSV, one block at a time: pyarrow's writer, pandas for the rest.

pandas ``to_csv`` formats every float in Python (two thirds of a 1M-row
``predict`` went there); pyarrow's CSV writer formats in C++ with the
*shortest* decimal that reads back to the same float64 — the digits of
``repr``, so every number round-trips exactly (``1e-7`` where repr says
``1e-07``, ``151`` for ``151.0``: the same value to any CSV reader).

The fast path takes a block whose columns are float64 arrays without NaN
and text columns without a delimiter, quote or line break (pyarrow refuses
those unquoted).  Any other block — NaN (pandas writes it as an empty cell),
Python objects, labels that need quotes — goes through pandas ``to_csv``
exactly as before, so the output of such a block does not change.  The
header is written by the ``csv`` module with minimal quoting, as pandas does.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

from losscli._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")


def header_line(names: list[str]) -> str:
    """The header record, quoted only where a name needs it (as pandas writes it)."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(names)
    return text.getvalue()


def _numeric_array(pa: Any, values: Array) -> Any:
    """A NumPy number column as Arrow, zero-copy (``pa.array`` would import pandas)."""
    values = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _arrow_table(columns: Mapping[str, Array]) -> Any:
    """The block as a pyarrow Table, or None when a column needs the careful writer."""
    import pyarrow as pa  # type: ignore[import-untyped]

    arrays = []
    for values in columns.values():
        if values.dtype == np.float64 or values.dtype.kind in "iu":
            if values.dtype.kind == "f" and np.isnan(values).any():
                return None  # pandas writes NaN as an empty cell
            arrays.append(_numeric_array(pa, values))
        elif values.dtype.kind in "OU":
            try:
                arrays.append(pa.array(values, type=pa.string()))
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return None  # not all text (None, numbers among the labels)
        else:
            return None
    return pa.Table.from_arrays(arrays, names=[str(i) for i in range(len(arrays))])


def block_bytes(columns: Mapping[str, Array]) -> bytes | None:
    """One block's rows as CSV bytes through pyarrow, or None where pandas must write it."""
    table = _arrow_table(columns)
    if table is None:
        return None
    import pyarrow as pa
    import pyarrow.csv as pacsv  # type: ignore[import-untyped]

    sink = pa.BufferOutputStream()
    try:
        pacsv.write_csv(
            table,
            sink,
            write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )
    except pa.ArrowInvalid:
        return None  # a label holds a delimiter, quote or line break: it needs quoting
    data: bytes = sink.getvalue().to_pybytes()
    return data


def _pandas_bytes(columns: Mapping[str, Array]) -> bytes:
    import pandas as pd

    text: str = pd.DataFrame(dict(columns)).to_csv(index=False, header=False, lineterminator="\n")
    return text.encode("utf-8")


def _formatted(columns: Mapping[str, Array], header: bool) -> bytes:
    data = block_bytes(columns)
    if data is None:
        data = _pandas_bytes(columns)
    if header:
        data = header_line(list(columns)).encode("utf-8") + data
    return data


def write_block(out: IO[str], columns: Mapping[str, Array], *, header: bool) -> None:
    """Append one block of rows (and, first, the header) to the text stream ``out``."""
    _emit(out, _formatted(columns, header))


class BlockWriter:
    """Blocks formatted in a background thread, written to ``out`` in order.

    pyarrow formats without holding the GIL, so block k is formatted while
    the caller reads and computes block k+1; at most two blocks wait, so
    memory stays that of a few blocks.  Use as a context manager: leaving
    it normally writes what is pending; on an error nothing more is written.
    """

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="losscli-write")
        self.pending: deque[tuple[Future[bytes], int]] = deque()
        self.rows = 0  # data rows handed to ``out`` so far (what a failure leaves behind)

    def write(self, columns: Mapping[str, Array], *, header: bool) -> None:
        n = len(next(iter(columns.values()))) if columns else 0
        self.pending.append((self.pool.submit(_formatted, columns, header), n))
        while len(self.pending) > 2 or (self.pending and self.pending[0][0].done()):
            self._emit_next()

    def _emit_next(self) -> None:
        future, n = self.pending.popleft()
        _emit(self.out, future.result())
        self.rows += n

    def __enter__(self) -> BlockWriter:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            while kind is None and self.pending:
                self._emit_next()
        finally:
            for future, _rows in self.pending:
                future.cancel()
            self.pool.shutdown(wait=True)


def _emit(out: IO[str], data: bytes) -> None:
    """Bytes go straight to ``out.buffer`` when it has one (stdout, a text-mode file),
    after flushing what was written to ``out`` as text."""
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        buffer.write(data)
    else:
        out.write(data.decode("utf-8"))
