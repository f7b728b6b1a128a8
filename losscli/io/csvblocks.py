"""Delimited text (CSV, TSV, any one-character delimiter) as blocks of raw columns.

The header record is read first (whole, however long: a 1 MiB header or
a million columns is one ``readline`` and one linear split), then the body
is cut into blocks of about 2 MB of whole records and parsed one or two
blocks ahead of the consumer, so memory stays bounded whatever the input's
size (stdin included) and parsing overlaps the consumer's work.

Blocks whose columns in use are all finite numbers go through pyarrow's CSV
reader (GIL-free, two threads); any other block through pandas' C parser,
whose columns :mod:`losscli.io.blocks` then checks cell by cell.  Columns
are known by their 0-based position, never by a generated name, so a blank
or repeated header cell can never shadow a real column.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from losscli._lazy import lazy_module
from losscli.errors import InputError
from losscli.io.blocks import RawBlock
from losscli.io.source import READ_ERRORS, read_error

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")

T = TypeVar("T")
DEFAULT_BLOCK_BYTES = 2 << 20  # of CSV per parsed block: ~100k rows of two numbers
_QUOTE = b'"'
_FIELD_LIMIT = (1 << 31) - 1  # the csv module's default (128 KiB) refuses long header cells


# --------------------------------------------------------------------------- header


def _split_record(text: str, delimiter: str) -> list[str]:
    """One CSV record's fields (quotes honoured), in linear time."""
    if '"' not in text:
        return text.rstrip("\r\n").split(delimiter)
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error as exc:
        raise InputError(f"the header is not valid CSV: {exc}") from None


def read_record(stream: io.BufferedReader, name: str) -> tuple[bytes, int]:
    """The raw bytes of the first record (a quoted field may span lines) and its line count."""
    try:
        raw = stream.readline()
        while raw.count(_QUOTE) % 2 and (more := stream.readline()):
            raw += more
    except READ_ERRORS as exc:
        raise read_error(exc, name) from None
    if not raw.strip():
        raise InputError(f"{name} is empty", "give a CSV file with a header row and data rows")
    body = raw.rstrip(b"\n").rstrip(b"\r")
    if b"\r" in body and _QUOTE not in body:
        raise InputError(
            f"{name} ends its lines with a lone CR (old Mac style), not LF or CRLF",
            "convert the line ends first, e.g. tr '\\r' '\\n' < in.csv > fixed.csv",
        )
    return raw, max(1, raw.count(b"\n"))


def parse_record(raw: bytes, name: str, delimiter: str) -> list[str]:
    """A record's fields, stripped (the header's names, or a first data row)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text", "save the file as UTF-8 CSV") from None
    return [c.strip() for c in _split_record(text, delimiter)]


# --------------------------------------------------------------------------- body


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def _parser_error(exc: Exception, name: str, first_line: int) -> InputError:
    """A pandas parser error in a block whose first line is file line ``first_line``."""
    msg = str(exc)
    if m := _FIELDS.search(msg):
        want, line, saw = m.groups()
        return _ragged(name, first_line + int(line) - 1, int(saw), int(want))
    if m := _EOF_QUOTE.search(msg):
        return InputError(
            f"{name}: a quote opened near line {first_line + int(m.group(1))} is never closed",
            'close the quote, or remove the stray " character',
        )
    last = msg.strip().splitlines()[-1] if msg.strip() else type(exc).__name__
    return InputError(f"{name} is not valid CSV: {last[:200]}")


def _ragged(name: str, line: int, saw: int, want: int) -> InputError:
    return InputError(
        f"{name}: line {line} has {saw} fields but the header has {want} (ragged rows)",
        "every row needs one value per column; quote values that contain commas",
    )


def _blocks(
    stream: io.BufferedReader, name: str, block_bytes: int, prefix: bytes = b""
) -> Iterator[bytes]:
    """The body as runs of whole records of about ``block_bytes`` bytes each.

    A block is ``block_bytes`` bytes and the rest of its last line.  A newline
    inside a quoted field ends no record; with CSV quoting (a quote inside
    quotes is doubled) a line ends inside quotes exactly when the block so
    far holds an odd number of quote characters, so lines are added until
    it holds an even number.  ``prefix`` (a first record already read, for
    ``--no-header``) starts the first block.
    """
    try:
        while data := prefix + stream.read(block_bytes):
            prefix = b""
            if not data.endswith(b"\n"):
                data += stream.readline()
            if _QUOTE in data and data.count(_QUOTE) % 2:
                parts, odd = [data], True
                while odd and (line := stream.readline()):
                    parts.append(line)
                    odd ^= bool(line.count(_QUOTE) % 2)
                data = b"".join(parts)
            yield data
    except READ_ERRORS as exc:
        raise read_error(exc, name) from None


class _WideRecord(Exception):
    """A block's first record has more fields than the header (line index, field count)."""


