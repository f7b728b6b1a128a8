"""Everything ``--baseline``, ``--bootstrap``, ``--by`` and ``--worst`` add to a compute run.

:class:`Evaluation` is fed each block of ``compute``'s pass 1 (the batch and
the per-loss pointwise results it already has), keeps bounded state, and at
the end produces an :class:`EvaluationReport`: per loss the baseline, the
interval and the worst rows; per group the same beside the group's value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from losscli._lazy import lazy_module
from losscli.errors import InputError
from losscli.evaluate import EvaluateOptions
from losscli.evaluate.baseline import Baseline, baselines
from losscli.evaluate.bootstrap import OVERALL, Interval, Resampler, bca_interval, gradient
from losscli.evaluate.groups import GroupIndex
from losscli.evaluate.passes import Chunk, ChunkSource, PassData, Rows
from losscli.evaluate.worst import Worst, WorstRows
from losscli.losses import Loss, Pointwise, Reduction

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import numpy as np
    from numpy.typing import NDArray

    from losscli.io.blocks import Batch

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")

T = TypeVar("T")


@dataclass(frozen=True)
class LossEvaluation:
    """What the options add to one loss's value (for all rows or one group)."""

    value: float | None
    baseline: Baseline | None = None
    ci: Interval | None = None


@dataclass(frozen=True)
class GroupEvaluation:
    key: Any
    n: int
    results: list[LossEvaluation]


@dataclass(frozen=True)
class EvaluationReport:
    overall: list[LossEvaluation]
    groups: list[GroupEvaluation] | None = None
    worst: list[WorstRows] | None = None
    by: str | None = None
    seed: int = 0
    # a partition's run with ``EvaluateOptions.deferred``: its state, merged by
    # losscli.engine.evaluate_parts (``overall`` is empty then)
    state: Evaluation | None = None


def row_totals(loss: Loss, pw: Pointwise, s: Array | None) -> tuple[Array, Array]:
    """Per row, what the reduction adds up: sᵢℓᵢ and the divisor's share (:meth:`Loss.totals`)."""
    n = pw.loss.shape[0]
    num = pw.loss if s is None else s * pw.loss
    norm = np.ones(n) if pw.norm is None else pw.norm
    den = norm if s is None or loss.mean_over_rows else s * norm
    return num, den


class Replay(Rows, Protocol):
    """Pass data held elsewhere (many partitions): finished and closed as one."""

    def finish(self) -> None: ...

    def close(self) -> None: ...


class Overall:
    """A view of pass data with every row in one group."""

    def __init__(self, data: Rows) -> None:
        self.data = data

    def each(self, fn: Callable[[ChunkSource], T]) -> list[T]:
        return self.data.each(lambda rows: fn(_OneGroup(rows)))


class _OneGroup:
    def __init__(self, rows: ChunkSource) -> None:
        self.rows = rows

    def chunks(self) -> Iterator[Chunk]:
        for c in self.rows.chunks():
            yield Chunk(c.y, c.w, np.zeros(c.g.shape[0], dtype=np.intp))


