"""Derive tests/multioutput_cases.py: multi-output regression (``--multioutput``) golden cases.

Run from the repository root with the oracle virtualenv (torch, scikit-learn 1.9):

    /work/oracle-venv/bin/python tests/oracle/derive_multioutput.py

K target and K prediction columns. Each output j has its own weighted mean
M_j = sum_i s_i l_ij / sum_i s_i (sklearn's per-output metric); the roots
(rmse, rmsle) take sqrt(M_j) per output. ``multioutput="raw"`` reports every
output's value (sklearn ``multioutput='raw_values'``), ``"uniform"`` their plain
mean (``'uniform_average'``). The value is scikit-learn's; the gradient and the
Hessian diagonal are torch autograd (double backward) of the same quantity written
in torch: for ``raw`` the gradient of sum_j L_j, whose column j is dL_j/dyhat_.j since
L_j depends on column j only. The torch value must equal sklearn's to 1e-12
relative, and the gradient central differences of the torch value, or the script stops.
"""

from __future__ import annotations

import random
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import sklearn.metrics as skm
import torch

F64 = torch.float64
EPS = float(np.finfo(np.float64).eps)
SK = "sklearn " + ".".join(sklearn.__version__.split(".")[:2])
TORCH = "torch " + ".".join(torch.__version__.split("+")[0].split(".")[:2])
OUT = Path(__file__).resolve().parents[1] / "multioutput_cases.py"
ROOTS = {"rmse", "rmsle"}


def elements(loss: str, params: dict[str, Any], y: torch.Tensor, x: torch.Tensor) -> Any:
    """The per-element term l_ij in torch."""
    e = x - y
    if loss in ("mse", "rmse"):
        return e * e
    if loss == "mae":
        return e.abs()
    if loss in ("msle", "rmsle"):
        d = torch.log1p(x) - torch.log1p(y)
        return d * d
    if loss == "mape":
        return e.abs() / y.abs().clamp_min(EPS)
    if loss == "quantile":
        q = params.get("quantile", 0.5)
        return torch.where(e < 0, -q * e, (1.0 - q) * e)
    raise ValueError(loss)


def sklearn_value(loss: str, params: dict[str, Any], y: Any, x: Any, w: Any, mo: str) -> Any:
    how = "raw_values" if mo == "raw" else "uniform_average"
    kw = {"sample_weight": w, "multioutput": how}
    fn = {
        "mse": skm.mean_squared_error,
        "rmse": skm.root_mean_squared_error,
        "mae": skm.mean_absolute_error,
        "msle": skm.mean_squared_log_error,
        "rmsle": skm.root_mean_squared_log_error,
        "mape": skm.mean_absolute_percentage_error,
    }
    if loss == "quantile":
        return skm.mean_pinball_loss(y, x, alpha=params.get("quantile", 0.5), **kw)
    return fn[loss](y, x, **kw)


def torch_value(loss: str, params: dict[str, Any], y: Any, x: Any, s: Any, mo: str) -> Any:
    """(the per-output values L_j, the scalar to differentiate)."""
    m = (s[:, None] * elements(loss, params, y, x)).sum(0) / s.sum()
    per = torch.sqrt(m) if loss in ROOTS else m
    return per, per.sum() if mo == "raw" else per.mean()


