"""``losscli compute`` as a library call: stream a CSV through the losses.

Pass 1 (:func:`run_compute`) reads the input chunk by chunk and keeps, per
loss, only the totals Σsℓ and Σsn (so memory is bounded whatever the file
size), the first rows for the table, and the finite-difference check; it
returns a frozen :class:`ComputeReport`.  The gradient of a *mean* needs Σsn,
known only at the end, so per-sample output (``--grad``, ``--grad-out``,
``--reduction none`` to a file) is pass 2, :func:`samples`, which the caller
asks for explicitly (rendering never reads input): the cached chunk when the
input was a single chunk, otherwise a second read of the file.  stdin cannot
be read twice, so :func:`compute_session` tees it to a temporary file during
pass 1 and removes that file when its ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from losscli._lazy import callable_module, lazy_module
from losscli.errors import BadValues, InputError, NoRows
from losscli.evaluate import EvaluateOptions
from losscli.hazards import HazardReport, HazardScan
from losscli.io import source as sources
from losscli.io.blocks import Batch, to_batch
from losscli.io.columns import ColumnRequest, Columns, resolve_columns
from losscli.io.formats import InputOptions, first_row, guarded_blocks, open_any
from losscli.losses import Loss, Pointwise, Reduction, Space, check_weights
from losscli.losses.base import Value, check_weighted, output_totals, reduce_loss
from losscli.losses.gradcheck import NO_CHECK, GradCheck, check_gradient, check_hessian
from losscli.losses.totals import Reduced, Scaled, total

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from losscli._types import Array
    from losscli.evaluate.bootstrap import Interval
    from losscli.evaluate.tracker import Evaluation, EvaluationReport
    from losscli.fit.metrics import MetricOptions
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

    source: Any  # a path, "-" (stdin) or a pandas DataFrame
    losses: tuple[Loss, ...]
    columns: ColumnRequest = field(default_factory=ColumnRequest)
    input: InputOptions = field(default_factory=InputOptions)
    logits: bool = False
    reduction: Reduction = "mean"
    dropna: bool = False
    head_rows: int = 10
    per_sample: bool = False
    check_grad: bool = False
    table: bool = False  # the first head_rows rows are shown as a table
    hessian: bool = False  # per-sample ∂²L/∂ŷ² in pass 2 (and checked with check_grad)
    metrics: tuple[str, ...] = ()  # --metric: names in losscli.fit.metrics.METRICS
    metric_options: MetricOptions = field(default_factory=lambda: _metric_options())
    block_bytes: int | None = None  # of text per parsed block; None = the reader's default
    evaluate: EvaluateOptions = field(default_factory=EvaluateOptions)  # losscli.evaluate
    hazards: bool = False  # scan for fragile rows (losscli.hazards)
    # called after every block of either pass (the CLI's progress bar); never prints itself
    progress: Callable[[ReadProgress], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ReadProgress:
    """How far a pass has read: rows so far, and input bytes of ``total`` (None for a pipe)."""

    phase: int  # 1 = the totals, 2 = the per-sample output
    rows: int
    bytes: int
    total: int | None


class _Meter:
    """A tee target that counts the raw bytes read (and passes them on to a spool)."""

    def __init__(self, forward: IO[bytes] | None) -> None:
        self.bytes, self.forward = 0, forward

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        if self.forward is not None:
            self.forward.write(data)
        return len(data)


NO_SHIFT = Reduced(0.0, 1.0, 0)


@dataclass(frozen=True)
class LossSummary:
    """One loss's reduced value (None for ``none``) and what the output reports."""

    loss: Loss
    space: Space
    reduction: Reduction
    value: Value | None  # a tuple, one per output, for --multioutput raw
    scale: float | Array  # one factor per output column where outputs are reduced apart
    clipped: int
    check: GradCheck | None
    max_row: float = math.nan  # the largest per-row loss sᵢℓᵢ (how far --dtype moved it)
    reduced: Reduced = NO_SHIFT  # the weights' power-of-two shift (losses/totals.py)
    totals: tuple[float, float] = (math.nan, math.nan)  # (Σsℓ, Σsn), for the Hessian
    hess_check: GradCheck | None = None  # --check-grad with --hessian

    @property
    def label(self) -> str:
        """The loss's name, with the library and float type it follows: ``bce [keras, float32]``."""
        loss = self.loss
        tags = [loss.library or "", "" if loss.precision == "float64" else loss.precision]
        tags = [t for t in tags if t]
        return loss.name + (f" [{', '.join(tags)}]" if tags else "")


