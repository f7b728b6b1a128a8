"""CSV input: open a path or stdin, find the columns, hand back NumPy arrays.

Nothing here knows about losses or click.  The reader takes the header
first (to resolve columns and catch duplicates before parsing the body),
then yields the body in blocks of about 2 MB of whole records, parsed by
pandas' C parser in a thread one block ahead of the consumer, so that a
100-million-row file (or stdin) needs no more memory than a small one and
parsing overlaps the consumer's work.  Every problem becomes an
:class:`InputError` that names the column, the rows (or file lines) and
the fix.
"""

from __future__ import annotations

import bz2
import csv
import fnmatch
import gzip
import io
import lzma
import math
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import IO, TYPE_CHECKING, Any, NamedTuple, TypeVar

from losscli._lazy import lazy_module
from losscli.errors import InputError, format_rows

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention; masks and indices share the alias
else:
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")

T = TypeVar("T")
PEEK_BYTES = 1 << 20
DEFAULT_BLOCK_BYTES = 2 << 20  # of CSV per parsed block: ~100k rows of two numbers
TRUE_DEFAULTS = ("y_true", "y", "target", "label")
PRED_DEFAULTS = ("y_pred", "pred", "prediction", "y_hat")
CLASS_PREFIX = "p_"
BOOL_WORDS = {"true": 1.0, "false": 0.0}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


# --------------------------------------------------------------------------- opening


def _decompress(raw: IO[bytes], kind: str) -> Any:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)
    if kind == "bz2":
        return bz2.BZ2File(raw)
    if kind == "xz":
        return lzma.LZMAFile(raw)
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        raise InputError(
            "the input is zstd-compressed, and reading it needs the zstandard package",
            "pip install zstandard, or decompress it first (zstd -d)",
        ) from None
    return zstandard.ZstdDecompressor().stream_reader(raw)


class _Tee(io.RawIOBase):
    """Reads from ``source`` and writes a copy of every byte to ``copy``."""

    def __init__(self, source: IO[bytes], copy: IO[bytes]) -> None:
        self._source, self._copy = source, copy

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        self._copy.write(data)
        return len(data)


def open_source(path: str, *, tee: IO[bytes] | None = None) -> io.BufferedReader:
    """A buffered binary stream of CSV text from a path or ``-`` (stdin).

    Compression (gzip, bzip2, xz, zstd) is recognised by its magic bytes, so
    it works on stdin and whatever the file is called.  With ``tee``, the raw
    bytes read are also copied there (stdin can then be read a second time).
    """
    try:
        raw: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a CSV file") from None
    except OSError as exc:
        raise InputError(f"cannot open {path}: {exc.strerror}") from None
    if tee is not None:
        raw = _Tee(raw, tee)  # type: ignore[assignment]
    stream: io.BufferedReader = io.BufferedReader(raw, buffer_size=PEEK_BYTES)  # type: ignore[arg-type]
    head = stream.peek(8)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            stream = io.BufferedReader(_decompress(stream, kind), buffer_size=PEEK_BYTES)
            break
    return stream


def read_header(stream: io.BufferedReader, name: str) -> list[str]:
    """Column names from the first line, without consuming the stream."""
    try:
        head = stream.peek(PEEK_BYTES)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputError(f"{name} cannot be decompressed: {exc}") from None
    if not head.strip():
        raise InputError(f"{name} is empty", "give a CSV file with a header row and data rows")
    if b"\x00" in head:
        raise InputError(
            f"{name} looks like binary data, not CSV text",
            "losscli reads CSV (optionally .gz, .bz2, .xz or .zst compressed)",
        )
    try:
        text = head.decode("utf-8-sig", errors="strict") if len(head) < PEEK_BYTES else None
        if text is None:
            text = head[: head.rfind(b"\n") + 1 or None].decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            f"{name} is not UTF-8 text", "save the file as UTF-8 CSV (or convert it with iconv)"
        ) from None
    first = next(csv.reader(io.StringIO(text)), [])
    names = [c.strip() for c in first]
    if not any(names):
        raise InputError(f"{name} has an empty header row", "the first line must name the columns")
    return names


# --------------------------------------------------------------------------- columns


