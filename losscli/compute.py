"""``losscli compute`` as a library call: stream a CSV through the losses.

Pass 1 reads the input chunk by chunk and keeps, per loss, only the totals
Σsℓ and Σsn (so memory is bounded whatever the file size), the first rows
for the table, and the finite-difference check.  The gradient of a *mean*
needs Σsn, known only at the end, so per-sample output (``--grad``,
``--grad-out``, ``--reduction none`` to a file) comes from pass 2: the
cached chunk when the input was a single chunk, otherwise a second read of
the file (stdin is teed to a temporary file during pass 1 for that).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.errors import BadValues, InputError
from losscli.io import reader as dataio
from losscli.io.reader import Batch, ColumnRequest, Columns
from losscli.losses import Loss, Pointwise, Reduction, Space, check_weights, weighted_totals
from losscli.losses.base import check_weighted, reduce_loss
from losscli.losses.gradcheck import NO_CHECK, GradCheck, check_gradient
from losscli.losses.totals import Reduced, Scaled, total

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention; masks and indices share the alias
else:
    np = lazy_module("numpy", globals(), "np")


# What one output object (json, a table of every row) may hold, in bytes of memory.
# Past it the output is refused with a pointer to the streaming ones (csv, tsv,
# --grad-out) rather than exhausting memory or running for minutes.  The cost of
# a number is measured per output: ~75 B as a Python float in a JSON list; ~3 kB
# as a rich table cell (its Text, segments and layout; 20k rows × 5 cells took
# 5 s and 100 MB), so a table of every row stops near 50k cells, json near 2M.
MAX_HELD_BYTES = 150_000_000
JSON_NUMBER_BYTES = 75
TABLE_CELL_BYTES = 3_000


def check_held(what: str, numbers: int, cost: int = JSON_NUMBER_BYTES) -> None:
    """Output that is one object (json, a table) cannot stream: refuse past the budget."""
    if numbers > MAX_HELD_BYTES // cost:
        raise InputError(
            f"{what} holds every per-row number in memory: {numbers:,} here, "
            f"more than the {MAX_HELD_BYTES // cost:,} allowed",
            "use --grad-out FILE, or --format csv or tsv with --grad: they stream",
        )


@dataclass(frozen=True)
class ComputeRequest:
    """Everything ``compute`` needs; the CLI builds one from its flags."""

    source: str
    losses: tuple[Loss, ...]
    columns: ColumnRequest = field(default_factory=ColumnRequest)
    logits: bool = False
    reduction: Reduction = "mean"
    dropna: bool = False
    head_rows: int = 10
    per_sample: bool = False
    check_grad: bool = False
    table: bool = False  # the first head_rows rows are shown as a table
    block_bytes: int | None = None  # of CSV per parsed block; None = dataio.DEFAULT_BLOCK_BYTES


@dataclass(frozen=True)
class LossSummary:
    """One loss's reduced value (None for ``none``) and what the output reports."""

    loss: Loss
    space: Space
    reduction: Reduction
    value: float | None
    scale: float
    clipped: int
    check: GradCheck | None
    reduced: Reduced  # the weights' power-of-two shift (losses/totals.py)


@dataclass(frozen=True)
class Samples:
    """Per-sample output for a run of rows: per loss, sᵢℓᵢ and the scaled gradient."""

    rows: NDArray[np.int64]
    y_true: Array
    y_pred: Array
    values: list[Array]
    grads: list[Array]


@dataclass
class _Accumulator:
    """Running totals of one loss over the chunks (added exactly at the end)."""

    loss: Loss
    nums: list[Scaled] = field(default_factory=list)
    dens: list[Scaled] = field(default_factory=list)
    clipped: int = 0
    check: GradCheck = NO_CHECK


@dataclass
class ComputeReport:
    """The result of pass 1, and the door to pass 2 (:meth:`samples`)."""

    request: ComputeRequest
    columns: Columns
    n: int
    dropped: int
    summaries: list[LossSummary]
    head: Samples
    _cached: list[tuple[Batch, list[Pointwise]]] | None
    _spool: str | None

    @property
    def predictions(self) -> Space:
        """The space the run read predictions in (the JSON ``predictions`` key)."""
        spaces = {s.space for s in self.summaries}
        for space in ("logit", "probability"):
            if space in spaces:
                return space
        return "value"

    def samples(self) -> Iterator[Samples]:
        """Pass 2: per-sample values and gradients, chunk by chunk."""
        if self._cached is not None:
            for batch, pws in self._cached:
                yield self._scaled(batch, pws)
            return
        source = self._spool or self.request.source
        for batch in _batches(self.request, source)[1]:
            yield self._scaled(batch, _pointwise_all(self.request, self.columns, batch))

    def close(self) -> None:
        """Remove the stdin spool file, if any."""
        if self._spool:
            os.unlink(self._spool)
            self._spool = None

    def _scaled(self, batch: Batch, pws: list[Pointwise]) -> Samples:
        values, grads = [], []
        for summary, pw in zip(self.summaries, pws, strict=True):
            s = batch.weight
            per_sample = pw.loss if s is None else s * pw.loss
            sg = summary.reduced.weights(s)  # sᵢ·2^-k: see losses/totals.py
            if not isinstance(sg, float) and pw.grad.ndim == 2:
                sg = sg[:, None]
            with np.errstate(over="ignore", invalid="ignore"):
                grad = sg * summary.scale * pw.grad + 0.0
            if summary.reduction != "mean":
                with located(self.columns, batch):
                    check_weighted(per_sample, grad)
            values.append(per_sample)
            grads.append(grad)
        return Samples(batch.rows, batch.y_true, batch.y_pred, values, grads)