@dataclass(frozen=True)
class Samples:
    """Per-sample output for a run of rows: per loss, sᵢℓᵢ and the scaled gradient."""

    rows: NDArray[np.int64]
    y_true: Array
    y_pred: Array
    values: list[Array]
    grads: list[Array]
    hessians: list[Array] | None = None  # ∂²L/∂ŷᵢ², when the request asks for it


@dataclass
class _Accumulator:
    """Running totals of one loss over the chunks (added exactly at the end)."""

    loss: Loss
    nums: list[Scaled] = field(default_factory=list)
    dens: list[Scaled] = field(default_factory=list)
    outputs: list[tuple[Scaled, ...]] = field(default_factory=list)  # Σsℓ per output, by chunk
    clipped: int = 0
    check: GradCheck = NO_CHECK
    hess_check: GradCheck = NO_CHECK
    max_row: float = -math.inf


@dataclass(frozen=True)
class ComputeReport:
    """The result of pass 1; :func:`samples` is pass 2.

    ``rereads`` is where pass 2 reads the rows again (the input path, or the
    stdin copy of a :func:`compute_session`); None when the single chunk of
    rows is kept in ``cached`` instead, or when stdin was read outside a session.
    """

    request: ComputeRequest
    columns: Columns
    n: int
    dropped: int
    summaries: tuple[LossSummary, ...]
    head: Samples
    cached: tuple[tuple[Batch, tuple[Pointwise, ...]], ...] | None = field(repr=False)
    rereads: str | None = None
    signature: tuple[int, int] | None = None  # of a file pass 2 reads again (size, mtime)
    rows_read: int = 0  # by pass 1, dropped rows included: pass 2 must read as many
    # --logits given, yet every prediction is in [0, 1] (rows summing to 1): a sentence
    logits_look_like_probabilities: str | None = None
    evaluation: EvaluationReport | None = None  # baselines, intervals, groups, worst rows
    hazards: HazardReport | None = None  # --hazards
    metrics: dict[str, float | None] = field(default_factory=dict)  # --metric
    metric_intervals: dict[str, Interval | None] = field(default_factory=dict)  # with --bootstrap
    # per loss, the block totals (Σsℓ, Σsn) before fsum: what engine.compute_parts merges
    # per loss also the per-output totals of each block (multi-output regression)
    partials: tuple[tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]], ...] = ()
    # per loss, --check-grad's (gradient, Hessian) maxima before scaling: merged likewise
    checks: tuple[tuple[GradCheck, GradCheck], ...] = ()
    # hook: pass 2 over partitions (engine.rows_parts.PartRows); None = this input's own
    part_rows: Any = field(default=None, repr=False, compare=False)

    @property
    def values(self) -> dict[str, Value | None]:
        """Each loss's reduced value by its label (None for ``reduction="none"``: see samples).

        The label is the name, plus the library and float type under --compat/--dtype
        (``"bce [torch, float32]"``), as the csv/tsv ``loss`` column shows it.
        """
        return {s.label: s.value for s in self.summaries if not s.loss.shadow}

    @property
    def predictions(self) -> Space:
        """The space the run read predictions in (the JSON ``predictions`` key)."""
        spaces = {s.space for s in self.summaries}
        for space in ("logit", "probability"):
            if space in spaces:
                return space
        return "value"


