# mypy: disable-error-code="import-not-found"
"""Derive the golden values of tests/test_optimizers.py and tests/test_metrics.py.

Not collected by pytest (no ``test_`` prefix) and never needed to run the tests.
Run it in a separate environment that has the oracles::

    python3 -m venv /tmp/oracle && /tmp/oracle/bin/pip install torch==2.13.0 scikit-learn
    /tmp/oracle/bin/python tests/oracle/derive_optim_metrics.py > /tmp/golden.py

It prints Python literals to paste into the tests. The inputs are the tests'
own (imported from them, so there is one copy); the optional tests
``test_golden_values_rederived`` (skipped unless torch / scikit-learn are
importable) import this module and check that the outputs still agree.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from tests.test_metrics import ABSENT_CLASS_CASE, CLASSIFICATION_CASES, REGRESSION_CASES
from tests.test_optimizers import GRADS, LRS, OPT_CASES, THETA0

# ----------------------------------------------------------------- optimizers


def torch_trajectory(name: str, hyper: dict[str, Any], scale: float) -> list[list[float]]:
    """θ after each step of torch.optim on the fixed gradients, float64."""
    import torch

    torch.set_default_dtype(torch.float64)
    theta = torch.tensor(THETA0, dtype=torch.float64)
    # One tensor per coordinate: param groups then give AdamW's per-coordinate mask.
    params = [torch.nn.Parameter(theta[i : i + 1].clone()) for i in range(len(THETA0))]
    h = dict(hyper)
    if name == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=LRS[0])
    elif name in ("momentum", "nesterov"):
        opt = torch.optim.SGD(
            params, lr=LRS[0], momentum=h.get("momentum", 0.9), nesterov=name == "nesterov"
        )
    elif name == "adagrad":
        opt = torch.optim.Adagrad(params, lr=LRS[0], eps=h.get("eps", 1e-10))
    elif name == "rmsprop":
        opt = torch.optim.RMSprop(
            params, lr=LRS[0], alpha=h.get("alpha", 0.99), eps=h.get("eps", 1e-8)
        )
    elif name in ("adam", "adamw"):
        betas = (h.get("beta1", 0.9), h.get("beta2", 0.999))
        eps = h.get("eps", 1e-8)
        if name == "adam":
            opt = torch.optim.Adam(params, lr=LRS[0], betas=betas, eps=eps)
        else:
            wd = h.get("weight_decay", 0.01)
            mask = h.get("decay_mask") or [True] * len(params)
            groups = [
                {"params": [p], "weight_decay": wd if m else 0.0}
                for p, m in zip(params, mask, strict=True)
            ]
            opt = torch.optim.AdamW(groups, lr=LRS[0], betas=betas, eps=eps)
    else:
        raise ValueError(name)
    out = []
    for grad, lr in zip(GRADS, LRS, strict=True):
        for group in opt.param_groups:
            group["lr"] = lr
        for p, g in zip(params, grad, strict=True):
            p.grad = torch.tensor([g * scale], dtype=torch.float64)
        opt.step()
        out.append([float(p.detach()[0]) for p in params])
    return out


def optimizer_golden() -> dict[str, list[list[float]]]:
    return {case: torch_trajectory(name, hyper, scale) for case, name, hyper, scale in OPT_CASES}


# -------------------------------------------------------------------- metrics

# sklearn tests Σ(y−ȳ)² == 0, and ȳ of [0.1]*3 is 0.10000000000000002: these give
# sklearn's r2 for documentation only (losscli applies the constant-y convention).
REGRESSION_ROUNDING_CASES: list[tuple[str, list[float], list[float]]] = [
    ("constant-0.1-perfect", [0.1, 0.1, 0.1], [0.1, 0.1, 0.1]),
    ("constant-0.1-imperfect", [0.1, 0.1, 0.1], [0.2, 0.1, 0.0]),
]


# (id, y, proba): proba is P(class 1) per row, or rows of K probabilities.
def sklearn_regression(y: list[float], y_pred: list[float]) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "mse": float(mean_squared_error(y, y_pred)),
        "mae": float(mean_absolute_error(y, y_pred)),
        "r2": float(r2_score(y, y_pred)),
    }


def sklearn_classification(y: list[int], proba: list[Any]) -> dict[str, float | None]:
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        log_loss,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    yt = np.asarray(y)
    p = np.asarray(proba, dtype=np.float64)
    k = 2 if p.ndim == 1 else p.shape[1]
    # The prediction rule is losscli's (LogisticRegression.predict: class 1 iff
    # p > 0.5; argmax for rows), sklearn scores it.
    pred = (p > 0.5).astype(int) if p.ndim == 1 else np.argmax(p, axis=1)
    average = "binary" if k == 2 else "macro"
    present = np.unique(yt)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        if len(present) < 2:
            auc: float | None = None
        elif k == 2:
            auc = float(roc_auc_score(yt, p if p.ndim == 1 else p[:, 1]))
        elif len(present) == k:
            auc = float(roc_auc_score(yt, p, multi_class="ovr", average="macro"))
        else:
            auc = float(np.mean([roc_auc_score(yt == c, p[:, c]) for c in present]))
    return {
        "accuracy": float(accuracy_score(yt, pred)),
        "log_loss": float(log_loss(yt, p, labels=list(range(k)))),
        "precision": float(precision_score(yt, pred, average=average, zero_division=0)),
        "recall": float(recall_score(yt, pred, average=average, zero_division=0)),
        "f1": float(f1_score(yt, pred, average=average, zero_division=0)),
        "roc_auc": auc,
    }


def metrics_golden() -> dict[str, dict[str, float | None]]:
    golden: dict[str, dict[str, float | None]] = {}
    for case, y, y_pred in REGRESSION_CASES:
        golden[case] = dict(sklearn_regression(y, y_pred))
    for case, labels, proba in [*CLASSIFICATION_CASES, ABSENT_CLASS_CASE]:
        golden[case] = sklearn_classification(labels, proba)
    return golden


def main() -> None:
    import sklearn
    import torch

    print(f"# torch {torch.__version__}, scikit-learn {sklearn.__version__}, python {sys.version}")
    print("TORCH_TRAJECTORIES = {")
    for case, traj in optimizer_golden().items():
        print(f"    {case!r}: [")
        for row in traj:
            print(f"        [{', '.join(repr(v) for v in row)}],")
        print("    ],")
    print("}")
    print("SKLEARN = {")
    for case, values in metrics_golden().items():
        print(f"    {case!r}: {{")
        for key, value in values.items():
            print(f"        {key!r}: {value!r},")
        print("    },")
    print("}")
    print("# sklearn r2 where mean rounding hides a constant y (documentation only):")
    for case, y, y_pred in REGRESSION_ROUNDING_CASES:
        print(f"#   {case}: {sklearn_regression(y, y_pred)['r2']!r}")
    # The constant-y convention as sklearn itself states it, for the record.
    assert math.isclose(sklearn_regression([2.0] * 3, [1.0, 2.0, 3.0])["r2"], 0.0)


if __name__ == "__main__":
    main()