class ColumnRequest(NamedTuple):
    """What the user asked for: comma lists or globs, or None for the defaults."""

    true: str | None = None
    pred: str | None = None
    weight: str | None = None
    group: str | None = None  # --by COL (losscli.evaluate): its values come back as Batch.key


@dataclass(frozen=True)
class Columns:
    """Resolved column names; ``classes`` names the prediction columns' classes."""

    true: tuple[str, ...]
    pred: tuple[str, ...]
    weight: str | None
    classes: tuple[str, ...] | None
    group: str | None = None  # the --by column; it may also be the target column

    def describe(self, role: str) -> str:
        """'column 'y_pred'' or 'columns 'p_a', 'p_b'' for messages."""
        names = {"y_true": self.true, "y_pred": self.pred, "weight": (self.weight or "",)}[role]
        quoted = ", ".join(f"'{n}'" for n in names)
        return f"column {quoted}" if len(names) == 1 else f"columns {quoted}"


def _select(spec: str, header: Sequence[str], flag: str) -> tuple[str, ...]:
    """Comma-separated names and globs, globs expanded in file order."""
    chosen: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if any(ch in part for ch in "*?["):
            matches = [h for h in header if fnmatch.fnmatchcase(h, part)]
            if not matches:
                raise InputError(
                    f"{flag} {part!r} matches no column",
                    f"the columns are: {', '.join(header)}",
                )
            chosen.extend(m for m in matches if m not in chosen)
        elif part in header:
            chosen.append(part)
        else:
            raise InputError(
                f"no column named {part!r} (from {flag})",
                f"the columns are: {', '.join(header)}",
            )
    if not chosen:
        raise InputError(f"{flag} names no column")
    return tuple(chosen)


def resolve_columns(header: Sequence[str], request: ColumnRequest) -> Columns:
    """Apply the SPEC's defaults: y_true/y/target/label, y_pred/pred/…, p_<class>."""
    two = len(header) == 2
    if request.pred:
        pred = _select(request.pred, header, "--pred")
    elif found := next((c for c in PRED_DEFAULTS if c in header), None):
        pred = (found,)
    elif prefixed := tuple(h for h in header if h.startswith(CLASS_PREFIX) and len(h) > 2):
        pred = prefixed
    elif two:
        pred = (header[1],)
    else:
        raise InputError(
            "no prediction column found (looked for y_pred, pred, prediction, y_hat, p_<class>)",
            f"name it with --pred; the columns are: {', '.join(header)}",
        )
    if request.true:
        true = _select(request.true, header, "--true")
    elif found := next((c for c in TRUE_DEFAULTS if c in header), None):
        true = (found,)
    elif two:
        true = (header[0],)
    else:
        raise InputError(
            "no target column found (looked for y_true, y, target, label)",
            f"name it with --true; the columns are: {', '.join(header)}",
        )
    weight = _select(request.weight, header, "--weight")[0] if request.weight else None
    group = _select(request.group, header, "--by")[0] if request.group else None
    used = [*true, *pred, *([weight] if weight else []), *([group] if group else [])]
    for name in set(used):
        if header.count(name) > 1:
            raise InputError(
                f"the header names column {name!r} {header.count(name)} times",
                "rename the duplicates so that each column in use has one name",
            )
    overlap = [c for c in true if c in pred] + ([weight] if weight in (*true, *pred) else [])
    if overlap:
        raise InputError(f"column {overlap[0]!r} is used for two roles")
    classes: tuple[str, ...] | None = None
    if len(pred) > 1:
        strip = all(p.startswith(CLASS_PREFIX) for p in pred)
        classes = tuple(p[len(CLASS_PREFIX) :] if strip else p for p in pred)
    return Columns(true, pred, weight, classes, group)


# --------------------------------------------------------------------------- body


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_QUOTE = b'"'


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
    return InputError(f"{name} is not valid CSV: {msg.strip().splitlines()[-1]}")


def _ragged(name: str, line: int, saw: int, want: int) -> InputError:
    return InputError(
        f"{name}: line {line} has {saw} fields but the header has {want} (ragged rows)",
        "every row needs one value per column; quote values that contain commas",
    )