def samples(report: ComputeReport) -> Iterator[Samples]:
    """Pass 2: per-sample values and gradients (scaled by the final totals), chunk by chunk.

    Lazy: nothing is read until the iterator is.  From a cached single chunk,
    or by reading the input again (partitions: on their workers, engine.rows_parts).
    """
    if report.part_rows is not None:
        yield from report.part_rows.samples(report)
        return
    if report.cached is not None:
        for batch, pws in report.cached:
            yield _located_scaled(report.summaries, report.columns, batch, pws)
        return
    again: Any = report.rereads
    if again is None:
        if isinstance(report.request.source, str):
            raise ValueError(
                "standard input was read once: run pass 1 in a compute_session() for pass 2"
            )
        again = report.request.source  # a DataFrame: read again from memory
    else:
        sources.check_unchanged(again, report.signature)
    seen = 0
    for batch in _batches(report.request, again, phase=2)[1]:
        seen += len(batch.rows) + batch.dropped
        if seen > report.rows_read:
            break
        pws = _pointwise_all(report.request, report.columns, batch)
        yield _located_scaled(report.summaries, report.columns, batch, pws)
    if seen != report.rows_read:
        second = "more" if seen > report.rows_read else f"{seen:,}"
        raise InputError(
            f"{sources.display_name(str(again))} changed while it was being read "
            f"({report.rows_read:,} rows in the first pass, {second} in the second)",
            "write the input to a file that nothing else modifies, then run again",
        )


def _located_scaled(
    summaries: tuple[LossSummary, ...],
    columns: Columns,
    batch: Batch,
    pws: tuple[Pointwise, ...],
    shown: bool = True,
) -> Samples:
    """Scaled per-sample output; when it is ``shown``, every number must be finite."""
    out = _scaled(summaries, batch, pws)
    if shown:
        with located(columns, batch):
            for value, grad in zip(out.values, out.grads, strict=True):
                check_weighted(value, grad)  # sᵢℓᵢ or a gradient past float64
    return out


def _scaled(
    summaries: tuple[LossSummary, ...], batch: Batch, pws: tuple[Pointwise, ...]
) -> Samples:
    values, grads, hessians = [], [], []
    for summary, pw in zip(summaries, pws, strict=True):
        s = batch.weight
        sg = summary.reduced.weights(s)  # sᵢ·2^-k: see losses/totals.py
        if not isinstance(sg, float) and pw.grad.ndim == 2:
            sg = sg[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            per_sample = pw.loss if s is None else s * pw.loss
            grad = sg * summary.scale * pw.grad + 0.0
        values.append(per_sample)
        grads.append(grad)
        if pw.hess is not None:  # the reduction's chain rule, with the final totals
            num, den = summary.totals  # Σsℓ·2^-k and Σsn·2^-k, matching sg = sᵢ·2^-k
            hessians.append(
                summary.loss.reduced_hessian(
                    pw, sg, num, den, summary.reduction, summary.reduced.outputs
                )
            )
    hess = hessians if len(hessians) == len(summaries) and hessians else None
    return Samples(batch.rows, batch.y_true, batch.y_pred, values, grads, hess)


def _batches(
    request: ComputeRequest, source: Any, tee: IO[bytes] | None = None, *, phase: int = 1
) -> tuple[Columns, Iterator[Batch]]:
    """Open the source, read its header, resolve the columns, and iterate typed blocks."""
    options = request.input
    if request.block_bytes:
        options = dataclasses.replace(options, block_bytes=request.block_bytes)
    meter = None
    if request.progress is not None:  # count the raw bytes through the reader's tee
        meter = _Meter(tee)
        tee = meter  # type: ignore[assignment]
    table = open_any(source, options, tee=tee)
    try:
        columns = resolve_columns(table.names, request.columns)
    except BaseException:
        table.close()
        raise
    total = _size(source) if isinstance(source, str) and source != "-" else None

    def generate() -> Iterator[Batch]:
        row = first_row(table)  # 1, or a partition's first row in its file (engine.parts)
        seen = False
        try:
            for block in guarded_blocks(table, columns.used_at):
                batch = to_batch(block, columns, dropna=request.dropna, first_row=row)
                row += block.rows
                seen = True
                if batch.weight is not None:
                    with located(columns, batch):
                        check_weights(batch.weight, len(batch.rows))
                if request.progress is not None and meter is not None:
                    # a format read without the byte tee (Parquet) shows rows, not bytes
                    size = total if meter.bytes else None
                    request.progress(ReadProgress(phase, row - 1, meter.bytes, size))
                yield batch
        finally:
            table.close()
        if not seen:
            raise NoRows(f"{table.name} has a header but no data rows")

    return columns, generate()


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def effective_logits(request: ComputeRequest, columns: Columns, loss: Loss) -> bool:
    """--logits, or prediction columns named as raw scores (logit_<class>, y_score)."""
    return request.logits or (columns.logits and loss.logit_space != "never")


@contextmanager
def located(columns: Columns, batch: Batch) -> Iterator[None]:
    """Turn the array positions of a BadValues into column names and file rows."""
    try:
        yield
    except BadValues as exc:
        raise exc.locate(columns.describe(exc.role), batch.rows) from None


def _pointwise_all(
    request: ComputeRequest, columns: Columns, batch: Batch
) -> tuple[Pointwise, ...]:
    with located(columns, batch):
        return tuple(
            loss.pointwise(
                batch.y_true,
                batch.y_pred,
                logits=effective_logits(request, columns, loss),
                hessian=request.hessian,
            )
            for loss in request.losses
        )


@contextmanager
def compute_session(request: ComputeRequest) -> Iterator[ComputeReport]:
    """Pass 1, with whatever pass 2 needs kept until the ``with`` block ends.

    For stdin, a FIFO or ``<(process substitution)`` with ``per_sample`` that
    is a temporary copy of the input (they cannot be read twice; re-opening a
    FIFO would wait for ever); it is removed on leaving the block, however
    the block ends.
    """
    source = request.source
    if not (request.per_sample and isinstance(source, str)) or sources.is_regular_file(source):
        yield run_compute(request)
        return
    # Closed after pass 1 and removed below: it must outlive its first `with`.
    spool = sources.spool_file()
    try:
        with spool:
            report = _pass_one(request, spool)
        yield report
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spool.name)


