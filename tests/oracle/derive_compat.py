"""Re-derive the --compat golden values from the libraries themselves.

Needs torch 2.13, keras 3 (run with KERAS_BACKEND=jax), jax, optax and
scikit-learn 1.9:  KERAS_BACKEND=jax python tests/oracle/derive_compat.py > tests/compat_cases.py
The tests never import these libraries.
"""

from __future__ import annotations

import os
import pprint

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import sklearn.metrics as skm  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from tests.compat_inputs import INPUTS  # noqa: E402

T = torch.float64


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=T, requires_grad=grad)


def torch_case(fn, y, p, dtype=T):
    x = torch.tensor(np.asarray(p, np.float64), dtype=dtype, requires_grad=True)
    v = fn(torch.tensor(np.asarray(y, np.float64), dtype=dtype), x)
    v.backward()
    return float(v.detach()), x.grad.numpy().tolist()


def sigmoid_focal(x, y, alpha=0.25, gamma=2.0):  # torchvision.ops.sigmoid_focal_loss, mean
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean()


def keras_case(loss_obj, y, p, w=None):
    """Keras reduces over the last axis first: one value per row needs (n, 1) columns."""
    column = np.ndim(p) == 1
    y32 = jnp.asarray(np.asarray(y, np.float32).reshape(len(y), -1))
    p32 = jnp.asarray(np.asarray(p, np.float32).reshape(len(p), -1))
    w32 = None if w is None else jnp.asarray(np.asarray(w, np.float32))

    def f(pp):
        return loss_obj(y32, pp, sample_weight=w32)

    v, g = jax.value_and_grad(f)(p32)
    g = np.asarray(g, np.float64)
    return float(v), (g[:, 0] if column else g).tolist()


def optax_case(fn, y, p):
    yy = jnp.asarray(np.asarray(y, np.float64))

    def f(pp):
        return jnp.mean(fn(pp, yy))

    v, g = jax.value_and_grad(f)(jnp.asarray(np.asarray(p, np.float64)))
    return float(v), np.asarray(g).tolist()


def one_hot(y, k):
    return np.eye(k)[np.asarray(y, int)]


