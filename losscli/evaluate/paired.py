"""``losscli compare``: two (or more) predictions of the same targets, loss by loss.

For each loss, base and new are reduced over the same rows, and the
difference new − base gets

* a paired interval: the Poisson bootstrap with the *same* counts for both
  (the totals (Σsℓ_base, Σsℓ_new, Σsn) are resampled together), BCa;
* a two-sided p-value from a paired sign-flip permutation test: under the
  null hypothesis that the two predictions are exchangeable, swapping them
  within any row changes nothing, so each of B permutations swaps every row
  with probability ½ and the p-value is (1 + #{|Δ_b| ≥ |Δ|}) / (B + 1),
  exact (uniform under the null, up to its 1/(B+1) steps) for any loss and
  reduction.

Both stream in one pass with memory B × losses per group, as the bootstrap
of ``compute`` does (see :mod:`losscli.evaluate.bootstrap`).  The first
prediction is the base; with more than two, each is compared with the first.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.errors import InputError
from losscli.evaluate import DEFAULT_REPLICATES, EvaluateOptions
from losscli.evaluate.baseline import Baseline, baselines
from losscli.evaluate.bootstrap import (
    OVERALL,
    Interval,
    Resampler,
    bca_interval,
    gradient,
    swap_indicators,
)
from losscli.evaluate.groups import GroupIndex
from losscli.evaluate.passes import PassData
from losscli.evaluate.tracker import Overall, row_totals
from losscli.evaluate.worst import TopRows
from losscli.io.blocks import Batch, to_batch
from losscli.io.columns import ColumnRequest, Columns, resolve_columns
from losscli.io.formats import InputOptions, Table, open_any
from losscli.losses import Loss, Pointwise, Reduction, check_weights

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")

TEST_NAME = "paired sign-flip permutation"


@dataclass(frozen=True)
class CompareRequest:
    """Two files with the same targets, or one file with several prediction columns."""

    sources: tuple[str, ...]
    losses: tuple[Loss, ...]
    true: str | None = None
    preds: tuple[str, ...] = ()  # one spec per model (one file), or one for both files
    weight: str | None = None
    logits: bool = False
    reduction: Reduction = "mean"
    dropna: bool = False
    input: InputOptions = field(default_factory=InputOptions)
    options: EvaluateOptions = field(
        default_factory=lambda: EvaluateOptions(replicates=DEFAULT_REPLICATES)
    )
    block_bytes: int | None = None


@dataclass(frozen=True)
class PairedResult:
    """One loss of one comparison: values, difference, its interval and p-value."""

    loss: Loss
    base_name: str
    new_name: str
    base: float
    new: float
    diff: float
    ci: Interval | None
    p_value: float | None
    baseline: Baseline | None = None  # --baseline: the best constant; d2 is the base model's
    new_d2: float | None = None  # the new model's D² against the same constant

    def sentence(self) -> str:
        """'new is lower by 0.0123 [0.0101, 0.0145], p < 0.001'."""
        if not math.isfinite(self.diff):
            return "undefined: no rows of positive weight"
        if self.diff == 0:
            text = f"{self.new_name} equals {self.base_name}"
        else:
            word = "lower" if self.diff < 0 else "higher"
            text = f"{self.new_name} is {word} by {_short(abs(self.diff))}"
            if self.ci is not None:
                lo, hi = (
                    (-self.ci.high, -self.ci.low) if self.diff < 0 else (self.ci.low, self.ci.high)
                )
                text += f" [{_short(lo)}, {_short(hi)}]"
        if self.p_value is not None:
            p = self.p_value
            text += ", p < 0.001" if p < 0.001 else f", p = {p:.3g}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "loss": self.loss.name,
            "params": self.loss.params(),
            "base_name": self.base_name,
            "new_name": self.new_name,
            "base": _finite(self.base),
            "new": _finite(self.new),
            "diff": _finite(self.diff),
            "ci": None if self.ci is None else self.ci.to_json(),
            "p_value": self.p_value,
            **({} if self.baseline is None else {"baseline": self.baseline_json()}),
        }

    def baseline_json(self) -> dict[str, Any]:
        """The shared best constant, its loss L₀ and each model's D² = 1 − L/L₀."""
        assert self.baseline is not None
        out = self.baseline.to_json()
        d2 = out.pop("d2")
        return {
            **out,
            "d2_base": d2,
            "d2_new": None if self.new_d2 is None else _finite(self.new_d2),
        }


def _finite(x: float) -> float | None:
    """JSON has no NaN: the value of a group without weight is null."""
    return x if math.isfinite(x) else None


