"""``compute`` over many files (a glob, a folder) and on Dask: per-partition totals, merged exactly.

Each partition (a file; on Dask also a byte range of a CSV or a run of
Parquet row groups, :mod:`losscli.engine.partplan`) is computed by the
ordinary streaming pass 1 (on a Dask worker with ``--engine dask``, in turn
here with the local engine); what comes back is each loss's block totals
Σsℓ and Σsn, the counts, the gradient check's partial maxima, and the first
rows.  The client concatenates the block totals in partition order and
reduces them with the same ``math.fsum`` as a single-file run, so both
engines give the same values — to the last bit, since a CSV partition is
parsed in exactly the local reader's blocks.  The first rows' gradients are
rescaled from the partition's normaliser to the whole input's.

Per-row output (``--grad``, ``--grad-out``, ``--reduction none``) is pass 2
over the partitions, with the whole input's totals
(:mod:`losscli.engine.rows_parts`); ``--metric`` merges per-partition
means, or gathers the columns (:mod:`losscli.engine.metric_parts`).
``--baseline``, ``--bootstrap``, ``--by`` and ``--worst`` run deferred on
each partition and are merged by :mod:`losscli.engine.evaluate_parts`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import numpy as np

from losscli.compute import (
    ComputeReport,
    ComputeRequest,
    Samples,
    _Accumulator,
    _summarise,
)
from losscli.engine.evaluate_parts import keeping, partition_requests, with_evaluation
from losscli.engine.partread import rows_of
from losscli.engine.parts import (
    Empty,
    LocalRunner,
    Part,
    Runner,
    expand_inputs,
    on_part,
    partitions,
)
from losscli.errors import NoRows


def _one_part(request: ComputeRequest, part: Part, many: bool) -> ComputeReport | Empty:
    """Pass 1 over one partition (on a worker): its totals, counts and first rows."""
    from losscli.compute import run_compute

    def read(located: Part) -> ComputeReport:
        return run_compute(replace(request, source=located, metrics=()))

    try:
        report = on_part(part, many, read)
    except NoRows:
        if part.count == 1:  # a whole file: as the local engine, an error
            raise
        return Empty(rows_of(part))  # its file's other partitions have rows
    return replace(report, cached=None, request=request)  # the rows stay where they were read


def worker_request(request: ComputeRequest) -> ComputeRequest:
    """What a partition needs of the request: no progress callback (it lives here)."""
    return replace(request, progress=None)


def compute_parts(
    request: ComputeRequest, runner: Runner, partition_size: int | None = None
) -> ComputeReport:
    """Pass 1 over every partition of ``request.source``; with ``partition_size`` the
    files are cut into partitions of about that many bytes (else one per file)."""
    files = expand_inputs(request.source)
    options = request.input
    if request.block_bytes:
        options = replace(options, block_bytes=request.block_bytes)
    parts = partitions(files, options, partition_size, options.block_bytes)
    many = len(files) > 1
    sent = worker_request(request) if not isinstance(runner, LocalRunner) else request
    k = len(parts)
    # hook: engine.evaluate_parts (evaluations deferred, kept where they ran; row offsets)
    keeper = keeping(runner, sent)
    requests = partition_requests(sent, parts, runner, _one_part, many)
    results = keeper.map(_one_part, requests, parts, [many] * k)
    located = located_parts(parts, results)
    # pass 1 numbered a partition of unknown first row from 1: its head is moved
    kept = [
        (r, (p.first_row or 1) - 1 if q.first_row is None else 0)
        for r, p, q in zip(results, located, parts, strict=True)
        if not isinstance(r, Empty)
    ]
    empty = sum(r.rows for r in results if isinstance(r, Empty))
    if not kept:
        raise NoRows("no rows left to compute on after --dropna")
    report = merge(request, [r for r, _ in kept], [shift for _, shift in kept])
    if empty:  # partitions whose every row --dropna dropped
        report = replace(report, dropped=report.dropped + empty, rows_read=report.rows_read + empty)
    # hook: engine.evaluate_parts (--baseline, --bootstrap, --by, --worst merged)
    report = with_evaluation(report, results, keeper)
    if request.metrics:
        from losscli.engine.metric_parts import with_metrics

        report = with_metrics(report, runner, sent, located, many)
    if request.per_sample:
        from losscli.engine.rows_parts import PartRows

        report = replace(report, part_rows=PartRows(runner, sent, tuple(located), many))
    return report


def located_parts(parts: Sequence[Part], reports: Sequence[ComputeReport | Empty]) -> list[Part]:
    """The partitions with their first rows, from the rows each one read in pass 1."""
    out, row, path = [], 1, None
    for part, r in zip(parts, reports, strict=True):
        if part.path != path:
            row, path = 1, part.path
        out.append(replace(part, first_row=row) if part.first_row is None else part)
        row = (part.first_row or row) + (r.rows if isinstance(r, Empty) else r.rows_read)
    return out


def merge(
    request: ComputeRequest,
    reports: Sequence[ComputeReport],
    shifts: Sequence[int] | None = None,
) -> ComputeReport:
    """One report from per-partition reports, as if their rows had been one input
    (``shifts``: added to each partition's head rows, numbered from 1 in pass 1)."""
    first = reports[0]
    summaries = []
    for i, loss in enumerate(request.losses):
        acc = _Accumulator(loss)
        for r in reports:
            nums, dens, outputs = r.partials[i]
            acc.nums.extend(nums)
            acc.dens.extend(dens)
            acc.outputs.extend(outputs)  # per-output totals: --multioutput raw, roots
            acc.clipped += r.summaries[i].clipped
            acc.max_row = max(acc.max_row, r.summaries[i].max_row)
            if r.checks:  # --check-grad: the partitions' largest errors, before scaling
                check, hess_check = r.checks[i]
                acc.check = acc.check.merge(check)
                acc.hess_check = acc.hess_check.merge(hess_check)
        summaries.append(_summarise(acc, request, first.columns))
    return ComputeReport(
        request=request,
        columns=first.columns,
        n=sum(r.n for r in reports),
        dropped=sum(r.dropped for r in reports),
        summaries=tuple(summaries),
        head=_rescaled_head(reports, summaries, request.head_rows, shifts),
        cached=None,
        rereads=None,
        rows_read=sum(r.rows_read for r in reports),
        logits_look_like_probabilities=_probable(reports),
    )


def _probable(reports: Sequence[ComputeReport]) -> str | None:
    """--logits, yet every partition's predictions look like probabilities: the warning."""
    notes = [r.logits_look_like_probabilities for r in reports]
    return notes[0] if notes and all(notes) else None


def _rescaled_head(
    reports: Sequence[ComputeReport],
    summaries: list[Any],
    limit: int,
    shifts: Sequence[int] | None = None,
) -> Samples:
    """The first rows of the first partitions, their gradients scaled for the whole input."""
    parts: list[Samples] = []
    count = 0
    for r, shift in zip(reports, shifts or [0] * len(reports), strict=True):
        if count >= limit:
            break
        h = r.head
        grads = [
            # ∂L/∂ŷᵢ = sᵢ·2^-k·scale·∂ℓᵢ/∂ŷᵢ: the whole input's scale and shift k for the
            # partition's (a power of two times the ratio of the scales: within an ulp)
            g
            * _ratio(total.scale, local.scale)
            * 2.0 ** (local.reduced.shift - total.reduced.shift)
            for g, total, local in zip(h.grads, summaries, r.summaries, strict=True)
        ]
        parts.append(replace(h, rows=h.rows + shift, grads=grads, hessians=None))
        count += len(h.rows)
    if not parts:
        return reports[0].head

    def cat(arrays: list[Any]) -> Any:
        return np.concatenate(arrays)[:limit]

    return Samples(
        rows=cat([p.rows for p in parts]),
        y_true=cat([p.y_true for p in parts]),
        y_pred=cat([p.y_pred for p in parts]),
        values=[cat([p.values[i] for p in parts]) for i in range(len(summaries))],
        grads=[cat([p.grads[i] for p in parts]) for i in range(len(summaries))],
    )


def _ratio(whole: Any, local: Any) -> Any:
    """whole/local, 0 where local is 0; one per output column where the scale is."""
    local = np.asarray(local, dtype=np.float64)
    out = np.divide(whole, local, out=np.zeros(local.shape), where=local != 0)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- engines


def compute_any(
    request: ComputeRequest,
    engine: str,
    scheduler: str | None,
    partition_size: int | None = None,
) -> AbstractContextManager[ComputeReport]:
    """compute with ``--engine``: one file locally as ever (a session: pass 2 may follow);
    globs through the merge, file by file; Dask with the files cut into partitions of
    ``partition_size`` bytes (:data:`~losscli.engine.parts.DEFAULT_PARTITION_BYTES`;
    0 = one per file).  The cluster stays up until the ``with`` block ends: per-row
    output (pass 2) is read from it."""
    from losscli.compute import compute_session
    from losscli.engine.parts import is_many

    if engine == "local" and not is_many(request.source):
        return compute_session(request)
    if engine == "local":
        return contextlib.nullcontext(compute_parts(request, LocalRunner()))
    return _on_dask(request, scheduler, partition_size)


@contextlib.contextmanager
def _on_dask(
    request: ComputeRequest, scheduler: str | None, partition_size: int | None
) -> Iterator[ComputeReport]:
    from losscli.engine.dask import DaskRunner, dask_client
    from losscli.engine.parts import DEFAULT_PARTITION_BYTES

    expand_inputs(request.source)  # a missing file fails before a cluster is started
    size = DEFAULT_PARTITION_BYTES if partition_size is None else partition_size
    with dask_client(scheduler) as client:
        yield compute_parts(request, DaskRunner(client), size)
