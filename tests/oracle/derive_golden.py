"""Derive the golden loss values and gradients in tests/golden_cases.py.

Run from the repository root with a virtualenv that has torch 2.13 and scikit-learn
(never a dependency of losscli itself):

    /work/oracle/bin/python tests/oracle/derive_golden.py

Every case is evaluated in float64 with PyTorch: the per-sample loss l_i comes from
torch.nn.functional (or the formula written in torch where torch has no such loss),
the reduction is applied as losscli defines it, and the gradient of the reduced loss
with respect to the predictions is torch autograd. Each case is then cross-checked
against an independent implementation (torch's own reductions, scikit-learn metrics
and loss objects, NumPy/SciPy formulas) and against central finite differences; any
disagreement stops the script. Cases whose torch value or gradient is not finite are
dropped and listed. The ERRATA figures of the seed examples are asserted.

Conventions (the library's): sample weights s_i (1 when absent) and normaliser n_i
(class_weight[y_i] for class-weighted cross-entropy with index targets, else 1):
mean = sum(s*l) / sum(s*n), sum = sum(s*l), none = the vector s*l whose gradient is
that of its sum. Probabilities are clipped to [eps, 1-eps] for bce, focal,
cross_entropy and kl_div, and the clipped tensor is the leaf that is differentiated.
"""

from __future__ import annotations

import math
import os
import random
import sys
import warnings
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import keras
import numpy as np
import optax
import scipy.special
import sklearn
import sklearn.metrics as skm
import torch
import torch.nn.functional as F
from sklearn._loss import loss as sk_loss
from sklearn.linear_model import _sgd_fast

jax.config.update("jax_enable_x64", True)
keras.config.set_floatx("float64")
keras.config.set_epsilon(1e-300)  # keras adds epsilon inside its logs: make it vanish
OPTAX = f"optax {optax.__version__}"
KERAS = f"keras {keras.__version__} (jax)"
ROOTS = {"rmse", "rmsle"}  # reported as the square root of the weighted mean

F64 = torch.float64
MACHINE_EPS = float(np.finfo(np.float64).eps)  # 2.220446049250313e-16
TORCH = "torch " + ".".join(torch.__version__.split("+")[0].split(".")[:2])
SK = "sklearn " + ".".join(sklearn.__version__.split(".")[:2])
OUT = Path(__file__).resolve().parents[1] / "golden_cases.py"
CLIPPED = {
    "bce",
    "focal",
    "cross_entropy",
    "kl_div",
    "poly1",
}  # probabilities clipped to [eps, 1-eps]
POISSON_EPS = 1e-8

# Tolerances: the same computation by another torch path, and another library.
SAME = {"rtol": 1e-11, "atol": 1e-14}
OTHER = {"rtol": 1e-9, "atol": 1e-12}
# Keras's jax backend rounds some steps through float32 even with floatx float64 (its
# results differ from the exact formula by ~1e-8): it confirms the convention, not digits.
KERAS_TOL = {"rtol": 1e-6, "atol": 1e-9}


@dataclass
class Spec:
    id: str
    loss: str
    params: dict[str, Any]
    logits: bool
    reduction: str
    y_true: list[Any]
    y_pred: list[Any]
    weight: list[float] | None = None


@dataclass
class Result:
    value: torch.Tensor  # scalar, or the vector s*l for reduction "none"
    grad: torch.Tensor  # d(reduced loss)/d(leaf), same shape as y_pred
    hess: torch.Tensor  # diagonal of d2(reduced loss)/d(leaf)2 (double backward)
    ell: torch.Tensor  # unweighted per-sample loss l_i
    g_ell: torch.Tensor  # d(sum l_i)/d(leaf): each sample's own derivative
    s: torch.Tensor
    norm: torch.Tensor
    y: torch.Tensor
    leaf: torch.Tensor  # the (clipped) predictions that were differentiated
    kernel: str
    objective: Callable[[torch.Tensor], torch.Tensor] = field(repr=False)
    checks: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- kernels
# Each kernel returns (per-sample loss l_i, normaliser n_i or None, description).
Kernel = Callable[[Spec, torch.Tensor, torch.Tensor], tuple[torch.Tensor, Any, str]]


def fmt_params(**kw: Any) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kw.items())