def _short(x: float) -> str:
    return f"{x:.3g}"


@dataclass(frozen=True)
class PairedGroup:
    key: Any
    n: int
    results: list[PairedResult]


@dataclass(frozen=True)
class PairedWorst:
    """--worst: the rows where new − base weighted loss contribution (sᵢℓᵢ) is largest."""

    loss: Loss
    base_name: str
    new_name: str
    rows: NDArray[np.int64]
    y_true: Array
    base_pred: Array
    new_pred: Array
    base: Array  # sᵢℓᵢ of the base model
    new: Array  # sᵢℓᵢ of the new model

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {
                "row": int(self.rows[r]),
                "y_true": self.y_true[r].tolist(),
                "base_pred": self.base_pred[r].tolist(),
                "new_pred": self.new_pred[r].tolist(),
                "base": float(self.base[r]),
                "new": float(self.new[r]),
                "diff": float(self.new[r] - self.base[r]),
            }
            for r in range(self.rows.shape[0])
        ]


@dataclass(frozen=True)
class CompareReport:
    n: int
    dropped: int
    names: tuple[str, ...]
    results: list[PairedResult]
    groups: list[PairedGroup] | None
    options: EvaluateOptions
    test: str = TEST_NAME
    worst: list[PairedWorst] | None = None  # one per (pair, loss), in the order of results


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Models:
    """Batches of targets with one prediction array per model."""

    names: tuple[str, ...]
    batches: Iterator[tuple[Batch, list[Array]]]


def _open(request: CompareRequest, source: str) -> Table:
    options = request.input
    if request.block_bytes:
        options = dataclasses.replace(options, block_bytes=request.block_bytes)
    return open_any(source, options)


def _read(table: Table, columns: Columns, dropna: bool) -> Iterator[Batch]:
    """Typed blocks of one table (the input layer's rules), closed at the end."""
    first_row = 1
    seen = False
    try:
        for block in table.blocks(columns.used_at):
            batch = to_batch(block, columns, dropna=dropna, first_row=first_row)
            first_row += block.rows
            seen = True
            if batch.weight is not None:
                check_weights(batch.weight, batch.rows.shape[0])
            yield batch
    finally:
        table.close()
    if not seen:
        raise InputError(f"{table.name} has a header but no data rows")


def _one_file(request: CompareRequest, by: str | None) -> _Models:
    """Several prediction columns of one file: one model per --pred item."""
    table = _open(request, request.sources[0])
    header = table.names
    specs = request.preds
    if len(specs) < 2:
        raise InputError(
            "compare needs two predictions: two files, or --pred with two columns",
            "e.g. losscli compare --loss mse --pred m1,m2 preds.csv",
        )
    try:
        models = [
            resolve_columns(header, ColumnRequest(request.true, spec, request.weight, group=by))
            for spec in specs
        ]
    except BaseException:
        table.close()
        raise
    first = models[0]
    union = tuple(c for m in models for c in m.pred)
    if len(set(union)) != len(union):
        raise InputError(
            "a prediction column is given twice to compare", "name each model's columns once"
        )
    pred_at = tuple(at for m in models for at in m.pred_at)
    columns = dataclasses.replace(first, pred=union, pred_at=pred_at)
    widths = [len(m.pred) for m in models]
    bounds = np.cumsum([0, *widths]).tolist()

    def generate() -> Iterator[tuple[Batch, list[Array]]]:
        for batch in _read(table, columns, request.dropna):
            pred = batch.y_pred if batch.y_pred.ndim == 2 else batch.y_pred[:, None]
            parts = []
            for lo, hi in itertools.pairwise(bounds):
                part = pred[:, lo:hi]
                parts.append(part[:, 0] if hi - lo == 1 else part)
            yield batch, parts

    names = tuple(",".join(m.pred) for m in models)
    return _Models(names, generate())


