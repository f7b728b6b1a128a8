"""``--baseline``, ``--bootstrap``, ``--by`` and ``--worst`` over many partitions, merged.

Each partition (a file of a glob on the local engine; on a Dask worker
also a byte range of a CSV or a run of Parquet row groups) runs the
ordinary pass 1 with its evaluation *deferred*
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
  before it (``row_offset``).  That needs the row counts first: unless the
  input is one file whose partitions know their first rows, one counting
  map (a read of every partition) precedes the real one, the price of
  intervals equal to the local engine's on the concatenated file.  The
  replicate totals add and the BCa moments are moved to one pilot
  (:meth:`~losscli.evaluate.bootstrap.Resampler.merge`).
* ``--worst``: the same offsets number the rows as in the concatenated
  file; each partition's N worst are merged into the overall N.

The keepers below are how ``compute``'s pass 1 maps over partitions when
an evaluation option asks: in turn on this machine, or on a Dask cluster
where each partition's result stays on its worker (a future) and only a
copy without the pass data comes back; the baseline's passes then run on
the kept results.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from losscli.engine.parts import LocalRunner, Part, Runner
from losscli.evaluate import EvaluateOptions
from losscli.evaluate.groups import GroupIndex
from losscli.evaluate.passes import ChunkSource, PassData, Regrouped

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli.compute import ComputeReport, ComputeRequest
    from losscli.evaluate.tracker import Evaluation

T = TypeVar("T")


# --------------------------------------------------------------------------- keepers


class LocalKeeper:
    """The local engine: partitions in turn, every result kept here."""

    def __init__(self) -> None:
        self.kept: list[Any] = []

    def map(self, fn: Callable[..., Any], *args: Sequence[Any]) -> list[Any]:
        self.kept = []
        try:
            for a in zip(*args, strict=True):
                self.kept.append(fn(*a))
        except BaseException:  # a later file's error: the earlier ones' spools go too
            self.each(_close_rows)
            raise
        return list(self.kept)

    def each(
        self, fn: Callable[..., T], *args: Sequence[Any], at: Sequence[int] | None = None
    ) -> list[T]:
        """``fn(result, *arg)`` on the kept results at positions ``at`` (all by default)."""
        chosen = range(len(self.kept)) if at is None else at
        calls = zip(*args, strict=True) if args else iter(lambda: (), None)
        return [fn(self.kept[i], *a) for i, a in zip(chosen, calls, strict=False)]

    def release(self) -> None:
        self.kept = []


class DaskKeeper:
    """The Dask engine: results stay on the workers (futures); a light copy comes back."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.futures: list[Any] = []

    def map(self, fn: Callable[..., Any], *args: Sequence[Any]) -> list[Any]:
        from losscli.engine.dask import gather

        self.futures = self.client.map(fn, *args, pure=False)
        return gather(self.client, self.client.map(light_report, self.futures, pure=False))

    def each(
        self, fn: Callable[..., T], *args: Sequence[Any], at: Sequence[int] | None = None
    ) -> list[T]:
        from losscli.engine.dask import gather

        chosen = self.futures if at is None else [self.futures[i] for i in at]
        return gather(self.client, self.client.map(fn, chosen, *args, pure=False))

    def release(self) -> None:
        self.futures = []


Keeper = LocalKeeper | DaskKeeper


def keeping(runner: Runner, request: ComputeRequest) -> Runner | Keeper:
    """What pass 1 maps with: the runner itself, or — when an evaluation option asks —
    a keeper of each partition's result where it ran."""
    if not (request.evaluate.active and request.losses):
        return runner
    if isinstance(runner, LocalRunner):
        return LocalKeeper()
    return DaskKeeper(runner.client)  # type: ignore[attr-defined]


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
    parts: Sequence[Part],
    runner: Runner,
    read: Callable[[ComputeRequest, Part, bool], Any],
    many: bool,
) -> list[ComputeRequest]:
    """Each partition's request: its evaluation deferred and, when rows are numbered in
    the whole input, offset by the rows before it.

    A partition numbers its rows from its ``first_row`` (from 1 when that is
    unknown: a byte range past a file's first); the offset makes them the
    concatenated input's.  One file cut into located partitions needs none;
    otherwise ``read`` (pass 1 without the evaluation) counts every
    partition's rows first.
    """
    o = request.evaluate
    k = len(parts)
    if not o.active or not request.losses:
        return [request] * k
    offsets = [0] * k
    if needs_offsets(o) and (many or not all(p.located for p in parts)):
        plain = replace(request, evaluate=EvaluateOptions())
        counts = [_rows(r) for r in runner.map(read, [plain] * k, parts, [many] * k)]
        before = [0, *itertools.accumulate(counts)]
        offsets = [before[i] - ((p.first_row or 1) - 1) for i, p in enumerate(parts)]
    return [replace(request, evaluate=replace(o, row_offset=off, deferred=True)) for off in offsets]


def _rows(result: Any) -> int:
    """The rows a partition read (an Empty one's too: they hold row numbers)."""
    rows = getattr(result, "rows_read", None)
    return int(result.rows if rows is None else rows)


# --------------------------------------------------------------------------- after the map


class KeptRows:
    """The merged baseline's rows: each partition's pass data, where it was read."""

    def __init__(self, keeper: Keeper, codes: list[NDArray[np.intp]], at: list[int]) -> None:
        self.runner, self.codes, self.at = keeper, codes, at

    def each(self, fn: Callable[[ChunkSource], T]) -> list[T]:
        return self.runner.each(_on_rows, [fn] * len(self.codes), self.codes, at=self.at)

    def finish(self) -> None:
        """Pass 1 was finished on every partition."""

    def close(self) -> None:
        self.runner.each(_close_rows, at=self.at)
        self.runner.release()


def _on_rows(report: ComputeReport, fn: Callable[[ChunkSource], T], codes: Any) -> T:
    ev = report.evaluation
    assert ev is not None and ev.state is not None and isinstance(ev.state.data, PassData)
    return fn(Regrouped(ev.state.data, codes))


def _close_rows(report: ComputeReport) -> None:
    ev = getattr(report, "evaluation", None)
    if ev is not None and ev.state is not None and isinstance(ev.state.data, PassData):
        ev.state.data.close()


def with_evaluation(
    report: ComputeReport, results: Sequence[Any], keeper: Runner | Keeper
) -> ComputeReport:
    """The merged report with the partitions' deferred evaluations merged into it."""
    if not isinstance(keeper, (LocalKeeper, DaskKeeper)):
        return report
    at = [i for i, r in enumerate(results) if getattr(r, "evaluation", None) is not None]
    states = [results[i].evaluation.state for i in at]
    if not states or any(s is None for s in states):
        keeper.release()
        return report
    from losscli.compute import _scalar

    try:
        merged = merge_states(states, report.request.evaluate, keeper, at)
    except BaseException:  # too many groups across the files: no spool is left behind
        keeper.each(_close_rows)
        raise
    evaluation = merged.finish([_scalar(s.value) for s in report.summaries])
    return replace(report, evaluation=evaluation)


def merge_states(
    states: Sequence[Evaluation], options: EvaluateOptions, keeper: Keeper, at: list[int]
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
        merged.data = KeptRows(keeper, codes, at)
    else:
        keeper.release()
    return merged


def _codes(merged: GroupIndex, part: GroupIndex) -> NDArray[np.intp]:
    """A partition's group codes as the merged index's (keys added in its order)."""
    out = np.zeros(max(len(part), 1), dtype=np.intp)
    for key, code in part.codes.items():
        out[code] = merged.add(key)
    return out
