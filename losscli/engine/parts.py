"""Inputs that are many files: a path, a glob or a folder, cut into partitions.

Both engines read a multi-file input the same way: the sorted list of
files, each one partition, each read by the one input layer (any format it
reads), its rows numbered as the file's own.  A bad cell in a multi-file
input is reported with its file and row (``data/part-3.csv: column 'x' has
missing values in row 17``), by the local engine and the Dask workers alike.
"""

from __future__ import annotations

import contextlib
import glob as globbing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from losscli.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from losscli.io.design import TrainingData
    from losscli.io.formats import InputOptions

CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")
DATA_SUFFIXES = (".parquet", ".pq", ".arrow", ".feather", ".jsonl", ".ndjson")


def is_many(source: str) -> bool:
    """A glob or a folder (a plain path is one file, read as before)."""
    return source != "-" and (globbing.has_magic(source) or os.path.isdir(source))


@dataclass(frozen=True)
class Part:
    """One partition: a whole file."""

    path: str

    @property
    def label(self) -> str:
        return self.path


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


def partitions(files: Sequence[str]) -> list[Part]:
    """One partition per file: its rows are numbered as the file's own (1-based)."""
    return [Part(path) for path in files]


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

    with named(part, spec.many):
        table = open_any(part.path, spec.input)
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