def _two_files(request: CompareRequest, by: str | None) -> _Models:
    """Two files whose targets must agree row by row."""
    if len(request.preds) > 1:
        raise InputError(
            "with two files, --pred names the prediction column(s) of both",
            "give one --pred spec, or compare columns of one file",
        )
    spec = request.preds[0] if request.preds else None
    opened: list[tuple[Table, Columns]] = []
    for source in request.sources:
        table = _open(request, source)
        try:
            columns = resolve_columns(
                table.names, ColumnRequest(request.true, spec, request.weight, group=by)
            )
        except BaseException:
            table.close()
            for other, _ in opened:
                other.close()
            raise
        opened.append((table, columns))
    names = (opened[0][0].name, opened[1][0].name)

    def generate() -> Iterator[tuple[Batch, list[Array]]]:
        (table_a, columns_a), (table_b, columns_b) = opened
        name_a, name_b = names
        it_a = _read(table_a, columns_a, request.dropna)
        it_b = _read(table_b, columns_b, request.dropna)
        for a, b in _aligned(it_a, it_b, name_a, name_b):
            if a.y_true.shape != b.y_true.shape or not np.array_equal(a.y_true, b.y_true):
                diff = np.flatnonzero(
                    (a.y_true != b.y_true).reshape(a.y_true.shape[0], -1).any(axis=1)
                )
                row = int(a.rows[diff[0]]) if diff.size else int(a.rows[0])
                i = int(diff[0]) if diff.size else 0
                raise InputError(
                    f"the targets differ at row {row}: {a.y_true[i].tolist()!r} in {name_a}, "
                    f"{b.y_true[i].tolist()!r} in {name_b}",
                    "compare needs the same targets, row by row, in both files",
                )
            if not np.array_equal(a.rows, b.rows):
                raise InputError(
                    f"--dropna dropped different rows of {name_a} and {name_b}",
                    "fix the missing values, or compare columns of one file",
                )
            yield a, [a.y_pred, b.y_pred]

    return _Models(_file_names(*names), generate())


def _file_names(a: str, b: str) -> tuple[str, str]:
    """Files are named by their base names, unless those are the same."""
    short = (os.path.basename(a), os.path.basename(b))
    return short if short[0] != short[1] else (a, b)


def _aligned(
    it_a: Iterator[Batch], it_b: Iterator[Batch], name_a: str, name_b: str
) -> Iterator[tuple[Batch, Batch]]:
    """Batches of the two files cut to the same rows (their blocks differ in size)."""
    buf_a: Batch | None = None
    buf_b: Batch | None = None
    while True:
        if buf_a is None or buf_a.rows.shape[0] == 0:
            buf_a = next(it_a, None)
        if buf_b is None or buf_b.rows.shape[0] == 0:
            buf_b = next(it_b, None)
        if buf_a is None or buf_b is None:
            if buf_a is not None or buf_b is not None:
                longer = name_a if buf_a is not None else name_b
                raise InputError(
                    f"{name_a} and {name_b} have different numbers of rows ({longer} is longer)",
                    "compare needs the same rows in both files",
                )
            return
        n = min(buf_a.rows.shape[0], buf_b.rows.shape[0])
        head_a, buf_a = _split(buf_a, n)
        head_b, buf_b = _split(buf_b, n)
        yield head_a, head_b


def _split(b: Batch, n: int) -> tuple[Batch, Batch]:
    def cut(x: Array | None, lo: int | None, hi: int | None) -> Array | None:
        return None if x is None else x[lo:hi]

    head = Batch(
        b.y_true[:n],
        b.y_pred[:n],
        cut(b.weight, None, n),
        b.rows[:n],
        b.dropped,
        cut(b.key, None, n),
    )
    tail = Batch(
        b.y_true[n:], b.y_pred[n:], cut(b.weight, n, None), b.rows[n:], 0, cut(b.key, n, None)
    )
    return head, tail


# --------------------------------------------------------------------------- computing


def run_compare(request: CompareRequest) -> CompareReport:
    """One pass over the rows: totals, bootstrap and permutation replicates."""
    o = request.options
    if request.reduction == "none":
        raise InputError("compare reports reduced losses", "use --reduction mean or sum")
    for loss in request.losses:
        loss.check_reduction(request.reduction)
    if len(request.sources) == 2:
        models = _two_files(request, o.by)
    elif len(request.sources) == 1:
        models = _one_file(request, o.by)
    else:
        raise InputError("compare takes one file (with --pred m1,m2) or two files")
    return compare_batches(
        request.losses, request.reduction, request.logits, o, models.names, models.batches
    )


def _one_value_each(losses: tuple[Loss, ...], pred: Array) -> None:
    """compare reduces Σsℓ and Σsn only: refuse a loss that reports per output."""
    outputs = pred.shape[1] if pred.ndim == 2 else 1
    for loss in losses:
        if loss.needs_outputs(outputs):
            raise InputError(
                f"compare takes one value per loss, and {loss.name} over {outputs} "
                "outputs reports one per output",
                "drop --multioutput raw (rmse/rmsle: compare the outputs one at a time)",
            )


