"""Mini-batch kernels: the objective's chain rule, specialised for the SGD loop.

A batch of 32 rows on 20 features is a few thousand flops; NumPy's overhead
of about 0.4 µs per call, not arithmetic, is the cost of a step.  Profiled on
1M×20 at batch 32 (mse and bce, `benchmarks/bench_minibatch.py`), the step
through :meth:`Objective.batch_gradient` plus ``optimizer.update`` made about
fifteen NumPy calls (7 µs), where the same arithmetic needs six.  So:

* the loop gathers its shuffled rows into an **augmented** buffer ``[X, 1]``
  (the last column is 1 with an intercept and 0 without, so θ's intercept
  gets no gradient and stays 0): one product gives Xw + b and one gives both
  Xᵀr and Σr;
* ∂ℓ/∂s = k·(ŷ − y) with ŷ = s (mse, k = 2) or σ(s) (bce on 0/1 labels,
  k = 1, one ``scipy.special.expit`` call, which is stable for every s);
  the labels are checked once, on the whole target, not per batch;
* the constants k/m and the L2 term λ2c²θ are folded: plain ``sgd``'s
  θ ← θ − lr·((k/m)·rᵀ[X, 1] + λ2c²⊙θ) is computed as
  θ ← (1 − lr·λ2c²)⊙θ − (lr·k/m)·rᵀ[X, 1], the same rule in four calls.

* **adam and adamw** have a fused step too (:func:`_adam_step`; 6.1 → 3.5 µs
  a step, the epoch 1.09× → 0.75× SGDRegressor's, README "Mini-batch runs"): one
  function per step instead of four nested calls and an ``update``, the
  moments stacked as in :class:`AdamState`, per-step scalars in 0-d arrays,
  and the gradient's factor k/m folded away: Adam's step is invariant to a
  constant scale κ of every gradient apart from ε (m → κm, v → κ²v, so
  m/(√v + ε) = m̂/(√v̂ + ε/κ)), so the moments accumulate the unscaled
  rᵀ[X, 1] (+ λ2c²θ/κ) and ε is divided by κ = k/batch; a short last batch
  is rescaled by batch/m to keep κ one constant.

Other losses (and soft or weighted labels) take the general path,
:meth:`Objective.batch_gradient`, on the first d columns of the buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from losscli.fit.objective import Objective
from losscli.fit.optimizers import AdamRule, Optimizer, SgdRule

if TYPE_CHECKING:
    from losscli._types import Array

# (θ, [X, 1] batch, y batch, out): the gradient of the smooth part into ``out``
Gradient = Callable[["Array", "Array", "Array", "Array"], None]
# (θ, [X, 1] batch, y batch, lr): one plain-SGD step on θ, in place
SgdStep = Callable[["Array", "Array", "Array", float], None]


class LeanKernel(NamedTuple):
    """The ways a lean mini-batch step uses the chain rule.

    ``gradient`` feeds any optimizer's ``update``; ``sgd_step`` is plain
    SGD's update fused with it; ``adam_step(rule, θ)`` builds Adam's (with
    its own moments, for parameters shaped like θ).  All take augmented
    batches (see the module docstring) and allocate nothing per step.
    """

    gradient: Gradient
    sgd_step: SgdStep
    adam_step: Callable[[AdamRule, Array], SgdStep]

    def fused(self, opt: Optimizer, theta: Array) -> SgdStep | None:
        """The fused step of ``opt``'s rule, or None: then ``gradient`` + ``opt.update``."""
        if isinstance(opt.rule, SgdRule):
            return self.sgd_step
        if isinstance(opt.rule, AdamRule):
            return self.adam_step(opt.rule, theta)
        return None


