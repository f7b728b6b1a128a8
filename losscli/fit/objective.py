"""The training objective and its gradient: the only place of the chain rule.

    f(θ) = mean loss(y, Xw + b) + λ1‖c⊙w‖₁ + (λ2/2)‖c⊙w‖₂²

θ is one flat vector, coefficients first (d×k, row-major) and the k
intercepts last; the intercepts are never penalised.  The loss gives
∂L/∂scores (n×k, already divided by the batch's Σ normaliser); the chain
rule to the parameters is Xᵀ·g for the coefficients and Σ g for the
intercepts.  The smooth part (loss + L2) is what optimizers step on; the L1
part is applied by a proximal soft-threshold step, so coefficients that the
optimum sets to zero come out exactly 0.0.

The trainer always optimises on scaled features (better conditioning); the
per-coefficient factors c say where the penalty applies: c = 1 penalises
the scaled coefficients (``--standardize``), c = 1/σ the original ones
(``--no-standardize``, since w_original = w_scaled/σ).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from losscli.losses import Loss

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli._types import Array


@dataclass(frozen=True)
class Objective:
    """A loss on the scores of a linear model, with L1/L2 penalties.

    ``outputs`` is 1 for linear and logistic models (one score per row) and
    K for softmax; ``logits`` says whether the loss reads the scores as
    logits (classification, Poisson log-rates) or as values.
    """

    loss: Loss
    n_features: int
    outputs: int = 1
    logits: bool = False
    l1: float = 0.0
    l2: float = 0.0
    intercept: bool = True
    penalty_scale: Array | None = None  # c per feature; None = 1

    def _c(self) -> Array | float:
        """Penalty factors per coefficient (d·k, row-major like θ)."""
        if self.penalty_scale is None:
            return 1.0
        return np.repeat(self.penalty_scale, self.outputs)

    def l1_thresholds(self, step: float) -> Array | float:
        """Soft-threshold levels step·λ1·c for the proximal step."""
        return step * self.l1 * self._c()

    @property
    def size(self) -> int:
        """Length of θ: d·k coefficients then k intercepts."""
        return (self.n_features + 1) * self.outputs

    def coef_mask(self) -> NDArray[np.bool_]:
        """True for coefficients (penalised), False for intercepts."""
        mask = np.ones(self.size, dtype=bool)
        mask[self.n_features * self.outputs :] = False
        return mask

    def split(self, theta: Array) -> tuple[Array, Array]:
        """Views of θ as the coefficient matrix (d×k) and the intercepts (k)."""
        cut = self.n_features * self.outputs
        return theta[:cut].reshape(self.n_features, self.outputs), theta[cut:]

    def scores(self, theta: Array, x: Array) -> Array:
        """Xw + b: (n,) for one output, (n, k) for softmax."""
        d = self.n_features
        if self.outputs == 1:
            out: Array = x @ theta[:d]
            out += theta[d]  # in place: no second n-long array
            return out
        w, b = self.split(theta)
        out = x @ w
        out += b
        return out

    def _chain(self, g: Array, x: Array, den: float, out: Array) -> None:
        """∂(Σℓ/den)/∂θ into ``out``: Xᵀg/den for coefficients, Σg/den for intercepts.

        Dividing the (d+1)·k result rather than the n-long g saves a pass.
        """
        cut = self.n_features * self.outputs
        if self.outputs == 1:
            np.matmul(g, x, out=out[:cut])  # Xᵀg, as gᵀX
            # np.add.reduce, not g.sum(): half the call overhead, and the
            # mini-batch loop makes this call tens of thousands of times.
            out[cut] = np.add.reduce(g) if self.intercept else 0.0
        else:
            np.matmul(x.T, g, out=out[:cut].reshape(self.n_features, self.outputs))
            out[cut:] = np.add.reduce(g, axis=0) if self.intercept else 0.0
        np.multiply(out, 1.0 / den, out=out)

    def batch_gradient(self, theta: Array, x: Array, y: Array, out: Array) -> None:
        """The smooth part's gradient only, into ``out``: the mini-batch step.

        No loss value and no per-sample overflow check — the loop checks the
        epoch's objective instead — so a step costs a handful of NumPy calls.
        """
        if self.outputs == 1:  # scores() inlined: this runs ~30k times an epoch
            scores = x @ theta[: self.n_features]
            scores += theta[self.n_features]
        else:
            scores = self.scores(theta, x)
        pw = self.loss.pointwise(y, scores, logits=self.logits, finite=False)
        den = float(len(y)) if pw.norm is None else float(pw.norm.sum())
        self._chain(pw.grad, x, den, out)
        if self.l2:
            self._add_l2_gradient(theta, out)

    def mean_loss(self, theta: Array, x: Array, y: Array) -> float:
        """The mean loss alone (validation loss, metrics), no penalty.

        The per-sample overflow check is skipped here and below: the trainer
        checks that the sums it gets are finite, which a NaN or inf anywhere
        would spoil.
        """
        pw = self.loss.pointwise(y, self.scores(theta, x), logits=self.logits, finite=False)
        den = float(len(y)) if pw.norm is None else float(pw.norm.sum())
        return float(pw.loss.sum()) / den

    def l1_penalty(self, theta: Array) -> float:
        """λ1‖c⊙w‖₁ over the coefficients (the non-smooth part)."""
        if not self.l1:
            return 0.0
        return self.l1 * float(np.abs(self._c() * theta[: self.n_features * self.outputs]).sum())

    def l2_penalty(self, theta: Array) -> float:
        """(λ2/2)‖c⊙w‖₂² over the coefficients."""
        if not self.l2:
            return 0.0
        cw = self._c() * theta[: self.n_features * self.outputs]
        return 0.5 * self.l2 * float(cw @ cw)

    def penalty(self, theta: Array) -> float:
        """Both penalties."""
        return self.l1_penalty(theta) + self.l2_penalty(theta)

    def value(self, theta: Array, x: Array, y: Array) -> float:
        """The full objective f(θ) on (x, y)."""
        return self.mean_loss(theta, x, y) + self.penalty(theta)

    def smooth_value_and_grad(
        self, theta: Array, x: Array, y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        """The smooth part (mean loss + L2) and its gradient with respect to θ.

        ``out`` may be a preallocated gradient buffer (the SGD loop reuses one).
        """
        pw = self.loss.pointwise(y, self.scores(theta, x), logits=self.logits, finite=False)
        den = float(len(y)) if pw.norm is None else float(pw.norm.sum())
        value = float(pw.loss.sum()) / den
        grad = np.empty(self.size) if out is None else out
        self._chain(pw.grad, x, den, grad)
        if self.l2:
            value += self.l2_penalty(theta)
            self._add_l2_gradient(theta, grad)
        return value, grad

    def _add_l2_gradient(self, theta: Array, out: Array) -> None:
        """∂/∂w of (λ2/2)‖c⊙w‖² = λ2·c²⊙w, added to ``out``."""
        c = self._c()
        cut = self.n_features * self.outputs
        out[:cut] += self.l2 * (c * c) * theta[:cut]