def run_compute(request: ComputeRequest) -> ComputeReport:
    """Pass 1: totals, the first rows, and the gradient check.

    Pass 2 (:func:`samples`) reads a path again; for stdin it needs the copy
    that :func:`compute_session` keeps.
    """
    return _pass_one(request, None)


def _pass_one(request: ComputeRequest, spool: IO[bytes] | None) -> ComputeReport:
    for loss in request.losses:
        loss.check_reduction(request.reduction)
    source = request.source
    signature = sources.signature(source) if isinstance(source, str) and spool is None else None
    columns, batches = _batches(request, source, tee=spool)
    accs = [_Accumulator(loss) for loss in request.losses]
    head: list[tuple[Batch, tuple[Pointwise, ...]]] = []
    head_count = n = dropped = chunks = 0
    row_numbers = len(request.losses) * (1 + len(columns.pred)) + len(columns.pred) + 2
    cached: tuple[tuple[Batch, tuple[Pointwise, ...]], ...] = ()
    from losscli import guesses

    classifying = any(
        loss.logit_space == "optional" and loss.task.classification for loss in request.losses
    )
    assumed_logits = request.logits or columns.logits  # --logits, or logit_<class> columns
    probable: str | None = "" if assumed_logits and classifying else None
    evaluation = _evaluation(request, columns)  # hook: losscli.evaluate (None when no option asks)
    scan = HazardScan(request.losses, logits=request.logits) if request.hazards else None
    # the largest row is shown where a convention or float32 moves it (one more pass)
    track_max = any(loss.library or loss.precision != "float64" for loss in request.losses)
    kept: list[Batch] = []  # every row, for --metric (bounded by MAX_METRIC_ROWS)
    for batch in batches:
        chunks += 1
        if request.metrics:
            kept.append(batch)
            _check_metric_rows(n + len(batch.rows))
        if probable is not None:  # one verdict over every row, not just the first block
            probable = guesses.probabilities_as_logits(batch.y_pred)
        pws = _pointwise_all(request, columns, batch)
        if evaluation is not None:
            evaluation.feed(batch, pws)
        if scan is not None:
            scan.feed(batch, pws)
        n += len(batch.rows)
        dropped += batch.dropped
        for acc, pw in zip(accs, pws, strict=True):
            num, den = acc.loss.totals(pw, batch.weight)
            acc.nums.append(num)
            acc.dens.append(den)
            acc.outputs.append(output_totals(pw, batch.weight))
            acc.clipped += pw.clipped
            if track_max and len(pw.loss):
                with np.errstate(over="ignore"):
                    top = pw.loss if batch.weight is None else batch.weight * pw.loss
                acc.max_row = max(acc.max_row, float(top.max()))
            if request.check_grad:
                with located(columns, batch):
                    check = check_gradient(
                        acc.loss,
                        batch.y_true,
                        batch.y_pred,
                        logits=effective_logits(request, columns, acc.loss),
                        weight=batch.weight,
                    )
                    if request.hessian:
                        acc.hess_check = acc.hess_check.merge(
                            check_hessian(
                                acc.loss,
                                batch.y_true,
                                batch.y_pred,
                                logits=effective_logits(request, columns, acc.loss),
                                weight=batch.weight,
                            )
                        )
                acc.check = acc.check.merge(check)
        if head_count < request.head_rows:
            head.append((batch, pws))
            head_count += len(batch.rows)
            if request.table:  # its cells cost memory and time: see TABLE_CELL_BYTES
                cells = head_count * row_numbers
                check_held("--grad with --format table", cells, TABLE_CELL_BYTES)
        cached = ((batch, pws),) if chunks == 1 else ()
    if n == 0:
        raise NoRows("no rows left to compute on after --dropna")
    metrics = _metrics(request, kept, columns) if request.metrics else {}
    metric_cis = _metric_intervals(request, kept, columns, metrics)  # hook: losscli.evaluate
    summaries = tuple(_summarise(acc, request, columns) for acc in accs)
    evaluated = evaluation.finish([_scalar(s.value) for s in summaries]) if evaluation else None
    single = chunks == 1
    rereads = spool.name if spool is not None else source
    if not isinstance(rereads, str) or not (spool or sources.is_regular_file(rereads)):
        rereads = "-"  # a DataFrame is cached whole below; a pipe read once cannot be reread
    return ComputeReport(
        request=request,
        columns=columns,
        n=n,
        dropped=dropped,
        summaries=summaries,
        head=_head(summaries, columns, head, request.head_rows, request.table),
        cached=cached if single else None,
        rereads=None if single or rereads == "-" else rereads,
        signature=signature,
        rows_read=n + dropped,
        evaluation=evaluated,
        hazards=scan.finish([float(total(a.nums)) for a in accs]) if scan is not None else None,
        partials=tuple((tuple(acc.nums), tuple(acc.dens), tuple(acc.outputs)) for acc in accs),
        checks=tuple((acc.check, acc.hess_check) for acc in accs) if request.check_grad else (),
        logits_look_like_probabilities=probable or None,
        metrics=metrics,
        metric_intervals=metric_cis,
    )


