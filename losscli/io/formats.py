"""Input formats: which one a file is, and one reader per format.

Detection, unless ``--input-format`` forces one: the content first (Parquet
and Arrow magic bytes; a text whose first character is ``{`` is JSON Lines),
then the extension (``.parquet``/``.pq``, ``.arrow``/``.feather``/``.ipc``,
``.jsonl``/``.ndjson``, ``.tsv``/``.tab``; a ``.gz``/``.bz2``/``.xz``/``.zst``
suffix is looked through), else CSV.  Every reader turns its input into
the same things: the header's names and :class:`~losscli.io.blocks.RawBlock`
s of the columns in use, so that the cell rules, the column rules and the
error messages are the same whatever the format.

To add a format: one reader class here with ``names``, ``rows_hint``,
``blocks()`` and ``close()``, and one entry in :data:`READERS` (plus the
extension in :data:`EXTENSIONS`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol

from losscli._lazy import lazy_module
from losscli.errors import InputError
from losscli.io import INPUT_FORMATS, csvblocks
from losscli.io.blocks import RawBlock
from losscli.io.source import READ_ERRORS, Opened, copy_to_file, open_source, read_error

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zstd")
ARROW_ROWS = 1 << 16  # rows per block from Parquet and Arrow batches
_LIKELY_DELIMITERS = (";", "\t", "|")


@dataclass(frozen=True)
class InputOptions:
    """How to read the input: a forced format, the delimiter, whether row 1 is a header."""

    format: str | None = None
    delimiter: str | None = None
    header: bool = True
    block_bytes: int | None = None  # of text per parsed block; None = the reader's default

    def check(self) -> None:
        if self.format is not None and self.format not in INPUT_FORMATS:
            raise InputError(
                f"unknown input format {self.format!r}", f"use one of {', '.join(INPUT_FORMATS)}"
            )
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise InputError(
                f"the delimiter must be one character (got {self.delimiter!r})",
                "for tabs use --tab (or -d $'\\t')",
            )
        if self.delimiter in ('"', "\n", "\r"):
            raise InputError(f"{self.delimiter!r} cannot be the delimiter")


class Table(Protocol):
    """An opened input of any format."""

    name: str
    names: list[str]
    rows_hint: int | None  # the row count when the format records it

    def blocks(self, used: Sequence[int], *, numbers: bool = True) -> Iterator[RawBlock]: ...

    def close(self) -> None: ...


def _extension(source: str) -> str:
    base = source.lower()
    for suffix in COMPRESSED:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return os.path.splitext(base)[1]


def detect(opened: Opened, options: InputOptions) -> str:
    """The format of ``opened``: forced, else by content, else by extension, else CSV."""
    if options.format:
        return options.format
    head = opened.peek(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow"
    by_name = EXTENSIONS.get(_extension(opened.source))
    if by_name is not None:
        return by_name
    if opened.peek(4096).lstrip()[:1] == b"{":
        return "jsonl"
    return "csv"


def open_table(source: str, options: InputOptions, *, tee: IO[bytes] | None = None) -> Table:
    """Open ``source`` and read its header: source → format → header, ready for blocks."""
    options.check()
    opened = open_source(source, tee=tee)
    try:
        return READERS[detect(opened, options)](opened, options)
    except BaseException:
        opened.close()
        raise


# --------------------------------------------------------------------------- delimited text


class DelimitedReader:
    """CSV/TSV with any one-character delimiter (see :mod:`losscli.io.csvblocks`)."""

    def __init__(self, opened: Opened, options: InputOptions, default: str = ",") -> None:
        self.opened, self.name = opened, opened.name
        self.delimiter = options.delimiter or default
        self.block_bytes = options.block_bytes
        head = opened.peek()
        if not head.strip():
            raise InputError(
                f"{self.name} is empty", "give a CSV file with a header row and data rows"
            )
        if b"\x00" in head:
            raise InputError(
                f"{self.name} looks like binary data, not CSV text",
                "losscli reads CSV, TSV, Parquet, Arrow and JSON Lines "
                "(text optionally .gz, .bz2, .xz or .zst compressed)",
            )
        raw, lines = csvblocks.read_record(opened.stream, self.name)
        fields = csvblocks.parse_record(raw, self.name, self.delimiter)
        if len(fields) == 1 and options.delimiter is None:
            for d in _LIKELY_DELIMITERS:
                if d in fields[0]:
                    shown = "\\t" if d == "\t" else d
                    raise InputError(
                        f"{self.name} has one column and looks {shown!r}-separated, "
                        f"not {self.delimiter!r}-separated",
                        "give the delimiter: " + ("--tab" if d == "\t" else f"-d '{d}'"),
                    )
        if options.header:
            if not any(fields):
                raise InputError(
                    f"{self.name} has an empty header row", "the first line must name the columns"
                )
            self.names, self.first_line, self.prefix = fields, lines + 1, b""
        else:
            self.names = [str(i + 1) for i in range(len(fields))]
            self.first_line, self.prefix = 1, raw
        self.rows_hint: int | None = None

    def blocks(self, used: Sequence[int], *, numbers: bool = True) -> Iterator[RawBlock]:
        yield from csvblocks.read_blocks(
            self.opened.stream,
            self.name,
            width=len(self.names),
            used=used,
            delimiter=self.delimiter,
            first_line=self.first_line,
            prefix=self.prefix,
            numbers=numbers,
            block_bytes=self.block_bytes,
        )

    def close(self) -> None:
        self.opened.close()


def _tsv(opened: Opened, options: InputOptions) -> DelimitedReader:
    return DelimitedReader(opened, options, default="\t")


def _csv(opened: Opened, options: InputOptions) -> DelimitedReader:
    default = "\t" if _extension(opened.source) in (".tsv", ".tab") else ","
    return DelimitedReader(opened, options, default=default)


# --------------------------------------------------------------------------- Arrow columns


def _arrow_column(column: Any, numbers: bool) -> Any:
    """An Arrow column as a finite float64 array where it is one, else a pandas Series."""
    import pyarrow as pa  # type: ignore[import-untyped]

    kind = column.type
    if (
        numbers
        and column.null_count == 0
        and (pa.types.is_floating(kind) or pa.types.is_integer(kind))
    ):
        values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):  # a sum past float64 is fine here
            finite = bool(np.isfinite(values.sum()))
        if finite:
            return values
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
    series = column.to_pandas()
    return series.reset_index(drop=True) if isinstance(series, pd.Series) else pd.Series(series)


def _arrow_block(batch: Any, keys: Sequence[str], used: Sequence[int], numbers: bool) -> RawBlock:
    return RawBlock(
        {i: _arrow_column(batch.column(k), numbers) for i, k in zip(used, keys, strict=True)},
        batch.num_rows,
    )


class _FileBacked:
    """A path that can be read at random: the file itself, or a decompressed/spooled copy."""

    def __init__(self, opened: Opened) -> None:
        from losscli.io.source import is_regular_file

        self.opened, self.name = opened, opened.name
        self.temp: str | None = None
        if opened.compression is None and is_regular_file(opened.source):
            self.path = opened.source
        else:
            self.temp = self.path = copy_to_file(opened)

    def close(self) -> None:
        self.opened.close()
        if self.temp is not None:
            os.unlink(self.temp)
            self.temp = None


def _names(schema_names: list[str], options: InputOptions) -> list[str]:
    return schema_names if options.header else [str(i + 1) for i in range(len(schema_names))]


def _arrow_error(name: str, what: str) -> Callable[[BaseException], InputError]:
    def make(exc: BaseException) -> InputError:  # one line of Arrow's message
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return InputError(f"{name} is not a readable {what} file: {text}")

    return make


class ParquetReader(_FileBacked):
    """Parquet, streamed by row group (bounded memory), only the columns in use."""

    def __init__(self, opened: Opened, options: InputOptions) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        super().__init__(opened)
        self.error = _arrow_error(self.name, "Parquet")
        try:
            # unbuffered column reads: the whole row group is not fetched ahead
            # (a third less peak memory on 500k-row groups, no slower here)
            self.file = pq.ParquetFile(self.path, pre_buffer=False, buffer_size=1 << 20)
        except (pa.ArrowException, OSError) as exc:
            self.close()
            raise self.error(exc) from None
        self.keys = list(self.file.schema_arrow.names)
        self.names = _names(self.keys, options)
        self.rows_hint: int | None = int(self.file.metadata.num_rows)
        self.groups: Sequence[int] | None = None  # the row groups read (None: all)

    def blocks(self, used: Sequence[int], *, numbers: bool = True) -> Iterator[RawBlock]:
        import pyarrow as pa

        keys = [self.keys[i] for i in used]
        # block by block within each row group, never across one: a run of row groups
        # (a Dask partition, engine.partread) is then read in the blocks of the whole file
        groups = self.groups if self.groups is not None else range(self.file.num_row_groups)
        try:
            for group in groups:
                batches = self.file.iter_batches(
                    batch_size=ARROW_ROWS,
                    row_groups=[group],
                    columns=sorted(set(keys)),
                    use_threads=False,
                )
                for batch in batches:
                    if batch.num_rows:
                        yield _arrow_block(batch, keys, used, numbers)
        except (pa.ArrowException, OSError) as exc:
            raise self.error(exc) from None
        finally:  # give Arrow's freed decode buffers back, for the fit that follows
            pa.default_memory_pool().release_unused()


class ArrowReader(_FileBacked):
    """Arrow IPC: the file format (Feather v2) memory-mapped, or a stream as it comes."""

    def __init__(self, opened: Opened, options: InputOptions) -> None:
        import pyarrow as pa

        self.error = _arrow_error(opened.name, "Arrow IPC")
        self.stream_reader: Any = None
        self.file_reader: Any = None
        head = opened.peek(8)
        if head.startswith(b"ARROW1"):
            super().__init__(opened)
            try:
                self.file_reader = pa.ipc.open_file(pa.memory_map(self.path))
            except (pa.ArrowException, OSError) as exc:
                self.close()
                raise self.error(exc) from None
            schema = self.file_reader.schema
            self.rows_hint: int | None = sum(
                self.file_reader.get_batch(i).num_rows
                for i in range(self.file_reader.num_record_batches)
            )
        else:
            self.opened, self.name, self.temp = opened, opened.name, None
            try:
                self.stream_reader = pa.ipc.open_stream(pa.PythonFile(opened.stream, mode="r"))
            except (pa.ArrowException, OSError) as exc:
                raise self.error(exc) from None
            schema = self.stream_reader.schema
            self.rows_hint = None
        self.keys = list(schema.names)
        self.names = _names(self.keys, options)

    def _batches(self) -> Iterator[Any]:
        if self.file_reader is not None:
            for i in range(self.file_reader.num_record_batches):
                yield self.file_reader.get_batch(i)
        else:
            yield from self.stream_reader

    def blocks(self, used: Sequence[int], *, numbers: bool = True) -> Iterator[RawBlock]:
        import pyarrow as pa

        keys = [self.keys[i] for i in used]
        try:
            for batch in self._batches():
                for start in range(0, batch.num_rows, ARROW_ROWS):
                    part = batch.slice(start, ARROW_ROWS)
                    yield _arrow_block(part, keys, used, numbers)
        except (pa.ArrowException, OSError) as exc:
            raise self.error(exc) from None


# --------------------------------------------------------------------------- JSON Lines


class JsonLinesReader:
    """One JSON object per line; the first object's keys are the header."""

    def __init__(self, opened: Opened, options: InputOptions) -> None:
        self.opened, self.name = opened, opened.name
        self.block_bytes = options.block_bytes or csvblocks.DEFAULT_BLOCK_BYTES
        self.fast = True  # blocks of plain numbers through pyarrow.json, while they come
        if not opened.peek().strip():
            raise InputError(f"{self.name} is empty", "give one JSON object per line")
        stream = opened.stream
        skipped = 0
        try:
            first = stream.readline()
            while first and not first.strip():
                skipped += 1
                first = stream.readline()
        except READ_ERRORS as exc:
            raise read_error(exc, self.name) from None
        record = self._record(first, skipped + 1)
        self.keys = list(record)
        self.names = _names(self.keys, options)
        self.prefix, self.first_line = first, skipped + 1
        self.rows_hint: int | None = None

    def _record(self, line: bytes, number: int) -> dict[str, Any]:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            raise InputError(
                f"{self.name}: line {number} is not valid JSON",
                "JSON Lines needs one JSON object per line",
            ) from None
        if not isinstance(obj, dict):
            raise InputError(
                f"{self.name}: line {number} is not a JSON object",
                'JSON Lines needs one object per line, e.g. {"y_true": 1, "y_pred": 0.8}',
            )
        return obj

    def _lines(self) -> Iterator[bytes]:
        stream, data = self.opened.stream, self.prefix
        try:
            while data := data + stream.read(self.block_bytes):
                if not data.endswith(b"\n"):
                    data += stream.readline()
                yield data
                data = b""
        except READ_ERRORS as exc:
            raise read_error(exc, self.name) from None

    def _arrow(self, data: bytes, keys: Sequence[str]) -> tuple[dict[str, Any], int] | None:
        """Blocks of plain numbers through pyarrow's JSON reader (5× Python's json)."""
        import pyarrow as pa
        import pyarrow.json as pajson  # type: ignore[import-untyped]

        try:
            table = pajson.read_json(
                pa.py_buffer(data), read_options=pajson.ReadOptions(use_threads=False)
            )
        except (pa.ArrowException, ValueError):
            return None  # bad JSON, mixed types…: Python's json finds and reports it
        out = {}
        for key in keys:
            if key not in table.column_names:
                return None
            column = _arrow_column(table.column(key), True)
            if not isinstance(column, np.ndarray):
                return None
            out[key] = column
        return out, table.num_rows

    def _parse(
        self, data: bytes, first_line: int, keys: Sequence[str]
    ) -> tuple[dict[str, Any], int]:
        if self.fast and data.lstrip()[:1] == b"{":
            if (numbers := self._arrow(data, keys)) is not None:
                return numbers
            self.fast = False  # text or gaps in a column in use: Python's json from now on
        lines = data.split(b"\n")
        records = [
            self._record(line, first_line + k) for k, line in enumerate(lines) if line.strip()
        ]
        out = {}
        for key in keys:
            series = pd.Series([r.get(key) for r in records], dtype=object)
            out[key] = series.infer_objects()
        return out, len(records)

    def blocks(self, used: Sequence[int], *, numbers: bool = True) -> Iterator[RawBlock]:
        keys = [self.keys[i] for i in used]
        self.fast = numbers
        line = self.first_line
        for data in self._lines():
            parsed, rows = self._parse(data, line, keys)
            line += data.count(b"\n")
            if rows:
                yield RawBlock({i: parsed[k] for i, k in zip(used, keys, strict=True)}, rows)

    def close(self) -> None:
        self.opened.close()


