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

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli.fit.curvature import curvature, has_curvature
from losscli.fit.data import DataSource
from losscli.losses import Loss

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli._types import Array


BatchStep = Callable[["Array", "Array", "Array", "Array"], None]  # (θ, X_b, y_b, out)


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

    def lean_batch_gradient(self, y: Array) -> BatchStep | None:
        """A mini-batch gradient with no per-batch checks, for mse and 0/1-label bce.

        Profiled on 200k×20 bce at batch 32 (about 120 µs a step): a third of
        the step went to re-validating the batch's labels (0/1 or soft, −1/+1)
        and another third to computing per-sample losses the step never uses.
        Here the labels are checked once, on the whole target, and the step is
        the bare chain rule — ŷ = Xw + b, g = 2(ŷ − y) or σ(ŷ) − y, Xᵀg/m,
        + λ2c²w — in about a dozen in-place NumPy calls.  None when the loss
        or labels need the general path (other losses, pos_weight, soft labels).
        """
        name = self.loss.name
        if self.outputs != 1 or y.ndim != 1:
            return None
        if name == "mse":
            bce = False
        elif name == "bce" and self.logits and self.loss.params().get("pos_weight") is None:
            if not bool(np.all((y == 0.0) | (y == 1.0))):
                return None
            bce = True
        else:
            return None
        d, intercept, l2 = self.n_features, self.intercept, self.l2
        c = self._c()
        l2c2 = l2 * (c * c)
        scratch = np.empty(d)

        def step(theta: Array, x: Array, yb: Array, out: Array) -> None:
            s = x @ theta[:d]
            if intercept:
                s += theta[d]
            if bce:  # σ(s) − y = 1/(1 + e^{−s}) − y (e^{−s} = inf gives 0, exactly right)
                np.negative(s, out=s)
                np.exp(s, out=s)
                s += 1.0
                np.reciprocal(s, out=s)
                s -= yb
            else:
                s -= yb
                s *= 2.0
            np.matmul(s, x, out=out[:d])
            out[d] = np.add.reduce(s) if intercept else 0.0
            np.multiply(out, 1.0 / len(yb), out=out)
            if l2:
                np.multiply(theta[:d], l2c2, out=scratch)
                out[:d] += scratch

        return step

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
        if self._plain_softmax(y):
            return self._softmax_loss_sum(theta, x, y, None) / len(y)
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

    # -- full batch, through a DataSource -------------------------------------
    #
    # Each method below is a sum over row blocks (see losscli.fit.data): the
    # block function returns raw totals — Σsᵢℓᵢ, the normaliser Σsᵢnᵢ, Xᵀg,
    # Σg — and the division by the normaliser and the penalty terms come once,
    # after the sum.  On an in-memory source that is one block and the same
    # arithmetic as smooth_value_and_grad.

    def _weighted(self, pw: Any, w: Array | None, n: int) -> tuple[float, float, Array]:
        """(Σsℓ, Σsn, s⊙g) of one block's Pointwise under sample weights s."""
        if w is None:
            num = float(pw.loss.sum())
            den = float(n) if pw.norm is None else float(pw.norm.sum())
            return num, den, pw.grad
        num = float(w @ pw.loss)
        den = float(w.sum()) if pw.norm is None else float(w @ pw.norm)
        g = pw.grad * (w[:, None] if pw.grad.ndim == 2 else w)
        return num, den, g

    def _raw_chain(self, g: Array, x: Array) -> Array:
        """Xᵀg then Σg (zeros without an intercept), flat like θ, undivided."""
        out = np.empty(self.size)
        self._chain(g, x, 1.0, out)
        return out

    def data_loss_totals(self, theta: Array, data: DataSource) -> tuple[float, float]:
        """(Σsℓ, Σsn) over the source: the mean loss is their ratio."""

        def block(x: Array, y: Array, w: Array | None) -> tuple[float, float]:
            if self._plain_softmax(y):
                den = float(len(y)) if w is None else float(w.sum())
                return self._softmax_loss_sum(theta, x, y, w), den
            pw = self.loss.pointwise(y, self.scores(theta, x), logits=self.logits, finite=False)
            num, den, _ = self._weighted(pw, w, len(y))
            return num, den

        return data.reduce(block)

    def data_mean_loss(self, theta: Array, data: DataSource) -> float:
        """The mean loss over a source, no penalty."""
        num, den = self.data_loss_totals(theta, data)
        return num / den

    def data_value(self, theta: Array, data: DataSource) -> float:
        """The full objective f(θ) (loss + L1 + L2) over a source."""
        return self.data_mean_loss(theta, data) + self.penalty(theta)

    def _plain_softmax(self, y: Array) -> bool:
        """Plain cross-entropy on logits with class-index labels: the fast kernel applies."""
        if self.outputs == 1 or not self.logits or y.ndim != 1 or self.loss.name != "cross_entropy":
            return False
        params = self.loss.params()
        return not params.get("label_smoothing") and params.get("class_weights") is None

    def _softmax_block(
        self, theta: Array, x: Array, y: Array, w: Array | None
    ) -> tuple[float, float, Array]:
        """One block of plain softmax cross-entropy: (Σsℓ, Σs, [XᵀG; ΣG]) by the fused kernel."""
        wmat, b = self.split(theta)
        num, gx, gb = softmax_ce_chunks(np.ascontiguousarray(wmat.T), b, x, y, w)
        out = np.empty(self.size)
        cut = self.n_features * self.outputs
        out[:cut].reshape(self.n_features, self.outputs)[:] = gx.T  # θ is d×K row-major
        out[cut:] = gb if self.intercept else 0.0
        den = float(len(y)) if w is None else float(w.sum())
        return num, den, out

    def _softmax_loss_sum(self, theta: Array, x: Array, y: Array, w: Array | None) -> float:
        """Σsℓ of plain softmax cross-entropy on one block, by the fused kernel (no gradient)."""
        wmat, b = self.split(theta)
        return softmax_ce_chunks(np.ascontiguousarray(wmat.T), b, x, y, w, gradient=False)[0]

    def data_smooth_value_and_grad(self, theta: Array, data: DataSource) -> tuple[float, Array]:
        """Mean loss + L2 and its gradient: Σₚ Xₚᵀrₚ / Σₚ denₚ + λ2·c²⊙w."""

        def block(x: Array, y: Array, w: Array | None) -> tuple[float, float, Array]:
            if self._plain_softmax(y):
                return self._softmax_block(theta, x, y, w)
            scores = self.scores(theta, x)
            pw = self.loss.pointwise(y, scores, logits=self.logits, finite=False)
            num, den, g = self._weighted(pw, w, len(y))
            return num, den, self._raw_chain(g, x)

        num, den, grad = data.reduce(block)
        grad = grad / den
        value = num / den
        if self.l2:
            value += self.l2_penalty(theta)
            self._add_l2_gradient(theta, grad)
        return value, grad

    def _hessian_block(self, x: Array, h: Array, w: Array | None) -> tuple[float, Array]:
        """(Σ den, [XᵀDX, Xᵀh; hᵀX, Σh]) of one block, D = diag(h·w), unnormalised."""
        if w is not None:
            h = h * w
        den = float(len(h)) if w is None else float(w.sum())
        return den, weighted_gram(x, h)

    def _finish_hessian(self, den: float, hess: Array) -> Array:
        """Divide the summed blocks by Σ den, fix a missing intercept, add λ2·diag(c²)."""
        d = self.n_features
        hess = hess / den
        if not self.intercept:
            hess[d, :] = 0.0
            hess[:, d] = 0.0
            hess[d, d] = 1.0  # the fixed intercept: an identity row keeps H invertible
        if self.l2:
            c = self._c()
            diag = np.arange(d)
            hess[diag, diag] += self.l2 * (c * c)
        return hess

    def data_hessian(self, theta: Array, data: DataSource) -> Array:
        """The smooth part's Hessian, (d+1)×(d+1), for one output.

        Σₚ [XₚᵀDₚXₚ, Xₚᵀhₚ; hₚᵀXₚ, Σhₚ] / Σ den + λ2·diag(c²), each block by
        :func:`weighted_gram` (one symmetric BLAS product per row chunk).
        """
        if self.outputs != 1:
            raise ValueError("the dense Hessian is built for one output; use data_hvp")

        def block(x: Array, y: Array, w: Array | None) -> tuple[float, Array]:
            h = curvature(self.loss, y, self.scores(theta, x), logits=self.logits)
            return self._hessian_block(x, h, w)

        den, hess = data.reduce(block)
        return self._finish_hessian(den, hess)

    def data_value_grad_hessian(self, theta: Array, data: DataSource) -> tuple[float, Array, Array]:
        """Mean loss + L2, its gradient and its dense Hessian in one pass (one output).

        Newton needs all three at every iterate; one ``pointwise`` call gives
        the loss, ∂ℓ/∂s and ∂²ℓ/∂s² together, so the scores are formed once
        instead of once per quantity.  Equal to :meth:`data_smooth_value_and_grad`
        and :meth:`data_hessian` (same formulas, same block sums).
        """
        if self.outputs != 1:
            raise ValueError("the dense Hessian is built for one output; use data_hvp")
        if not has_curvature(self.loss, logits=self.logits, outputs=1):
            raise ValueError(f"no second derivative known for {self.loss.name}")

        def block(x: Array, y: Array, w: Array | None) -> tuple[float, float, Array, Array]:
            scores = self.scores(theta, x)
            pw = self.loss.pointwise(y, scores, logits=self.logits, finite=False, hessian=True)
            if pw.hess is None:  # has_curvature promised it
                raise ValueError(f"no second derivative known for {self.loss.name}")
            num, den, g = self._weighted(pw, w, len(y))
            _, gram = self._hessian_block(x, pw.hess, w)
            return num, den, self._raw_chain(g, x), gram

        num, den, grad, hess = data.reduce(block)
        grad = grad / den
        value = num / den
        if self.l2:
            value += self.l2_penalty(theta)
            self._add_l2_gradient(theta, grad)
        return value, grad, self._finish_hessian(den, hess)

    def data_intercept_hessian(self, theta: Array, data: DataSource) -> Array:
        """The smooth part's Hessian on the intercepts alone (k×k), in one pass.

        Σᵢhᵢ for one output; Σᵢ(diag pᵢ − pᵢpᵢᵀ) = diag(Σp) − PᵀP for softmax.
        """

        def block(x: Array, y: Array, w: Array | None) -> tuple[float, Array]:
            h = curvature(self.loss, y, self.scores(theta, x), logits=self.logits)
            den = float(len(y)) if w is None else float(w.sum())
            if self.outputs == 1:
                return den, np.array([[float(h.sum() if w is None else w @ h)]])
            hw = h if w is None else h * w[:, None]
            return den, np.diag(hw.sum(axis=0)) - hw.T @ h

        den, out = data.reduce(block)
        return np.asarray(out, dtype=np.float64) / den

    def data_hvp(self, theta: Array, v: Array, data: DataSource) -> Array:
        """The smooth part's Hessian times ``v``: Σₚ Xₚᵀ(Hₚ(Xₚv_w + v_b)) / Σ den + λ2c²v."""
        vw, vb = self.split(v)

        def block(x: Array, y: Array, w: Array | None) -> tuple[float, Array]:
            s = self.scores(theta, x)
            h = curvature(self.loss, y, s, logits=self.logits)
            if self.outputs == 1:
                u = x @ vw[:, 0]
                if self.intercept:
                    u += vb[0]
                hu = h * u
            else:  # h holds the probabilities p: (diag p − ppᵀ)u row by row
                u = x @ vw
                if self.intercept:
                    u += vb
                hu = h * u
                hu -= h * hu.sum(axis=1, keepdims=True)
            if w is not None:
                hu = hu * (w[:, None] if hu.ndim == 2 else w)
            den = float(len(y)) if w is None else float(w.sum())
            return den, self._raw_chain(hu, x)

        den, out = data.reduce(block)
        out = out / den
        if not self.intercept:
            out[self.n_features * self.outputs :] = v[self.n_features * self.outputs :]
        if self.l2:
            c = self._c()
            cut = self.n_features * self.outputs
            out[:cut] += self.l2 * (c * c) * v[:cut]
        return out


