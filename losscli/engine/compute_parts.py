"""``compute`` over many files (a glob, a folder) and on Dask: per-file totals, merged exactly.

Each file is computed by the ordinary streaming pass 1 (on a Dask worker
with ``--engine dask``, in turn here with the local engine); what comes back
is each loss's block totals Σsℓ and Σsn, the counts, and the first rows.
The client concatenates the block totals in file order and reduces them
with the same ``math.fsum`` as a single-file run, so both engines give the
same values — to the last bit when the files are cut into the same blocks.
The first rows' gradients are rescaled from the file's normaliser to the
whole input's.

Per-row output (``--grad``, ``--grad-out``, ``--reduction none`` to a
stream), ``--check-grad`` and ``--metric`` are single-file, local-engine
features for now.  ``--baseline``, ``--bootstrap``, ``--by`` and ``--worst``
run deferred on each file and are merged by :mod:`losscli.engine.evaluate_parts`
(whose runners are the ``mapper`` here: files in turn, or Dask futures).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
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
from losscli.engine.evaluate_parts import (
    DaskRunner,
    LocalRunner,
    Runner,
    light_report,
    merged_evaluation,
    partition_requests,
)
from losscli.engine.parts import expand_inputs, named
from losscli.errors import InputError


def _one_file(request: ComputeRequest, many: bool) -> ComputeReport:
    from losscli.compute import run_compute
    from losscli.engine.parts import Part

    with named(Part(request.source), many):
        report = run_compute(request)
    return replace(report, cached=None)  # the rows stay where they were read


def _rows_read(request: ComputeRequest, many: bool) -> int:
    """One file's data rows (dropped ones included), for the evaluation's row offsets."""
    return _one_file(request, many).rows_read


def compute_parts(request: ComputeRequest, mapper: Runner) -> ComputeReport:
    """Pass 1 over every file of ``request.source``, one call of ``mapper`` for all of them."""
    _totals_only(request)
    files = expand_inputs(request.source)
    many = len(files) > 1
    requests = [replace(request, source=f) for f in files]
    # hook: engine.evaluate_parts (deferred evaluations, global row offsets)
    requests = partition_requests(request, requests, mapper, _rows_read)
    reports = mapper(_one_file, requests, [many] * len(files))
    return merge(request, reports, mapper)


def _totals_only(request: ComputeRequest) -> None:
    if request.per_sample or request.check_grad or request.metrics:
        raise InputError(
            "per-row output (--grad, --grad-out, --reduction none), --check-grad and "
            "--metric read one file on this machine",
            "give a single file with --engine local, or ask for the loss totals only",
        )


def merge(
    request: ComputeRequest, reports: Sequence[ComputeReport], runner: Runner | None = None
) -> ComputeReport:
    """One report from per-file reports, as if their rows had been one input."""
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
        summaries.append(_summarise(acc, request, first.columns))
    return ComputeReport(
        request=request,
        columns=first.columns,
        n=sum(r.n for r in reports),
        dropped=sum(r.dropped for r in reports),
        summaries=tuple(summaries),
        head=_rescaled_head(reports, summaries, request.head_rows),
        cached=None,
        rereads=None,
        # hook: engine.evaluate_parts (--baseline, --bootstrap, --by, --worst merged)
        evaluation=merged_evaluation(request, reports, summaries, runner or LocalRunner()),
    )


def _rescaled_head(reports: Sequence[ComputeReport], summaries: list[Any], limit: int) -> Samples:
    """The first rows of the first files, their gradients scaled for the whole input."""
    parts: list[Samples] = []
    count = 0
    for r in reports:
        if count >= limit:
            break
        h = r.head
        grads = [
            g * _ratio(total.scale, local.scale)
            for g, total, local in zip(h.grads, summaries, r.summaries, strict=True)
        ]
        parts.append(replace(h, grads=grads))
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


def compute_any(
    request: ComputeRequest, engine: str, scheduler: str | None
) -> AbstractContextManager[ComputeReport]:
    """compute with ``--engine``: one file locally as ever (a session: pass 2 may follow);
    globs and Dask through the merge."""
    from losscli.compute import compute_session
    from losscli.engine.parts import is_many

    if engine == "local" and not is_many(request.source):
        return compute_session(request)
    if engine == "local":
        return nullcontext(compute_parts(request, LocalRunner()))
    from losscli.engine.dask import dask_client

    _totals_only(request)  # before a cluster is started
    with dask_client(scheduler) as client:
        return nullcontext(compute_parts(request, DaskRunner(client, light_report)))
