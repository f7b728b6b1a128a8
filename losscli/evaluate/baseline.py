"""The best constant prediction of a loss, its loss L₀, and the skill D² = 1 − L/L₀.

c* = argmin_c Σ wᵢ ℓ(yᵢ, c) depends on the targets and weights only.  A
loss declares a closed form through :meth:`Loss.constant_form` (see
``BestConstant`` in ``losses/base.py``); every other loss — and every loss
the catalogue gains later — is served by the generic minimiser here:

* one prediction column: bracketing on the sign of F'(c) = Σ wᵢ ∂ℓ/∂ŷ(yᵢ, c),
  with fifteen grid points and three regula-falsi points per pass, until the
  bracket is narrower than 1e-13·max(1, |c|) (smooth losses converge
  super-linearly, kinked ones at least 16-fold per pass);
* K columns (softmax losses): damped Newton on the logits z of the class
  totals T_k = Σ wᵢ yᵢₖ, exact because every multi-class loss is linear in
  the target distribution (entropy terms, as kl_div's, do not move c*).

Weighted quantiles are found by selection, never by sorting everything: each
pass buckets the rows inside the current bracket into 1,024 bins, keeps the
bin where the cumulative weight reaches q·W, and once a bracket holds at most
:data:`COLLECT_ROWS` rows, sorts just those.  The answer is the averaged
inverted CDF (the midpoint of the flat stretch of the pinball loss when
there is one), which is what scikit-learn's D² scores use.

Everything works per group (``--by``): groups are independent problems
solved side by side in the same passes.

Every pass is written as a function of one partition's rows returning
partial sums (or minima, maxima, kept rows), combined here: ``data.each``
runs it once on one file's :class:`~losscli.evaluate.passes.PassData`, or
once per partition (a glob's files in turn, or on the Dask workers that
hold them, :mod:`losscli.engine.evaluate_parts`), so a many-file input
finds the same constant with one map per pass and no rows moved.  L₀ comes from one last pass with
the loss's own kernel, so it is the same number ``compute`` would print for
the constant prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.errors import BadValues, InputError
from losscli.losses import MACHINE_EPS, Loss, Reduction

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    from numpy.typing import NDArray

    from losscli.evaluate.passes import ChunkSource, Rows

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")

BUCKETS = 1024  # bins per selection pass: the bracket shrinks 1024-fold in weight order
COLLECT_ROWS = 1 << 20  # rows sorted in memory once a bracket holds no more (all groups)
GRID = 15  # interior grid points of the minimiser's bracket per pass
REL_TOL = 1e-13  # bracket width at which the 1-D minimiser stops, relative to max(1, |c|)
MAX_PASSES = 400
SUB_ROWS = 1 << 16  # rows per evaluation block (candidates × rows stay a few MB)


def _sub_blocks(rows: ChunkSource) -> Iterator[tuple[Array, Array, Array]]:
    """(y, w, group codes) of every chunk in runs of :data:`SUB_ROWS` rows."""
    for chunk in rows.chunks():
        for lo in range(0, chunk.y.shape[0], SUB_ROWS):
            hi = lo + SUB_ROWS
            yield chunk.y[lo:hi], chunk.w[lo:hi], chunk.g[lo:hi]


LOGIT_LIMIT = 700.0  # |logit| beyond which the optimum is at infinity (exp overflows after)


@dataclass(frozen=True)
class Baseline:
    """The best constant of one loss (for one group): c*, L₀ and D²."""

    constant: float | tuple[float, ...]
    value: float
    d2: float | None  # None where L₀ = 0 (every target the same: no skill to measure)

    def to_json(self) -> dict[str, Any]:
        """JSON has no NaN: an undefined number (a group without weight) is null."""
        c = list(self.constant) if isinstance(self.constant, tuple) else self.constant
        return {"constant": _finite(c), "value": _finite(self.value), "d2": _finite(self.d2)}


def _finite(x: Any) -> Any:
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x if x is None or math.isfinite(x) else None


def baselines(
    loss: Loss,
    data: Rows,
    *,
    groups: int,
    logits: bool,
    reduction: Reduction,
    values: list[float],
    classes: int | None,
    dens: list[float] | None = None,
) -> list[Baseline]:
    """The baseline of ``loss`` for each of ``groups`` groups, ``values`` the loss per group.

    ``classes`` is K when the predictions are K columns (softmax losses),
    None for one column.  ``dens`` are the reductions' divisors as compute
    summed them (they count zero-weight rows where a convention divides by
    the number of rows); by default Σwn of the rows kept for the passes.
    """
    if reduction == "none":
        raise InputError("--baseline needs a reduced loss", "use --reduction mean or sum")
    space = loss.space(logits)
    if loss.params().get("log_target"):
        raise InputError(
            f"--baseline: {loss.name} with --log-target has no constant baseline here",
            "give probability targets, or leave out --baseline",
        )
    if classes is not None and not (loss.multiclass and loss.task.multiclass):
        raise InputError(
            f"--baseline: {loss.name} on {classes} prediction columns has no constant baseline "
            "(only one column, or one probability or logit column per class)",
            "leave out --baseline for this loss",
        )
    try:
        if classes is None:
            consts = _constants_1d(loss, data, groups, space)
            preds: list[Any] = [float(c) for c in consts]
        else:
            preds = _constants_kd(loss, data, groups, space, classes)
        num, den = _totals_at(loss, data, groups, preds, logits=logits)
    except BadValues as exc:  # a constant outside the loss's domain: a loss we cannot serve
        raise InputError(
            f"--baseline: no constant prediction found for {loss.name} ({exc.what})",
            "leave out --baseline for this loss",
        ) from None
    if dens is not None:
        den = np.asarray(dens, dtype=np.float64)
    out = []
    for g in range(groups):
        if reduction == "mean" and not den[g] > 0:  # a group of zero-weight rows only
            out.append(Baseline(math.nan, math.nan, None))
            continue
        l0 = loss.reduce_value(float(num[g]), float(den[g]), reduction)
        d2 = 1.0 - values[g] / l0 if l0 > 0 else None
        c = preds[g]
        out.append(Baseline(tuple(float(x) for x in c) if classes else float(c), l0, d2))
    return out


# --------------------------------------------------------------------------- passes


def _totals_at(
    loss: Loss, data: Rows, groups: int, preds: list[Any], *, logits: bool
) -> tuple[Array, Array]:
    """(Σwℓ, Σwn) per group at the constant predictions: the loss's own kernel."""
    table = np.asarray(preds, dtype=np.float64)

    def part(rows: ChunkSource) -> tuple[Array, Array]:
        num, den = np.zeros(groups), np.zeros(groups)
        for y, w, g in _sub_blocks(rows):
            pw = loss.pointwise(y, table[g], logits=logits, strict=False)
            num += np.bincount(g, weights=w * pw.loss, minlength=groups)
            norm = w if pw.norm is None else w * pw.norm
            den += np.bincount(g, weights=norm, minlength=groups)
        return num, den

    parts = data.each(part)
    return _added([p[0] for p in parts]), _added([p[1] for p in parts])