SOFTMAX_CHUNK = 8192  # rows per step of the fused softmax kernel (measured best of 2k–16k)


def softmax_ce_chunks(
    wt: Array,
    b: Array,
    x: Array,
    y: Array,
    w: Array | None,
    *,
    chunk: int = SOFTMAX_CHUNK,
    gradient: bool = True,
) -> tuple[float, Array, Array]:
    """(Σ sᵢℓᵢ, GᵀX, Σᵢ Gᵢ) of plain cross-entropy on logits with index labels.

    With ``gradient=False`` only the loss sum (the two gradient terms are
    zeros): a line search's or a start's value, at half the cost.

    G = s⊙(softmax(XW + b) − onehot(y)) is ∂(Σsℓ)/∂scores; ``wt`` is Wᵀ (K×d,
    contiguous).  The full-batch solvers' kernel, where the general loss path
    (any target, smoothing, class weights) builds a one-hot matrix and
    reduces over K several times.  It walks the rows in chunks so that a
    chunk of X is read from memory once and is still in cache for the second
    product, and keeps every intermediate in buffers reused from chunk to
    chunk (measured on 200k × 50, K = 10: 15% faster than whole-block
    products, which are most of its time).  The scores are class-major
    (K × chunk), so the per-row max and sum over K are K-long loops of
    contiguous vector operations rather than reductions over rows of K
    numbers.  ℓ = log Σⱼ e^{zⱼ−m} − (z_y − m) with m = maxⱼ zⱼ: no exp
    overflows, and the shifted e^{z−m}/Σ is the softmax.  Equal to the
    general path to rounding (the tests hold it to 1e-12).
    """
    k, d = wt.shape
    n = len(x)
    idx = y.astype(np.intp)
    step = max(1, min(chunk, n))
    scores = np.empty((k, step))
    top = np.empty(step)
    total = np.empty(step)
    cols = np.arange(step)
    gx = np.zeros((k, d))
    part = np.empty((k, d))
    gb = np.zeros(k)
    num = 0.0
    for start in range(0, n, step):
        xc = x[start : start + step]
        m = len(xc)
        st, tp, tt, ic, cc = scores[:, :m], top[:m], total[:m], idx[start : start + m], cols[:m]
        np.matmul(wt, xc.T, out=st)
        st += b[:, None]
        np.copyto(tp, st[0])
        for j in range(1, k):
            np.maximum(tp, st[j], out=tp)
        st -= tp
        picked = st[ic, cc]
        np.exp(st, out=st)
        np.copyto(tt, st[0])
        for j in range(1, k):
            tt += st[j]
        np.log(tt, out=tp)
        tp -= picked  # the chunk's losses
        if not gradient:
            num += float(np.add.reduce(tp)) if w is None else float(w[start : start + m] @ tp)
            continue
        np.reciprocal(tt, out=tt)
        st *= tt
        st[ic, cc] -= 1.0
        if w is not None:
            wc = w[start : start + m]
            num += float(wc @ tp)
            st *= wc
        else:
            num += float(np.add.reduce(tp))
        np.matmul(st, xc, out=part)
        gx += part
        gb += np.add.reduce(st, axis=1)
    return num, gx, gb