def compare_batches(
    losses: tuple[Loss, ...],
    reduction: Reduction,
    logits: bool,
    o: EvaluateOptions,
    names: tuple[str, ...],
    batches: Iterator[tuple[Batch, list[Array]]],
) -> CompareReport:
    """The comparison of batches of targets with one prediction array per model."""
    pairs = [(0, j) for j in range(1, len(names))]
    k = len(losses)
    units = [(p, i) for p in range(len(pairs)) for i in range(k)]  # one (pair, loss) each
    spans = [(3 * u, 3 * u + 3) for u in range(len(units))]
    boot = Resampler(spans, o.replicates, o.seed) if o.replicates else None
    perm = (
        Resampler([(u, u + 1) for u in range(len(units))], o.replicates, o.seed, swap_indicators)
        if o.replicates
        else None
    )
    index = GroupIndex(o.by) if o.by else None
    data = PassData() if o.baseline else None  # the rows the best constant reads again
    tops = [TopRows(o.worst) for _ in units] if o.worst else []
    classes: int | None = None
    totals = np.zeros(3 * len(units))
    gtotals: dict[int, Array] = {}
    gcounts: dict[int, int] = {}
    n = dropped = 0
    for batch, preds in batches:
        rows = batch.rows.shape[0]
        n += rows
        dropped += batch.dropped
        if batch.weight is not None:
            check_weights(batch.weight, rows)
        pws = [
            [loss.pointwise(batch.y_true, pred, logits=logits) for loss in losses] for pred in preds
        ]
        _one_value_each(losses, preds[0])
        values = _unit_values(batch, losses, pws, pairs)
        totals += values.sum(axis=0)
        g = None
        if index is not None:
            assert batch.key is not None
            g = index.index(batch.key)
            for grp in np.unique(g).tolist():
                sel = g == grp
                gtotals[grp] = gtotals.get(grp, 0.0) + values[sel].sum(axis=0)
                gcounts[grp] = gcounts.get(grp, 0) + int(sel.sum())
        if data is not None:
            gz = np.zeros(rows, dtype=np.intp) if g is None else g
            data.add(batch.y_true, batch.weight, gz)
            classes = preds[0].shape[1] if preds[0].ndim == 2 else None
        for u, top in enumerate(tops):
            p = pairs[units[u][0]]
            nb, nn = values[:, 3 * u], values[:, 3 * u + 1]
            top.add(batch.rows, nn - nb, batch.y_true, preds[p[0]], preds[p[1]], nb, nn)
        if boot is not None and perm is not None:
            boot.add(batch.rows, values, g)
            diffs = values[:, 1::3] - values[:, 0::3]
            perm.add(batch.rows, diffs, g)
    if n == 0:
        raise InputError("no rows left to compare after --dropna")
    if boot is not None and perm is not None:
        boot.finish()
        perm.finish()
    setting = (losses, reduction, o)
    try:
        if data is not None:
            data.finish()
        shared = _Shared(data, classes, logits, len(index) if index is not None else 0, gtotals)
        results = _results(setting, names, pairs, units, totals, boot, perm, OVERALL, shared)
        groups = None
        if index is not None:
            groups = [
                PairedGroup(
                    key,
                    gcounts.get(grp, 0),
                    _results(setting, names, pairs, units, gtotals[grp], boot, perm, grp, shared),
                )
                for key, grp in index.ordered()
            ]
    finally:
        if data is not None:
            data.close()
    worst = None
    if tops:
        worst = [
            _worst(t, losses[i], names, pairs[p]) for t, (p, i) in zip(tops, units, strict=True)
        ]
    return CompareReport(n, dropped, names, results, groups, o, worst=worst)


def _worst(top: TopRows, loss: Loss, names: tuple[str, ...], pair: tuple[int, int]) -> PairedWorst:
    assert top.rows is not None
    y_true, base_pred, new_pred, nb, nn = top.columns
    return PairedWorst(
        loss, names[pair[0]], names[pair[1]], top.rows, y_true, base_pred, new_pred, nb, nn
    )


