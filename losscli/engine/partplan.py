"""Where a file is cut into partitions: on record boundaries, the way Dask cuts them.

Dask's ``read_csv`` reads byte ranges of ``blocksize`` bytes, each moved on
to the next line end (``dask.bytes.read_bytes(path, delimiter=b"\\n")``), and
``read_parquet`` one partition per row group or run of row groups.  This
module does the same, with two refinements that make the Dask engine's numbers
equal the local engine's:

* a CSV is cut where the local reader's own blocks end.  The local reader
  parses ``block_bytes`` (2 MB) and the rest of the line at a time; the
  client finds those block ends with one short read at each (``seek`` to
  ``p + block_bytes − 1``, then to the next ``\\n``) and groups whole blocks
  into partitions of about ``size`` bytes.  Every partition is then parsed
  in exactly the blocks the local engine parses, so its per-block totals,
  and the ``fsum`` of them, are the local engine's to the bit.
* the header is read once, here, and handed to every byte range
  (:class:`~losscli.engine.parts.CsvHeader`), with ``--no-header``'s first
  record and the line where the body starts.

Compressed files cannot be read from the middle (Dask refuses
``blocksize`` on them too): they are one partition each, as are Arrow IPC
and JSON Lines files, and files no larger than ``size``.
A newline inside a quoted field would put a cut inside a record: the
partitions check for that as they read and refuse it
(:mod:`losscli.engine.partread`).
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, BinaryIO

from losscli.engine.parts import CsvHeader, Part, PartKind
from losscli.errors import InputError

if TYPE_CHECKING:
    from losscli.io.formats import InputOptions

SCAN_BYTES = 1 << 16  # read at a time while looking for a line end


def plan_file(
    path: str, options: InputOptions | None, size: int, block_bytes: int | None = None
) -> list[Part]:
    """``path`` as one or more partitions of about ``size`` bytes each."""
    from losscli.io import csvblocks
    from losscli.io.formats import InputOptions, detect
    from losscli.io.source import open_source

    options = options or InputOptions()
    options.check()
    try:
        bytes_on_disk = os.path.getsize(path)
    except OSError:
        return [Part(path)]  # opening it reports the problem, as the local engine does
    if bytes_on_disk <= size:
        return [Part(path)]
    opened = open_source(path)
    try:
        kind = detect(opened, options)
        compressed = opened.compression is not None
    finally:
        opened.close()
    if kind == "parquet" and not compressed:
        return _row_groups(path, size)
    if kind in ("csv", "tsv") and not compressed:
        block = block_bytes or options.block_bytes or csvblocks.DEFAULT_BLOCK_BYTES
        return _byte_ranges(path, options, kind, size, block)
    return [Part(path)]


def _byte_ranges(
    path: str, options: InputOptions, kind: str, size: int, block_bytes: int
) -> list[Part]:
    """Runs of the local reader's blocks, about ``size`` bytes each."""
    from losscli.io.formats import READERS, DelimitedReader
    from losscli.io.source import open_source

    opened = open_source(path)
    try:
        reader = READERS[kind](opened, options)  # the header, by the one reader
        assert isinstance(reader, DelimitedReader)
        body_start = opened.stream.tell()
        names, delimiter = reader.names, reader.delimiter
        first_line, prefix = reader.first_line, reader.prefix
    finally:
        opened.close()
    header = CsvHeader(tuple(names), delimiter, body_start, first_line, prefix)
    end = os.path.getsize(path)
    cuts = [body_start]
    with open(path, "rb") as f:
        at = body_start
        while at < end:
            at = _block_end(f, at, block_bytes, end)
            if at - cuts[-1] >= size or at >= end:
                cuts.append(at)
    if len(cuts) <= 2:
        return [Part(path)]
    count = len(cuts) - 1
    return [
        Part(
            path,
            PartKind.BYTES,
            start=a,
            stop=b,
            first_row=1 if k == 0 else None,
            first_line=first_line if k == 0 else None,
            header=header,
            index=k,
            count=count,
        )
        for k, (a, b) in enumerate(itertools.pairwise(cuts))
    ]


def _block_end(f: BinaryIO, at: int, block_bytes: int, end: int) -> int:
    """Where the local reader's block that starts at ``at`` ends: ``block_bytes``
    bytes, then through the next ``\\n`` (:func:`losscli.io.csvblocks._blocks`)."""
    last = at + block_bytes - 1  # the block's last byte if it ends on a line end
    if last >= end - 1:
        return end
    f.seek(last)
    scanned = last
    while chunk := f.read(SCAN_BYTES):
        found = chunk.find(b"\n")
        if found >= 0:
            return scanned + found + 1
        scanned += len(chunk)
    return end


def _row_groups(path: str, size: int) -> list[Part]:
    """Runs of consecutive row groups of about ``size`` uncompressed bytes each."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError):
        return [Part(path)]  # the reader reports it, as the local engine does
    groups = meta.num_row_groups
    if groups < 2:
        return [Part(path)]
    runs: list[tuple[int, int, int]] = []  # (first group, one past the last, first row)
    first, row, weight, rows_before = 0, 1, 0, 1
    for g in range(groups):
        group = meta.row_group(g)
        weight += group.total_byte_size
        rows_before += group.num_rows
        if weight >= size or g == groups - 1:
            runs.append((first, g + 1, row))
            first, row, weight = g + 1, rows_before, 0
    if len(runs) < 2:
        return [Part(path)]
    if sum(meta.row_group(g).num_rows for g in range(groups)) != meta.num_rows:
        raise InputError(f"{path}: its row groups do not add up to its row count")
    return [
        Part(path, PartKind.ROW_GROUPS, a, b, first_row=r, index=k, count=len(runs))
        for k, (a, b, r) in enumerate(runs)
    ]