def hessian_diagonal(grad: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(leaf).reshape(-1)
    if not grad.requires_grad:  # piecewise-linear losses: the gradient is constant
        return out.reshape(leaf.shape)
    for j in range(out.numel()):
        v = torch.zeros_like(leaf).reshape(-1)
        v[j] = 1.0
        (hv,) = torch.autograd.grad(grad, leaf, v.reshape(leaf.shape), retain_graph=True)
        out[j] = hv.reshape(-1)[j].detach()
    return out.reshape(leaf.shape)


def data(rng: random.Random, loss: str, k: int) -> tuple[list[list[float]], list[list[float]]]:
    n = rng.randint(4, 7)
    low = -0.9 if loss in ("msle", "rmsle") else -3.0
    yt = [[rng.uniform(low, 3.0) for _ in range(k)] for _ in range(n)]
    yp = [[max(v + rng.uniform(-1.5, 1.5), low + 0.05) for v in row] for row in yt]
    return yt, yp


def case(loss: str, params: dict[str, Any], mo: str, weighted: bool, k: int) -> dict[str, Any]:
    cid = f"multioutput-{loss}-{mo}-k{k}" + ("-w" if weighted else "")
    cid += "".join(f"-{a}{b}" for a, b in params.items())
    rng = random.Random(zlib.crc32(cid.encode()))
    yt, yp = data(rng, loss, k)
    n = len(yt)
    w = [rng.uniform(0.2, 3.0) for _ in range(n)] if weighted else None
    y = torch.tensor(yt, dtype=F64)
    leaf = torch.tensor(yp, dtype=F64, requires_grad=True)
    s = torch.ones(n, dtype=F64) if w is None else torch.tensor(w, dtype=F64)
    per, obj = torch_value(loss, params, y, leaf, s, mo)
    (grad,) = torch.autograd.grad(obj, leaf, create_graph=True)
    hess = hessian_diagonal(grad, leaf)
    ref = np.asarray(sklearn_value(loss, params, np.array(yt), np.array(yp), w, mo))
    mine = per.detach().numpy() if mo == "raw" else float(obj.detach())
    if not np.allclose(mine, ref, rtol=1e-12, atol=0):
        sys.exit(f"{cid}: torch {mine} != {SK} {ref}")
    # central differences of the torch value (the losses are piecewise smooth; no ties)
    x0 = np.array(yp)
    for i in range(n):
        for j in range(k):
            h = 1e-6 * max(1.0, abs(x0[i, j]))
            up, down = x0.copy(), x0.copy()
            up[i, j] += h
            down[i, j] -= h
            fu = float(torch_value(loss, params, y, torch.tensor(up, dtype=F64), s, mo)[1])
            fd = float(torch_value(loss, params, y, torch.tensor(down, dtype=F64), s, mo)[1])
            num, ana = (fu - fd) / (2 * h), float(grad.detach()[i, j])
            if abs(num - ana) > 1e-5 * max(1.0, abs(ana)):
                sys.exit(f"{cid}: gradient [{i},{j}] {ana} vs differences {num}")
    how = "raw_values" if mo == "raw" else "uniform_average"
    name = {"quantile": "mean_pinball_loss"}.get(loss, "")
    return {
        "id": cid,
        "loss": loss,
        "params": {**params, "multioutput": mo},
        "y_true": yt,
        "y_pred": yp,
        "weight": w,
        "value": ref.tolist() if mo == "raw" else float(ref),
        "grad": grad.detach().tolist(),
        "hess": hess.tolist(),
        "oracle": (
            f"value: {SK} {name or loss}(multioutput='{how}', sample_weight); "
            f"gradient and Hessian: {TORCH} autograd of the same per-output means"
        ),
    }


def literal(c: dict[str, Any]) -> list[str]:
    """One case as lines under 100 characters: matrices one row a line."""
    out = ["    {"]
    for key, v in c.items():
        if isinstance(v, list) and v and isinstance(v[0], list):
            out.append(f"        {key!r}: [")
            out += [f"            {row!r}," for row in v]
            out.append("        ],")
        elif isinstance(v, list) and len(v) > 3:
            out.append(f"        {key!r}: [")
            rows = [v[i : i + 3] for i in range(0, len(v), 3)]
            out += [f"            {', '.join(map(repr, row))}," for row in rows]
            out.append("        ],")
        elif key == "oracle":
            parts = textwrap.wrap(v, 70, drop_whitespace=False)
            out.append(f"        {key!r}: (")
            out += [f"            {part!r}" for part in parts]
            out.append("        ),")
        else:
            out.append(f"        {key!r}: {v!r},")
    out.append("    },")
    return out


def main() -> None:
    cases = []
    for loss, params in (
        ("mse", {}),
        ("rmse", {}),
        ("mae", {}),
        ("msle", {}),
        ("rmsle", {}),
        ("mape", {}),
        ("quantile", {}),
        ("quantile", {"quantile": 0.3}),
    ):
        for mo in ("raw", "uniform"):
            for weighted in (False, True):
                cases.append(case(loss, params, mo, weighted, 3))
        cases.append(case(loss, params, "raw", True, 2))
    lines = [
        "# GENERATED by tests/oracle/derive_multioutput.py; do not edit by hand.",
        f"# Generated with {SK}, {TORCH}, float64.",
        '"""Golden multi-output regression cases (``--multioutput raw|uniform``).',
        "",
        "Keys: id, loss, params, y_true and y_pred (n×K), weight (or None), value (a list,",
        "one per output, for raw; a float for uniform), grad (n×K), hess (n×K), oracle.",
        "Reduction: mean (sklearn's). Floats are repr() (exact round-trip).",
        '"""',
        "",
        "from typing import Any",
        "",
        "# fmt: off",
        "CASES: list[dict[str, Any]] = [",
    ]
    for c in cases:
        lines += literal(c)
    lines += ["]", "# fmt: on", ""]
    OUT.write_text("\n".join(lines))
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