def _read_error(exc: BaseException, name: str) -> BaseException:
    if isinstance(exc, BrokenPipeError):
        return exc
    return InputError(f"{name} cannot be read: {exc}")


def _header_record(stream: io.BufferedReader, name: str) -> tuple[list[str], int]:
    """Consume the header record; return its names (stripped) and its line count."""
    try:
        raw = stream.readline()
        while raw.count(_QUOTE) % 2 and (more := stream.readline()):
            raw += more
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text", "save the file as UTF-8 CSV") from None
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise _read_error(exc, name) from None
    if not raw.strip():
        raise InputError(f"{name} is empty", "give a CSV file with a header row and data rows")
    names = [c.strip() for c in next(csv.reader(io.StringIO(text)), [])]
    return names, max(1, raw.count(b"\n"))


def _frame_names(header: Sequence[str]) -> list[str]:
    """Header names as pandas would make them unique: blank -> 'Unnamed: i', 'a', 'a.1'."""
    out: list[str] = []
    for i, raw in enumerate(header):
        base = raw or f"Unnamed: {i}"
        name, k = base, 0
        while name in out:
            k += 1
            name = f"{base}.{k}"
        out.append(name)
    return out


def _blocks(stream: io.BufferedReader, name: str, block_bytes: int) -> Iterator[bytes]:
    """The body as runs of whole records of about ``block_bytes`` bytes each.

    A block is ``block_bytes`` bytes and the rest of its last line.  A newline
    inside a quoted field ends no record; with CSV quoting (a quote inside
    quotes is doubled) a line ends inside quotes exactly when the block so
    far holds an odd number of quote characters, so lines are added until
    it holds an even number.
    """
    try:
        while data := stream.read(block_bytes):
            if not data.endswith(b"\n"):
                data += stream.readline()
            if _QUOTE in data and data.count(_QUOTE) % 2:
                parts, odd = [data], True
                while odd and (line := stream.readline()):
                    parts.append(line)
                    odd ^= bool(line.count(_QUOTE) % 2)
                data = b"".join(parts)
            yield data
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise _read_error(exc, name) from None


class _WideRecord(Exception):
    """A block's first record has more fields than the header (line index, field count)."""


def _first_record_width(data: bytes) -> tuple[int, int]:
    """(0-based line, field count) of the block's first non-blank record."""
    sample = data[: 1 << 16].decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(sample))
    line = 0
    try:
        for row in reader:
            if len(row) > 1 or (row and row[0].strip()):
                return line, len(row)
            line = reader.line_num
    except csv.Error:  # pandas' parser reports it, with the line
        pass
    return 0, 0


def _parse_block(data: bytes, names: list[str]) -> tuple[pd.DataFrame, int]:
    """One block with pandas' C parser.

    ``skipinitialspace`` costs a fifth of the parse, so it is on only for
    blocks that hold a space.  Returns the frame and the block's line count
    (for error messages; NumPy counts without holding the GIL).  pandas
    reports a row wider than the header, except when it is the first: that
    one it would silently cut (or take as an index), so it is checked here.
    """
    line, width = _first_record_width(data)
    if width > len(names):
        raise _WideRecord(line, width)
    frame = pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=names,
        index_col=False,
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


def iter_frames(
    stream: io.BufferedReader,
    name: str,
    *,
    block_bytes: int | None = None,
    workers: int | None = None,
) -> Iterator[pd.DataFrame]:
    """The body as DataFrames of about ``block_bytes`` of CSV each, in file order.

    Consumes the header record (so call :func:`read_header` first, which only
    peeks), then cuts the body into blocks of whole records and parses them
    in ``workers`` threads (default :data:`PARSE_THREADS`), two blocks ahead
    of the consumer: memory stays bounded by a few blocks whatever the
    input's size, stdin included.  Column names are the stripped header
    names, made unique as pandas does.
    """
    header, header_lines = _header_record(stream, name)
    names = _frame_names(header)
    blocks = _blocks(stream, name, block_bytes or DEFAULT_BLOCK_BYTES)
    line = header_lines + 1  # the file line of the next block's first line
    seen = False
    parse = partial(_parse_block, names=names)
    for future in _pipeline(blocks, parse, workers or PARSE_THREADS):
        frame, lines = _block_result(future, name, line, len(names))
        line += lines
        if len(frame):
            seen = True
            yield frame
    if not seen:
        raise InputError(f"{name} has a header but no data rows")


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


