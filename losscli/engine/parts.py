"""Inputs that are many files, or files cut into partitions: what a partition is.

A path, a glob or a folder is first the sorted list of its files
(:func:`expand_inputs`).  The local engine reads them in turn, each file
whole (one :class:`Part` per file).  The Dask engine cuts them further
(:func:`partitions` with a size, planned in :mod:`losscli.engine.partplan`):
an uncompressed CSV into byte ranges of whole records, a Parquet file into
runs of row groups.  Every partition is read by the one input layer
(:meth:`Part.open_table` is what ``losscli.io.formats.open_any`` calls;
:mod:`losscli.engine.partread`), its rows numbered as the file's own, so a
bad cell is reported with the local engine's message and row — prefixed
with its file for multi-file inputs (``data/part-3.csv: column 'x' has
missing values in row 17``) — by :func:`on_part`, which counts the rows
before a byte range only when an error must name one.
"""

from __future__ import annotations

import contextlib
import glob as globbing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from losscli.errors import InputError, NoRows

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from losscli.io.design import TrainingData
    from losscli.io.formats import InputOptions, Table

T = TypeVar("T")
DEFAULT_PARTITION_BYTES = 64_000_000  # --partition-size: Dask's read_csv blocksize (64 MB)

CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")
DATA_SUFFIXES = (".parquet", ".pq", ".arrow", ".feather", ".jsonl", ".ndjson")


def is_many(source: str) -> bool:
    """A glob or a folder (a plain path is one file, read as before)."""
    return source != "-" and (globbing.has_magic(source) or os.path.isdir(source))


class PartKind(Enum):
    """How a partition cuts its file."""

    FILE = "file"  # the whole file (any format; compressed files are always whole)
    BYTES = "bytes"  # a run of whole records of an uncompressed CSV/TSV
    ROW_GROUPS = "row groups"  # a run of a Parquet file's row groups


@dataclass(frozen=True)
class CsvHeader:
    """What the client read once from a CSV's first record, handed to every byte range."""

    names: tuple[str, ...]
    delimiter: str
    body_start: int  # byte offset of the first record after the header
    first_line: int  # file line of that record
    prefix: bytes = b""  # --no-header: the first record, already read (starts the body)


@dataclass(frozen=True)
class Part:
    """One partition: a whole file, a byte range of a CSV, or row groups of a Parquet file.

    ``first_row`` is the 1-based file row of the partition's first record, as
    the local engine numbers it; None while it is unknown (a byte range past
    the first: its rows are counted only when an error must name them, see
    :func:`on_part`).  ``first_line`` likewise, for messages that name lines.
    """

    path: str
    kind: PartKind = PartKind.FILE
    start: int = 0  # BYTES: first byte; ROW_GROUPS: first row group
    stop: int = 0  # BYTES: one past the last byte; ROW_GROUPS: one past the last group
    first_row: int | None = 1
    first_line: int | None = 1
    header: CsvHeader | None = None  # BYTES
    index: int = 0  # the partition's number within its file
    count: int = 1  # how many partitions its file has

    @property
    def label(self) -> str:
        """How messages name it: the file (rows are numbered as the file's own)."""
        return self.path

    @property
    def located(self) -> bool:
        return self.first_row is not None and self.first_line is not None

    def describe(self) -> str:
        """The file and which part of it (progress and debugging)."""
        if self.kind is PartKind.FILE:
            return self.path
        return f"{self.path} ({self.kind.value} {self.start}–{self.stop})"

    def open_table(self, options: InputOptions) -> Table:
        """The partition as a table of the one input layer (the hook of ``open_any``)."""
        from losscli.engine.partread import CsvRange, open_row_groups
        from losscli.io.formats import open_table

        if self.kind is PartKind.BYTES:
            return CsvRange(self, options)
        if self.kind is PartKind.ROW_GROUPS:
            return open_row_groups(self, options)
        return open_table(self.path, options)


@dataclass(frozen=True)
class Empty:
    """A partition left without rows (all dropped by --dropna, or only blank lines)
    while its file has others: not an error, just the rows it read."""

    rows: int


class Runner(Protocol):
    """Runs a function over partitions: in this process, or on a Dask cluster."""

    def map(self, fn: Callable[..., T], *args: Sequence[Any]) -> list[T]:
        """``fn`` on every tuple of ``args``, results in order (the earliest error raised)."""
        ...

    def stream(self, fn: Callable[..., T], *args: Sequence[Any]) -> Iterator[T]:
        """The same, one result at a time, in order (for output larger than memory)."""
        ...