def _added(arrays: list[Array]) -> Array:
    """The partitions' partial sums added in partition order (one partition: itself)."""
    out = arrays[0].copy()
    for a in arrays[1:]:
        out += a
    return out


def _moments(data: Rows, groups: int) -> tuple[Array, Array, Array, Array]:
    """Per group: Σw, Σwy, min y, max y (one pass)."""

    def part(rows: ChunkSource) -> tuple[Array, Array, Array, Array]:
        sw, swy = np.zeros(groups), np.zeros(groups)
        lo, hi = np.full(groups, np.inf), np.full(groups, -np.inf)
        for chunk in rows.chunks():
            sw += np.bincount(chunk.g, weights=chunk.w, minlength=groups)
            swy += np.bincount(chunk.g, weights=chunk.w * chunk.y, minlength=groups)
            np.minimum.at(lo, chunk.g, chunk.y)
            np.maximum.at(hi, chunk.g, chunk.y)
        return sw, swy, lo, hi

    parts = data.each(part)
    return (
        _added([p[0] for p in parts]),
        _added([p[1] for p in parts]),
        np.minimum.reduce([p[2] for p in parts]),
        np.maximum.reduce([p[3] for p in parts]),
    )


def _constants_1d(loss: Loss, data: Rows, groups: int, space: str) -> Array:
    form = loss.constant_form()
    if form == "frequencies":
        form = "rate"  # a softmax loss on one column is the binary case
    if form in ("mean", "count_mean", "rate"):
        sw, swy, _, _ = _moments(data, groups)
        mean = swy / np.where(sw > 0, sw, 1.0)
        if space != "logit":
            return mean
        if form == "rate":
            p = np.clip(mean, MACHINE_EPS, 1.0 - MACHINE_EPS)
            return np.log(p) - np.log1p(-p)
        if form == "count_mean":
            return np.log(np.maximum(mean, np.finfo(np.float64).tiny))
        return mean
    if form in ("median", "quantile") and space == "value":
        q = 0.5 if form == "median" else float(loss.params()["quantile"])
        return weighted_quantiles(data, groups, q)
    return _minimise_1d(loss, data, groups, space)