def k_mse(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    return F.mse_loss(x, y, reduction="none"), None, f"{TORCH} F.mse_loss"


def k_rmse(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    # l_i is the squared error; reduce() takes the square root of the weighted mean.
    return (x - y) ** 2, None, f"{TORCH} sqrt(sum(s*(yhat-y)**2)/sum(s))"


def k_mae(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    return F.l1_loss(x, y, reduction="none"), None, f"{TORCH} F.l1_loss"


def k_huber(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    d = c.params.get("delta", 1.0)
    ell = F.huber_loss(x, y, reduction="none", delta=d)
    return ell, None, f"{TORCH} F.huber_loss({fmt_params(delta=d)})"


def k_smooth_l1(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    b = c.params.get("beta", 1.0)
    ell = F.smooth_l1_loss(x, y, reduction="none", beta=b)
    return ell, None, f"{TORCH} F.smooth_l1_loss({fmt_params(beta=b)})"


def k_log_cosh(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    return torch.log(torch.cosh(x - y)), None, f"{TORCH} log(cosh(yhat-y))"


def k_quantile(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    q = c.params.get("quantile", 0.5)
    ell = q * torch.clamp(y - x, min=0) + (1 - q) * torch.clamp(x - y, min=0)
    return ell, None, f"{TORCH} q*max(y-yhat,0)+(1-q)*max(yhat-y,0) ({fmt_params(q=q)})"


def k_eps_ins(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    e = c.params.get("epsilon", 0.1)
    ell = torch.clamp(torch.abs(x - y) - e, min=0)
    return ell, None, f"{TORCH} max(0,|yhat-y|-epsilon) ({fmt_params(epsilon=e)})"


def k_poisson(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    full = bool(c.params.get("full", False))
    ell = F.poisson_nll_loss(x, y, log_input=c.logits, full=full, eps=POISSON_EPS, reduction="none")
    p = fmt_params(log_input=c.logits, full=full, eps=POISSON_EPS)
    return ell, None, f"{TORCH} F.poisson_nll_loss({p})"


def smooth01(c: Spec, y: torch.Tensor) -> torch.Tensor:
    """Keras's binary label smoothing y*(1-ls) + ls/2."""
    ls = c.params.get("label_smoothing", 0.0)
    return y * (1 - ls) + 0.5 * ls


def k_bce(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    y = smooth01(c, y)
    pw = c.params.get("pos_weight")
    if c.logits:
        pwt = None if pw is None else torch.tensor(pw, dtype=F64)
        ell = F.binary_cross_entropy_with_logits(x, y, pos_weight=pwt, reduction="none")
        return ell, None, f"{TORCH} F.binary_cross_entropy_with_logits({fmt_params(pos_weight=pw)})"
    w1 = 1.0 if pw is None else (torch.tensor(pw, dtype=F64) if isinstance(pw, list) else pw)
    ell = -(w1 * y * torch.log(x) + (1 - y) * torch.log(1 - x))
    desc = f"{TORCH} -(pw*y*log(p)+(1-y)*log(1-p)) at p=clip(p,eps,1-eps) ({fmt_params(pw=w1)})"
    return ell, None, desc


def k_focal(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    a = c.params.get("alpha", 0.25)
    g = c.params.get("gamma", 2.0)
    pr = fmt_params(alpha=a, gamma=g)
    if x.dim() == 1 or c.params.get("multilabel"):
        y = smooth01(c, y)
        # torchvision.ops.sigmoid_focal_loss, line by line (torchvision is not installed);
        # pos_weight weighs the positive term of ce as BCEWithLogitsLoss(pos_weight=[...]).
        pw = c.params.get("pos_weight")
        pwt = None if pw is None else torch.tensor(pw, dtype=F64)
        if pw is not None:
            pr += f", pos_weight={pw!r}"
        if c.logits:
            p = torch.sigmoid(x)
            ce = F.binary_cross_entropy_with_logits(x, y, pos_weight=pwt, reduction="none")
            desc = f"{TORCH} torchvision sigmoid_focal_loss formula re-implemented ({pr})"
        else:
            p = x
            w1 = 1.0 if pwt is None else pwt
            ce = -(w1 * y * torch.log(x) + (1 - y) * torch.log(1 - x))
            desc = (
                f"{TORCH} torchvision sigmoid_focal_loss formula in p, "
                f"ce=-(pw*y*log p+(1-y)*log(1-p)) at clipped p ({pr})"
            )
        p_t = p * y + (1 - p) * (1 - y)
        ell = ce * ((1 - p_t) ** g)
        if a >= 0:
            ell = (a * y + (1 - a) * (1 - y)) * ell
        return ell, None, desc
    ii = c.params.get("ignore_index")
    ls = c.params.get("label_smoothing", 0.0)
    if isinstance(a, list) or ls or ii is not None:
        # Keras CategoricalFocalCrossentropy: -sum_c alpha_c*t_c*(1-p_c)**gamma*log p_c,
        # t = (1-ls)*onehot + ls/K; torch's ignore_index rows count 0 in sum and mean.
        k = x.shape[1]
        keep = (y != ii) if ii is not None else torch.ones_like(y, dtype=torch.bool)
        t = F.one_hot(torch.where(keep, y, 0), k).to(F64) * (1 - ls) + ls / k
        logp = F.log_softmax(x, dim=1) if c.logits else torch.log(x)
        av = torch.tensor(a, dtype=F64) if isinstance(a, list) else (a if a >= 0 else 1.0)
        ell = -(av * t * (1 - torch.exp(logp)) ** g * logp).sum(1) * keep.to(F64)
        pr2 = fmt_params(alpha=a, gamma=g, label_smoothing=ls, ignore_index=ii)
        return ell, keep.to(F64), f"{TORCH} -sum_c alpha_c*t_c*(1-p_c)**gamma*log p_c ({pr2})"
    logp = F.log_softmax(x, dim=1) if c.logits else torch.log(x)
    logp_t = logp.gather(1, y[:, None]).squeeze(1)
    p_t = torch.exp(logp_t) if c.logits else x.gather(1, y[:, None]).squeeze(1)
    a1 = a if a >= 0 else 1.0
    ell = -a1 * (1 - p_t) ** g * logp_t
    src = "log_softmax(z)" if c.logits else "log(clip(p,eps,1-eps))"
    return ell, None, f"{TORCH} -alpha*(1-p_t)**gamma*log(p_t), log p={src} ({pr})"


def _pm1(y: torch.Tensor) -> torch.Tensor:
    return torch.where(y == 0, torch.full_like(y, -1.0), y)  # labels 0/1 -> -1/+1


def k_hinge(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    z = _pm1(y) * x
    return torch.clamp(1 - z, min=0), None, f"{TORCH} max(0,1-y*f), y in -1/+1"


def k_sq_hinge(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    z = _pm1(y) * x
    return torch.clamp(1 - z, min=0) ** 2, None, f"{TORCH} max(0,1-y*f)**2, y in -1/+1"


def k_mod_huber(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    z = _pm1(y) * x
    ell = torch.where(z >= 1, torch.zeros_like(z), torch.where(z >= -1, (1 - z) ** 2, -4 * z))
    return ell, None, f"{TORCH} 0 if z>=1, (1-z)**2 if z>=-1, else -4z (z=y*f, y in -1/+1)"


def _class_weights(c: Spec) -> torch.Tensor | None:
    cw = c.params.get("class_weights")
    return None if cw is None else torch.tensor(cw, dtype=F64)


def k_ce(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    n_cls = x.shape[1]
    ls = c.params.get("label_smoothing", 0.0)
    w = _class_weights(c)
    pr = fmt_params(weight=c.params.get("class_weights"), label_smoothing=ls)
    ii = c.params.get("ignore_index")
    if ii is not None:
        keep = y != ii
        yk = torch.where(keep, y, 0)
        wc = torch.ones(n_cls, dtype=F64) if w is None else w
        if c.logits:
            ell = F.cross_entropy(
                x, y, weight=w, label_smoothing=ls, ignore_index=int(ii), reduction="none"
            )
            desc = f"{TORCH} F.cross_entropy({pr}, ignore_index={int(ii)})"
        else:  # the formula in p (F.cross_entropy(log p) would renormalise p)
            smoothed = (1 - ls) * F.one_hot(yk, n_cls).to(F64) + ls / n_cls
            ell = -(wc * smoothed * torch.log(x)).sum(dim=1) * keep.to(F64)
            desc = (
                f"{TORCH} -sum_c w_c*((1-ls)*y_c+ls/C)*log(clip(p_c,eps,1-eps)), "
                f"rows y=ignore_index -> 0 ({pr}, ignore_index={int(ii)})"
            )
        return ell, wc[yk] * keep.to(F64), desc
    if c.logits:
        ell = F.cross_entropy(x, y, weight=w, label_smoothing=ls, reduction="none")
        desc = f"{TORCH} F.cross_entropy({pr})"
    else:
        target = F.one_hot(y, n_cls).to(F64) if y.dim() == 1 else y
        smoothed = (1 - ls) * target + ls / n_cls
        wc = torch.ones(n_cls, dtype=F64) if w is None else w
        ell = -(wc * smoothed * torch.log(x)).sum(dim=1)
        desc = f"{TORCH} -sum_c w_c*((1-ls)*y_c+ls/C)*log(clip(p_c,eps,1-eps)) ({pr})"
    norm = w[y] if (w is not None and y.dim() == 1) else None
    return ell, norm, desc


def k_kl_div(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    inp = F.log_softmax(x, dim=1) if c.logits else torch.log(x)
    lt = bool(c.params.get("log_target", False))
    ell = F.kl_div(inp, y, reduction="none", log_target=lt).sum(dim=1)
    src = "log_softmax(z)" if c.logits else "log(clip(p,eps,1-eps))"
    return ell, None, f"{TORCH} F.kl_div(input={src}, y, log_target={lt}) summed per row"


def k_mape(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    ell = (x - y).abs() / y.abs().clamp(min=MACHINE_EPS)
    return ell, None, f"{TORCH} |yhat-y|/max(|y|,eps)"


def k_msle(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    return (torch.log1p(x) - torch.log1p(y)) ** 2, None, f"{TORCH} (log1p(yhat)-log1p(y))**2"


def tweedie_power(c: Spec) -> float:
    return {"poisson_deviance": 1.0, "gamma": 2.0}.get(c.loss, c.params.get("power", 0.0))


def k_tweedie(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    p = tweedie_power(c)
    mu = torch.exp(x) if c.logits else x
    if p == 0:
        ell = (y - mu) ** 2
    elif p == 1:
        ell = 2 * (torch.xlogy(y, y) - torch.xlogy(y, mu) - y + mu)
    elif p == 2:
        ell = 2 * (torch.log(mu / y) + y / mu - 1)
    else:
        ell = 2 * (
            torch.clamp(y, min=0) ** (2 - p) / ((1 - p) * (2 - p))
            - y * mu ** (1 - p) / (1 - p)
            + mu ** (2 - p) / (2 - p)
        )
    link = "mu=exp(x), " if c.logits else ""
    return ell, None, f"{TORCH} Tweedie unit deviance ({link}power={p!r})"


def k_expectile(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    q = c.params.get("quantile", 0.5)
    w = torch.abs(q - (y < x).to(F64))
    return w * (y - x) ** 2, None, f"{TORCH} |q-1(y<yhat)|*(y-yhat)**2 ({fmt_params(q=q)})"


def k_gaussian_nll(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    full = bool(c.params.get("full", False))
    ell = F.gaussian_nll_loss(x[:, 0], y, x[:, 1], full=full, eps=1e-6, reduction="none")
    return ell, None, f"{TORCH} F.gaussian_nll_loss({fmt_params(full=full, eps=1e-6)})"


def k_brier(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    if x.dim() == 1:
        p = torch.sigmoid(x) if c.logits else x
        return (p - y) ** 2, None, f"{TORCH} (p-y)**2" + (", p=sigmoid(x)" if c.logits else "")
    k = x.shape[1]
    p = torch.softmax(x, dim=1) if c.logits else x
    t = F.one_hot(y, k).to(F64) if y.dim() == 1 else y
    half = 0.5 if k == 2 else 1.0
    src = ", p=softmax(z)" if c.logits else ""
    return half * ((p - t) ** 2).sum(1), None, f"{TORCH} {half}*sum_c (p_c-y_c)**2{src}"


def k_mc_hinge(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    k = x.shape[1]
    mask = F.one_hot(y, k).bool()
    true = x.gather(1, y[:, None]).squeeze(1)
    other = x.masked_fill(mask, -math.inf).max(dim=1).values
    return torch.clamp(1 - true + other, min=0), None, f"{TORCH} max(0,1-s_y+max_(c!=y) s_c)"


def k_cat_hinge(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    t = F.one_hot(y, x.shape[1]).to(F64) if y.dim() == 1 else y
    pos = (t * x).sum(1)
    neg = ((1 - t) * x).max(dim=1).values
    return torch.clamp(neg - pos + 1, min=0), None, f"{TORCH} max(0,max((1-y)*s)-sum(y*s)+1)"


def k_perceptron(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    return torch.clamp(-_pm1(y) * x, min=0), None, f"{TORCH} max(0,-y*f), y in -1/+1"


def k_poly1(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    e = c.params.get("poly_epsilon", 2.0)
    if x.dim() == 1:  # the binary case: p -> [1-p, p], x -> [0, x]
        x = torch.stack([torch.zeros_like(x), x], 1) if c.logits else torch.stack([1 - x, x], 1)
        y = torch.stack([1 - y, y], 1)
    t = F.one_hot(y, x.shape[1]).to(F64) if y.dim() == 1 else y
    logp = F.log_softmax(x, dim=1) if c.logits else torch.log(x)
    ell = -(t * logp).sum(1) + e * (t * (1 - torch.exp(logp))).sum(1)
    src = "log_softmax(z)" if c.logits else "log(clip(p,eps,1-eps))"
    return ell, None, f"{TORCH} -sum(y*log p)+eps*sum(y*(1-p)), log p={src} ({fmt_params(eps=e)})"


def k_cosine(c: Spec, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, Any, str]:
    cos = (x * y).sum(1) / (torch.linalg.norm(x, dim=1) * torch.linalg.norm(y, dim=1))
    return 1 - cos, None, f"{TORCH} 1-<yhat,y>/(|yhat||y|)"


KERNELS: dict[str, Kernel] = {
    "mape": k_mape,
    "msle": k_msle,
    "rmsle": k_msle,
    "tweedie": k_tweedie,
    "poisson_deviance": k_tweedie,
    "gamma": k_tweedie,
    "expectile": k_expectile,
    "gaussian_nll": k_gaussian_nll,
    "brier": k_brier,
    "multiclass_hinge": k_mc_hinge,
    "categorical_hinge": k_cat_hinge,
    "perceptron": k_perceptron,
    "poly1": k_poly1,
    "cosine_distance": k_cosine,
    "mse": k_mse,
    "rmse": k_rmse,
    "mae": k_mae,
    "huber": k_huber,
    "smooth_l1": k_smooth_l1,
    "log_cosh": k_log_cosh,
    "quantile": k_quantile,
    "epsilon_insensitive": k_eps_ins,
    "poisson": k_poisson,
    "bce": k_bce,
    "focal": k_focal,
    "hinge": k_hinge,
    "squared_hinge": k_sq_hinge,
    "modified_huber": k_mod_huber,
    "cross_entropy": k_ce,
    "kl_div": k_kl_div,
}


# ------------------------------------------------------------------------ evaluation
def target_tensor(c: Spec) -> torch.Tensor:
    multi = isinstance(c.y_pred[0], list) and c.loss != "gaussian_nll"
    if multi and not isinstance(c.y_true[0], list):
        return torch.tensor(c.y_true, dtype=torch.long)
    return torch.tensor(c.y_true, dtype=F64)


def eps_of(c: Spec) -> float:
    return float(c.params.get("eps", MACHINE_EPS))


def reduce(c: Spec, ell: torch.Tensor, s: torch.Tensor, norm: torch.Tensor):
    """(scalar to differentiate, reported value) under losscli's reduction rules."""
    if c.loss in ROOTS:
        assert c.reduction == "mean"
        v = torch.sqrt((s * ell).sum() / s.sum())
        return v, v
    if c.reduction == "mean":
        v = (s * ell).sum() / (s * norm).sum()
        return v, v
    if c.reduction == "sum":
        v = (s * ell).sum()
        return v, v
    v = s * ell
    return v.sum(), v


def evaluate(c: Spec) -> Result:
    y = target_tensor(c)
    raw = torch.tensor(c.y_pred, dtype=F64)
    if c.loss in CLIPPED and not c.logits:
        eps = eps_of(c)
        raw = raw.clamp(eps, 1 - eps)
    n = raw.shape[0]
    s = torch.ones(n, dtype=F64) if c.weight is None else torch.tensor(c.weight, dtype=F64)
    kernel = KERNELS[c.loss]

    def parts(leaf: torch.Tensor):
        ell, norm, desc = kernel(c, y, leaf)
        if ell.dim() == 2:  # multi-output / multi-label: a row sums its K elements, n_i = K
            norm = torch.full((n,), float(ell.shape[1]), dtype=F64)
            ell = ell.sum(dim=1)
            desc += ", per element, rows summed, mean over all n*K elements"
        norm = torch.ones(n, dtype=F64) if norm is None else norm
        obj, val = reduce(c, ell, s, norm)
        return obj, val, ell, norm, desc

    leaf = raw.clone().requires_grad_(True)
    obj, val, ell, norm, desc = parts(leaf)
    (grad,) = torch.autograd.grad(obj, leaf, retain_graph=True, create_graph=True)
    hess = hessian_diagonal(grad, leaf)
    (g_ell,) = torch.autograd.grad(ell.sum(), leaf)
    return Result(
        value=val.detach(),
        grad=grad.detach(),
        hess=hess,
        ell=ell.detach(),
        g_ell=g_ell,
        s=s,
        norm=norm.detach(),
        y=y,
        leaf=raw,
        kernel=desc,
        objective=lambda t: parts(t)[0],
    )


def hessian_diagonal(grad: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    """d(grad_j)/d(leaf_j) for every element j, one double-backward pass each."""
    out = torch.zeros_like(leaf).reshape(-1)
    if not grad.requires_grad:  # the gradient is piecewise constant (|e|, hinge)
        return out.reshape(leaf.shape)
    for j in range(out.numel()):
        v = torch.zeros_like(leaf).reshape(-1)
        v[j] = 1.0
        (hv,) = torch.autograd.grad(
            grad, leaf, v.reshape(leaf.shape), retain_graph=True, allow_unused=True
        )
        out[j] = 0.0 if hv is None else hv.reshape(-1)[j].detach()
    return out.reshape(leaf.shape)


def finite(r: Result) -> bool:
    return bool(torch.isfinite(r.value).all() and torch.isfinite(r.grad).all())


# -------------------------------------------------------------------------- checking
class Mismatch(AssertionError):
    pass


def close(what: str, a: Any, b: Any, rtol: float, atol: float) -> None:
    a = np.asarray(a.detach() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol):
        raise Mismatch(f"{what}: {a.tolist()} != {b.tolist()}")


def mean_of(r: Result) -> float:
    return float((r.s * r.ell).sum() / (r.s * r.norm).sum())


def torch_native(c: Spec, r: Result) -> tuple[str, Callable[[torch.Tensor], torch.Tensor]] | None:
    """torch's own reduction of the same loss, for unweighted mean/sum cases."""
    red = c.reduction
    y = r.y
    if c.weight is not None or red not in ("mean", "sum") or c.loss in ROOTS:
        return None
    p = c.params
    if c.loss == "mse":
        return "F.mse_loss", lambda x: F.mse_loss(x, y, reduction=red)
    if c.loss == "mae":
        return "F.l1_loss", lambda x: F.l1_loss(x, y, reduction=red)
    if c.loss == "huber":
        return "F.huber_loss", lambda x: F.huber_loss(
            x, y, reduction=red, delta=p.get("delta", 1.0)
        )
    if c.loss == "smooth_l1":
        return "F.smooth_l1_loss", lambda x: F.smooth_l1_loss(
            x, y, reduction=red, beta=p.get("beta", 1.0)
        )
    if "label_smoothing" in p and c.loss in ("bce", "focal"):
        return None  # torch has no binary label smoothing; keras checks these below
    if c.loss == "poisson":
        full = bool(p.get("full", False))
        return "F.poisson_nll_loss", lambda x: F.poisson_nll_loss(
            x, y, log_input=c.logits, full=full, eps=POISSON_EPS, reduction=red
        )
    if c.loss == "bce" and c.logits:
        pw = p.get("pos_weight")
        pwt = None if pw is None else torch.tensor(pw, dtype=F64)
        return "F.binary_cross_entropy_with_logits", lambda x: F.binary_cross_entropy_with_logits(
            x, y, pos_weight=pwt, reduction=red
        )
    if c.loss == "bce" and p.get("pos_weight") is None:
        return "F.binary_cross_entropy", lambda x: F.binary_cross_entropy(x, y, reduction=red)
    if c.loss == "cross_entropy" and c.logits:
        w = _class_weights(c)
        ls = p.get("label_smoothing", 0.0)
        ii = int(p.get("ignore_index", -100))
        return "F.cross_entropy", lambda x: F.cross_entropy(
            x, y, weight=w, label_smoothing=ls, ignore_index=ii, reduction=red
        )
    if c.loss == "gaussian_nll":
        full = bool(p.get("full", False))
        return "F.gaussian_nll_loss", lambda x: F.gaussian_nll_loss(
            x[:, 0], y, x[:, 1], full=full, eps=1e-6, reduction=red
        )
    if c.loss == "kl_div":
        kred = "batchmean" if red == "mean" else "sum"

        def kl(x: torch.Tensor) -> torch.Tensor:
            inp = F.log_softmax(x, dim=1) if c.logits else torch.log(x)
            return F.kl_div(inp, y, reduction=kred, log_target=bool(p.get("log_target")))

        return f"F.kl_div(reduction='{kred}')", kl
    return None


def check_native(c: Spec, r: Result) -> None:
    nat = torch_native(c, r)
    if nat is None:
        return
    name, fn = nat
    leaf = r.leaf.clone().requires_grad_(True)
    v = fn(leaf)
    (g,) = torch.autograd.grad(v, leaf)
    close(f"{c.id}: {name} reduction value", r.value, v, **SAME)
    red = "batchmean" if c.loss == "kl_div" and c.reduction == "mean" else c.reduction
    # F.binary_cross_entropy's backward is (p-y)/max(p(1-p), 1e-12), not the derivative
    # of its value, once p is within ~1e-12 of 0 or 1: compare values only there.
    lf = r.leaf
    if name == "F.binary_cross_entropy" and bool((lf * (1 - lf) <= 1e-12).any()):
        r.checks.append(f"torch {name}(reduction='{red}') value")
        return
    close(f"{c.id}: {name} reduction grad", r.grad, g, **SAME)
    r.checks.append(f"torch {name}(reduction='{red}')")


def check_other(c: Spec, r: Result) -> None:  # one branch per loss
    """Independent implementations: scikit-learn metrics and loss objects, NumPy/SciPy."""
    if c.id.startswith("multi-"):
        return check_multi(c, r)
    y = r.y.numpy()
    x = r.leaf.numpy()
    s = r.s.numpy()
    ell = r.ell.numpy()
    g_ell = r.g_ell.numpy()
    swsum = float((s * ell).sum())
    # As given, so that sklearn clips them itself; pre-clipped when eps is not its default.
    yp = x if "eps" in c.params else np.asarray(c.y_pred, dtype=np.float64)
    p = c.params
    add = r.checks.append
    lid = c.id
    if c.loss == "mse":
        close(lid, mean_of(r), skm.mean_squared_error(y, x, sample_weight=s), **OTHER)
        add(f"{SK} mean_squared_error")
    elif c.loss == "rmse":
        close(lid, r.value, skm.root_mean_squared_error(y, x, sample_weight=s), **OTHER)
        add(f"{SK} root_mean_squared_error")
    elif c.loss == "mae":
        close(lid, mean_of(r), skm.mean_absolute_error(y, x, sample_weight=s), **OTHER)
        add(f"{SK} mean_absolute_error")
    elif c.loss == "huber":
        h = sk_loss.HuberLoss(delta=p.get("delta", 1.0))
        close(lid, ell, h.loss(y, x), **OTHER)
        close(lid, g_ell, h.gradient(y, x), **OTHER)
        add(f"{SK} _loss.HuberLoss")
    elif c.loss == "smooth_l1":
        b = p.get("beta", 1.0)
        if b > 0:
            h = sk_loss.HuberLoss(delta=b)
            close(lid, ell, h.loss(y, x) / b, **OTHER)
            close(lid, g_ell, h.gradient(y, x) / b, **OTHER)
            add(f"{SK} _loss.HuberLoss(delta=beta)/beta")
        else:
            close(lid, ell, np.abs(x - y), **OTHER)
            add("NumPy |d|")
    elif c.loss == "log_cosh":
        d = np.abs(x - y)
        close(lid, ell, d + np.log1p(np.exp(-2 * d)) - math.log(2.0), **OTHER)
        close(lid, g_ell, np.tanh(x - y), **OTHER)
        add("NumPy |d|+log1p(exp(-2|d|))-log(2) and tanh(d)")
    elif c.loss == "quantile":
        q = p.get("quantile", 0.5)
        close(lid, mean_of(r), skm.mean_pinball_loss(y, x, alpha=q, sample_weight=s), **OTHER)
        pin = sk_loss.PinballLoss(quantile=q)
        close(lid, ell, pin.loss(y, x), **OTHER)
        close(lid, g_ell, pin.gradient(y, x), **OTHER)
        add(f"{SK} mean_pinball_loss")
        add(f"{SK} _loss.PinballLoss")
    elif c.loss == "epsilon_insensitive":
        e = _sgd_fast.EpsilonInsensitive(p.get("epsilon", 0.1))
        close(lid, ell, [e.py_loss(a, b) for a, b in zip(x, y, strict=True)], **OTHER)
        close(lid, g_ell, [e.py_dloss(a, b) for a, b in zip(x, y, strict=True)], **OTHER)
        add(f"{SK} SGD EpsilonInsensitive")
    elif c.loss == "poisson" and p.get("full"):
        big = y > 1
        ys = np.where(big, y, 1.0)
        stirling = np.where(big, ys * np.log(ys) - ys + 0.5 * np.log(2 * math.pi * ys), 0.0)
        base = np.exp(x) - y * x if c.logits else x - y * np.log(x + POISSON_EPS)
        close(lid, ell, base + stirling, **OTHER)
        add("NumPy Poisson NLL + y*log(y)-y+0.5*log(2*pi*y) for y>1")
    elif c.loss == "poisson":
        if c.logits:
            hp = sk_loss.HalfPoissonLoss()
            close(lid, ell, hp.loss(y, x), **OTHER)
            close(lid, g_ell, hp.gradient(y, x), **OTHER)
            add(f"{SK} _loss.HalfPoissonLoss")
        else:
            close(lid, ell, x - y * np.log(x + POISSON_EPS), **OTHER)
            close(lid, g_ell, 1 - y / (x + POISSON_EPS), **OTHER)
            add("NumPy yhat-y*log(yhat+1e-8)")
    elif c.loss == "bce" and "label_smoothing" in p:
        ls = p["label_smoothing"]
        ref = keras.losses.binary_crossentropy(
            y[:, None], x[:, None], from_logits=c.logits, label_smoothing=ls
        )
        close(lid, ell, np.asarray(ref, dtype=np.float64), **KERAS_TOL)
        add(f"{KERAS} losses.binary_crossentropy(label_smoothing={ls})")
    elif c.loss == "focal" and ("label_smoothing" in p or "ignore_index" in p
                                or isinstance(p.get("alpha"), list)):  # fmt: skip
        a = p.get("alpha", 0.25)
        g = p.get("gamma", 2.0)
        ls = p.get("label_smoothing", 0.0)
        if x.ndim == 1:
            ref = keras.losses.binary_focal_crossentropy(
                y[:, None], x[:, None], apply_class_balancing=a >= 0,
                alpha=a if a >= 0 else 0.25, gamma=g, from_logits=c.logits, label_smoothing=ls,
            )  # fmt: skip
            close(lid, ell, np.asarray(ref, dtype=np.float64), **KERAS_TOL)
            add(f"{KERAS} losses.binary_focal_crossentropy(apply_class_balancing, label_smoothing)")
        else:
            ii = p.get("ignore_index")
            keep = np.ones(len(y), bool) if ii is None else y != ii
            t = np.eye(x.shape[1])[np.where(keep, y, 0).astype(int)]
            alpha = a if isinstance(a, list) else (a if a >= 0 else 1.0)
            ref = keras.losses.categorical_focal_crossentropy(
                t, x, alpha=np.asarray(alpha), gamma=g, from_logits=c.logits, label_smoothing=ls
            )
            close(lid, ell, np.asarray(ref, dtype=np.float64) * keep, **KERAS_TOL)
            add(f"{KERAS} losses.categorical_focal_crossentropy(alpha, gamma, label_smoothing)")
    elif c.loss == "cross_entropy" and "ignore_index" in p:
        keep = y != p["ignore_index"]
        inp = torch.tensor(x) if c.logits else torch.log(torch.tensor(x))
        ref = F.cross_entropy(
            inp[keep], r.y[keep], weight=_class_weights(c),
            label_smoothing=p.get("label_smoothing", 0.0), reduction="none",
        )  # fmt: skip
        close(lid, ell[keep], ref, **OTHER)
        close(lid, ell[~keep], np.zeros((~keep).sum()), **OTHER)
        add("torch F.cross_entropy on the kept rows")
    elif c.loss == "kl_div" and p.get("log_target"):
        logp = scipy.special.log_softmax(x, axis=1) if c.logits else np.log(x)
        close(lid, ell, (np.exp(y) * (y - logp)).sum(1), **OTHER)
        add("NumPy exp(t)*(t-log p)")
    elif c.loss == "bce":
        pw = p.get("pos_weight")
        pw_y = np.where(y == 1, 1.0 if pw is None else pw, 1.0)
        if c.logits:
            hb = sk_loss.HalfBinomialLoss()
            close(lid, ell, pw_y * hb.loss(y, x), **OTHER)
            close(lid, g_ell, pw_y * hb.gradient(y, x), **OTHER)
            add(f"{SK} _loss.HalfBinomialLoss" + ("*pos_weight**y" if pw else ""))
        else:
            sk = skm.log_loss(y, y_proba=yp, labels=[0, 1], sample_weight=s * pw_y, normalize=False)
            close(lid, swsum, sk, **OTHER)
            kw = "*pos_weight**y" if pw is not None else ""
            add(f"{SK} log_loss(labels=[0,1], sample_weight{kw}, normalize=False)")
            if c.weight is None and pw is None and c.reduction == "mean":
                close(lid, r.value, skm.log_loss(y, y_proba=yp, labels=[0, 1]), **OTHER)
    elif c.loss == "focal":
        a = p.get("alpha", 0.25)
        g = p.get("gamma", 2.0)
        if x.ndim == 1:
            pw = p.get("pos_weight", [1.0])[0]  # weighs the positive term of ce
            if c.logits:
                pp = scipy.special.expit(x)
                ce = pw * y * np.logaddexp(0.0, -x) + (1 - y) * np.logaddexp(0.0, x)
            else:
                pp = x
                ce = -(pw * y * np.log(x) + (1 - y) * np.log1p(-x))
            pt = pp * y + (1 - pp) * (1 - y)
            ref = ce * (1 - pt) ** g
            if a >= 0:
                ref = ref * (a * y + (1 - a) * (1 - y))
            close(lid, ell, ref, **OTHER)
            add("NumPy/SciPy re-implementation")
            if g == 0 and a < 0:
                b = evaluate(Spec("_", "bce", {}, c.logits, "none", c.y_true, c.y_pred))
                close(lid, ell, b.ell, **SAME)
                close(lid, g_ell, b.g_ell, **SAME)
                add("bce (gamma=0, alpha off)")
        else:
            yi = y.astype(int)
            logp = scipy.special.log_softmax(x, axis=1) if c.logits else np.log(x)
            lpt = logp[np.arange(len(yi)), yi]
            ref = -(a if a >= 0 else 1.0) * (1 - np.exp(lpt)) ** g * lpt
            close(lid, ell, ref, **OTHER)
            add("NumPy/SciPy re-implementation")
            if g == 0 and a < 0:
                ce = F.cross_entropy(
                    torch.tensor(x) if c.logits else torch.log(torch.tensor(x)),
                    r.y,
                    reduction="none",
                )
                close(lid, ell, ce, **OTHER)
                add("torch F.cross_entropy (gamma=0, alpha off)")
    elif c.loss in ("hinge", "squared_hinge", "modified_huber"):
        lf = {
            "hinge": _sgd_fast.Hinge(1.0),
            "squared_hinge": _sgd_fast.SquaredHinge(1.0),
            "modified_huber": _sgd_fast.ModifiedHuber(),
        }[c.loss]
        ypm = np.where(y == 0, -1.0, y)
        close(lid, ell, [lf.py_loss(f, t) for f, t in zip(x, ypm, strict=True)], **OTHER)
        close(lid, g_ell, [lf.py_dloss(f, t) for f, t in zip(x, ypm, strict=True)], **OTHER)
        add(f"{SK} SGD {type(lf).__name__}")
        if c.loss == "hinge":
            close(lid, mean_of(r), skm.hinge_loss(y, x, sample_weight=s), **OTHER)
            add(f"{SK} hinge_loss")
    elif c.loss == "cross_entropy":
        n_cls = x.shape[1]
        ls = p.get("label_smoothing", 0.0)
        cw = p.get("class_weights")
        w = np.ones(n_cls) if cw is None else np.asarray(cw, dtype=np.float64)
        index = y.ndim == 1
        if c.logits and index and ls == 0:
            hm = sk_loss.HalfMultinomialLoss(n_classes=n_cls)
            wy = w[y.astype(int)]
            close(lid, ell, wy * hm.loss(y.astype(np.float64), x), **OTHER)
            close(lid, g_ell, wy[:, None] * hm.gradient(y.astype(np.float64), x), **OTHER)
            add(f"{SK} _loss.HalfMultinomialLoss" + ("*w[y]" if cw else ""))
        if c.logits:
            target = np.eye(n_cls)[y.astype(int)] if index else y
            smoothed = (1 - ls) * target + ls / n_cls
            ref = -(w * smoothed * scipy.special.log_softmax(x, axis=1)).sum(axis=1)
            close(lid, ell, ref, **OTHER)
            add("SciPy -sum(w*((1-ls)*y+ls/C)*log_softmax(z))")
        else:
            ce = F.cross_entropy(
                torch.log(r.leaf),
                r.y,
                weight=_class_weights(c),
                label_smoothing=ls,
                reduction="none",
            )
            close(lid, ell, ce, **OTHER)
            add("torch F.cross_entropy(log(clip(p)))")
            if index and ls == 0:
                wy = w[y.astype(int)]
                labels = list(range(n_cls))
                sk = skm.log_loss(y, y_proba=yp, labels=labels, sample_weight=s * wy)
                close(lid, mean_of(r), sk, **OTHER)
                kw = "*w[y]" if cw is not None else ""
                add(f"{SK} log_loss(labels=range(C), sample_weight{kw})")
    elif c.loss == "mape":
        close(lid, mean_of(r), skm.mean_absolute_percentage_error(y, x, sample_weight=s), **OTHER)
        add(f"{SK} mean_absolute_percentage_error")
    elif c.loss == "msle":
        close(lid, mean_of(r), skm.mean_squared_log_error(y, x, sample_weight=s), **OTHER)
        add(f"{SK} mean_squared_log_error")
    elif c.loss == "rmsle":
        close(lid, r.value, skm.root_mean_squared_log_error(y, x, sample_weight=s), **OTHER)
        add(f"{SK} root_mean_squared_log_error")
    elif c.loss in ("tweedie", "poisson_deviance", "gamma"):
        pw = tweedie_power(c)
        mu = np.exp(x) if c.logits else x
        sk = skm.mean_tweedie_deviance(y, mu, sample_weight=s, power=pw)
        close(lid, mean_of(r), sk, **OTHER)
        add(f"{SK} mean_tweedie_deviance(power={pw!r})")
        if c.loss == "poisson_deviance":
            close(lid, mean_of(r), skm.mean_poisson_deviance(y, mu, sample_weight=s), **OTHER)
            add(f"{SK} mean_poisson_deviance")
        if c.loss == "gamma":
            close(lid, mean_of(r), skm.mean_gamma_deviance(y, mu, sample_weight=s), **OTHER)
            add(f"{SK} mean_gamma_deviance")
    elif c.loss == "expectile":
        q = p.get("quantile", 0.5)
        d = y - x
        close(lid, ell, np.where(d < 0, 1 - q, q) * d * d, **OTHER)
        close(lid, g_ell, -2 * np.where(d < 0, 1 - q, q) * d, **OTHER)
        add("NumPy expectile |q-1(y<yhat)|*(y-yhat)**2")
    elif c.loss == "gaussian_nll":
        v = np.maximum(x[:, 1], 1e-6)
        ref = 0.5 * (np.log(v) + (x[:, 0] - y) ** 2 / v)
        if p.get("full"):
            ref = ref + 0.5 * math.log(2 * math.pi)
        close(lid, ell, ref, **OTHER)
        add("NumPy 0.5*(log v+(mu-y)**2/v)")
    elif c.loss == "brier" and y.ndim == 2:  # soft targets: no sklearn counterpart
        pp = scipy.special.softmax(x, axis=1) if c.logits else x
        close(lid, ell, ((pp - y) ** 2).sum(1) * (0.5 if x.shape[1] == 2 else 1.0), **OTHER)
        add("NumPy sum_c (p_c-y_c)**2")
    elif c.loss == "brier":
        if not c.logits:
            if x.ndim == 1:
                sk = skm.brier_score_loss(y, x, sample_weight=s, pos_label=1)
            else:
                yl = y if y.ndim == 1 else y.argmax(1)
                sk = skm.brier_score_loss(yl, x, sample_weight=s, labels=list(range(x.shape[1])))
            close(lid, mean_of(r), sk, **OTHER)
            add(f"{SK} brier_score_loss")
        else:
            pp = scipy.special.expit(x) if x.ndim == 1 else scipy.special.softmax(x, axis=1)
            if x.ndim == 1:
                sk = skm.brier_score_loss(y, pp, sample_weight=s, pos_label=1)
            else:
                sk = skm.brier_score_loss(y, pp, sample_weight=s, labels=list(range(x.shape[1])))
            close(lid, mean_of(r), sk, **OTHER)
            add(f"{SK} brier_score_loss(sigmoid/softmax(x))")
    elif c.loss == "multiclass_hinge":
        sk = skm.hinge_loss(y, x, labels=list(range(x.shape[1])), sample_weight=s)
        close(lid, mean_of(r), sk, **OTHER)
        add(f"{SK} hinge_loss (multi-class)")
    elif c.loss == "categorical_hinge":
        t = np.eye(x.shape[1])[y.astype(int)] if y.ndim == 1 else y
        ref = np.asarray(keras.losses.categorical_hinge(t, x), dtype=np.float64)
        close(lid, ell, ref, **KERAS_TOL)
        add(f"{KERAS} losses.categorical_hinge")
    elif c.loss == "perceptron":
        lf = _sgd_fast.Hinge(0.0)
        ypm = np.where(y == 0, -1.0, y)
        close(lid, ell, [lf.py_loss(f, t) for f, t in zip(x, ypm, strict=True)], **OTHER)
        close(lid, g_ell, [lf.py_dloss(f, t) for f, t in zip(x, ypm, strict=True)], **OTHER)
        add(f"{SK} SGD Hinge(threshold=0) (loss='perceptron')")
    elif c.loss == "poly1":
        e = p.get("poly_epsilon", 2.0)
        xx, yy = x, y
        if x.ndim == 1:
            xx = np.stack([np.zeros_like(x), x], 1) if c.logits else np.stack([1 - x, x], 1)
            yy = np.stack([1 - y, y], 1)
        t = np.eye(xx.shape[1])[yy.astype(int)] if yy.ndim == 1 else yy
        logits_ = xx if c.logits else np.log(xx)
        ref = np.asarray(optax.losses.poly_loss_cross_entropy(logits_, t, epsilon=e))
        close(lid, ell, ref, **OTHER)
        gref = np.asarray(
            jax.grad(lambda z: optax.losses.poly_loss_cross_entropy(z, t, epsilon=e).sum())(logits_)
        )
        if c.logits and x.ndim == 2:
            close(lid, g_ell, gref, **OTHER)
        add(f"{OPTAX} losses.poly_loss_cross_entropy" + ("(log p)" if not c.logits else ""))
    elif c.loss == "cosine_distance":
        ref = np.asarray(optax.losses.cosine_distance(x, y))
        close(lid, ell, ref, **OTHER)
        gref = np.asarray(jax.grad(lambda z: optax.losses.cosine_distance(z, y).sum())(x))
        close(lid, g_ell, gref, **OTHER)
        add(f"{OPTAX} losses.cosine_distance and jax.grad")
        kref = 1 + np.asarray(keras.losses.cosine_similarity(y, x), dtype=np.float64)
        close(lid, ell, kref, **KERAS_TOL)
        add(f"{KERAS} losses.cosine_similarity (+1)")
    elif c.loss == "kl_div":
        if c.logits:
            ref = (scipy.special.xlogy(y, y) - y * scipy.special.log_softmax(x, axis=1)).sum(1)
            add("SciPy xlogy(y,y)-y*log_softmax(z)")
        else:
            ref = scipy.special.rel_entr(y, x).sum(1)
            add("SciPy rel_entr(y,p)")
        close(lid, ell, ref, **OTHER)


def check_multi(c: Spec, r: Result) -> None:
    """Multi-output regression against sklearn's multioutput='uniform_average' metrics;
    multi-label bce against torch's elementwise BCE (with logits: the module form)."""
    y, x, s = r.y.numpy(), r.leaf.numpy(), r.s.numpy()
    fn = {
        "mse": skm.mean_squared_error,
        "mae": skm.mean_absolute_error,
        "mape": skm.mean_absolute_percentage_error,
        "msle": skm.mean_squared_log_error,
    }
    if c.loss in fn:
        close(c.id, mean_of(r), fn[c.loss](y, x, sample_weight=s), **OTHER)
        r.checks.append(f"{SK} {fn[c.loss].__name__}(multioutput='uniform_average')")
    elif c.loss == "quantile":
        q = c.params.get("quantile", 0.5)
        close(c.id, mean_of(r), skm.mean_pinball_loss(y, x, alpha=q, sample_weight=s), **OTHER)
        r.checks.append(f"{SK} mean_pinball_loss(multioutput='uniform_average')")
    elif c.loss == "focal" and "pos_weight" in c.params:
        # hard labels: pos_weight multiplies the y = 1 elements of the unweighted focal loss
        plain = Spec(c.id, c.loss, {k: v for k, v in c.params.items() if k != "pos_weight"},
                     c.logits, c.reduction, c.y_true, c.y_pred, c.weight)  # fmt: skip
        y = r.y
        if "label_smoothing" not in c.params:
            ell0, _, _ = KERNELS["focal"](plain, y, r.leaf)
            w = torch.tensor(c.params["pos_weight"], dtype=F64)
            ref = torch.where(y == 1, w, torch.ones_like(y)) * ell0
            close(c.id, r.ell, ref.sum(1) if ref.dim() == 2 else ref, **SAME)
            r.checks.append(f"{TORCH} focal without pos_weight, times pos_weight where y = 1")
    elif c.loss == "bce" and c.logits:
        pw = c.params.get("pos_weight")
        mod = torch.nn.BCEWithLogitsLoss(
            weight=r.s[:, None], pos_weight=None if pw is None else torch.tensor(pw, dtype=F64)
        )
        close(c.id, mean_of(r) * float(r.s.mean()), mod(r.leaf, r.y), **OTHER)
        r.checks.append(f"{TORCH} nn.BCEWithLogitsLoss(weight=s, pos_weight)")


def fd_applicable(c: Spec, r: Result) -> bool:
    if c.id.startswith("extreme-"):
        return False
    if c.loss == "gaussian_nll":  # a clamped variance: torch differentiates at the clamp
        return bool((r.leaf[:, 1] > 1e-6).all())
    if c.loss in CLIPPED and not c.logits:
        lf = r.leaf
        return bool(((lf > 1e-4) & (lf < 1 - 1e-4)).all())
    return True


def check_fd(c: Spec, r: Result) -> None:
    """Central finite differences of the reduced loss, element by element."""
    flat = r.leaf.reshape(-1)
    g = r.grad.reshape(-1)
    for j in range(flat.numel()):
        h = 1e-6 * max(abs(float(flat[j])), 1e-2)
        up, dn = flat.clone(), flat.clone()
        up[j] += h
        dn[j] -= h
        with torch.no_grad():
            fu = float(r.objective(up.reshape(r.leaf.shape)))
            fl = float(r.objective(dn.reshape(r.leaf.shape)))
        fd = (fu - fl) / (2 * h)
        if abs(fd - float(g[j])) > 1e-5 * max(1.0, abs(float(g[j]))):
            raise Mismatch(f"{c.id}: finite difference {fd} != autograd {float(g[j])} at {j}")
    r.checks.append("finite differences")
    check_fd_hessian(c, r)


def check_fd_hessian(c: Spec, r: Result) -> None:
    """The double-backward Hessian diagonal against central differences of the gradient."""
    if not bool(torch.isfinite(r.hess).all()):
        return
    flat = r.leaf.reshape(-1)
    hd = r.hess.reshape(-1)
    for j in range(flat.numel()):
        h = 1e-5 * max(abs(float(flat[j])), 1e-2)
        g = []
        for sign in (1.0, -1.0):
            x = flat.clone()
            x[j] += sign * h
            leaf = x.reshape(r.leaf.shape).requires_grad_(True)
            (gr,) = torch.autograd.grad(r.objective(leaf), leaf)
            g.append(float(gr.reshape(-1)[j]))
        fd = (g[0] - g[1]) / (2 * h)
        if abs(fd - float(hd[j])) > 1e-4 * max(1.0, abs(float(hd[j]))):
            raise Mismatch(f"{c.id}: Hessian difference {fd} != double backward {float(hd[j])}")


# ----------------------------------------------------------------------------- seeds
# ERRATA.md figures (to the digits printed there).
SEED_EXPECT: dict[str, dict[str, Any]] = {
    "seed-mse": {"value": 0.02, "grad": [0.066667, 0.066667, -0.133333], "tol": 5e-7},
    "seed-mae": {"value": 0.1333333, "grad": [1 / 3, 1 / 3, -1 / 3], "tol": 5e-7},
    "seed-cross_entropy-logits": {
        "value": 1.185841,
        "grad0": [-0.248457, 0.093803, 0.154654],
        "tol": 5e-7,
    },
    "seed-cross_entropy-probs": {
        "value": 1.474283,
        "grad0": [-3.333333, 0.0, 0.0],
        "tol": 5e-7,
    },
    "seed-focal-logits": {"value": 0.113988, "tol": 5e-7},
    "seed-focal-probs": {"value": 0.00258264, "tol": 5e-9},
}


def check_seed(c: Spec, r: Result) -> None:
    exp = SEED_EXPECT[c.id]
    tol = exp["tol"]
    if abs(float(r.value) - exp["value"]) > tol:
        raise Mismatch(f"{c.id}: value {float(r.value)} != ERRATA {exp['value']}")
    if "grad" in exp:
        close(f"{c.id} grad vs ERRATA", r.grad, exp["grad"], rtol=0, atol=tol)
    if "grad0" in exp:
        close(f"{c.id} grad row 0 vs ERRATA", r.grad[0], exp["grad0"], rtol=0, atol=tol)
    r.checks.append("ERRATA.md figures")


# ------------------------------------------------------------------------ input data
def rng_for(case_id: str) -> random.Random:
    return random.Random(zlib.crc32(case_id.encode()))


def weights(rng: random.Random, n: int) -> list[float]:
    return [round(rng.uniform(0.2, 3.0), 2) for _ in range(n)]


def regression(rng: random.Random, kinks: tuple[float, ...]) -> tuple[list[float], list[float]]:
    """y_true, y_pred with |yhat-y| at least 0.05 away from every kink (and from a tie),
    and with residuals on both sides of the positive kinks."""
    pos = [k for k in kinks if k > 0]
    span = max([2.5, *(2.5 * k for k in pos)])
    while True:
        n = rng.randint(4, 8)
        yt = [round(rng.uniform(-3, 3), 2) for _ in range(n)]
        yp = [round(t + rng.uniform(-span, span), 2) for t in yt]
        d = [abs(a - b) for a, b in zip(yp, yt, strict=True)]
        if any(abs(di - k) < 0.05 for di in d for k in (0.0, *kinks)):
            continue
        if pos and not (any(di < min(pos) for di in d) and any(di > max(pos) for di in d)):
            continue
        return yt, yp


def labels01(rng: random.Random, n: int) -> list[float]:
    while True:
        y = [float(rng.randint(0, 1)) for _ in range(n)]
        if 0 < sum(y) < n:
            return y


def probs(rng: random.Random, n: int) -> list[float]:
    return [round(rng.uniform(0.02, 0.98), 3) for _ in range(n)]


def scores(rng: random.Random, n: int, scale: float = 4.0) -> list[float]:
    return [round(rng.uniform(-scale, scale), 3) for _ in range(n)]


def hinge_data(rng: random.Random, pm1: bool) -> tuple[list[float], list[float]]:
    """Labels and raw scores with z=y*f in all three regimes, |z| at least 0.05 from 1."""
    while True:
        n = rng.randint(5, 8)
        y = labels01(rng, n)
        f = [round(rng.uniform(-3, 3), 2) for _ in range(n)]
        z = [(2 * t - 1) * v for t, v in zip(y, f, strict=True)]
        if any(abs(abs(v) - 1) < 0.05 for v in z):
            continue
        if not (any(v > 1 for v in z) and any(-1 < v < 1 for v in z) and any(v < -1 for v in z)):
            continue
        return ([2 * t - 1 for t in y] if pm1 else y), f


def prob_row(rng: random.Random, k: int, grain: int = 1000, zeros: bool = False) -> list[float]:
    """k probabilities that are multiples of 1/grain and sum to 1 (up to rounding)."""
    if zeros:
        cuts = sorted(rng.randint(0, grain) for _ in range(k - 1))
    else:
        cuts = sorted(rng.sample(range(1, grain), k - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, grain], strict=True)]
    return [v / grain for v in parts]


def multiclass(
    rng: random.Random, k: int, logits: bool, soft: bool, zeros: bool = False
) -> tuple[list[Any], list[list[float]]]:
    n = rng.randint(4, 7)
    if soft:
        y: list[Any] = [prob_row(rng, k, grain=100, zeros=zeros) for _ in range(n)]
    else:
        while True:
            y = [rng.randrange(k) for _ in range(n)]
            if len(set(y)) > 1:
                break
    if logits:
        x = [[round(rng.uniform(-3, 3), 3) for _ in range(k)] for _ in range(n)]
    else:
        x = [prob_row(rng, k) for _ in range(n)]
    return y, x


# ---------------------------------------------------------------------------- cases
REDUCTIONS = [
    ("mean", False),
    ("sum", False),
    ("none", False),
    ("mean", True),
    ("sum", True),
    ("none", True),
]
PARAM_REDUCTIONS = [("mean", False), ("mean", True), ("none", True)]


def tag(params: dict[str, Any]) -> str:
    short = {"label_smoothing": "ls", "class_weights": "cw", "pos_weight": "pw"}
    out = []
    for k, v in params.items():
        name = short.get(k, k)
        out.append(name if isinstance(v, list) else f"{name}{v:g}")
    return "-".join(out)


def case_id(loss: str, params: dict[str, Any], *rest: str) -> str:
    return "-".join(p for p in (loss, tag(params), *rest) if p)


def build_cases() -> list[Spec]:  # a flat list of cases
    cases: list[Spec] = []

    def add(spec: Spec) -> None:
        cases.append(spec)

    # --- seed examples (shared/seed/ERRATA.md), exactly as printed there
    seed_y, seed_p = [1.0, 0.5, 2.0], [1.1, 0.6, 1.8]
    add(Spec("seed-mse", "mse", {}, False, "mean", seed_y, seed_p))
    add(Spec("seed-mae", "mae", {}, False, "mean", seed_y, seed_p))
    rows = [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.4, 0.4]]
    for lg, sp in ((True, "logits"), (False, "probs")):
        add(Spec(f"seed-cross_entropy-{sp}", "cross_entropy", {}, lg, "mean", [0, 1, 2], rows))
    fp = {"alpha": 0.25, "gamma": 2.0}
    for lg, sp in ((True, "logits"), (False, "probs")):
        add(Spec(f"seed-focal-{sp}", "focal", fp, lg, "mean", [0.0, 1.0, 0.0], [0.1, 0.9, 0.2]))

    # --- regression
    reg_params: dict[str, list[dict[str, Any]]] = {
        "mse": [{}],
        "mae": [{}],
        "huber": [{}, {"delta": 2.0}, {"delta": 0.3}],
        "smooth_l1": [{}, {"beta": 0.5}, {"beta": 0.0}],
        "log_cosh": [{}],
        "quantile": [{}, {"quantile": 0.1}, {"quantile": 0.9}],
        "epsilon_insensitive": [{}, {"epsilon": 0.5}],
    }
    kink_key = {
        "huber": ("delta", 1.0),
        "smooth_l1": ("beta", 1.0),
        "epsilon_insensitive": ("epsilon", 0.1),
    }
    for loss, plist in reg_params.items():
        for params in plist:
            kinks: tuple[float, ...] = ()
            if loss in kink_key:
                key, default = kink_key[loss]
                kinks = (params.get(key, default),)
            for red, weighted in REDUCTIONS if not params else PARAM_REDUCTIONS:
                cid = case_id(loss, params, red, "weighted" if weighted else "")
                rng = rng_for(cid)
                yt, yp = regression(rng, kinks)
                w = weights(rng, len(yt)) if weighted else None
                add(Spec(cid, loss, params, False, red, yt, yp, w))
    rng = rng_for("mse-mean-weighted-zero")
    yt, yp = regression(rng, ())
    w = weights(rng, len(yt))
    w[1] = 0.0  # a zero weight drops the sample from both sums
    add(Spec("mse-mean-weighted-zero", "mse", {}, False, "mean", yt, yp, w))
    for cid, weighted in (
        ("rmse-mean", False),
        ("rmse-mean-weighted", True),
        ("rmse-mean-weighted-b", True),
    ):
        rng = rng_for(cid)
        yt, yp = regression(rng, ())
        w = weights(rng, len(yt)) if weighted else None
        add(Spec(cid, "rmse", {}, False, "mean", yt, yp, w))

    # --- poisson: log-rate (logits) and rate predictions
    for lg, sp in ((True, "logits"), (False, "rate")):
        for red, weighted in REDUCTIONS:
            cid = case_id("poisson", {}, sp, red, "weighted" if weighted else "")
            rng = rng_for(cid)
            n = rng.randint(4, 8)
            yt = [float(rng.randint(0, 6)) for _ in range(n)]
            yp = scores(rng, n, 2.0) if lg else [round(rng.uniform(0.05, 6), 3) for _ in range(n)]
            add(Spec(cid, "poisson", {}, lg, red, yt, yp, weights(rng, n) if weighted else None))

    # --- binary: bce and focal
    def binary(loss: str, params: dict[str, Any], lg: bool, red: str, weighted: bool) -> None:
        sp = "logits" if lg else "probs"
        cid = case_id(loss, params, sp, red, "weighted" if weighted else "")
        rng = rng_for(cid)
        n = rng.randint(4, 8)
        yt = labels01(rng, n)
        yp = scores(rng, n) if lg else probs(rng, n)
        add(Spec(cid, loss, params, lg, red, yt, yp, weights(rng, n) if weighted else None))

    for lg in (True, False):
        for red, weighted in REDUCTIONS:
            binary("bce", {}, lg, red, weighted)
        for red, weighted in PARAM_REDUCTIONS:
            binary("bce", {"pos_weight": 3.0}, lg, red, weighted)
    # eps override: probabilities beyond [1e-3, 1-1e-3] are clipped (gradient at the clip)
    e3 = {"eps": 1e-3}
    y5, p5 = [1.0, 0.0, 1.0, 0.0, 1.0], [0.0005, 0.9995, 0.3, 0.2, 0.999]
    add(Spec("bce-eps0.001-probs-mean", "bce", e3, False, "mean", y5, p5))
    y4, p4, w4 = [1.0, 0.0, 1.0, 0.0], [0.0002, 0.4, 0.9999, 0.0001], [1.5, 0.5, 2.0, 1.0]
    add(Spec("bce-eps0.001-probs-none-weighted", "bce", e3, False, "none", y4, p4, w4))

    for lg in (True, False):
        for red, weighted in REDUCTIONS:
            binary("focal", {}, lg, red, weighted)
        for params in (
            {"gamma": 0.0},
            {"gamma": 0.5},
            {"gamma": 3.0},
            {"alpha": -1.0},
            {"alpha": 0.5},
        ):
            binary("focal", params, lg, "mean", False)
        binary("focal", {"alpha": 0.5, "gamma": 0.5}, lg, "none", True)
        binary("focal", {"alpha": -1.0, "gamma": 0.0}, lg, "mean", False)  # = bce

    # multi-class focal (index targets)
    def mc(
        loss: str,
        params: dict[str, Any],
        lg: bool,
        k: int,
        soft: bool,
        red: str,
        weighted: bool,
        zeros: bool = False,
    ) -> None:
        sp = "logits" if lg else "probs"
        cid = case_id(
            loss, params, f"c{k}", "soft" if soft else "", sp, red, "weighted" if weighted else ""
        )
        rng = rng_for(cid)
        yt, yp = multiclass(rng, k, lg, soft, zeros)
        add(Spec(cid, loss, params, lg, red, yt, yp, weights(rng, len(yp)) if weighted else None))

    for lg in (True, False):
        for red, weighted in (("mean", False), ("sum", False), ("none", True), ("mean", True)):
            mc("focal", {}, lg, 3, False, red, weighted)
        mc("focal", {}, lg, 5, False, "mean", False)
        mc("focal", {"alpha": 0.5, "gamma": 0.5}, lg, 3, False, "mean", True)
        mc("focal", {"alpha": -1.0, "gamma": 3.0}, lg, 5, False, "none", False)
        mc("focal", {"alpha": -1.0, "gamma": 0.0}, lg, 3, False, "mean", False)  # = CE

    # --- hinge family: labels 0/1 and -1/+1, raw scores
    for loss in ("hinge", "squared_hinge", "modified_huber"):
        for red, weighted in REDUCTIONS:
            cid = case_id(loss, {}, red, "weighted" if weighted else "")
            rng = rng_for(cid)
            yt, f = hinge_data(rng, pm1=False)
            add(Spec(cid, loss, {}, False, red, yt, f, weights(rng, len(f)) if weighted else None))
        for red, weighted in (("mean", False), ("none", True)):
            cid = case_id(loss, {}, "pm1", red, "weighted" if weighted else "")
            rng = rng_for(cid)
            yt, f = hinge_data(rng, pm1=True)
            add(Spec(cid, loss, {}, False, red, yt, f, weights(rng, len(f)) if weighted else None))

    # --- cross-entropy: index and soft targets, 3 and 5 classes, both spaces
    cw3 = {"class_weights": [0.5, 2.0, 1.25]}
    cw5 = {"class_weights": [1.0, 0.25, 3.0, 0.5, 1.5]}
    both = {"label_smoothing": 0.1, "class_weights": [0.5, 2.0, 1.25]}
    for lg in (True, False):
        ce = "cross_entropy"
        for red, weighted in (("mean", False), ("sum", False), ("mean", True), ("none", True)):
            mc(ce, {}, lg, 3, False, red, weighted)
        mc(ce, {}, lg, 5, False, "mean", False)
        mc(ce, {}, lg, 5, False, "sum", True)
        mc(ce, {}, lg, 3, True, "mean", False)
        mc(ce, {}, lg, 3, True, "none", True)
        mc(ce, {}, lg, 5, True, "mean", True)
        mc(ce, {"label_smoothing": 0.1}, lg, 3, False, "mean", False)
        mc(ce, {"label_smoothing": 0.1}, lg, 3, False, "mean", True)
        mc(ce, {"label_smoothing": 0.1}, lg, 3, True, "mean", False)
        mc(ce, cw3, lg, 3, False, "mean", False)
        mc(ce, cw3, lg, 3, False, "mean", True)
        mc(ce, cw5, lg, 5, False, "sum", False)
        mc(ce, cw3, lg, 3, True, "mean", False)
        mc(ce, both, lg, 3, False, "mean", False)
        mc(ce, both, lg, 3, False, "mean", True)
        mc(ce, both, lg, 3, False, "none", True)
        mc(ce, both, lg, 3, True, "mean", True)

    # --- kl_div: soft labels (with zeros), both spaces
    for lg in (True, False):
        for red, weighted in REDUCTIONS[:5]:
            mc("kl_div", {}, lg, 3, True, red, weighted, zeros=True)
        mc("kl_div", {}, lg, 5, True, "mean", False, zeros=True)

    # --- extreme inputs: logits +-1e4 and +-800, probabilities exactly 0 and 1
    def ext(name: str, params: dict[str, Any], red: str, y: list[Any], pred: list[Any],
            w: list[float] | None = None) -> None:  # fmt: skip
        loss, logits = name.split("-")[0], "-logits-" in name
        add(Spec(f"extreme-{name}", loss, params, logits, red, y, pred, w))

    w4 = [0.5, 1.0, 2.0, 1.5]
    pw3 = {"pos_weight": 3.0}
    both = {"label_smoothing": 0.1, "class_weights": [0.5, 2.0, 1.25]}
    yb = [1.0, 0.0, 1.0, 0.0]  # binary: right, right, wrong, wrong
    yi = [0, 1, 0, 2]  # 3 classes: right, right, wrong, wrong
    ys = [[1.0, 0.0, 0.0], [0.0, 0.7, 0.3], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]  # soft
    for v, lab in ((1e4, "1e4"), (800.0, "800")):
        xb = [v, -v, -v, v]
        zx = [[v, -v, 0.0], [-v, v, 0.0], [-v, v, 0.0], [0.0, v, -v]]
        ext(f"bce-logits-{lab}-mean", {}, "mean", yb, xb)
        ext(f"bce-pw3-logits-{lab}-none-weighted", pw3, "none", yb, xb, w4)
        for g in (2.0, 0.5):
            ext(f"focal-gamma{g:g}-logits-{lab}-mean", {"gamma": g}, "mean", yb, xb)
            ext(f"focal-gamma{g:g}-c3-logits-{lab}-mean", {"gamma": g}, "mean", yi, zx)
        # wrong-side logits only: 1-p_t = 1, so no 0**(gamma-1) in the derivative
        ext(f"focal-gamma0.5-logits-{lab}-wrong-none", {"gamma": 0.5}, "none", [1.0, 0.0], [-v, v])
        ext(f"cross_entropy-c3-logits-{lab}-mean", {}, "mean", yi, zx)
        ext(f"cross_entropy-c3-logits-{lab}-none", {}, "none", yi, zx)
        ext(f"cross_entropy-c3-soft-logits-{lab}-mean", {}, "mean", ys, zx)
        ext(f"cross_entropy-ls0.1-cw-c3-logits-{lab}-mean-weighted", both, "mean", yi, zx, w4)
        ext(f"kl_div-c3-soft-logits-{lab}-mean", {}, "mean", ys, zx)
        ext(f"kl_div-c3-soft-logits-{lab}-none-weighted", {}, "none", ys, zx, w4)
    p01 = [1.0, 0.0, 0.0, 1.0]
    px = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    ext("bce-probs-0-1-mean", {}, "mean", yb, p01)
    ext("bce-pw3-probs-0-1-none-weighted", pw3, "none", yb, p01, w4)
    ext("bce-eps1e-07-probs-0-1-sum", {"eps": 1e-7}, "sum", yb, p01)
    for g in (2.0, 0.5):
        ext(f"focal-gamma{g:g}-probs-0-1-mean", {"gamma": g}, "mean", yb, p01)
        ext(f"focal-gamma{g:g}-probs-0-1-none", {"gamma": g}, "none", yb, p01)
        ext(f"focal-gamma{g:g}-c3-probs-0-1-mean", {"gamma": g}, "mean", yi, px)
    ext("cross_entropy-c3-probs-0-1-mean", {}, "mean", yi, px)
    ext("cross_entropy-c3-probs-0-1-none-weighted", {}, "none", yi, px, w4)
    ext("cross_entropy-c3-soft-probs-0-1-mean", {}, "mean", ys, px)
    ext("cross_entropy-ls0.1-cw-c3-probs-0-1-mean", both, "mean", yi, px)
    ext("kl_div-c3-soft-probs-0-1-mean", {}, "mean", ys, px)
    ext("kl_div-c3-soft-probs-0-1-none", {}, "none", ys, px)
    # poisson with log-rate -1e4 (exp underflows to 0; +1e4 would overflow exp)
    yc, xc = [0.0, 3.0, 1.0, 2.0], [-1e4, -1e4, 0.5, -800.0]
    ext("poisson-logits-neg1e4-mean", {}, "mean", yc, xc)
    ext("poisson-logits-neg1e4-none-weighted", {}, "none", yc, xc, w4)

    new_losses(add, mc)
    for spec in cases:  # raw scores whatever --logits says: the flag stays off
        if spec.loss in ("multiclass_hinge", "categorical_hinge"):
            spec.logits = False
    return cases


def new_losses(add: Callable[[Spec], None], mc: Callable[..., None]) -> None:
    """The losses of issue 10, each through every reduction, weights and its parameters."""

    Make = Callable[[random.Random], tuple[list[Any], list[Any]]]

    def spec(loss: str, params: dict[str, Any], lg: bool, red: str, weighted: bool,
             make: Make, *tags: str) -> None:  # fmt: skip
        sp = "logits" if lg else ""
        cid = case_id(loss, params, *tags, sp, red, "weighted" if weighted else "")
        rng = rng_for(cid)
        yt, yp = make(rng)
        name = loss.removeprefix("multi-")
        add(Spec(cid, name, params, lg, red, yt, yp, weights(rng, len(yp)) if weighted else None))

    def reg(rng: random.Random) -> tuple[list[Any], list[Any]]:
        yt, yp = regression(rng, ())
        return [v if abs(v) > 0.05 else 0.5 for v in yt], yp

    def log1p_data(rng: random.Random) -> tuple[list[Any], list[Any]]:
        n = rng.randint(4, 8)
        return [round(rng.uniform(-0.9, 5), 2) for _ in range(n)], [
            round(rng.uniform(-0.9, 5), 2) for _ in range(n)
        ]

    def tweedie_data(p: float, lg: bool) -> Callable[[random.Random], tuple[list[Any], list[Any]]]:
        def make(rng: random.Random) -> tuple[list[Any], list[Any]]:
            n = rng.randint(4, 8)
            if p >= 2:
                yt = [round(rng.uniform(0.1, 6), 2) for _ in range(n)]
            elif p >= 1:
                yt = [float(rng.randint(0, 6)) for _ in range(n)]
            else:
                yt = [round(rng.uniform(-2 if p < 0 else -3, 5), 2) for _ in range(n)]
            yp = scores(rng, n, 1.5) if lg else [round(rng.uniform(0.1, 6), 3) for _ in range(n)]
            return yt, yp

        return make

    for loss in ("mape", "msle", "expectile"):
        make = log1p_data if loss == "msle" else reg
        for red, weighted in REDUCTIONS:
            spec(loss, {}, False, red, weighted, make)
    for q in (0.1, 0.8):
        for red, weighted in PARAM_REDUCTIONS:
            spec("expectile", {"quantile": q}, False, red, weighted, reg)
    for weighted, t in ((False, ""), (True, ""), (True, "b"), (True, "c")):
        spec("rmsle", {}, False, "mean", weighted, log1p_data, t)

    for lg in (False, True):
        for loss in ("poisson_deviance", "gamma"):
            for red, weighted in REDUCTIONS:
                pw = 1.0 if loss == "poisson_deviance" else 2.0
                spec(loss, {}, lg, red, weighted, tweedie_data(pw, lg))
        for pw in (0.0, -0.5, 1.0, 1.5, 2.0, 3.0):
            for red, weighted in REDUCTIONS if pw == 1.5 else PARAM_REDUCTIONS:
                spec("tweedie", {"power": pw}, lg, red, weighted, tweedie_data(pw, lg))

    def gauss(clamp: bool) -> Callable[[random.Random], tuple[list[Any], list[Any]]]:
        def make(rng: random.Random) -> tuple[list[Any], list[Any]]:
            n = rng.randint(4, 8)
            yt = [round(rng.uniform(-3, 3), 2) for _ in range(n)]
            yp = [[round(rng.uniform(-3, 3), 2), round(rng.uniform(0.1, 3), 3)] for _ in range(n)]
            if clamp:
                yp[0][1] = 1e-8  # below eps=1e-6: clamped, derivatives at the clamp
            return yt, yp

        return make

    for full in (False, True):
        for red, weighted in REDUCTIONS:
            spec("gaussian_nll", {"full": full}, False, red, weighted, gauss(False))
        spec("gaussian_nll", {"full": full}, False, "mean", True, gauss(True), "clamped")

    def binary01(lg: bool) -> Callable[[random.Random], tuple[list[Any], list[Any]]]:
        def make(rng: random.Random) -> tuple[list[Any], list[Any]]:
            n = rng.randint(4, 8)
            return labels01(rng, n), scores(rng, n) if lg else probs(rng, n)

        return make

    for lg in (False, True):
        for red, weighted in REDUCTIONS:
            spec("brier", {}, lg, red, weighted, binary01(lg), "binary")
            mc("brier", {}, lg, 3, False, red, weighted)
        mc("brier", {}, lg, 2, False, "mean", True)
        mc("brier", {}, lg, 4, True, "mean", False)
        for red, weighted in PARAM_REDUCTIONS:
            mc("poly1", {}, lg, 3, False, red, weighted)
        for e in (1.0, -1.0, 0.0):
            mc("poly1", {"poly_epsilon": e}, lg, 3, False, "mean", True)
        mc("poly1", {}, lg, 5, True, "mean", True)
        for red, weighted in REDUCTIONS[:3]:
            spec("poly1", {}, lg, red, weighted, binary01(lg), "binary")

    for red, weighted in REDUCTIONS:
        mc("multiclass_hinge", {}, True, 3, False, red, weighted)
        mc("categorical_hinge", {}, True, 3, False, red, weighted)
    mc("multiclass_hinge", {}, True, 5, False, "mean", True)
    mc("categorical_hinge", {}, True, 4, True, "mean", True)
    mc("categorical_hinge", {}, True, 5, False, "none", False)

    def hinge01(pm1: bool) -> Callable[[random.Random], tuple[list[Any], list[Any]]]:
        return lambda rng: hinge_data(rng, pm1)

    for red, weighted in REDUCTIONS:
        spec("perceptron", {}, False, red, weighted, hinge01(False))
    spec("perceptron", {}, False, "mean", True, hinge01(True), "pm1")

    def vectors(rng: random.Random) -> tuple[list[Any], list[Any]]:
        n, k = rng.randint(3, 6), rng.choice([2, 3, 4])
        vec = [[round(rng.uniform(-2, 2), 3) for _ in range(k)] for _ in range(2 * n)]
        return vec[:n], vec[n:]

    for red, weighted in REDUCTIONS:
        spec("cosine_distance", {}, False, red, weighted, vectors)

    # --- multi-output regression and multi-label bce/focal (ids start with "multi-")
    def multi_reg(k: int, positive: bool = False) -> Callable[[random.Random], tuple[Any, Any]]:
        def make(rng: random.Random) -> tuple[Any, Any]:
            n = rng.randint(4, 7)
            lo = -0.9 if positive else -3.0
            yt = [[round(rng.uniform(lo, 3), 2) for _ in range(k)] for _ in range(n)]
            yp = [[round(min(max(v + rng.uniform(-1.5, 1.5), lo), 4), 2) for v in row]
                  for row in yt]  # fmt: skip
            return yt, yp

        return make

    def multi_labels(k: int, lg: bool) -> Callable[[random.Random], tuple[Any, Any]]:
        def make(rng: random.Random) -> tuple[Any, Any]:
            n = rng.randint(4, 7)
            yt = [[float(rng.randint(0, 1)) for _ in range(k)] for _ in range(n)]
            yp = [scores(rng, k) if lg else probs(rng, k) for _ in range(n)]
            return yt, yp

        return make

    for loss in ("mse", "mae", "quantile", "mape", "msle", "log_cosh"):
        for red, weighted in REDUCTIONS[:4]:
            spec(f"multi-{loss}", {}, False, red, weighted, multi_reg(3, loss == "msle"), "k3")
    for lg in (False, True):
        for red, weighted in REDUCTIONS:
            spec("multi-bce", {}, lg, red, weighted, multi_labels(3, lg), "k3")
        for red, weighted in PARAM_REDUCTIONS:
            spec("multi-bce", {"pos_weight": [2.0, 0.5, 1.5]}, lg, red, weighted,
                 multi_labels(3, lg), "k3")  # fmt: skip
            spec("multi-focal", {"multilabel": True}, lg, red, weighted, multi_labels(4, lg), "k4")
            spec("multi-focal", {"multilabel": True, "pos_weight": [2.0, 0.5, 1.5, 3.0]}, lg,
                 red, weighted, multi_labels(4, lg), "k4")  # fmt: skip
        for extra in ({"label_smoothing": 0.2}, {"gamma": 0.5, "alpha": -1.0}):
            spec("multi-focal", {"multilabel": True, "pos_weight": [0.3, 4.0, 1.0], **extra},
                 lg, "mean", True, multi_labels(3, lg), "k3")  # fmt: skip
        spec("focal", {"pos_weight": [2.5]}, lg, "mean", True, binary01(lg))

    # --- new options on existing losses
    for lg in (False, True):
        for ls in (0.1, 0.3):
            for red, weighted in PARAM_REDUCTIONS:
                spec("bce", {"label_smoothing": ls}, lg, red, weighted, binary01(lg))
                spec("focal", {"label_smoothing": ls}, lg, red, weighted, binary01(lg))
        spec("focal", {"alpha": -1.0, "label_smoothing": 0.2}, lg, "mean", True, binary01(lg))
        for red, weighted in PARAM_REDUCTIONS:
            mc("focal", {"alpha": [0.25, 0.5, 1.5]}, lg, 3, False, red, weighted)
            mc("focal", {"label_smoothing": 0.1}, lg, 3, False, red, weighted)
        mc("focal", {"alpha": [1.0, 0.5, 2.0, 0.1], "gamma": 1.5, "label_smoothing": 0.2},
           lg, 4, False, "mean", True)  # fmt: skip

        def ignored(
            k: int, ii: int, lg: bool = lg
        ) -> Callable[[random.Random], tuple[list[Any], list[Any]]]:
            def make(rng: random.Random) -> tuple[list[Any], list[Any]]:
                yt, yp = multiclass(rng, k, lg, False)
                yt[1] = ii
                yt[-1] = ii
                return yt, yp

            return make

        for loss in ("cross_entropy", "focal"):
            for ii in (1, -100):
                for red, weighted in REDUCTIONS:
                    spec(loss, {"ignore_index": ii}, lg, red, weighted, ignored(3, ii), "c3")
            both2 = {"ignore_index": 2, "label_smoothing": 0.1}
            spec(loss, both2, lg, "mean", True, ignored(4, 2), "c4")
        cwi = {"class_weights": [0.5, 2.0, 1.25], "ignore_index": 0}
        spec("cross_entropy", cwi, lg, "mean", True, ignored(3, 0), "c3")
        spec("cross_entropy", cwi, lg, "mean", False, ignored(3, 0), "c3")

        def log_soft(rng: random.Random, lg: bool = lg) -> tuple[list[Any], list[Any]]:
            yt, yp = multiclass(rng, 3, lg, True)
            return [[math.log(v) for v in row] for row in yt], yp

        for red, weighted in REDUCTIONS:
            spec("kl_div", {"log_target": True}, lg, red, weighted, log_soft, "c3")

        def counts(rng: random.Random, lg: bool = lg) -> tuple[list[Any], list[Any]]:
            n = rng.randint(4, 8)
            yt = [float(rng.randint(0, 7)) for _ in range(n)]
            yp = scores(rng, n, 2.0) if lg else [round(rng.uniform(0.05, 6), 3) for _ in range(n)]
            return yt, yp

        for red, weighted in REDUCTIONS:
            spec("poisson", {"full": True}, lg, red, weighted, counts)


# -------------------------------------------------------------------------- emitting
WIDTH = 100  # the project's ruff line-length


def lit(v: Any) -> str:
    """A Python literal; floats by repr() (shortest exact round-trip)."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, float):
        assert math.isfinite(v), v
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(lit(e) for e in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(e)}" for k, e in v.items()) + "}"
    raise TypeError(type(v))


def flow(v: Any, col: int, tail: str) -> list[str]:
    """lit(v) + tail starting at column `col`, wrapped to WIDTH. Continuation lines are
    aligned one column after the opening bracket and carry their own indentation."""
    one = lit(v) + tail
    if col + len(one) <= WIDTH or not isinstance(v, list):
        return [one]
    inner = " " * (col + 1)
    lines: list[str] = []
    cur, cur_col = "[", col  # the line being filled and the column it starts at
    for i, e in enumerate(v):
        t = "," if i < len(v) - 1 else "]" + tail
        empty = cur == "[" or not cur.strip()
        piece = ("" if empty else " ") + lit(e) + t
        if cur_col + len(cur) + len(piece) <= WIDTH:
            cur += piece
            continue
        if not empty:
            lines.append(cur)
            cur, cur_col = inner, 0
        sub = flow(e, cur_col + len(cur), t)
        cur += sub[0]
        if len(sub) > 1:
            lines.append(cur)
            lines.extend(sub[1:-1])
            cur, cur_col = sub[-1], 0
    lines.append(cur)
    return lines


def flow_str(text: str, col: int, tail: str) -> list[str]:
    """A long string as adjacent literals (implicitly concatenated), aligned at `col`."""
    pieces: list[str] = []
    cur = ""
    for word in text.split(" "):
        cand = word if not cur else cur + " " + word
        if cur and col + len(lit(cand + " ")) + len(tail) > WIDTH:
            pieces.append(cur + " ")
            cur = word
        else:
            cur = cand
    pieces.append(cur)
    out = [lit(p) for p in pieces]
    out[-1] += tail
    return [out[0]] + [" " * col + p for p in out[1:]]


def to_py(t: torch.Tensor) -> Any:
    return t.detach().tolist()


HEADER = '''\
# GENERATED by tests/oracle/derive_golden.py; do not edit by hand.
# Re-generate from the repository root with a virtualenv outside the repo that has
# torch==2.13.0 and scikit-learn (see tests/oracle/README.md):
#     /work/oracle/bin/python tests/oracle/derive_golden.py
# Generated with {versions}, float64.
"""Golden loss values and gradients for losscli, one dict per case.

Keys: id, loss (canonical name), params, logits, reduction, y_true, y_pred, weight
(per-sample weights or None), value (float; the list s_i*l_i for reduction "none"),
grad (d value / d y_pred, same shape as y_pred; for "none" the gradient of the sum),
hess (the diagonal of d2 value / d y_pred2 by torch double backward, where finite),
oracle (what computed the numbers, then what they were cross-checked against).

mean = sum(s_i*l_i) / sum(s_i*n_i), n_i = class_weights[y_i] for class-weighted
cross-entropy with index targets, else 1. Probabilities are clipped to [eps, 1-eps]
(eps = 2.220446049250313e-16 unless params["eps"]) for bce, focal, cross_entropy and
kl_div; the gradient is taken at the clipped value. Floats are repr() (exact round-trip).
"""

from typing import Any

# fmt: off
CASES: list[dict[str, Any]] = [
'''


def emit(rows: list[dict[str, Any]]) -> str:
    versions = f"torch {torch.__version__}, scikit-learn {sklearn.__version__}"
    out = [HEADER.format(versions=versions).rstrip("\n")]
    ind = " " * 5  # keys line up one column after the dict's opening brace
    for row in rows:
        cur = "    {"
        for k in ("id", "loss", "params", "logits", "reduction"):
            item = f"{lit(k)}: {lit(row[k])},"
            if cur.strip() != "{" and len(cur) + 1 + len(item) > WIDTH:
                out.append(cur)
                cur = ind + item
            else:
                cur += ("" if cur.strip() == "{" else " ") + item
        out.append(cur)
        for k in ("y_true", "y_pred", "weight", "value", "grad", "hess"):
            if k not in row:
                continue
            prefix = f"{ind}{lit(k)}: "
            lines = flow(row[k], len(prefix), ",")
            out.append(prefix + lines[0])
            out.extend(lines[1:])
        prefix = f'{ind}"oracle": '
        lines = flow_str(row["oracle"], len(prefix), "},")
        out.append(prefix + lines[0])
        out.extend(lines[1:])
    out.append("]")
    out.append("# fmt: on")
    text = "\n".join(out) + "\n"
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    return text


# ------------------------------------------------------------------------------ main
def reduction_note(c: Spec) -> str:
    if c.loss in ROOTS:
        return "sqrt of weighted mean" if c.weight else "sqrt of mean"
    index_cw = (
        c.loss == "cross_entropy"
        and "class_weights" in c.params
        and not isinstance(c.y_true[0], list)
    )
    if c.reduction == "mean":
        if index_cw:
            return "mean=sum(s*l)/sum(s*w[y])" if c.weight else "mean=sum(l)/sum(w[y])"
        return "weighted mean sum(s*l)/sum(s)" if c.weight else "mean"
    if c.reduction == "sum":
        return "sum(s*l)" if c.weight else "sum"
    return "none: s*l, grad of sum" if c.weight else "none: l, grad of sum"


def main() -> int:
    warnings.simplefilter("error")  # e.g. sklearn's "y_prob values do not sum to one"
    torch.set_default_dtype(F64)
    cases = build_cases()
    ids = [c.id for c in cases]
    dup = [k for k, v in Counter(ids).items() if v > 1]
    assert not dup, f"duplicate ids: {dup}"

    rows: list[dict[str, Any]] = []
    dropped: list[tuple[str, str]] = []
    for c in cases:
        r = evaluate(c)
        if not finite(r):
            bad = []
            if not torch.isfinite(r.value).all():
                bad.append(f"value {to_py(r.value)}")
            if not torch.isfinite(r.grad).all():
                bad.append(f"grad {to_py(r.grad)}")
            dropped.append((c.id, "; ".join(bad)))
            continue
        check_native(c, r)
        check_other(c, r)
        if fd_applicable(c, r):
            check_fd(c, r)
        if c.id in SEED_EXPECT:
            check_seed(c, r)
        clip = ""
        if c.loss in CLIPPED and not c.logits:
            clip = f", eps={eps_of(c)!r}"
        oracle = f"{r.kernel}{clip}; {reduction_note(c)}; float64, autograd" + (
            "; checked vs " + ", ".join(r.checks) if r.checks else ""
        )
        rows.append(
            {
                "id": c.id,
                "loss": c.loss,
                "params": c.params,
                "logits": c.logits,
                "reduction": c.reduction,
                "y_true": c.y_true,
                "y_pred": c.y_pred,
                "weight": c.weight,
                "value": to_py(r.value),
                "grad": to_py(r.grad),
                **({"hess": to_py(r.hess)} if bool(torch.isfinite(r.hess).all()) else {}),
                "oracle": oracle,
            }
        )

    missing = set(SEED_EXPECT) - {row["id"] for row in rows}
    assert not missing, f"seed cases missing: {missing}"
    OUT.write_text(emit(rows), encoding="utf-8")

    per_loss = Counter(row["loss"] for row in rows)
    print(f"wrote {len(rows)} cases to {OUT}")
    for loss, k in sorted(per_loss.items()):
        print(f"  {loss:20s} {k}")
    for cid, why in dropped:
        print(f"dropped {cid}: torch gives non-finite {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