class LocalRunner:
    """The local engine: one partition after the other."""

    def map(self, fn: Callable[..., T], *args: Sequence[Any]) -> list[T]:
        return list(self.stream(fn, *args))

    def stream(self, fn: Callable[..., T], *args: Sequence[Any]) -> Iterator[T]:
        for a in zip(*args, strict=True):
            yield fn(*a)


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
            if name.lower().endswith(CSV_SUFFIXES + DATA_SUFFIXES)
            and os.path.isfile(os.path.join(source, name))
        )
        if not files:
            raise InputError(
                f"the folder {source} holds no CSV or Parquet files",
                f"files must end in one of {', '.join(CSV_SUFFIXES + DATA_SUFFIXES)}",
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


def partitions(
    files: Sequence[str],
    options: InputOptions | None = None,
    size: int | None = None,
    block_bytes: int | None = None,
) -> list[Part]:
    """The partitions of ``files``, in order: each file whole, or (with ``size``) cut
    into runs of about ``size`` bytes the way Dask cuts them (see
    :mod:`losscli.engine.partplan`)."""
    if not size:
        return [Part(path) for path in files]
    from losscli.engine.partplan import plan_file

    out: list[Part] = []
    for path in files:
        out.extend(plan_file(path, options, size, block_bytes))
    return out


def on_part(part: Part, many: bool, read: Callable[[Part], T]) -> T:
    """``read(part)``; an input error names the file (for many files) and its own rows.

    A byte range past a file's first does not know its first row.  It is read
    as if it started at row 1; only when that fails are the rows and lines
    before it counted (:func:`losscli.engine.partread.count_before`: its line
    ends, or the parser's rows where a blank line is) and the partition read
    again from its true first row, so the error is the local engine's, word
    for word.
    """
    try:
        with named(part, many):
            return read(part)
    except NoRows:
        raise  # names no row: nothing to count
    except InputError:
        if part.located:
            raise
    from losscli.engine.partread import count_before

    with named(part, many):
        counted = count_before(part)
    with named(counted, many):
        return read(counted)


@contextlib.contextmanager
def named(part: Part | None, many: bool) -> Iterator[None]:
    """An input error raised inside names the partition's file (for multi-file inputs)."""
    try:
        yield
    except InputError as exc:
        if part is None or not many or exc.problem.startswith(part.path):
            raise
        raise InputError(f"{part.label}: {exc.problem}", exc.fix) from None


@dataclass(frozen=True)
class PartRequest:
    """What reading one partition for train needs (picklable, for Dask workers)."""

    target: str | None
    features: str | None
    one_hot: str | None
    dropna: bool
    classification: bool
    input: InputOptions
    many: bool


def read_part(part: Part, spec: PartRequest, sink: Any = None) -> TrainingData:
    """One file through the one input layer, errors naming the file.

    ``sink`` is read_training's (the matrix a glob shares: engine.outofcore.read_files).
    """
    from losscli.io.design import read_training
    from losscli.io.formats import open_any

    def read(located: Part) -> TrainingData:
        table = open_any(located, spec.input)
        try:
            return read_training(
                table,
                target=spec.target,
                features=spec.features,
                one_hot=spec.one_hot,
                dropna=spec.dropna,
                classification=spec.classification,
                sink=sink,
            )
        finally:
            table.close()

    return on_part(part, spec.many, read)


def part_request(request: Any, *, classification: bool, many: bool) -> PartRequest:
    # --one-hot: every file reads its own categories, merged by engine.part_designs
    return PartRequest(
        request.target,
        request.features,
        request.one_hot,
        request.dropna,
        classification,
        request.input,
        many,
    )


def merge_classes(
    sets: Sequence[tuple[str, ...] | None], target: str
) -> tuple[tuple[str, ...], list[NDArray[np.int64]]]:
    """The classes of every part together, sorted as the one label normaliser sorts them,
    and per part the map from its class indices to the merged ones."""
    import numpy as np

    from losscli.io.labels import encode_classes

    parts = []
    for names in sets:
        names = names or ()
        try:
            parts.append(np.array([float(n) for n in names], dtype=np.float64))
        except ValueError:
            parts.append(np.array(names, dtype=object))
    labels = encode_classes(parts, target)
    assert labels.classes is not None
    maps, at = [], 0
    for part in parts:
        maps.append(labels.y[at : at + len(part)].astype(np.int64))
        at += len(part)
    return labels.classes, maps


def check_same_design(designs: Sequence[Any], targets: Sequence[str], files: Sequence[str]) -> None:
    """Every file must give the same features and target as the first."""
    for design, target, path in zip(designs, targets, files, strict=True):
        if design.names != designs[0].names or target != targets[0]:
            raise InputError(
                f"{path} gives features {', '.join(design.names)} and target {target!r}, "
                f"but {files[0]} gives {', '.join(designs[0].names)} and {targets[0]!r}",
                "give files with the same columns, or name them with --target and --features",
            )