GRAM_CHUNK = 1 << 14  # rows per BLAS call: a 16k×(d+1) scratch stays in cache-sized MB


def weighted_gram(x: Array, h: Array, *, chunk: int = GRAM_CHUNK) -> Array:
    """[XᵀDX, Xᵀh; hᵀX, Σh] for D = diag(h), (d+1)×(d+1), in BLAS-bound chunks.

    With h ≥ 0 (every convex loss's curvature) the rows of Z = [√h·X, √h]
    give the whole bordered matrix as ZᵀZ: one symmetric product (syrk) per
    chunk into a reused scratch buffer, instead of a scaled copy of X, a
    general product and two reductions.  A negative h (not expected) takes
    the general product XᵀDX.
    """
    n, d = x.shape
    out = np.zeros((d + 1, d + 1))
    if n == 0:
        return out
    if not bool((h >= 0).all()):
        xh = x * h[:, None]
        out[:d, :d] = xh.T @ x
        out[:d, d] = xh.sum(axis=0)
        out[d, :d] = out[:d, d]
        out[d, d] = h.sum()
        return out
    root = np.sqrt(h)
    buf = np.empty((min(chunk, n), d + 1))
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        z = buf[:m]
        np.multiply(x[start : start + m], root[start : start + m, None], out=z[:, :d])
        z[:, d] = root[start : start + m]
        out += z.T @ z
    return out