def cases():
    I = INPUTS  # noqa: E741
    yb, pb, xb, wb = I["yb"], I["pb"], I["xb"], I["wb"]
    yr, pr, wr = I["yr"], I["pr"], I["wr"]
    yc, pc = I["yc"], I["pc"]
    ym, pm, xm, pm99 = I["ym"], I["pm"], I["xm"], I["pm99"]
    k = len(pm[0])
    out = {}
    # torch (float64)
    out["torch", "bce", "pb"] = torch_case(lambda y, p: F.binary_cross_entropy(p, y), yb, pb)
    wt = t(wb)
    out["torch", "bce", "pb", "w"] = torch_case(
        lambda y, p: F.binary_cross_entropy(p, y, weight=wt), yb, pb
    )
    out["torch", "bce", "xb"] = torch_case(
        lambda y, p: F.binary_cross_entropy_with_logits(p, y), yb, xb
    )
    out["torch", "focal", "xb"] = torch_case(lambda y, p: sigmoid_focal(p, y), yb, xb)
    out["torch", "mse", "pr", "w"] = (
        torch_case(lambda y, p: (wt_r * (p - y) ** 2).mean(), yr, pr)
        if (wt_r := t(wr)) is not None
        else None
    )
    out["torch", "kl_div", "pm"] = torch_case(
        lambda y, p: F.kl_div(p.log(), y, reduction="batchmean"), one_hot(ym, k), pm
    )
    out["torch", "cross_entropy", "xm"] = torch_case(
        lambda y, p: F.cross_entropy(p, y.long()), ym, xm
    )
    # torch in float32 (--compat torch --dtype float32)
    f32 = torch.float32
    out["torch32", "bce", "pb"] = torch_case(lambda y, p: F.binary_cross_entropy(p, y), yb, pb, f32)
    out["torch32", "bce", "xb"] = torch_case(
        lambda y, p: F.binary_cross_entropy_with_logits(p, y), yb, xb, f32
    )
    out["torch32", "focal", "xb"] = torch_case(lambda y, p: sigmoid_focal(p, y), yb, xb, f32)
    out["torch32", "mse", "pr"] = torch_case(lambda y, p: F.mse_loss(p, y), yr, pr, f32)
    out["torch32", "huber", "pr"] = torch_case(lambda y, p: F.huber_loss(p, y), yr, pr, f32)
    out["torch32", "poisson", "pc"] = torch_case(
        lambda y, p: F.poisson_nll_loss(p, y, log_input=False), yc, pc, f32
    )
    out["torch32", "cross_entropy", "xm"] = torch_case(
        lambda y, p: F.cross_entropy(p, y.long()), ym, xm, f32
    )
    # keras (float32)
    L = keras.losses
    out["keras", "bce", "pb"] = keras_case(L.BinaryCrossentropy(), yb, pb)
    out["keras", "bce", "pb", "w"] = keras_case(L.BinaryCrossentropy(), yb, pb, wb)
    out["keras", "bce", "xb"] = keras_case(L.BinaryCrossentropy(from_logits=True), yb, xb)
    out["keras", "focal", "pb"] = keras_case(L.BinaryFocalCrossentropy(gamma=2.0), yb, pb)
    out["keras", "focal", "xb"] = keras_case(
        L.BinaryFocalCrossentropy(gamma=2.0, from_logits=True), yb, xb
    )
    out["keras", "cross_entropy", "pm99"] = keras_case(
        L.CategoricalCrossentropy(), one_hot(ym, k), pm99
    )
    out["keras", "cross_entropy", "xm"] = keras_case(
        L.CategoricalCrossentropy(from_logits=True), one_hot(ym, k), xm
    )
    out["keras", "focal", "pm99"] = keras_case(
        L.CategoricalFocalCrossentropy(), one_hot(ym, k), pm99
    )
    out["keras", "focal", "xm"] = keras_case(
        L.CategoricalFocalCrossentropy(from_logits=True), one_hot(ym, k), xm
    )
    out["keras", "kl_div", "pm"] = keras_case(L.KLDivergence(), one_hot(ym, k), pm)
    out["keras", "poisson", "pc"] = keras_case(L.Poisson(), yc, pc)
    out["keras", "mse", "pr", "w"] = keras_case(L.MeanSquaredError(), yr, pr, wr)
    out["keras", "huber", "pr"] = keras_case(L.Huber(), yr, pr)
    out["keras", "log_cosh", "pr"] = keras_case(L.LogCosh(), yr, pr)
    out["keras", "hinge", "xb"] = keras_case(L.Hinge(), yb, xb)
    yp, pp, yn, pn, vt, vp = I["yp"], I["pp"], I["yn"], I["pn"], I["vt"], I["vp"]
    out["keras", "mape", "pp"] = keras_case(L.MeanAbsolutePercentageError(), yp, pp)
    out["keras", "msle", "pn"] = keras_case(L.MeanSquaredLogarithmicError(), yn, pn)
    out["keras", "cosine_distance", "vp"] = keras_case(L.CosineSimilarity(), vt, vp)
    out["keras", "categorical_hinge", "xh"] = keras_case(
        L.CategoricalHinge(), one_hot(ym, k), I["xh"]
    )
    # sklearn (float64, values only)
    out["sklearn", "bce", "pb"] = (skm.log_loss(yb, pb), None)
    out["sklearn", "bce", "pb", "w"] = (skm.log_loss(yb, pb, sample_weight=wb), None)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["sklearn", "cross_entropy", "pm99"] = (
            skm.log_loss(ym, pm99, labels=list(range(k))),
            None,
        )
    out["sklearn", "mse", "pr", "w"] = (skm.mean_squared_error(yr, pr, sample_weight=wr), None)
    out["sklearn", "quantile", "pr"] = (skm.mean_pinball_loss(yr, pr, alpha=0.5), None)
    out["sklearn", "hinge", "xb"] = (skm.hinge_loss(yb, xb), None)
    out["sklearn", "multiclass_hinge", "xh"] = (
        skm.hinge_loss(ym, I["xh"], labels=[0, 1, 2]),
        None,
    )
    out["sklearn", "mape", "pp"] = (skm.mean_absolute_percentage_error(yp, pp), None)
    out["sklearn", "msle", "pp"] = (skm.mean_squared_log_error(yp, pp), None)
    out["sklearn", "rmsle", "pp"] = (skm.root_mean_squared_log_error(yp, pp), None)
    out["sklearn", "poisson_deviance", "pp"] = (skm.mean_poisson_deviance(yp, pp), None)
    out["sklearn", "gamma", "pp"] = (skm.mean_gamma_deviance(yp, pp), None)
    out["sklearn", "brier", "pb"] = (skm.brier_score_loss(yb, pb), None)
    # optax (float64 under jax x64)
    O = optax.losses  # noqa: E741
    out["optax", "focal", "xb"] = optax_case(lambda p, y: O.sigmoid_focal_loss(p, y), yb, xb)
    out["optax", "bce", "xb"] = optax_case(O.sigmoid_binary_cross_entropy, yb, xb)
    out["optax", "cross_entropy", "xm"] = optax_case(
        lambda p, y: O.softmax_cross_entropy_with_integer_labels(p, y.astype(int)), ym, xm
    )
    out["optax", "huber", "pr"] = optax_case(O.huber_loss, yr, pr)
    out["optax", "mse", "pr"] = optax_case(O.squared_error, yr, pr)
    out["optax", "log_cosh", "pr"] = optax_case(O.log_cosh, yr, pr)
    out["optax", "poly1", "xm"] = optax_case(
        lambda p, y: O.poly_loss_cross_entropy(p, jnp.eye(k)[y.astype(int)], epsilon=2.0), ym, xm
    )
    out["optax", "cosine_distance", "vp"] = optax_case(lambda p, y: O.cosine_distance(p, y), vt, vp)
    out["optax", "multiclass_hinge", "xh"] = optax_case(
        lambda p, y: O.multiclass_hinge_loss(p, y.astype(int)), ym, I["xh"]
    )
    out["optax", "perceptron", "xb"] = optax_case(
        lambda p, y: O.perceptron_loss(p, 2 * y - 1), yb, xb
    )
    return out


if __name__ == "__main__":
    print('"""--compat golden values: each key names (library, loss, input[, "w"]).')
    print()
    print("Derived by tests/oracle/derive_compat.py from torch 2.13 (float64), keras")
    print(
        f"{keras.__version__} on jax (float32), scikit-learn 1.9, optax {optax.__version__} (x64)."
    )
    print('"""')
    print()
    print("CASES = " + pprint.pformat(cases(), width=100))
