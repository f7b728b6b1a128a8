"""``--hazards``: where the numbers are fragile, row by row, in bounded memory.

Each hazard is a count and the first file rows where it occurs, with the fix:

* ``clipped`` — probabilities outside [eps, 1 − eps]: the loss there is set
  by the clip, so libraries that clip elsewhere (Keras 1e-7, torch's −100 log
  clamp) report other numbers;
* ``saturated`` — logits whose probability rounds to exactly 1 (so 1 − p to 0)
  in the loss's float type (|x| ≳ 36.7 in float64, 16.6 in float32), or a
  softmax row with a probability of exactly 0 or 1: losses on logits
  stay exact, probabilities exported from them do not;
* ``row_sum`` — probability rows whose sum is off 1 by more than √eps (the
  tolerance scikit-learn warns at): Keras renormalises them, scikit-learn
  uses them as they are, losscli refuses rows off by more than 1e-4;
* ``near_overflow`` — a per-row loss or gradient within a factor 10⁶ of the
  float type's largest number: one more square or sum overflows;
* ``dominant`` — rows whose weighted loss is more than ``share`` of the total
  (kept as a bounded heap of the largest contributions while streaming: a row
  over a share s is among the ⌈1/s⌉ largest);
* ``skipped`` — rows ``--dropna`` left out.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np

    from losscli._types import Array
    from losscli.io.blocks import Batch
    from losscli.losses import Loss, Pointwise
else:
    np = lazy_module("numpy", globals(), "np")

ROWS_KEPT = 10  # first rows listed per hazard
OVERFLOW_FACTOR = 1e6  # "near overflow": within this factor of the float type's maximum
DEFAULT_SHARE = 0.1  # a row carrying more than this share of a loss dominates it

FIXES = {
    "clipped": "probabilities at or beyond [eps, 1 − eps] set the loss by the clip: "
    "pass logits (--logits) or check for rounded probabilities",
    "saturated": "these logits give probabilities of exactly 0 or 1 in the float type: "
    "keep logits end to end; do not export probabilities from them",
    "row_sum": "probability rows off 1 by more than √eps: libraries disagree on them "
    "(Keras renormalises, scikit-learn does not); renormalise them yourself",
    "near_overflow": "a loss or gradient within 10⁶ of the float type's largest number: "
    "rescale the targets and predictions",
    "dominant": "single rows carry a large share of the loss: look at them, or use a robust "
    "loss (huber, mae)",
    "skipped": "--dropna left these rows out: the loss is over the other rows only",
}


@dataclass
class Hazard:
    """How often one hazard occurs and the first rows (1-based file data rows)."""

    count: int = 0
    rows: list[int] = field(default_factory=list)

    def add(self, rows: Array, count: int | None = None) -> None:
        self.count += int(rows.size) if count is None else count
        room = ROWS_KEPT - len(self.rows)
        if room > 0:
            self.rows.extend(int(r) for r in rows[:room])

    def as_dict(self, name: str) -> dict[str, Any]:
        return {"count": self.count, "rows": self.rows, "fix": FIXES[name]}


@dataclass(frozen=True)
class HazardReport:
    """The hazards of one run; ``dominant`` also gives each row's largest share."""

    hazards: dict[str, Hazard]
    shares: dict[int, float]  # dominant row -> its largest share of a loss
    share: float

    def as_dict(self) -> dict[str, Any]:
        out = {name: h.as_dict(name) for name, h in self.hazards.items()}
        out["dominant"]["share"] = self.share
        out["dominant"]["shares"] = {str(r): s for r, s in sorted(self.shares.items())}
        return out


def _finfo(loss: Loss) -> Any:
    return np.finfo(np.float32 if loss.precision == "float32" else np.float64)


def _eps(loss: Loss) -> float:
    eps = getattr(loss, "eps", None)
    return float(eps) if eps is not None else float(_finfo(loss).eps)


