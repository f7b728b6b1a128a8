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

Other losses (and soft or weighted labels) take the general path,
:meth:`Objective.batch_gradient`, on the first d columns of the buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from losscli.fit.objective import Objective

if TYPE_CHECKING:
    from losscli._types import Array

# (θ, [X, 1] batch, y batch, out): the gradient of the smooth part into ``out``
Gradient = Callable[["Array", "Array", "Array", "Array"], None]
# (θ, [X, 1] batch, y batch, lr): one plain-SGD step on θ, in place
SgdStep = Callable[["Array", "Array", "Array", float], None]


class LeanKernel(NamedTuple):
    """The two ways a lean mini-batch step uses the chain rule.

    ``gradient`` feeds any optimizer's ``update``; ``sgd_step`` is plain
    SGD's update fused with it.  Both take augmented batches (see the module
    docstring) and allocate nothing.
    """

    gradient: Gradient
    sgd_step: SgdStep


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
    matmul, subtract, multiply, add = np.matmul, np.subtract, np.multiply, np.add

    def scores_minus_y(theta: Array, xa: Array, yb: Array) -> Array:
        """r = ŷ − y for the batch, in the scratch buffer (ŷ = s or σ(s))."""
        m = len(yb)
        r = residual if m == batch else residual[:m]
        matmul(xa, theta, out=r)  # Xw + b in one product: the last column is 1 (or 0)
        if logistic:
            expit(r, out=r)
        subtract(r, yb, out=r)
        return r

    def gradient(theta: Array, xa: Array, yb: Array, out: Array) -> None:
        r = scores_minus_y(theta, xa, yb)
        matmul(r, xa, out=out)  # (Xᵀr, Σr)
        multiply(out, factor / len(yb), out=out)
        if penalised:  # + λ2c²⊙w (0 for the intercept)
            multiply(theta, l2c2, out=chain)
            add(out, chain, out=out)

    def sgd_step(theta: Array, xa: Array, yb: Array, lr: float) -> None:
        r = scores_minus_y(theta, xa, yb)
        matmul(r, xa, out=chain)
        if penalised:  # θ ← (1 − lr·λ2c²)⊙θ first: the gradient was taken at the old θ
            if lr != last_lr[0]:
                multiply(l2c2, -lr, out=decay)
                add(decay, 1.0, out=decay)
                last_lr[0] = lr
            multiply(theta, decay, out=theta)
        multiply(chain, -lr * factor / len(yb), out=chain)
        add(theta, chain, out=theta)

    return LeanKernel(gradient, sgd_step)