def _first_record_width(data: bytes, delimiter: str) -> tuple[int, int]:
    """(0-based line, field count) of the block's first non-blank record."""
    sample = data[: 1 << 16].decode("utf-8", errors="replace")
    csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    line = 0
    try:
        for row in reader:
            if len(row) > 1 or (row and row[0].strip()):
                return line, len(row)
            line = reader.line_num
    except csv.Error:  # pandas' parser reports it, with the line
        pass
    return 0, 0


def _parse_block(data: bytes, width: int, delimiter: str) -> tuple[pd.DataFrame, int]:
    """One block with pandas' C parser; columns labelled 0…width−1.

    ``skipinitialspace`` costs a fifth of the parse, so it is on only for
    blocks that hold a space.  Returns the frame and the block's line count
    (for error messages; NumPy counts without holding the GIL).  pandas
    reports a row wider than the header, except when it is the first: that
    one it would silently cut (or take as an index), so it is checked here.
    """
    line, seen = _first_record_width(data, delimiter)
    if seen > width:
        raise _WideRecord(line, seen)
    frame = pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=list(range(width)),
        index_col=False,
        sep=delimiter,
        encoding="utf-8",
        skipinitialspace=b" " in data,
        low_memory=False,
        engine="c",
    )
    return frame, _line_count(data)


# Threads that parse blocks with pandas: one.  ``read_csv`` from a buffer holds
# the GIL for nearly all of its work (pandas 3.1: two threads parse two blocks in
# 1.0-1.2× the time of one), so more threads would only hold more blocks in
# memory.  The one thread still pays: it parses while the consumer computes.
PARSE_THREADS = 1


def _pipeline(
    blocks: Iterator[bytes], parse: Callable[[bytes], tuple[T, int]], workers: int
) -> Iterator[Future[tuple[T, int]]]:
    """Parse blocks in ``workers`` threads, two ahead of the consumer, in order.

    Yields each block's future: its result, or the parser's exception.
    """
    ahead = max(2, workers)  # blocks parsing while the consumer works on one
    pending: deque[Future[tuple[T, int]]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="losscli-csv") as pool:
        try:
            done = False
            while not done or pending:
                while not done and len(pending) < ahead:
                    block = next(blocks, None)
                    if block is None:
                        done = True
                    else:
                        pending.append(pool.submit(parse, block))
                if pending:
                    yield pending.popleft()
        finally:
            for future in pending:
                future.cancel()


def _block_result(future: Future[tuple[T, int]], name: str, line: int, width: int) -> tuple[T, int]:
    try:
        return future.result()
    except _WideRecord as exc:
        at, saw = exc.args
        raise _ragged(name, line + at, saw, width) from None
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text", "save the file as UTF-8 CSV") from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), 0  # type: ignore[return-value]
    except pd.errors.ParserError as exc:
        raise _parser_error(exc, name, line) from None
    except MemoryError:
        raise InputError(
            f"{name}: a block of the input does not fit in memory (a huge cell?)",
            "check the file for a runaway quote or a giant value",
        ) from None


def iter_frames(
    stream: io.BufferedReader,
    name: str,
    *,
    block_bytes: int | None = None,
    workers: int | None = None,
    delimiter: str = ",",
) -> Iterator[pd.DataFrame]:
    """The body as DataFrames (columns 0…width−1) of about ``block_bytes`` of CSV each.

    Consumes the header record, then cuts the body into blocks of whole
    records and parses them in ``workers`` threads (default
    :data:`PARSE_THREADS`), two blocks ahead of the consumer: memory stays
    bounded by a few blocks whatever the input's size, stdin included.
    """
    raw, header_lines = read_record(stream, name)
    width = len(parse_record(raw, name, delimiter))
    blocks = _blocks(stream, name, block_bytes or DEFAULT_BLOCK_BYTES)
    line = header_lines + 1  # the file line of the next block's first line
    parse = partial(_parse_block, width=width, delimiter=delimiter)
    for future in _pipeline(blocks, parse, workers or PARSE_THREADS):
        frame, lines = _block_result(future, name, line, width)
        line += lines
        if len(frame):
            yield frame


# --------------------------------------------------------------------------- Arrow fast path


class _Numbers(NamedTuple):
    """A block whose columns in use are all finite numbers, as float64 arrays."""

    columns: dict[int, Array]
    rows: int


def _arrow_modules() -> tuple[Any, Any] | None:
    """pyarrow and pyarrow.csv, or None where pyarrow is not installed."""
    try:
        import pyarrow  # type: ignore[import-untyped]
        import pyarrow.csv  # type: ignore[import-untyped]
    except ImportError:
        return None
    return pyarrow, pyarrow.csv