# --------------------------------------------------------------------------- Arrow fast path


class _Numbers(NamedTuple):
    """A block whose columns in use are all finite numbers, as float64 arrays."""

    columns: dict[str, Array]
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
    pandas, whose reading :func:`to_batch` checks and reports exactly as
    before.  After a block of text (labels, say) pandas takes every block.
    """

    def __init__(self, names: list[str], used: list[str]) -> None:
        self.names, self.used = names, used
        self.arrow = _arrow_modules()

    def parse(self, data: bytes) -> tuple[_Numbers | pd.DataFrame, int]:
        line, width = _first_record_width(data)
        if width > len(self.names):
            raise _WideRecord(line, width)
        if self.arrow is not None:
            numbers = self._numbers(data)
            if numbers is not None:
                return numbers, _line_count(data)
        return _parse_block(data, self.names)

    def _numbers(self, data: bytes) -> _Numbers | None:
        assert self.arrow is not None
        pa, csv_module = self.arrow
        float64 = pa.float64()
        try:
            table = csv_module.read_csv(
                pa.py_buffer(data),
                read_options=csv_module.ReadOptions(
                    column_names=self.names, use_threads=False, block_size=len(data) + 1
                ),
                parse_options=csv_module.ParseOptions(newlines_in_values=_QUOTE in data),
                convert_options=csv_module.ConvertOptions(
                    column_types={name: float64 for name in self.used},
                    include_columns=self.used,
                ),
            )
        except pa.ArrowInvalid as exc:
            if "conversion error" in str(exc):
                self.arrow = None  # text in a column in use: pandas from now on
            return None
        columns: dict[str, Array] = {}
        for name in self.used:
            column = table.column(name)
            if column.null_count:
                return None
            values = _float64_view(column)
            if not math.isfinite(values.sum()):
                return None
            columns[name] = values
        return _Numbers(columns, table.num_rows)


def _float64_view(column: Any) -> Array:
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


def iter_batches(
    stream: io.BufferedReader,
    name: str,
    columns: Columns,
    *,
    dropna: bool,
    block_bytes: int | None = None,
    workers: int | None = None,
) -> Iterator[Batch]:
    """The body as :class:`Batch` es of about ``block_bytes`` of CSV each, in file order.

    Like :func:`iter_frames` (call :func:`read_header` first), but blocks of
    plain numbers skip pandas: see :class:`_FastPath`.
    """
    header, header_lines = _header_record(stream, name)
    names = _frame_names(header)
    used = [*columns.true, *columns.pred, *([columns.weight] if columns.weight else [])]
    if columns.group and columns.group not in used:
        used.append(columns.group)  # numbers take the fast path; text falls back to pandas
    fast = _FastPath(names, used)
    if columns.classes and _numeric_names(columns.classes):
        fast.arrow = None  # numeric labels that name classes need mapping
    if workers is None:
        workers = arrow_threads() if fast.arrow is not None else PARSE_THREADS
    blocks = _blocks(stream, name, block_bytes or DEFAULT_BLOCK_BYTES)
    line = header_lines + 1  # the file line of the next block's first line
    first_row = 1
    seen = False
    for future in _pipeline(blocks, fast.parse, workers):
        payload, lines = _block_result(future, name, line, len(names))
        line += lines
        if isinstance(payload, _Numbers):
            n = payload.rows
            batch = _numbers_batch(payload, columns, first_row) if n else None
        else:
            n = len(payload)
            batch = to_batch(payload, columns, dropna=dropna, first_row=first_row) if n else None
        first_row += n
        if batch is not None:
            seen = True
            yield batch
    if not seen:
        raise InputError(f"{name} has a header but no data rows")


def _numbers_batch(numbers: _Numbers, columns: Columns, first_row: int) -> Batch:
    def take(names: Sequence[str]) -> Array:
        if len(names) == 1:
            return numbers.columns[names[0]]
        return np.column_stack([numbers.columns[name] for name in names])

    weight = numbers.columns[columns.weight] if columns.weight else None
    rows = np.arange(first_row, first_row + numbers.rows, dtype=np.int64)
    key = numbers.columns[columns.group] if columns.group else None
    return Batch(take(columns.true), take(columns.pred), weight, rows, 0, key)


# --------------------------------------------------------------------------- conversion


@dataclass(frozen=True)
class Batch:
    """One chunk of input as arrays, with the 1-based data-row number of each row."""

    y_true: Array
    y_pred: Array
    weight: Array | None
    rows: NDArray[np.int64]
    dropped: int
    key: Array | None = None  # the --by column's values (numbers, or text as objects)


class _Problems:
    """Collects per-cell problems of a chunk, reported (or dropped) together."""

    def __init__(self, n: int) -> None:
        self.missing = np.zeros(n, dtype=bool)
        self.first: tuple[str, str, Array, list[str]] | None = None

    def add(self, column: str, kind: str, mask: Array, examples: list[str]) -> None:
        if mask.any():
            self.missing |= mask
            if self.first is None:
                self.first = (column, kind, mask, examples)


def _numeric(series: pd.Series, column: str, problems: _Problems) -> Array:
    """A column as float64; blanks and text recorded as problems (NaN placeholders)."""
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    if series.dtype.kind in "if":
        values = series.to_numpy(dtype=np.float64)
        problems.add(column, "missing values", np.isnan(values), [])
        return values
    numbers = pd.to_numeric(series.astype(str).str.strip(), errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    blank = series.isna().to_numpy()
    text = np.isnan(values) & ~blank
    examples = [repr(v) for v in series[text].head(3)]
    problems.add(column, "non-numeric values", text, examples)
    problems.add(column, "missing values", blank, [])
    return values


def _labels(
    series: pd.Series, column: str, classes: tuple[str, ...] | None, problems: _Problems
) -> Array:
    """Targets: numbers, true/false, or class names matching the prediction columns."""
    blank = series.isna().to_numpy()
    if series.dtype.kind in "ifb":
        if classes and _numeric_names(classes):
            lookup: dict[object, float] = {float(c): float(i) for i, c in enumerate(classes)}
            return _names_to_index(
                series.astype(np.float64), blank, lookup, classes, column, problems
            )
        values = series.to_numpy(dtype=np.float64)
        problems.add(column, "missing values", blank, [])
        return values
    text = series.astype(str).str.strip()
    words = text.str.lower()
    if words[~blank].isin(list(BOOL_WORDS)).all():
        problems.add(column, "missing values", blank, [])
        return words.map(BOOL_WORDS).to_numpy(dtype=np.float64, na_value=np.nan)
    if classes:
        lookup = {name: float(i) for i, name in enumerate(classes)}
        return _names_to_index(text, blank, lookup, classes, column, problems)
    return _numeric(series, column, problems)


def _numeric_names(classes: tuple[str, ...]) -> bool:
    """Class names like '1','2','3' (but not '0'..'K-1') make numeric labels names."""
    if not all(re.fullmatch(r"-?\d+", c) for c in classes):
        return False
    return [int(c) for c in classes] != list(range(len(classes)))


def _names_to_index(
    labels: pd.Series,
    blank: NDArray[np.bool_],
    lookup: dict[object, float],
    classes: tuple[str, ...],
    column: str,
    problems: _Problems,
) -> Array:
    """Class labels to indices; a label that names no class is an error."""
    values = labels.map(lookup).to_numpy(dtype=np.float64, na_value=np.nan)
    unknown = np.isnan(values) & ~blank
    if unknown.any():
        bad = ", ".join(repr(v) for v in labels[unknown].head(3))
        raise InputError(
            f"column {column!r} has labels that match no prediction column ({bad})",
            f"the classes are {', '.join(classes)}; "
            f"labels may be class names or indices 0…{len(classes) - 1}",
        )
    problems.add(column, "missing values", blank, [])
    return values


def _clean_batch(frame: pd.DataFrame, columns: Columns, first_row: int) -> Batch | None:
    """The common case in one pass per column: numbers only, every one finite.

    None when any column in use holds text, labels to map, blanks or
    non-finite values; :func:`to_batch` then finds and reports them.
    Single columns are taken without a copy; one column per class comes from
    one ``to_numpy`` of the frame, five times faster than stacking columns.
    """
    if columns.classes and _numeric_names(columns.classes):
        return None
    weight_col = [columns.weight] if columns.weight else []
    kinds = frame.dtypes
    if any(kinds[name].kind not in "if" for name in (*columns.true, *columns.pred, *weight_col)):
        return None
    if len(columns.pred) > 1 and all(dtype.kind in "if" for dtype in kinds):
        table = frame.to_numpy(dtype=np.float64)
        # A sum is finite only if every term is (an overflowing sum of finite
        # terms, or a blank in a column not in use, just takes the careful path).
        if not math.isfinite(table.sum()):
            return None
        where = {name: i for i, name in enumerate(frame.columns)}

        def take(names: Sequence[str]) -> Array:
            at = [where[name] for name in names]
            if len(at) == 1:
                return table[:, at[0]]
            if at == list(range(at[0], at[0] + len(at))):
                return table[:, at[0] : at[0] + len(at)]
            return table[:, at]

        y_true, y_pred = take(columns.true), take(columns.pred)
        weight = take(weight_col) if weight_col else None
    else:
        used = [*columns.true, *columns.pred, *weight_col]
        arrays = {name: frame[name].to_numpy(dtype=np.float64) for name in used}
        if not all(math.isfinite(arrays[n].sum()) for n in used if kinds[n].kind == "f"):
            return None

        def take(names: Sequence[str]) -> Array:
            if len(names) == 1:
                return arrays[names[0]]
            return np.column_stack([arrays[name] for name in names])

        y_true, y_pred = take(columns.true), take(columns.pred)
        weight = arrays[columns.weight] if columns.weight else None
    rows = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    if columns.group is None:
        return Batch(y_true, y_pred, weight, rows, 0)
    key = frame[columns.group]
    if key.isna().any():
        return None  # to_batch reports (or drops) the missing group values
    return Batch(y_true, y_pred, weight, rows, 0, _group_values(key))


def to_batch(frame: pd.DataFrame, columns: Columns, *, dropna: bool, first_row: int) -> Batch:
    """Convert one chunk; report (or with ``dropna`` drop) missing and text cells."""
    if (clean := _clean_batch(frame, columns, first_row)) is not None:
        return clean
    n = len(frame)
    problems = _Problems(n)
    if len(columns.true) == 1:
        y_true = _labels(frame[columns.true[0]], columns.true[0], columns.classes, problems)
    else:
        y_true = np.column_stack([_numeric(frame[c], c, problems) for c in columns.true])
    preds = [_numeric(frame[c], c, problems) for c in columns.pred]
    y_pred = preds[0] if len(preds) == 1 else np.column_stack(preds)
    weight = _numeric(frame[columns.weight], columns.weight, problems) if columns.weight else None
    key = None
    if columns.group:
        series = frame[columns.group]
        problems.add(columns.group, "missing values", series.isna().to_numpy(), [])
        key = _group_values(series)
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    dropped = 0
    if problems.first is not None:
        if not dropna:
            column, kind, mask, examples = problems.first
            where = format_rows([int(r) for r in rows[mask][:5]], int(mask.sum()))
            eg = f" (e.g. {', '.join(examples)})" if examples else ""
            raise InputError(
                f"column {column!r} has {kind} in {where}{eg}",
                "use --dropna to skip such rows",
            )
        keep = ~problems.missing
        dropped = int(n - keep.sum())
        y_true, y_pred, rows = y_true[keep], y_pred[keep], rows[keep]
        weight = weight[keep] if weight is not None else None
        key = key[keep] if key is not None else None
    _check_finite(y_true, columns.true, rows)
    _check_finite(y_pred, columns.pred, rows)
    if weight is not None and columns.weight:
        _check_finite(weight, (columns.weight,), rows)
    return Batch(y_true, y_pred, weight, rows, dropped, key)


def _group_values(series: pd.Series) -> Array:
    """The --by column's values: float64 for numbers, stripped text otherwise."""
    if series.dtype.kind in "ifb":
        return series.to_numpy(dtype=np.float64)
    return series.astype(str).str.strip().to_numpy(dtype=object)


def _check_finite(values: Array, names: tuple[str, ...], rows: NDArray[np.int64]) -> None:
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
