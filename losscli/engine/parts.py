"""Inputs that are many files: a path, a glob or a folder, cut into partitions.

Both engines read a multi-file input the same way: the sorted list of
files, each CSV file one partition and each Parquet row group one, every
partition read into pandas frames indexed by the file's own 1-based data
rows.  A bad cell in a multi-file input is reported with its file and row
(``data/part-3.csv: column 'x' has missing values in row 17``), by the
local engine and by the Dask workers alike.
"""

from __future__ import annotations

import contextlib
import glob as globbing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from losscli.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")
PARQUET_SUFFIXES = (".parquet", ".pq")


def is_many(source: str) -> bool:
    """A glob or a folder (a plain path is one file, read as before)."""
    return source != "-" and (globbing.has_magic(source) or os.path.isdir(source))


@dataclass(frozen=True)
class Part:
    """One partition: a whole file, or one row group of a Parquet file.

    ``first_row`` is the 1-based row of the file where the partition starts,
    so messages give the file's own row numbers.
    """

    path: str
    row_group: int | None = None
    first_row: int = 1

    @property
    def label(self) -> str:
        return self.path if self.row_group is None else f"{self.path} (row group {self.row_group})"


def _is_parquet(path: str) -> bool:
    return path.lower().endswith(PARQUET_SUFFIXES)


def expand_inputs(source: str) -> list[str]:
    """A path, a glob or a folder as the sorted list of input files."""
    if source == "-":
        raise InputError(
            "--engine dask reads files on the workers, not standard input",
            "give a path, a glob such as 'data/*.parquet', or a folder",
        )
    if os.path.isdir(source):
        files = sorted(
            os.path.join(source, name)
            for name in os.listdir(source)
            if name.lower().endswith(CSV_SUFFIXES + PARQUET_SUFFIXES)
            and os.path.isfile(os.path.join(source, name))
        )
        if not files:
            raise InputError(
                f"the folder {source} holds no CSV or Parquet files",
                f"files must end in one of {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}",
            )
        return files
    if globbing.has_magic(source):
        files = sorted(p for p in globbing.glob(source) if os.path.isfile(p))
        if not files:
            raise InputError(
                f"the pattern {source!r} matches no file", "check the path and quoting"
            )
        return files
    if not os.path.exists(source):
        raise InputError(f"no such file: {source}")
    return [source]


def partitions(files: Sequence[str]) -> list[Part]:
    """One part per CSV file and per Parquet row group (from the file's footer)."""
    parts: list[Part] = []
    for path in files:
        if not _is_parquet(path):
            parts.append(Part(path))
            continue
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        try:
            meta = pq.ParquetFile(path).metadata
        except (OSError, ValueError) as exc:
            raise InputError(f"{path} is not a readable Parquet file ({exc})") from None
        first = 1
        for g in range(meta.num_row_groups):
            parts.append(Part(path, g, first))
            first += meta.row_group(g).num_rows
        if meta.num_row_groups == 0:
            parts.append(Part(path, None, 1))
    return parts


@contextlib.contextmanager
def named(part: Part | None, many: bool) -> Iterator[None]:
    """An input error raised inside names the partition's file (for multi-file inputs)."""
    try:
        yield
    except InputError as exc:
        if part is None or not many or exc.problem.startswith(part.path):
            raise
        raise InputError(f"{part.label}: {exc.problem}", exc.fix) from None


def part_frames(part: Part) -> Iterator[pd.DataFrame]:
    """The partition as DataFrames indexed by the file's 1-based data rows."""
    import pandas as pd

    if part.row_group is None and not _is_parquet(part.path):
        from losscli.engine.outofcore import iter_table_frames

        yield from iter_table_frames(part.path)
        return
    import pyarrow.parquet as pq

    table = pq.ParquetFile(part.path)
    if part.row_group is None:
        return
    frame = table.read_row_group(part.row_group).to_pandas()
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(part.first_row, part.first_row + len(frame))
    yield frame