def load_parser() -> None:
    """Import the parser the reader will use first (for a caller that freezes imports)."""
    if _arrow_modules() is None:
        pd.read_csv  # noqa: B018  (the lazy module's first use imports pandas)


class _FastPath:
    """Blocks of plain numbers go through pyarrow's CSV reader; anything else through pandas.

    pyarrow parses without holding the GIL (two threads parse two blocks at once)
    and loads in half of pandas' import time.  It answers only for blocks
    whose columns in use are all finite numbers; a block with text, blanks,
    NaN or inf, ragged rows, or anything pyarrow declines is parsed again by
    pandas, whose columns :mod:`losscli.io.blocks` checks and reports.  After a
    block of text (labels, say) pandas takes every block.
    """

    def __init__(self, width: int, used: Sequence[int], delimiter: str, enabled: bool) -> None:
        self.width, self.used, self.delimiter = width, list(used), delimiter
        self.arrow = _arrow_modules() if enabled else None

    def parse(self, data: bytes) -> tuple[_Numbers | pd.DataFrame, int]:
        line, seen = _first_record_width(data, self.delimiter)
        if seen > self.width:
            raise _WideRecord(line, seen)
        if self.arrow is not None:
            numbers = self._numbers(data)
            if numbers is not None:
                return numbers, _line_count(data)
        return _parse_block(data, self.width, self.delimiter)

    def _parse_options(self, csv_module: Any, *, quoted: bool) -> Any:
        """Quote handling only for a block that holds a quote (a tenth of the parse)."""
        if quoted:
            return csv_module.ParseOptions(delimiter=self.delimiter, newlines_in_values=True)
        return csv_module.ParseOptions(
            delimiter=self.delimiter, quote_char=False, double_quote=False
        )

    def _numbers(self, data: bytes) -> _Numbers | None:
        assert self.arrow is not None
        pa, csv_module = self.arrow
        float64 = pa.float64()
        names = [str(i) for i in range(self.width)]
        used = [names[i] for i in self.used]
        try:
            table = csv_module.read_csv(
                pa.py_buffer(data),
                read_options=csv_module.ReadOptions(
                    column_names=names, use_threads=False, block_size=len(data) + 1
                ),
                parse_options=self._parse_options(csv_module, quoted=_QUOTE in data),
                convert_options=csv_module.ConvertOptions(
                    column_types=dict.fromkeys(used, float64), include_columns=used
                ),
            )
        except pa.ArrowInvalid as exc:
            if "conversion error" in str(exc):
                self.arrow = None  # text in a column in use: pandas from now on
            return None
        except pa.ArrowMemoryError:
            return None  # pandas tries, and reports what does not fit
        columns: dict[int, Array] = {}
        for index, key in zip(self.used, used, strict=True):
            column = table.column(key)
            if column.null_count:
                return None
            values = float64_view(column)
            with np.errstate(over="ignore", invalid="ignore"):  # thread-local: set here
                finite = math.isfinite(values.sum())
            if not finite:
                return None
            columns[index] = values
        return _Numbers(columns, table.num_rows)


def float64_view(column: Any) -> Array:
    """A null-free float64 Arrow column as NumPy, without a copy for one chunk.

    Arrow's own ``to_numpy`` imports pandas (half a second) to check for it.
    """
    parts = []
    for chunk in column.chunks:
        data = np.frombuffer(chunk.buffers()[1], dtype=np.float64)
        parts.append(data[chunk.offset : chunk.offset + len(chunk)])
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0)


def _line_count(data: bytes) -> int:
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 10))


def arrow_threads() -> int:
    """Threads for the Arrow path (it releases the GIL): the usable CPUs, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def read_blocks(
    stream: io.BufferedReader,
    name: str,
    *,
    width: int,
    used: Sequence[int],
    delimiter: str,
    first_line: int,
    prefix: bytes = b"",
    numbers: bool = True,
    block_bytes: int | None = None,
) -> Iterator[RawBlock]:
    """The body (after the header) as :class:`RawBlock` s of the ``used`` columns.

    ``numbers`` allows the Arrow path (blocks of plain numbers as float64
    arrays); without it every block is pandas columns (predict keeps each
    cell's own text, ``151`` rather than ``151.0``).
    """
    fast = _FastPath(width, used, delimiter, numbers)
    workers = arrow_threads() if fast.arrow is not None else PARSE_THREADS
    blocks = _blocks(stream, name, block_bytes or DEFAULT_BLOCK_BYTES, prefix)
    line = first_line  # the file line of the next block's first line
    for future in _pipeline(blocks, fast.parse, workers):
        payload, lines = _block_result(future, name, line, width)
        line += lines
        if isinstance(payload, _Numbers):
            if payload.rows:
                yield RawBlock(dict(payload.columns), payload.rows)
        elif len(payload):
            yield RawBlock({i: payload[i] for i in used}, len(payload))