READERS: dict[str, Callable[[Opened, InputOptions], Table]] = {
    "csv": _csv,
    "tsv": _tsv,
    "parquet": ParquetReader,
    "arrow": ArrowReader,
    "jsonl": JsonLinesReader,
}


# --------------------------------------------------------------------------- in memory


class FrameReader:
    """A pandas DataFrame given to the library: its columns as the header, no file."""

    name = "the DataFrame"

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.names = [str(c).strip() for c in frame.columns]
        self.rows_hint: int | None = len(frame)

    def blocks(self, used: Sequence[int], *, numbers: bool = True) -> Iterator[RawBlock]:
        for start in range(0, len(self.frame), ARROW_ROWS):
            part = self.frame.iloc[start : start + ARROW_ROWS]
            yield RawBlock({i: part.iloc[:, i].reset_index(drop=True) for i in used}, len(part))

    def close(self) -> None:
        pass


def open_any(source: Any, options: InputOptions, *, tee: IO[bytes] | None = None) -> Table:
    """A path or ``-`` (see :func:`open_table`), a pandas DataFrame, or a partition of a
    file that opens itself (:class:`losscli.engine.parts.Part`: a byte range, row groups)."""
    if isinstance(source, str):
        return open_table(source, options, tee=tee)
    if hasattr(source, "open_table"):  # hook: engine.parts.Part
        table: Table = source.open_table(options)
        return table
    if hasattr(source, "columns") and hasattr(source, "iloc"):
        return FrameReader(source)
    raise InputError(
        f"cannot read input of type {type(source).__name__}",
        "give a path, '-' for standard input, or a pandas DataFrame",
    )


def first_row(table: Table) -> int:
    """The 1-based row number of the table's first record: 1, except for a partition
    of a file (:mod:`losscli.engine.partread`), whose rows are numbered as the file's."""
    row: int = getattr(table, "first_row", 1)
    return row


def guarded_blocks(
    table: Table, used: Sequence[int], *, numbers: bool = True
) -> Iterator[RawBlock]:
    """``table.blocks``, with running out of memory while reading as a clean error.

    (A 200 MB cell, or a runaway quote that makes one record of the rest of
    the file: MemoryError and pyarrow's ArrowMemoryError, its subclass.)
    """
    blocks = table.blocks(used, numbers=numbers)
    while True:
        try:
            block = next(blocks)
        except StopIteration:
            return
        except MemoryError:
            raise InputError(
                f"{table.name}: a block of the input does not fit in memory",
                "look for a giant cell or an unclosed quote, or free some memory",
            ) from None
        yield block