def lean_kernel(obj: Objective, y: Array, batch: int) -> LeanKernel | None:
    """The lean kernels for mse and 0/1-label bce with one output; None otherwise.

    ``batch`` is the largest batch the loop will pass (scratch space for the
    residual).  None sends the loop down the general path: other losses,
    several outputs, ``pos_weight``, soft labels.
    """
    name = obj.loss.name
    if obj.outputs != 1 or y.ndim != 1:
        return None
    if name == "mse":
        logistic, factor = False, 2.0
    elif name == "bce" and obj.logits and obj.loss.params().get("pos_weight") is None:
        if not bool(np.all((y == 0.0) | (y == 1.0))):
            return None
        logistic, factor = True, 1.0
    else:
        return None
    if logistic:  # scipy.special costs ~0.1 s to import: only when it is used
        from scipy.special import expit
    d = obj.n_features
    c = obj._c()
    l2c2 = np.zeros(d + 1)
    l2c2[:d] = obj.l2 * (c * c)
    penalised = bool(obj.l2)
    residual = np.empty(batch)
    chain = np.empty(d + 1)  # rᵀ[X, 1]
    decay = np.ones(d + 1)  # 1 − lr·λ2c², recomputed when lr changes
    last_lr = [np.nan]
    # k/m and −lr·k/m of a full batch as 0-d arrays: cheaper operands than floats
    # (see losscli.fit.optimizers); a short last batch passes its own float
    full_factor, step_factor, step_lr = np.array(factor / batch), np.array(0.0), [np.nan]
    matmul, subtract, multiply, add = np.matmul, np.subtract, np.multiply, np.add

    def scores_minus_y(theta: Array, xa: Array, yb: Array) -> Array:
        """r = ŷ − y for the batch, in the scratch buffer (ŷ = s or σ(s))."""
        m = len(yb)
        r = residual if m == batch else residual[:m]
        matmul(xa, theta, r)  # Xw + b in one product: the last column is 1 (or 0)
        if logistic:
            expit(r, out=r)
        subtract(r, yb, r)
        return r

    def gradient(theta: Array, xa: Array, yb: Array, out: Array) -> None:
        r = scores_minus_y(theta, xa, yb)
        matmul(r, xa, out)  # (Xᵀr, Σr)
        m = len(yb)
        multiply(out, full_factor if m == batch else factor / m, out)
        if penalised:  # + λ2c²⊙w (0 for the intercept)
            multiply(theta, l2c2, chain)
            add(out, chain, out)

    def sgd_step(theta: Array, xa: Array, yb: Array, lr: float) -> None:
        r = scores_minus_y(theta, xa, yb)
        matmul(r, xa, chain)
        if penalised:  # θ ← (1 − lr·λ2c²)⊙θ first: the gradient was taken at the old θ
            if lr != last_lr[0]:
                multiply(l2c2, -lr, out=decay)
                add(decay, 1.0, out=decay)
                last_lr[0] = lr
            multiply(theta, decay, theta)
        m = len(yb)
        if m != batch:
            multiply(chain, -lr * factor / m, chain)
        else:
            if lr != step_lr[0]:
                step_factor[()] = -lr * factor / batch
                step_lr[0] = lr
            multiply(chain, step_factor, chain)
        add(theta, chain, theta)

    def adam_step(rule: AdamRule, theta: Array) -> SgdStep:
        return _adam_step(
            rule,
            theta,
            residual,
            factor / batch,
            l2c2 if penalised else None,
            expit if logistic else None,
        )

    return LeanKernel(gradient, sgd_step, adam_step)


def _adam_step(
    rule: AdamRule,
    theta: Array,
    residual: Array,
    kappa: float,
    l2c2: Array | None,
    link: Callable[..., object] | None,
) -> SgdStep:
    """Adam's (AdamW's) update fused with the lean gradient, in one function per step.

    The arithmetic of :func:`losscli.fit.optimizers._adam` on the gradient
    divided by ``kappa`` (= k/batch; see the module docstring): the stacked
    moments ``[m_sum, v_sum]/[κ, κ²]``, ε' /κ, the same step factor.
    """
    batch = len(residual)
    moments = np.zeros((2, len(theta)))
    factors = np.empty_like(moments)
    factors[0], factors[1] = rule.beta1, rule.beta2
    stacked = np.empty_like(moments)
    g, g2, m_sum, v_sum = stacked[0], stacked[1], moments[0], moments[1]
    scratch = np.empty(len(theta))
    penalty = None if l2c2 is None else l2c2 / kappa  # λ2c²θ/κ
    eps_t, step_t = np.array(0.0), np.array(0.0)
    shrink = np.ones(len(theta))  # 1 − lr·λ on the decaying coordinates, 1 elsewhere
    decays = rule.weight_decay != 0.0
    last_lr = [np.nan]
    count = [0]  # steps taken
    coefficients_lr = [np.nan]  # the lr the coefficients were computed for
    coefficients = rule.coefficients
    matmul, subtract, multiply, add, sqrt, divide = (
        np.matmul,
        np.subtract,
        np.multiply,
        np.add,
        np.sqrt,
        np.divide,
    )
    saturated = [False]

    def step(theta: Array, xa: Array, yb: Array, lr: float) -> None:
        m = len(yb)
        r = residual if m == batch else residual[:m]
        matmul(xa, theta, r)
        if link is not None:
            link(r, out=r)
        subtract(r, yb, r)
        matmul(r, xa, g)  # the gradient / κ, before the penalty
        if m != batch:
            multiply(g, batch / m, g)
        if penalty is not None:  # + λ2c²θ/κ at the θ the gradient is taken at
            multiply(theta, penalty, scratch)
            add(g, scratch, g)
        if decays:  # then the decoupled decay, as torch.optim.AdamW
            if lr != last_lr[0]:
                if rule.mask is None:
                    shrink[:] = 1.0 - lr * rule.weight_decay
                else:
                    shrink[rule.mask] = 1.0 - lr * rule.weight_decay
                last_lr[0] = lr
            multiply(theta, shrink, theta)
        multiply(g, g, g2)
        multiply(moments, factors, moments)
        add(moments, stacked, moments)
        t = count[0] = count[0] + 1
        if not saturated[0] or lr != coefficients_lr[0]:
            eps, a = coefficients(t, lr)
            eps_t[()], step_t[()] = eps / kappa, a
            coefficients_lr[0] = lr
            # β^t below half an ulp of 1: the corrections are 1 from here on
            saturated[0] = 1.0 - rule.beta1**t == 1.0 and 1.0 - rule.beta2**t == 1.0
        sqrt(v_sum, scratch)
        add(scratch, eps_t, scratch)
        divide(m_sum, scratch, scratch)
        multiply(scratch, step_t, scratch)
        subtract(theta, scratch, theta)

    return step