class HazardScan:
    """Accumulates the hazards over the chunks of one compute run."""

    def __init__(self, losses: tuple[Loss, ...], *, logits: bool, share: float = DEFAULT_SHARE):
        self.losses, self.logits, self.share = losses, logits, share
        self.hazards = {name: Hazard() for name in FIXES}
        self.top: list[list[tuple[float, int]]] = [[] for _ in losses]  # min-heaps per loss
        self.keep = math.ceil(1.0 / share) + 1
        self.next_row = 1

    def feed(self, batch: Batch, pws: list[Pointwise] | tuple[Pointwise, ...]) -> None:
        rows = batch.rows
        self._skipped(batch)
        spaces = {loss.space(self.logits) for loss in self.losses}
        flagged = {"clipped": np.zeros(len(rows), bool), "saturated": np.zeros(len(rows), bool)}
        p = batch.y_pred
        for loss in self.losses:
            space = loss.space(self.logits)
            if space == "probability":
                eps = _eps(loss)
                out = (p < eps) | (p > 1.0 - eps)
                flagged["clipped"] |= out if out.ndim == 1 else out.any(axis=1)
            elif space == "logit" and loss.task.value not in ("regression", "counts"):
                flagged["saturated"] |= self._saturated(p, loss)
        for name, mask in flagged.items():
            self.hazards[name].add(rows[mask])
        if "probability" in spaces and p.ndim == 2:
            eps = min(float(_finfo(loss).eps) for loss in self.losses)
            off = np.abs(p.sum(axis=1) - 1.0) > math.sqrt(eps)
            self.hazards["row_sum"].add(rows[off])
        near = np.zeros(len(rows), bool)
        for i, (loss, pw) in enumerate(zip(self.losses, pws, strict=True)):
            limit = float(_finfo(loss).max) / OVERFLOW_FACTOR
            grad = np.abs(pw.grad) if pw.grad.ndim == 1 else np.abs(pw.grad).max(axis=1)
            near |= (np.abs(pw.loss) > limit) | (grad > limit)
            contrib = pw.loss if batch.weight is None else batch.weight * pw.loss
            self._keep_largest(i, contrib, rows)
        self.hazards["near_overflow"].add(rows[near])

    def _skipped(self, batch: Batch) -> None:
        """--dropna's count; its rows are the gaps in the numbering (those after a
        chunk's last kept row show as the next chunk's gap)."""
        rows = batch.rows
        gaps = rows[:0]
        if rows.size:
            expected = np.arange(self.next_row, int(rows[-1]) + 1)
            gaps = np.setdiff1d(expected, rows, assume_unique=True)
            self.next_row = int(rows[-1]) + 1
        self.hazards["skipped"].add(gaps, count=batch.dropped)

    def _saturated(self, x: Array, loss: Loss) -> Array:
        dtype = np.float32 if loss.precision == "float32" else np.float64
        with np.errstate(over="ignore", under="ignore"):
            if x.ndim == 1:  # σ(|x|) = 1 exactly: one class's probability is 1, the other's 1 − 1
                z = np.abs(x.astype(dtype))
                prob = np.reciprocal(np.exp(np.negative(z)) + dtype(1.0))
                return np.asarray(prob == 1)
            z = x.astype(dtype)
            e = np.exp(z - z.max(axis=1, keepdims=True))
            prob = e / e.sum(axis=1, keepdims=True)
            return np.asarray((prob == 0).any(axis=1) | (prob == 1).any(axis=1))

    def _keep_largest(self, i: int, contrib: Array, rows: Array) -> None:
        if contrib.size == 0:
            return
        k = min(self.keep, contrib.size)
        idx = np.argpartition(contrib, contrib.size - k)[-k:]
        heap = self.top[i]
        for j in idx:
            item = (float(contrib[j]), int(rows[j]))
            if len(heap) < self.keep:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)

    def finish(self, totals: list[float]) -> HazardReport:
        """The report, given each loss's total Σsℓ (the dominant rows need it)."""
        shares: dict[int, float] = {}
        for heap, total in zip(self.top, totals, strict=True):
            if not total > 0 or not math.isfinite(total):
                continue
            for value, row in heap:
                if value > self.share * total:
                    shares[row] = max(shares.get(row, 0.0), value / total)
        dominant = sorted(shares)
        self.hazards["dominant"] = Hazard(len(dominant), dominant[:ROWS_KEPT])
        return HazardReport(self.hazards, shares, self.share)