def _batches(
    request: ComputeRequest, source: str, tee: IO[bytes] | None = None
) -> tuple[Columns, Iterator[Batch]]:
    """Open the source, resolve the columns, and iterate converted chunks."""
    name = "standard input" if source == "-" else source
    stream = dataio.open_source(source, tee=tee)
    header = dataio.read_header(stream, name)
    columns = dataio.resolve_columns(header, request.columns)

    def generate() -> Iterator[Batch]:
        for batch in dataio.iter_batches(
            stream, name, columns, dropna=request.dropna, block_bytes=request.block_bytes
        ):
            if batch.weight is not None:
                with located(columns, batch):
                    check_weights(batch.weight, len(batch.rows))
            yield batch
        stream.close()

    return columns, generate()


@contextmanager
def located(columns: Columns, batch: Batch) -> Iterator[None]:
    """Turn the array positions of a BadValues into column names and file rows."""
    try:
        yield
    except BadValues as exc:
        raise exc.locate(columns.describe(exc.role), batch.rows) from None


def _pointwise_all(request: ComputeRequest, columns: Columns, batch: Batch) -> list[Pointwise]:
    with located(columns, batch):
        return [
            loss.pointwise(batch.y_true, batch.y_pred, logits=request.logits)
            for loss in request.losses
        ]


def _spool_file(request: ComputeRequest) -> IO[bytes] | None:
    """stdin cannot be read twice: copy it aside while pass 1 reads it."""
    if request.source == "-" and request.per_sample:
        try:
            return tempfile.NamedTemporaryFile(prefix="losscli-stdin-", delete=False)
        except OSError as exc:  # no writable temporary folder (tempfile tried them all)
            raise InputError(
                f"per-row output reads standard input twice, and it cannot be copied aside: "
                f"{exc.strerror or exc}",
                "set TMPDIR to a writable folder, or give the input as a FILE",
            ) from None
    return None


def run_compute(request: ComputeRequest) -> ComputeReport:
    """Pass 1: totals, the first rows, and the gradient check."""
    for loss in request.losses:
        loss.check_reduction(request.reduction)
    spool = _spool_file(request)
    try:
        return _pass_one(request, spool)
    except BaseException:
        if spool is not None:
            spool.close()
            os.unlink(spool.name)
        raise


def _pass_one(request: ComputeRequest, spool: IO[bytes] | None) -> ComputeReport:
    columns, batches = _batches(request, request.source, tee=spool)
    accs = [_Accumulator(loss) for loss in request.losses]
    head: list[tuple[Batch, list[Pointwise]]] = []
    head_count = n = dropped = chunks = 0
    row_numbers = len(request.losses) * (1 + len(columns.pred)) + len(columns.pred) + 2
    cached: list[tuple[Batch, list[Pointwise]]] = []
    for batch in batches:
        chunks += 1
        pws = _pointwise_all(request, columns, batch)
        n += len(batch.rows)
        dropped += batch.dropped
        for acc, pw in zip(accs, pws, strict=True):
            num, den = weighted_totals(pw, batch.weight)
            acc.nums.append(num)
            acc.dens.append(den)
            acc.clipped += pw.clipped
            if request.check_grad:
                with located(columns, batch):
                    check = check_gradient(
                        acc.loss,
                        batch.y_true,
                        batch.y_pred,
                        logits=request.logits,
                        weight=batch.weight,
                    )
                acc.check = acc.check.merge(check)
        if head_count < request.head_rows:
            head.append((batch, pws))
            head_count += len(batch.rows)
            if request.table:  # its cells cost memory and time: see TABLE_CELL_BYTES
                check_held("--grad with --format table", head_count * row_numbers, TABLE_CELL_BYTES)
        cached = [(batch, pws)] if chunks == 1 else []
    if n == 0:
        raise InputError("no rows left to compute on after --dropna")
    summaries = [_summarise(acc, request) for acc in accs]
    spool_name = None
    if spool is not None:
        spool.close()
        spool_name = spool.name
    report = ComputeReport(
        request=request,
        columns=columns,
        n=n,
        dropped=dropped,
        summaries=summaries,
        head=Samples(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), [], []),
        _cached=cached if chunks == 1 else None,
        _spool=spool_name,
    )
    if report._cached is not None and spool_name:
        report.close()
    report.head = _head(report, head, request.head_rows)
    return report


def _summarise(acc: _Accumulator, request: ComputeRequest) -> LossSummary:
    loss, reduction = acc.loss, request.reduction
    value, scale, reduced = reduce_loss(loss, total(acc.nums), total(acc.dens), reduction)
    check = None
    if request.check_grad:
        c = acc.check
        check = GradCheck(reduced.scaled(c.max_abs * scale), c.max_rel, c.compared, c.skipped)
    return LossSummary(
        loss, loss.space(request.logits), reduction, value, scale, acc.clipped, check, reduced
    )


def _head(report: ComputeReport, head: list[tuple[Batch, list[Pointwise]]], limit: int) -> Samples:
    """The first ``limit`` rows, scaled like the final gradient."""
    parts = [report._scaled(batch, pws) for batch, pws in head]
    if not parts:
        return report.head

    def cat(arrays: list[Array]) -> Array:
        return np.concatenate(arrays)[:limit]

    return Samples(
        rows=cat([p.rows for p in parts]),
        y_true=cat([p.y_true for p in parts]),
        y_pred=cat([p.y_pred for p in parts]),
        values=[cat([p.values[i] for p in parts]) for i in range(len(report.summaries))],
        grads=[cat([p.grads[i] for p in parts]) for i in range(len(report.summaries))],
    )
