"""Reading one partition on a worker, through the one input layer.

A byte range of a CSV (:class:`CsvRange`) and a run of Parquet row groups
(:func:`open_row_groups`) are tables like any other
(:class:`losscli.io.formats.Table`): the same block parser, the same cell
rules, the same messages.  What differs is only where they start: their
``first_row`` (and, for CSV, ``first_line``) is the file's own, so a row
number in a message is the one the local engine gives.

Record boundaries: the partitions are cut at line ends
(:mod:`losscli.engine.partplan`), which are record ends unless a quoted
field holds a newline.  :class:`_Range` checks that as it reads: with CSV
quoting (a quote inside quotes is doubled) a line end lies inside quotes
exactly when an odd number of quote characters precede it since the last
record end, so a line end met with an odd count means a quoted field spans
lines — and the run is refused with a message, never parsed into wrong
records.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from losscli.engine.parts import CsvHeader, Part, PartKind
from losscli.errors import InputError

if TYPE_CHECKING:
    from losscli.io.blocks import RawBlock
    from losscli.io.formats import InputOptions, Table

QUOTE = 34  # '"'
SPANNING_FIX = (
    "--engine dask cuts CSV files at line ends: give --partition-size 0 to read each "
    "file whole, or remove the line breaks inside quoted fields"
)


class _Range(io.RawIOBase):
    """Bytes ``[start, stop)`` of a file, checked for quoted fields that span lines."""

    def __init__(self, path: str, start: int, stop: int, name: str) -> None:
        self.file = open(path, "rb")  # noqa: SIM115  (closed by close())
        self.file.seek(start)
        self.left = stop - start
        self.name_shown = name
        self.odd = False  # an odd number of quotes since the last line end outside quotes
        self.newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        data = self.file.read(min(len(buffer), self.left))
        self.left -= len(data)
        buffer[: len(data)] = data
        self._check(data)
        return len(data)

    def _check(self, data: bytes) -> None:
        lines = data.count(b"\n")
        self.newlines += lines
        if b'"' not in data:
            if self.odd and lines:
                raise self._spanning()
            return
        import numpy as np

        view = np.frombuffer(data, dtype=np.uint8)
        # uint8 wraps at 256, which keeps the parity
        parity = np.cumsum(view == QUOTE, dtype=np.uint8) & 1
        if self.odd:
            parity ^= 1
        if lines and parity[view == 10].any():
            raise self._spanning()
        self.odd = bool(parity[-1])

    def _spanning(self) -> InputError:
        return InputError(
            f"{self.name_shown} has a quoted field that spans lines (or an unpaired quote)",
            SPANNING_FIX,
        )

    def close(self) -> None:
        self.file.close()
        super().close()


class CsvRange:
    """A byte range of whole records of a CSV, parsed as the local reader parses the file."""

    def __init__(self, part: Part, options: InputOptions) -> None:
        assert part.header is not None
        self.part, self.header = part, part.header
        self.name = part.path
        self.names = list(part.header.names)
        self.rows_hint: int | None = None
        self.first_row = part.first_row or 1
        self.block_bytes = options.block_bytes
        self.raw = _Range(part.path, part.start, part.stop, part.path)
        self.stream: Any = io.BufferedReader(self.raw, buffer_size=1 << 20)

    def blocks(self, used: Sequence[int], *, numbers: bool = True) -> Iterator[RawBlock]:
        from losscli.io import csvblocks

        first = self.part.index == 0
        yield from csvblocks.read_blocks(
            self.stream,
            self.name,
            width=len(self.names),
            used=used,
            delimiter=self.header.delimiter,
            first_line=self.part.first_line or 1,
            prefix=self.header.prefix if first else b"",
            numbers=numbers,
            block_bytes=self.block_bytes,
        )

    def close(self) -> None:
        self.stream.close()


def open_row_groups(part: Part, options: InputOptions) -> Table:
    """Row groups ``[start, stop)`` of a Parquet file, by the local engine's Parquet reader
    (which reads row group by row group: the same blocks as for the whole file)."""
    from losscli.io.formats import ParquetReader
    from losscli.io.source import open_source

    reader = ParquetReader(open_source(part.path), options)
    meta = reader.file.metadata
    reader.groups = range(part.start, part.stop)
    reader.rows_hint = sum(meta.row_group(g).num_rows for g in reader.groups)
    reader.first_row = part.first_row or 1  # type: ignore[attr-defined]
    return reader


def count_before(part: Part) -> Part:
    """``part`` with its first row and line: the records before it counted.

    Only a byte range past the first lacks them; it is what :func:`~losscli.engine.parts.on_part`
    calls when a message must name a row.  The run before the partition holds
    no quoted line breaks (the earlier partitions read it without one; were one
    there, theirs would be the error reported), so each of its line ends ends
    one record, unless the line is blank (empty, or only spaces, tabs and a
    CR), which the parsers skip or not by their own rules.  So the line ends
    are counted at memory speed, and only a run with a blank line is counted
    by the parser itself (its first column), as the local engine reads it.
    """
    if part.kind is not PartKind.BYTES or part.header is None:
        return replace(part, first_row=part.first_row or 1, first_line=part.first_line or 1)
    header = part.header
    lines, blank = _line_ends(part.path, header.body_start, part.start)
    prefix_lines = header.prefix.count(b"\n")
    rows = lines + (1 if header.prefix else 0)
    if blank:
        rows = _parsed_rows(part, header)
    return replace(part, first_row=1 + rows, first_line=header.first_line + prefix_lines + lines)


_BLANK = re.compile(rb"\n[ \t\r]*\n")
_CHUNK = 8 << 20


def _line_ends(path: str, start: int, stop: int) -> tuple[int, bool]:
    """The line ends in bytes ``[start, stop)``, and whether a line there is blank."""
    count, blank = 0, False
    open_blank = True  # the line in progress is blank so far (``start`` begins a line)
    with open(path, "rb") as f:
        f.seek(start)
        left = stop - start
        while left > 0 and (chunk := f.read(min(_CHUNK, left))):
            left -= len(chunk)
            count += chunk.count(b"\n")
            if not blank:  # a leading "\n" stands for a line begun blank in earlier chunks
                blank = _BLANK.search((b"\n" if open_blank else b"") + chunk) is not None
            end = chunk.rfind(b"\n")
            tail_blank = not chunk[end + 1 :].strip(b" \t\r")
            open_blank = tail_blank if end >= 0 else open_blank and tail_blank
    return count, blank


def _parsed_rows(part: Part, header: CsvHeader) -> int:
    """The rows before ``part`` as the block parser counts them (its first column)."""
    before = replace(
        part, start=header.body_start, stop=part.start, index=0, first_line=header.first_line
    )
    return _rows_in_range(before, header)


def rows_of(part: Part) -> int:
    """The rows ``part`` itself holds, as its reader counts them (--dropna's count when
    it drops them all)."""
    if part.kind is PartKind.ROW_GROUPS:
        table = open_row_groups(part, _options())
        table.close()
        return table.rows_hint or 0
    if part.kind is PartKind.BYTES and part.header is not None:
        return _rows_in_range(part, part.header)
    raise ValueError("a whole file has no rows to count here")  # pragma: no cover


def _options(delimiter: str | None = None) -> InputOptions:
    from losscli.io.formats import InputOptions

    return InputOptions(delimiter=delimiter)


def _rows_in_range(part: Part, header: CsvHeader) -> int:
    table = CsvRange(part, _options(header.delimiter))
    rows = 0
    try:
        for block in table.blocks([0]):
            rows += block.rows
    finally:
        table.close()
    return rows
