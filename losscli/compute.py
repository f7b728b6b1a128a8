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

import math
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
from losscli.losses.gradcheck import NO_CHECK, GradCheck, check_gradient

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention; masks and indices share the alias
else:
    np = lazy_module("numpy", globals(), "np")


# Per-row numbers one output object may gather (json, a table of every row): about
# 150 MB as Python floats.  Past it the output is refused with a pointer to the
# streaming ones (csv, tsv, --grad-out) rather than exhausting memory.
MAX_HELD_NUMBERS = 2_000_000


def check_held(what: str, numbers: int) -> None:
    """Output that is one object (json, a table) cannot stream: refuse past the budget."""
    if numbers > MAX_HELD_NUMBERS:
        raise InputError(
            f"{what} holds every per-row number in memory: {numbers:,} here, "
            f"more than the {MAX_HELD_NUMBERS:,} allowed",
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
    """Running totals of one loss over the chunks (fsum-ed at the end)."""

    loss: Loss
    nums: list[float] = field(default_factory=list)
    dens: list[float] = field(default_factory=list)
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
    # per loss, the block totals (Σsℓ, Σsn) before fsum: what engine.parts merges
    partials: list[tuple[list[float], list[float]]] = field(default_factory=list)

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
            sg = 1.0 if s is None else (s if pw.grad.ndim == 1 else s[:, None])
            values.append(per_sample)
            grads.append(sg * summary.scale * pw.grad + 0.0)
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
        return tempfile.NamedTemporaryFile(prefix="losscli-stdin-", delete=False)
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
            if request.head_rows > MAX_HELD_NUMBERS:  # every row, for a table
                check_held("--grad with --format table", head_count * row_numbers)
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
        partials=[(acc.nums, acc.dens) for acc in accs],
    )
    if report._cached is not None and spool_name:
        report.close()
    report.head = _head(report, head, request.head_rows)
    return report


def _summarise(acc: _Accumulator, request: ComputeRequest) -> LossSummary:
    num, den = math.fsum(acc.nums), math.fsum(acc.dens)
    loss, reduction = acc.loss, request.reduction
    if reduction == "mean" and not den > 0:
        raise InputError(
            f"{loss.name}: the weights add up to 0, so the mean is undefined",
            "give some rows a positive weight, or use --reduction sum",
        )
    value = None if reduction == "none" else loss.reduce_value(num, den, reduction)
    scale = loss.grad_scale(num, den, reduction)
    check = None
    if request.check_grad:
        c = acc.check
        check = GradCheck(c.max_abs * scale, c.max_rel, c.compared, c.skipped)
    return LossSummary(
        loss, loss.space(request.logits), reduction, value, scale, acc.clipped, check
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