@dataclass
class Evaluation:
    """Bounded state fed by pass 1; :meth:`finish` turns it into the report."""

    options: EvaluateOptions
    losses: tuple[Loss, ...]
    reduction: Reduction
    logits: bool | tuple[bool, ...]  # one per loss (compute infers it from column names)
    group_index: GroupIndex | None = None
    data: PassData | Replay | None = None
    resampler: Resampler | None = None
    worst: list[Worst] = field(default_factory=list)
    gnum: list[list[float]] = field(default_factory=list)
    classes: int | None = None
    _sums: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        o = self.options
        if self.reduction == "none" and (o.baseline or o.replicates or o.by):
            raise InputError(
                "--baseline, --bootstrap and --by report reduced losses",
                "use --reduction mean or sum",
            )
        if o.by:
            self.group_index = GroupIndex(o.by)
        if o.baseline:
            self.data = PassData()
        k = len(self.losses)
        if o.replicates:
            spans = [(2 * i, 2 * i + 2) for i in range(k)]
            self.resampler = Resampler(spans, o.replicates, o.seed)
        if o.worst:
            self.worst = [Worst(o.worst) for _ in self.losses]
        self._sums = {"num": {}, "den": {}, "n": {}}
        if isinstance(self.logits, bool):
            self.logits = (self.logits,) * len(self.losses)

    def feed(self, batch: Batch, pws: Sequence[Pointwise]) -> None:
        """One block of pass 1."""
        n = batch.rows.shape[0]
        if n == 0:
            return
        self.classes = batch.y_pred.shape[1] if batch.y_pred.ndim == 2 else None
        g = np.zeros(n, dtype=np.intp)
        if self.group_index is not None:
            key = getattr(batch, "key", None)
            assert key is not None, "the reader did not deliver the --by column"
            g = self.group_index.index(key)
        s = batch.weight
        columns: list[Array] = []
        for loss, pw in zip(self.losses, pws, strict=True):
            columns.extend(row_totals(loss, pw, s))
        values = np.column_stack(columns)
        self._sums["all"] = self._sums.get("all", 0.0) + values.sum(axis=0)
        if self.group_index is not None:
            groups = max(len(self.group_index), 1)
            self._add_group_sums(values, g, groups)
        if self.data is not None:
            assert isinstance(self.data, PassData)  # merged evaluations are never fed
            self.data.add(batch.y_true, s, g)
        rows = batch.rows + self.options.row_offset if self.options.row_offset else batch.rows
        if self.resampler is not None:
            self.resampler.add(rows, values, g if self.group_index is not None else None)
        for i, (worst, pw) in enumerate(zip(self.worst, pws, strict=False)):
            sg = pw.grad if s is None else pw.grad * (s if pw.grad.ndim == 1 else s[:, None])
            worst.add(rows, batch.y_true, batch.y_pred, values[:, 2 * i], sg)

    def _add_group_sums(self, values: Array, g: NDArray[np.intp], groups: int) -> None:
        sums = self._sums
        width = values.shape[1]
        acc = sums.get("table")
        if acc is None or acc.shape[0] < groups:
            grown = np.zeros((groups, width))
            if acc is not None:
                grown[: acc.shape[0]] = acc
            acc = grown
            counts = np.zeros(groups, dtype=np.int64)
            if "counts" in sums:
                counts[: sums["counts"].shape[0]] = sums["counts"]
            sums["counts"] = counts
        for j in range(width):
            acc[:, j] += np.bincount(g, weights=values[:, j], minlength=groups)
        sums["counts"] += np.bincount(g, minlength=groups)
        sums["table"] = acc

    def merge(self, other: Evaluation, codes: NDArray[np.intp]) -> None:
        """Add another partition's finished pass 1 (its group g is ``codes[g]`` here).

        Totals and per-group totals add, the bootstrap's state merges
        (:meth:`Resampler.merge`), the worst rows are cut back to N.  The
        pass data is not merged: it stays with its partition
        (:mod:`losscli.engine.evaluate_parts`).
        """
        theirs = other._sums
        if "all" in theirs:
            self._sums["all"] = self._sums.get("all", 0.0) + theirs["all"]
        if self.group_index is not None and "table" in theirs:
            groups = max(len(self.group_index), 1)
            table, counts = theirs["table"], theirs["counts"]
            at = codes[: table.shape[0]]
            grown = np.zeros((groups, table.shape[1]))
            grown_counts = np.zeros(groups, dtype=np.int64)
            np.add.at(grown, at, table)
            np.add.at(grown_counts, at, counts)
            if "table" in self._sums:
                rows = self._sums["table"].shape[0]
                grown[:rows] += self._sums["table"]
                grown_counts[:rows] += self._sums["counts"]
            self._sums["table"], self._sums["counts"] = grown, grown_counts
        if self.resampler is not None and other.resampler is not None:
            self.resampler.merge(other.resampler, codes if self.group_index is not None else None)
        for mine, kept in zip(self.worst, other.worst, strict=True):
            mine.merge(kept)
        if other.classes is not None:
            self.classes = other.classes

    # -- the end -------------------------------------------------------------------

    def finish(self, values: list[float | None]) -> EvaluationReport:
        """The report, given the overall value of each loss from compute's summaries.

        A deferred (partition's) evaluation ends its pass 1 only and hands
        itself back, its pass data kept for the merged baseline's passes.
        """
        if self.options.deferred:
            if self.data is not None:
                self.data.finish()
            if self.resampler is not None:
                self.resampler.finish()
            return EvaluationReport([], by=self.options.by, seed=self.options.seed, state=self)
        try:
            return self._finish(values)
        finally:
            if self.data is not None:
                self.data.close()

    def _finish(self, values: list[float | None]) -> EvaluationReport:
        o = self.options
        if self.data is not None:
            self.data.finish()
        if self.resampler is not None:
            self.resampler.finish()
        overall_base: list[Baseline | None] = [None] * len(self.losses)
        if self.data is not None:
            for i, loss in enumerate(self.losses):
                value = values[i]
                assert value is not None
                overall_base[i] = baselines(
                    loss,
                    Overall(self.data),
                    groups=1,
                    logits=self._logits(i),
                    reduction=self.reduction,
                    values=[value],
                    classes=self.classes,
                    dens=[float(self._sums["all"][2 * i + 1])],
                )[0]
        overall = [
            LossEvaluation(values[i], overall_base[i], self._interval(OVERALL, i, values[i]))
            for i in range(len(self.losses))
        ]
        groups = None
        if self.group_index is not None:
            groups = self._groups()
        worst = [w.kept for w in self.worst if w.kept is not None] if self.worst else None
        return EvaluationReport(overall, groups, worst, o.by, o.seed)

    def _groups(self) -> list[GroupEvaluation]:
        assert self.group_index is not None
        count = len(self.group_index)
        table = self._sums.get("table", np.zeros((count, 2 * len(self.losses))))
        counts = self._sums.get("counts", np.zeros(count, dtype=np.int64))
        gvalues: list[list[float | None]] = []
        for i, loss in enumerate(self.losses):
            col: list[float | None] = []
            for grp in range(count):
                num, den = float(table[grp, 2 * i]), float(table[grp, 2 * i + 1])
                ok = den > 0 or self.reduction == "sum"
                col.append(loss.reduce_value(num, den, self.reduction) if ok else None)
            gvalues.append(col)
        gbase: list[list[Baseline | None]] = [[None] * count for _ in self.losses]
        if self.data is not None:
            for i, loss in enumerate(self.losses):
                vals = [v if v is not None else float("nan") for v in gvalues[i]]
                found = baselines(
                    loss,
                    self.data,
                    groups=count,
                    logits=self._logits(i),
                    reduction=self.reduction,
                    values=vals,
                    classes=self.classes,
                    dens=[float(table[grp, 2 * i + 1]) for grp in range(count)],
                )
                gbase[i] = list(found)
        out = []
        for key, grp in self.group_index.ordered():
            results = [
                LossEvaluation(
                    gvalues[i][grp], gbase[i][grp], self._interval(grp, i, gvalues[i][grp])
                )
                for i in range(len(self.losses))
            ]
            out.append(GroupEvaluation(key, int(counts[grp]), results))
        return out

    def _logits(self, i: int) -> bool:
        assert isinstance(self.logits, tuple)
        return self.logits[i]

    def _interval(self, grp: int, i: int, value: float | None) -> Interval | None:
        r = self.resampler
        if r is None or value is None:
            return None
        loss, reduction = self.losses[i], self.reduction
        if grp == OVERALL:
            totals = r.overall_totals()
        elif grp in r.totals:
            totals = r.totals[grp]
        else:
            return None
        t = totals[2 * i : 2 * i + 2]

        def f(x: Array) -> float:
            if reduction == "mean" and not x[1] > 0:
                return float("nan")
            return loss.reduce_value(float(x[0]), float(x[1]), reduction)

        reps = np.array([f(t[:, b]) for b in range(t.shape[1])])
        point = r.point(grp, i)  # summed cell by cell: the same whatever the block size
        grad = gradient(f, point)
        accel = r.acceleration(grp, i, grad)
        return bca_interval(f(point), reps, accel, self.options.level)