# --------------------------------------------------------------------------- quantiles


def weighted_quantiles(data: Rows, groups: int, q: float) -> Array:
    """The averaged inverted CDF at q of each group's weighted targets, by selection.

    With W the group's total weight and C(x) = Σ_{y ≤ x} w, the answer is
    x₁ = min{x : C(x) ≥ qW}, averaged with the next value above when C(x₁)
    is exactly qW (scikit-learn's ``_weighted_percentile(average=True)``).
    """
    sw, _, lo, hi = _moments(data, groups)
    target = q * sw
    # Bracket (a, b] holds x₁; `below` is the weight of rows ≤ a (none yet: a = −inf).
    a = np.full(groups, -np.inf)
    b = hi.copy()
    below = np.zeros(groups)
    start = lo.copy()  # the smallest value in (a, b]: bins span [start, b]
    count = np.full(groups, np.inf)
    answer = np.full(groups, np.nan)
    live = sw > 0  # a group of zero-weight rows only has no quantile
    for _ in range(MAX_PASSES):
        todo = np.isnan(answer) & live
        if not todo.any():
            break
        collect = todo & (count <= COLLECT_ROWS / max(1, int(todo.sum())))
        collect |= todo & (start >= b)  # one value left in the bracket
        _selection_pass(data, groups, a, b, start, below, target, count, answer, todo, collect)
    # x₁ found; where C(x₁) = qW exactly, average with the next value above
    nxt = _next_above(data, groups, answer, target)
    return np.where(np.isnan(nxt), answer, 0.5 * (answer + nxt))


