"""``--baseline``, ``--bootstrap``, ``--by`` and ``--worst`` over many partitions, merged.

Each partition (a file of a glob, on the local engine or a Dask worker)
runs the ordinary pass 1 with its evaluation *deferred*
(:attr:`losscli.evaluate.EvaluateOptions.deferred`): instead of a report it
hands back its mergeable state, and the client merges the states in
partition order into one :class:`~losscli.evaluate.tracker.Evaluation`
that finishes as a single file's would:

* ``--by``: each partition numbers its groups in order of first
  appearance; the merged index takes the keys in partition order (the
  order a concatenated file shows them, so the 1,000-level limit trips at
  the same key), and each partition's codes are mapped onto it.  Per-group
  totals add.
* ``--baseline``: the rows the best constant reads again stay where they
  were read (a :class:`~losscli.evaluate.passes.PassData` per partition:
  its small summary, or its spool on the worker); every pass of the
  minimiser is one map over the partitions returning partial sums
  (:mod:`losscli.evaluate.baseline`), so nothing but a few numbers per
  group moves, and the constant, L₀ and D² equal the local engine's.
* ``--bootstrap``: Poisson counts are drawn by *global* data-row number
  (:mod:`losscli.evaluate.bootstrap`), so each partition is given the rows
  before it (``row_offset``).  That needs the row counts first: one
  counting map (a read of every partition) precedes the real one, which is
  the price of intervals equal to the local engine's on the concatenated
  file.  The replicate totals add and the BCa moments are moved to one
  pilot (:meth:`~losscli.evaluate.bootstrap.Resampler.merge`).
* ``--worst``: the same offsets number the rows as in the concatenated
  file; each partition's N worst are merged into the overall N.

The runners below are how ``compute`` maps over partitions: in turn on
this machine, or on a Dask cluster where each partition's result stays on
its worker (a future) and only a copy without the pass data comes back.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from losscli.evaluate import EvaluateOptions
from losscli.evaluate.groups import GroupIndex
from losscli.evaluate.passes import ChunkSource, PassData, Regrouped

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli.compute import ComputeReport, ComputeRequest, LossSummary
    from losscli.evaluate.tracker import Evaluation, EvaluationReport

T = TypeVar("T")


# --------------------------------------------------------------------------- runners


class LocalRunner:
    """The local engine: partitions in turn, every result kept here."""

    def __init__(self) -> None:
        self.kept: list[Any] = []

    def __call__(self, fn: Callable[..., Any], *args: Sequence[Any]) -> list[Any]:
        self.kept = []
        try:
            for a in zip(*args, strict=True):
                self.kept.append(fn(*a))
        except BaseException:  # a later file's error: the earlier ones' spools go too
            self.each(_close_rows)
            raise
        return list(self.kept)

    def each(self, fn: Callable[..., T], *args: Sequence[Any]) -> list[T]:
        """``fn(result, *arg)`` on every kept partition result, in order."""
        return [fn(r, *a) for r, *a in zip(self.kept, *args, strict=True)]

    def release(self) -> None:
        self.kept = []


class DaskRunner:
    """The Dask engine: results stay on the workers; a light copy comes back.

    ``light`` strips what must not travel (a partition's pass data) from the
    copy that is gathered; ``each`` runs on the workers holding the full results.
    """

    def __init__(self, client: Any, light: Callable[[Any], Any] | None = None) -> None:
        self.client = client
        self.light = light
        self.futures: list[Any] = []

    def __call__(self, fn: Callable[..., Any], *args: Sequence[Any]) -> list[Any]:
        from losscli.engine.dask import gather

        self.futures = self.client.map(fn, *args, pure=False)
        if self.light is None:
            return gather(self.client, self.futures)
        return gather(self.client, self.client.map(self.light, self.futures, pure=False))

    def each(self, fn: Callable[..., T], *args: Sequence[Any]) -> list[T]:
        from losscli.engine.dask import gather

        return gather(self.client, self.client.map(fn, self.futures, *args, pure=False))

    def release(self) -> None:
        self.futures = []


Runner = LocalRunner | DaskRunner


def light_report(report: T) -> T:
    """A partition's report without its pass data (it stays on the worker); other
    results (row counts) as they are."""
    ev = getattr(report, "evaluation", None)
    if ev is None or ev.state is None or ev.state.data is None:
        return report
    state = copy.copy(ev.state)
    state.data = None
    return replace(report, evaluation=replace(ev, state=state))  # type: ignore[type-var]


# --------------------------------------------------------------------------- before the map


def needs_offsets(options: EvaluateOptions) -> bool:
    """The bootstrap and --worst number rows in the whole input."""
    return bool(options.replicates or options.worst)


def partition_requests(
    request: ComputeRequest,
    requests: list[ComputeRequest],
    runner: Runner,
    count: Callable[[ComputeRequest, bool], int],
) -> list[ComputeRequest]:
    """Each partition's request with its evaluation deferred (and offset, if rows count).

    ``count(request, many)`` reads one partition and returns its data rows
    (dropped ones included: they hold row numbers too).
    """
    o = request.evaluate
    if not o.active or not request.losses:
        return requests
    offsets = [0] * len(requests)
    if needs_offsets(o) and len(requests) > 1:
        plain = [replace(r, evaluate=EvaluateOptions()) for r in requests[:-1]]
        counts = runner(count, plain, [True] * len(plain))
        offsets = [0, *itertools.accumulate(counts)]
    return [
        replace(r, evaluate=replace(o, row_offset=off, deferred=True))
        for r, off in zip(requests, offsets, strict=True)
    ]


# --------------------------------------------------------------------------- after the map


class PartRows:
    """The merged baseline's rows: each partition's pass data, where it was read."""

    def __init__(self, runner: Runner, codes: list[NDArray[np.intp]]) -> None:
        self.runner, self.codes = runner, codes

    def each(self, fn: Callable[[ChunkSource], T]) -> list[T]:
        return self.runner.each(_on_rows, [fn] * len(self.codes), self.codes)

    def finish(self) -> None:
        """Pass 1 was finished on every partition."""

    def close(self) -> None:
        self.runner.each(_close_rows)
        self.runner.release()


def _on_rows(report: ComputeReport, fn: Callable[[ChunkSource], T], codes: Any) -> T:
    ev = report.evaluation
    assert ev is not None and ev.state is not None and isinstance(ev.state.data, PassData)
    return fn(Regrouped(ev.state.data, codes))


def _close_rows(report: ComputeReport) -> None:
    ev = getattr(report, "evaluation", None)
    if ev is not None and ev.state is not None and isinstance(ev.state.data, PassData):
        ev.state.data.close()


def merged_evaluation(
    request: ComputeRequest,
    reports: Sequence[ComputeReport],
    summaries: Sequence[LossSummary],
    runner: Runner,
) -> EvaluationReport | None:
    """The partitions' deferred evaluations as one report (None when no option asks),
    given the merged value of each loss."""
    from losscli.compute import _scalar

    states = [r.evaluation.state for r in reports if r.evaluation is not None]
    if not states or any(s is None for s in states):
        if states:
            runner.release()
        return None
    try:
        merged = merge_states([s for s in states if s is not None], request.evaluate, runner)
    except BaseException:  # too many groups across the files: no spool is left behind
        runner.each(_close_rows)
        raise
    report: EvaluationReport = merged.finish([_scalar(s.value) for s in summaries])
    return report


def merge_states(
    states: Sequence[Evaluation], options: EvaluateOptions, runner: Runner
) -> Evaluation:
    """One Evaluation from the partitions' (in partition order), ready to finish."""
    from losscli.evaluate.tracker import Evaluation

    first = states[0]
    merged = Evaluation(
        replace(options, row_offset=0, deferred=False),
        first.losses,
        first.reduction,
        first.logits,
    )
    codes: list[NDArray[np.intp]] = []
    for state in states:
        if merged.group_index is not None and state.group_index is not None:
            codes.append(_codes(merged.group_index, state.group_index))
        else:
            codes.append(np.zeros(1, dtype=np.intp))
    for state, code in zip(states, codes, strict=True):
        merged.merge(state, code)
    if merged.data is not None:
        merged.data = PartRows(runner, codes)
    else:
        runner.release()
    return merged


def _codes(merged: GroupIndex, part: GroupIndex) -> NDArray[np.intp]:
    """A partition's group codes as the merged index's (keys added in its order)."""
    out = np.zeros(max(len(part), 1), dtype=np.intp)
    for key, code in part.codes.items():
        out[code] = merged.add(key)
    return out