def _check_metric_rows(rows: int) -> None:
    from losscli.fit.metrics import MAX_METRIC_ROWS

    if rows > MAX_METRIC_ROWS:
        raise InputError(
            f"--metric holds every row in memory (medians and ranks are exact): more than "
            f"{MAX_METRIC_ROWS:,} rows here",
            "compute the metrics on a sample of the rows, or split the file",
        )


def _metric_options() -> MetricOptions:
    from losscli.fit.metrics import MetricOptions

    return MetricOptions()


def _metrics(
    request: ComputeRequest, kept: list[Batch], columns: Columns
) -> dict[str, float | None]:
    """Metrics of the whole file from the batches pass 1 kept for them."""
    from losscli.fit.metrics import score_metrics

    y = np.concatenate([b.y_true for b in kept])
    p = np.concatenate([b.y_pred for b in kept])
    w = None if kept[0].weight is None else np.concatenate([b.weight for b in kept])
    return score_metrics(
        request.metrics,
        y,
        p,
        w,
        logits=request.logits or columns.logits,
        options=request.metric_options,
    )


def _metric_intervals(
    request: ComputeRequest, kept: list[Batch], columns: Columns, metrics: dict[str, float | None]
) -> dict[str, Interval | None]:
    """--bootstrap with --metric: an interval for each metric (resampled in memory)."""
    o = request.evaluate
    if not (metrics and o.replicates):
        return {}
    from losscli.evaluate.metric_intervals import metric_intervals

    w = None if kept[0].weight is None else np.concatenate([b.weight for b in kept])
    data = (
        np.concatenate([b.y_true for b in kept]),
        np.concatenate([b.y_pred for b in kept]),
        w,
        np.concatenate([b.rows for b in kept]),
    )
    return metric_intervals(
        request.metrics,
        metrics,
        data,
        logits=request.logits or columns.logits,
        options=request.metric_options,
        replicates=o.replicates,
        level=o.level,
        seed=o.seed,
    )