def _selection_pass(
    data: Rows,
    groups: int,
    a: Array,
    b: Array,
    start: Array,
    below: Array,
    target: Array,
    count: Array,
    answer: Array,
    todo: Array,
    collect: Array,
) -> None:
    """One pass: narrow each open bracket to one bin, or finish it by sorting its rows."""
    bins = BUCKETS
    width = np.where(b > start, b - start, 1.0)

    def part(rows: ChunkSource) -> tuple[Array, Array, Array, Array, tuple[Array, ...]]:
        weight = np.zeros((groups, bins))
        n = np.zeros((groups, bins))
        bmax = np.full((groups, bins), -np.inf)
        bmin = np.full((groups, bins), np.inf)
        kept: list[tuple[Array, Array, Array]] = []
        for chunk in rows.chunks():
            g = chunk.g
            inside = todo[g] & (chunk.y > a[g]) & (chunk.y <= b[g])
            if not inside.any():
                continue
            y, w, g = chunk.y[inside], chunk.w[inside], g[inside]
            take = collect[g]
            if take.any():
                kept.append((y[take], w[take], g[take]))
                y, w, g = y[~take], w[~take], g[~take]
            k = np.clip(((y - start[g]) / width[g] * bins).astype(np.intp), 0, bins - 1)
            flat = g * bins + k
            weight += np.bincount(flat, weights=w, minlength=groups * bins).reshape(groups, bins)
            n += np.bincount(flat, minlength=groups * bins).reshape(groups, bins)
            np.maximum.at(bmax.reshape(-1), flat, y)
            np.minimum.at(bmin.reshape(-1), flat, y)
        rows_kept = tuple(np.concatenate([k[i] for k in kept]) for i in range(3)) if kept else ()
        return weight, n, bmax, bmin, rows_kept

    parts = data.each(part)
    weight = _added([p[0] for p in parts])
    n = _added([p[1] for p in parts])
    bmax = np.maximum.reduce([p[2] for p in parts])
    bmin = np.minimum.reduce([p[3] for p in parts])
    kept_y = [p[4][0] for p in parts if p[4]]
    kept_w = [p[4][1] for p in parts if p[4]]
    kept_g = [p[4][2] for p in parts if p[4]]
    if kept_y:
        _finish_sorted(
            np.concatenate(kept_y),
            np.concatenate(kept_w),
            np.concatenate(kept_g),
            below,
            target,
            answer,
        )
    width = np.where(todo, width, 1.0)
    for grp in np.flatnonzero(todo & ~collect):
        cum = below[grp] + np.cumsum(weight[grp])
        # the first bin where the cumulative weight reaches the target
        j = int(np.searchsorted(cum, target[grp], side="left"))
        j = min(j, bins - 1)
        while j < bins - 1 and n[grp, j] == 0:
            j += 1
        lower = bmax[grp, :j][n[grp, :j] > 0]
        new_a = float(lower.max()) if lower.size else float(a[grp])
        below[grp] = below[grp] + float(weight[grp, :j].sum())
        a[grp] = new_a
        b[grp] = bmax[grp, j]
        start[grp] = bmin[grp, j]
        count[grp] = n[grp, j]


def _finish_sorted(
    y: Array, w: Array, g: NDArray[np.intp], below: Array, target: Array, answer: Array
) -> None:
    order = np.lexsort((y, g))
    y, w, g = y[order], w[order], g[order]
    for grp in np.unique(g):
        sel = g == grp
        ys, ws = y[sel], w[sel]
        cum = below[grp] + np.cumsum(ws)
        j = int(np.searchsorted(cum, target[grp], side="left"))
        answer[grp] = ys[min(j, ys.size - 1)]


def _next_above(data: Rows, groups: int, x: Array, target: Array) -> Array:
    """Where C(x) equals the target exactly, the smallest value above x (else NaN)."""

    def part(rows: ChunkSource) -> tuple[Array, Array]:
        c = np.zeros(groups)
        nxt = np.full(groups, np.inf)
        for chunk in rows.chunks():
            xg = x[chunk.g]
            at_or_below = chunk.y <= xg
            c += np.bincount(chunk.g[at_or_below], weights=chunk.w[at_or_below], minlength=groups)
            above = ~at_or_below
            np.minimum.at(nxt, chunk.g[above], chunk.y[above])
        return c, nxt

    parts = data.each(part)
    c = _added([p[0] for p in parts])
    nxt = np.minimum.reduce([p[1] for p in parts])
    exact = (c == target) & np.isfinite(nxt)
    return np.where(exact, nxt, np.nan)


# --------------------------------------------------------------------------- 1-D minimiser