@dataclass
class _Shared:
    """--baseline: the rows the best constant reads, and each (loss, group)'s, found once."""

    data: PassData | None
    classes: int | None
    logits: bool
    groups: int
    gtotals: dict[int, Array]  # per group the (sℓ_base, sℓ_new, sn) totals of each unit
    found: dict[tuple[int, int], Baseline] = field(default_factory=dict)

    def baseline(
        self, loss: Loss, i: int, grp: int, value: float, den: float, reduction: Reduction
    ) -> Baseline | None:
        """The best constant of loss i in group grp (OVERALL: all rows), D² that of ``value``."""
        if self.data is None:
            return None
        key = (i, grp)
        if key not in self.found:
            overall = grp == OVERALL
            source: Any = Overall(self.data) if overall else self.data
            count = 1 if overall else self.groups
            # the divisors as the reduction summed them (per loss: unit i is pair 0, loss i)
            dens = [den] if overall else [self._den(g, i) for g in range(count)]
            found = baselines(
                loss,
                source,
                groups=count,
                logits=self.logits,
                reduction=reduction,
                values=[value] * count,
                classes=self.classes,
                dens=dens,
            )
            if overall:
                self.found[key] = found[0]
            else:
                for g, b in enumerate(found):
                    self.found[(i, g)] = b
        return self.found[key]

    def _den(self, grp: int, i: int) -> float:
        t = self.gtotals.get(grp)
        return 0.0 if t is None else float(t[3 * i + 2])


def _unit_values(
    batch: Batch,
    losses: tuple[Loss, ...],
    pws: list[list[Pointwise]],
    pairs: list[tuple[int, int]],
) -> Array:
    """Per row, for each (pair, loss): sℓ_base, sℓ_new, sn."""
    s = batch.weight
    cols = []
    for base, new in pairs:
        for i in range(len(losses)):
            nb, den = row_totals(losses[i], pws[base][i], s)
            nn, _ = row_totals(losses[i], pws[new][i], s)
            cols.extend([nb, nn, den])
    return np.column_stack(cols)


def _results(
    setting: tuple[tuple[Loss, ...], Reduction, EvaluateOptions],
    names: tuple[str, ...],
    pairs: list[tuple[int, int]],
    units: list[tuple[int, int]],
    totals: Array,
    boot: Resampler | None,
    perm: Resampler | None,
    grp: int,
    shared: _Shared,
) -> list[PairedResult]:
    losses, reduction, o = setting
    out = []
    for u, (p, i) in enumerate(units):
        loss = losses[i]
        nb, nn, den = (float(x) for x in totals[3 * u : 3 * u + 3])

        def reduce(num: float, d: float, loss: Loss = loss) -> float:
            if reduction == "mean" and not d > 0:
                return math.nan
            return loss.reduce_value(num, d, reduction)

        base, new = reduce(nb, den), reduce(nn, den)
        diff = new - base
        ci = p_value = None
        if boot is not None and perm is not None and math.isfinite(diff):
            ci, p_value = _inference(boot, perm, grp, u, reduce, o)
        base_name, new_name = names[pairs[p][0]], names[pairs[p][1]]
        found = shared.baseline(loss, i, grp, base, den, reduction) if math.isfinite(base) else None
        baseline = new_d2 = None
        if found is not None:
            l0 = found.value
            d2 = 1.0 - base / l0 if l0 > 0 else None
            new_d2 = 1.0 - new / l0 if l0 > 0 else None
            baseline = Baseline(found.constant, l0, d2)
        out.append(
            PairedResult(loss, base_name, new_name, base, new, diff, ci, p_value, baseline, new_d2)
        )
    return out


def _inference(
    boot: Resampler,
    perm: Resampler,
    grp: int,
    u: int,
    reduce: Any,
    o: EvaluateOptions,
) -> tuple[Interval | None, float | None]:
    if grp == OVERALL:
        bt, pt = boot.overall_totals(), perm.overall_totals()
    elif grp in boot.totals:
        bt, pt = boot.totals[grp], perm.totals[grp]
    else:
        return None, None
    t = bt[3 * u : 3 * u + 3]

    def f(x: Array) -> float:
        d = float(x[2])
        return float(reduce(float(x[1]), d) - reduce(float(x[0]), d))

    reps = np.array([f(t[:, b]) for b in range(t.shape[1])])
    point = boot.point(grp, u)
    accel = boot.acceleration(grp, u, gradient(f, point))
    ci = bca_interval(f(point), reps, accel, o.level)
    ci = Interval(
        ci.low, ci.high, ci.level, ci.method.replace("poisson", "paired poisson"), ci.replicates
    )
    # permutation: rows swapped move S_b from new to base
    point_b = boot.point(grp, u)
    nb, nn, den = (float(x) for x in point_b)
    swaps = pt[u]
    flipped = np.array([reduce(nn - s, den) - reduce(nb + s, den) for s in swaps.tolist()])
    observed = f(point_b)
    tol = 1e-12 * max(abs(observed), abs(reduce(nb, den)), 1e-300)
    extreme = int(np.count_nonzero(np.abs(flipped) >= abs(observed) - tol))
    return ci, (1 + extreme) / (flipped.shape[0] + 1)