def _scalar(value: Value | None) -> float | None:
    """One loss's single value (evaluate refuses per-output ones: see _evaluation)."""
    assert not isinstance(value, tuple)
    return value


def _evaluation(request: ComputeRequest, columns: Columns) -> Evaluation | None:
    """The evaluate package's state for this run, or None when no option asks for it."""
    if not request.evaluate.active or not request.losses:  # --metric alone: metric_intervals
        return None
    _one_value_each(
        request, columns, "baselines, intervals and groups (--baseline, --bootstrap, --by)"
    )
    from losscli.evaluate.tracker import Evaluation

    logits = tuple(effective_logits(request, columns, loss) for loss in request.losses)
    return Evaluation(request.evaluate, request.losses, request.reduction, logits)


def _one_value_each(request: ComputeRequest, columns: Columns, what: str) -> None:
    """Refuse losses whose value needs the per-output totals (``--multioutput raw``,
    rmse/rmsle over K outputs) where only the overall Σsℓ and Σsn are carried."""
    for loss in request.losses:
        if loss.needs_outputs(len(columns.pred)):
            raise InputError(
                f"{what} take one value per loss, and {loss.name} over "
                f"{len(columns.pred)} outputs reports one per output",
                "drop --multioutput raw (rmse/rmsle: compute the outputs one at a time)",
            )


def _summarise(acc: _Accumulator, request: ComputeRequest, columns: Columns) -> LossSummary:
    loss, reduction = acc.loss, request.reduction
    outputs = tuple(total(column) for column in zip(*acc.outputs, strict=True))
    value, scale, reduced = reduce_loss(loss, total(acc.nums), total(acc.dens), reduction, outputs)
    check = hess_check = None
    if request.check_grad:
        c = acc.check
        top = float(np.max(scale))  # the largest factor bounds every column's error
        check = GradCheck(reduced.scaled(c.max_abs * top), c.max_rel, c.compared, c.skipped)
        if request.hessian:
            h = acc.hess_check
            hess_check = GradCheck(
                reduced.scaled(h.max_abs * top), h.max_rel, h.compared, h.skipped
            )
    return LossSummary(
        loss,
        loss.space(effective_logits(request, columns, loss)),
        reduction,
        value,
        scale,
        acc.clipped,
        check,
        acc.max_row,
        totals=(reduced.num, reduced.den),
        hess_check=hess_check,
        reduced=reduced,
    )


def _head(
    summaries: tuple[LossSummary, ...],
    columns: Columns,
    head: list[tuple[Batch, tuple[Pointwise, ...]]],
    limit: int,
    shown: bool,
) -> Samples:
    """The first ``limit`` rows, scaled like the final gradient."""
    parts = [_located_scaled(summaries, columns, batch, pws, shown) for batch, pws in head]
    if not parts:
        return Samples(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), [], [])

    def cat(arrays: list[Array]) -> Array:
        return np.concatenate(arrays)[:limit]

    hessians = None
    if all(p.hessians is not None for p in parts):
        hessians = [cat([p.hessians[i] for p in parts]) for i in range(len(summaries))]  # type: ignore[index]
    return Samples(
        rows=cat([p.rows for p in parts]),
        y_true=cat([p.y_true for p in parts]),
        y_pred=cat([p.y_pred for p in parts]),
        values=[cat([p.values[i] for p in parts]) for i in range(len(summaries))],
        grads=[cat([p.grads[i] for p in parts]) for i in range(len(summaries))],
        hessians=hessians,
    )


callable_module(__name__, "compute")  # losscli.compute(...) is the public API call