def _derivatives(loss: Loss, data: Rows, groups: int, cands: Array, logits: bool) -> Array:
    """F'_g(c) = Σ wᵢ ∂ℓ/∂ŷ(yᵢ, c) for each group g and candidate column of ``cands``."""
    j = cands.shape[1]

    def part(rows: ChunkSource) -> Array:
        out = np.zeros((groups, j))
        for y, w, g in _sub_blocks(rows):
            preds = cands[g]  # (n, j)
            ys = np.repeat(y, j)
            pw = loss.pointwise(ys, preds.ravel(), logits=logits, strict=False)
            grad = pw.grad.reshape(-1, j) * w[:, None]
            if groups == 1:
                out[0] += grad.sum(axis=0)
            else:
                for col in range(j):
                    out[:, col] += np.bincount(g, weights=grad[:, col], minlength=groups)
        return out

    return _added(data.each(part))


def _minimise_1d(loss: Loss, data: Rows, groups: int, space: str) -> Array:
    """Exact minimisation of a convex F(c) = Σ wᵢ ℓ(yᵢ, c), per group, by bracketing F'."""
    logits = space == "logit"
    if space == "probability":
        eps = float(getattr(loss, "eps", MACHINE_EPS))
        a, b = np.full(groups, eps), np.full(groups, 1.0 - eps)
        bounded = True
    elif space == "logit":
        a, b = np.full(groups, -1.0), np.full(groups, 1.0)
        bounded = False
    else:
        _, _, a, b = _moments(data, groups)  # residual losses: c* lies in [min y, max y]
        bounded = False
    # Grow an unbounded bracket until F'(a) ≤ 0 ≤ F'(b).
    for _ in range(60):
        ends = _derivatives(loss, data, groups, np.column_stack([a, b]), logits)
        fa, fb = ends[:, 0], ends[:, 1]
        grow_a, grow_b = fa > 0, fb < 0
        if bounded or not (grow_a.any() or grow_b.any()):
            break
        span = np.maximum(b - a, 1.0)
        a = np.where(grow_a, a - 2 * span, a)
        b = np.where(grow_b, b + 2 * span, b)
        if logits and (np.abs(a) > LOGIT_LIMIT).any() | (np.abs(b) > LOGIT_LIMIT).any():
            a, b = np.maximum(a, -LOGIT_LIMIT), np.minimum(b, LOGIT_LIMIT)
            ends = _derivatives(loss, data, groups, np.column_stack([a, b]), logits)
            fa, fb = ends[:, 0], ends[:, 1]
            break
    empty = ~(a <= b)  # a group without (weighted) rows: no constant
    a, b = np.where(empty, 0.0, a), np.where(empty, 0.0, b)
    done = empty.copy()
    answer = np.full(groups, np.nan)
    # A bracket end where F' already has the optimum's sign is the answer (bounded domain).
    at_a, at_b = fa >= 0, fb <= 0
    at_a, at_b = at_a & ~empty, at_b & ~empty
    answer[at_a] = a[at_a]
    answer[at_b & ~at_a] = b[at_b & ~at_a]
    done |= at_a | at_b
    for _ in range(MAX_PASSES):
        width = b - a
        tol = REL_TOL * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
        done |= width <= tol
        if done.all():
            break
        grid = a[:, None] + width[:, None] * (np.arange(1, GRID + 1) / (GRID + 1))
        rf = a - fa * width / np.where(fb - fa > 0, fb - fa, 1.0)
        rf = np.clip(rf, a, b)
        delta = 1e-4 * width
        cands = np.column_stack([grid, rf - delta, rf, rf + delta])
        cands = np.clip(cands, a[:, None], b[:, None])
        cands.sort(axis=1)
        vals = _derivatives(loss, data, groups, cands, logits)
        for grp in np.flatnonzero(~done):
            xs = np.concatenate([[a[grp]], cands[grp], [b[grp]]])
            fs = np.concatenate([[fa[grp]], vals[grp], [fb[grp]]])
            zero = np.flatnonzero(fs == 0)
            if zero.size:  # a stationary point: the minimum (the middle of a flat stretch)
                answer[grp] = 0.5 * (xs[zero[0]] + xs[zero[-1]])
                done[grp] = True
                continue
            k = int(np.flatnonzero(fs > 0)[0])
            a[grp], b[grp], fa[grp], fb[grp] = xs[k - 1], xs[k], fs[k - 1], fs[k]
    open_ = np.isnan(answer) & ~empty
    # within the final bracket, the regula-falsi point
    rf = a - fa * (b - a) / np.where(fb - fa > 0, fb - fa, 1.0)
    answer[open_] = np.clip(rf, a, b)[open_]
    return answer


