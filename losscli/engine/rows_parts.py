"""Per-row output of ``compute`` over partitions: pass 2, with the whole input's totals.

The gradient of a mean is cᵢ = sᵢ/Σsn · ∂ℓᵢ/∂ŷᵢ: its normaliser is the whole
input's, known only once every partition's pass 1 is merged.  So, as for one
file, per-row output is a second pass: every partition is read again (on its
worker) and scaled by the merged :class:`~losscli.compute.LossSummary` s —
the same kernels and the same ``_scaled`` as the local engine's pass 2, hence
the same bytes.  The partitions know their first rows by then (each one's
row count came back with pass 1), so the ``row`` column is the file's.

Two ways out:

* gathered in order (``--grad``, ``--reduction none``, ``--grad-out FILE``):
  partition order is file order then row order; the client holds one
  partition's rows at a time while the workers run a few partitions ahead;
* ``--grad-out DIR/``: every worker writes its partition's CSV itself,
  ``DIR/part-00000.csv`` … (the same header in each), to a hidden temporary
  name; the client renames them all once every partition has succeeded —
  together with the command's other outputs (``losscli.io.atomic``) — so a
  failed run leaves no partial file.  Older ``part-*.csv`` files past the
  new count are removed then, so the folder holds exactly this run's output.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from losscli.engine.parts import Part, Runner, on_part
from losscli.errors import InputError, NoRows

if TYPE_CHECKING:
    from losscli.compute import ComputeReport, ComputeRequest, Samples

# (report, samples, separator) -> lines: the CLI's CSV writer, passed in (the engine
# never imports the CLI); a module-level function, so it pickles by name
LineWriter = Callable[["ComputeReport", Iterable["Samples"], str], Iterator[str]]
PART_NAME = "part-{:05d}.csv"
_PART_FILE = re.compile(r"part-(\d{5,})\.csv")


def _part_samples(report: ComputeReport, part: Part, many: bool) -> list[Samples]:
    """Pass 2 over one partition (on a worker): its rows, scaled by the merged totals."""
    from losscli.compute import _batches, _located_scaled, _pointwise_all

    request = report.request

    def read(located: Part) -> list[Samples]:
        _, batches = _batches(request, located, phase=2)
        out = []
        for batch in batches:
            pws = _pointwise_all(request, report.columns, batch)
            out.append(_located_scaled(report.summaries, report.columns, batch, pws))
        return out

    try:
        return on_part(part, many, read)
    except NoRows:
        if part.count == 1:
            raise
        return []  # a partition of only blank lines (its file has rows elsewhere)


def _write_part(report: ComputeReport, part: Part, many: bool, path: str, lines: LineWriter) -> int:
    """One partition's per-row CSV at ``path`` (a temporary name); its row count."""
    chunks = _part_samples(report, part, many)
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            for line in lines(report, chunks, ","):
                handle.write(line)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return sum(len(c.rows) for c in chunks)


@dataclass(frozen=True)
class PartRows:
    """How pass 2 reaches the partitions of a merged report (its ``part_rows``)."""

    runner: Runner
    request: ComputeRequest  # as the workers have it (no progress callback)
    parts: tuple[Part, ...]  # with their first rows
    many: bool

    def _sent(self, report: ComputeReport) -> ComputeReport:
        """The report as a worker needs it: the merged totals, not this object or the head."""
        return replace(report, request=self.request, part_rows=None)

    def samples(self, report: ComputeReport) -> Iterator[Samples]:
        """Every row's output, partition by partition, in order."""
        sent, k = self._sent(report), len(self.parts)
        for chunks in self.runner.stream(_part_samples, [sent] * k, self.parts, [self.many] * k):
            yield from chunks

    def write_folder(self, report: ComputeReport, folder: str, lines: LineWriter) -> int:
        """Each partition's per-row CSV written by its worker into ``folder``; the rows."""
        sent, k = self._sent(report), len(self.parts)
        token = secrets.token_hex(4)
        temps = [os.path.join(folder, f".{PART_NAME.format(i)}.{token}.part") for i in range(k)]
        try:
            counts = self.runner.map(
                _write_part, [sent] * k, self.parts, [self.many] * k, temps, [lines] * k
            )
        except BaseException:
            _remove(temps)
            raise
        _commit(folder, temps)
        return sum(counts)


def is_folder_target(path: str | None) -> bool:
    """``--grad-out DIR/`` (a trailing slash, or an existing folder): one file per partition."""
    if not path or path == "-":
        return False
    return path.endswith(os.sep) or os.path.isdir(path)


def check_folder(path: str) -> None:
    """Before any work: the folder exists and is writable, or its parent does (it is
    created only when the rows are written, so a failed run leaves no new folder)."""
    folder = path.rstrip(os.sep) or os.sep
    where = folder if os.path.isdir(folder) else os.path.dirname(os.path.abspath(folder))
    if not os.path.isdir(where):
        raise InputError(
            f"cannot write {path}: the folder {where} does not exist",
            "create it first, or give another folder",
        )
    if not os.access(where, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {path}: the folder {where} is not writable")


@contextlib.contextmanager
def _folder(path: str) -> Iterator[str]:
    """The output folder, created if missing — and removed again if the writing fails."""
    folder = path.rstrip(os.sep) or os.sep
    check_folder(path)
    made = not os.path.isdir(folder)
    if made:
        try:
            os.mkdir(folder)
        except OSError as exc:
            raise InputError(f"cannot create the folder {path}: {exc.strerror}") from None
    try:
        yield folder
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only if empty: nothing of the run is left
        raise


def write_folder(report: ComputeReport, path: str, lines: LineWriter) -> int:
    """``--grad-out DIR/``: per-partition files (one, part-00000.csv, for a single input)."""
    with _folder(path) as folder:
        part_rows: PartRows | None = report.part_rows
        if part_rows is not None:
            return part_rows.write_folder(report, folder, lines)
        from losscli.compute import samples

        temp = os.path.join(folder, f".{PART_NAME.format(0)}.{secrets.token_hex(4)}.part")
        try:
            with open(temp, "w", encoding="utf-8", newline="") as handle:
                for line in lines(report, samples(report), ","):
                    handle.write(line)
        except BaseException:
            _remove([temp])
            raise
        _commit(folder, [temp])
        return report.n


def _remove(paths: Sequence[str]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            os.unlink(p)


def _commit(folder: str, temps: Sequence[str]) -> None:
    """Rename the temporary files into place (with the command's other outputs), and
    remove older part files beyond them."""
    from losscli.io.atomic import stage

    stale = [
        os.path.join(folder, name)
        for name in os.listdir(folder)
        if (m := _PART_FILE.fullmatch(name)) and int(m.group(1)) >= len(temps)
    ]
    for i, temp in enumerate(temps):
        target = os.path.join(folder, PART_NAME.format(i))
        stage(temp, target, target)
    _remove(stale)