# --------------------------------------------------------------------------- K-D minimiser


def _class_totals(data: Rows, groups: int, k: int) -> Array:
    """T[g, c] = Σ wᵢ yᵢ꜀ over the group's rows (index targets count as one-hot)."""

    def part(rows: ChunkSource) -> Array:
        totals = np.zeros((groups, k))
        for chunk in rows.chunks():
            if chunk.y.ndim == 1:
                idx = chunk.y.astype(np.intp)
                flat = chunk.g * k + idx
                totals += np.bincount(flat, weights=chunk.w, minlength=groups * k).reshape(
                    groups, k
                )
            else:
                for c in range(k):
                    totals[:, c] += np.bincount(
                        chunk.g, weights=chunk.w * chunk.y[:, c], minlength=groups
                    )
        return totals

    return _added(data.each(part))


def _constants_kd(loss: Loss, data: Rows, groups: int, space: str, k: int) -> list[Array]:
    totals = _class_totals(data, groups, k)
    out = []
    for grp in range(groups):
        t = totals[grp]
        if loss.constant_form() == "frequencies":
            p = t / t.sum()
            logp = np.log(np.maximum(p, np.finfo(np.float64).tiny))
        else:
            logp = _newton_softmax(loss, t)
            p = np.exp(logp)
        out.append(logp if space == "logit" else p)
    return out


def _objective(loss: Loss, t: Array, z: Array) -> tuple[float, Array]:
    """F(z) = Σ_c T_c ℓ(e_c, softmax z) and its gradient in z."""
    k = t.shape[0]
    pw = loss.pointwise(
        np.arange(k, dtype=np.float64), np.tile(z, (k, 1)), logits=True, strict=False
    )
    return float(t @ pw.loss), t @ pw.grad


def _newton_softmax(loss: Loss, t: Array) -> Array:
    """argmin over log-probabilities of a softmax loss on the class totals (damped Newton)."""
    k = t.shape[0]
    present = t > 0
    z = np.where(present, np.log(np.where(present, t, 1.0) / t.sum()), -60.0)
    f, grad = _objective(loss, t, z)
    scale = max(float(t.sum()), 1.0)
    for _ in range(200):
        gp = np.where(present, grad, 0.0)
        if np.abs(gp).max() <= 1e-14 * scale:
            break
        h = np.zeros((k, k))
        step = 1e-6
        for c in np.flatnonzero(present):
            e = np.zeros(k)
            e[c] = step
            h[:, c] = (_objective(loss, t, z + e)[1] - _objective(loss, t, z - e)[1]) / (2 * step)
        idx = np.flatnonzero(present)
        hs = h[np.ix_(idx, idx)] + np.eye(idx.size) * 1e-12 * scale
        # the softmax is unchanged along (1, …, 1): solve in the least-squares sense
        d = np.zeros(k)
        d[idx] = -np.linalg.lstsq(hs, gp[idx], rcond=None)[0]
        if not gp @ d < 0:
            d = -gp
        lam = 1.0
        while lam > 1e-12:
            f_new, g_new = _objective(loss, t, z + lam * d)
            if f_new <= f + 1e-4 * lam * (gp @ d):
                break
            lam *= 0.5
        else:
            break
        z, f, grad = z + lam * d, f_new, g_new
    z = z - z.max()
    logp: Array = z - math.log(float(np.exp(z).sum()))
    return logp
