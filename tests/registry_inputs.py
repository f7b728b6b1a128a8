"""Valid random inputs for any registered loss, keyed by its task and space.

The invariant tests run over the whole registry, so a new loss is covered
as soon as it is registered, provided its task (and any new parameter
name) appears below; ``test_every_task_and_param_has_a_generator``
fails otherwise.  Losses that take K target and K prediction columns get
them half of the time: multi-output regression (a ``multioutput``
parameter) and multi-label ``bce``/``focal --multilabel`` (per-label
``pos_weight`` included), so the invariants cover those shapes too.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
from hypothesis import strategies as st

from losscli.losses import Loss

K = 3  # classes in multi-class examples, outputs and labels in multi-output ones


def _multi_label(loss: Loss, rng: np.random.Generator) -> bool | None:
    """K independent labels (True), one binary column (False), or either (None)."""
    pw = getattr(loss, "pos_weight", None)
    if getattr(loss, "multilabel", False) or (isinstance(pw, tuple) and len(pw) > 1):
        return True
    if "multilabel" in {f.name for f in fields(loss)}:  # focal: pos_weight is binary only
        return False if pw is not None else None
    return bool(rng.random() < 0.5) if hasattr(loss, "pos_weight") else None


def targets_and_predictions(
    loss: Loss, rng: np.random.Generator, n: int, *, logits: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Random (y_true, y_pred) inside the loss's domain, away from kinks."""
    space = loss.space(logits)
    task = loss.task
    if task in ("regression", "positive regression"):
        if hasattr(loss, "multioutput") and rng.random() < 0.5:  # K outputs
            cols = [_regression(loss.value_domain(), rng, n, logits=False) for _ in range(K)]
            return np.column_stack([c[0] for c in cols]), np.column_stack([c[1] for c in cols])
        return _regression(loss.value_domain(), rng, n, logits=space == "logit")
    if task == "regression with variance":
        y = rng.normal(0.0, 2.0, n)
        return y, np.column_stack([y + rng.normal(0.0, 1.5, n), rng.uniform(0.2, 3.0, n)])
    if task == "vectors":
        return rng.normal(0.0, 1.0, (n, K)), rng.normal(0.0, 1.0, (n, K))
    if task == "counts":
        y = rng.poisson(3.0, n).astype(float)
        pred = rng.normal(1.0, 0.5, n) if space == "logit" else rng.uniform(0.2, 6.0, n)
        return y, pred
    labels = _multi_label(loss, rng)
    if labels:  # K independent binary labels per row
        y = rng.integers(0, 2, (n, K)).astype(float)
        shape = (n, K)
        pred = rng.normal(0.0, 3.0, shape) if space == "logit" else rng.uniform(0.02, 0.98, shape)
        return y, pred
    binary = task == "binary" or (labels is False and task == "binary or multi-class")
    if binary or (task == "binary or multi-class" and rng.random() < 0.5):
        y = rng.integers(0, 2, n).astype(float)
        pred = rng.normal(0.0, 3.0, n) if space == "logit" else rng.uniform(0.02, 0.98, n)
        return y, pred
    if task in ("multi-class", "binary or multi-class"):
        y = rng.integers(0, K, n).astype(float)
        y[0] = 0.0  # never all rows of one class (ignore_index would leave none)
        return y, _class_predictions(rng, n, space)
    if task == "distributions":
        return rng.dirichlet(np.ones(K), n), _class_predictions(rng, n, space)
    raise AssertionError(f"no input generator for task {task!r} (add one here)")


def _regression(
    domain: str, rng: np.random.Generator, n: int, *, logits: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions inside a regression loss's ``value_domain``."""
    if domain == "real":
        y = rng.normal(0.0, 2.0, n)
        pred = rng.normal(0.0, 1.0, n) if logits else y + rng.normal(0.0, 1.5, n)
        return y, pred
    if domain == "log1p":
        return rng.uniform(-0.8, 5.0, n), rng.uniform(-0.8, 5.0, n)
    y = {
        "positive": lambda: rng.gamma(2.0, 1.5, n),
        "counts": lambda: rng.poisson(3.0, n).astype(float),
        "positive_mean": lambda: rng.normal(1.0, 2.0, n),
    }[domain]()
    return y, rng.normal(0.5, 0.7, n) if logits else rng.uniform(0.2, 6.0, n)


def _class_predictions(rng: np.random.Generator, n: int, space: str) -> np.ndarray:
    if space == "logit":
        return rng.normal(0.0, 3.0, (n, K))
    return rng.dirichlet(np.ones(K) * 2.0, n)


TASKS = {
    "regression",
    "positive regression",
    "regression with variance",
    "counts",
    "binary",
    "binary or multi-class",
    "multi-class",
    "distributions",
    "vectors",
}

# A strategy of valid values for every parameter name in the registry.
PARAM_STRATEGIES: dict[str, st.SearchStrategy[object]] = {
    "delta": st.floats(0.2, 3.0),
    "beta": st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    "quantile": st.floats(0.05, 0.95),
    "epsilon": st.floats(0.0, 0.8),
    # one weight, or one per label column (multi-label inputs follow: see _multi_label)
    "pos_weight": st.one_of(
        st.none(), st.floats(0.2, 5.0), st.tuples(*[st.floats(0.2, 5.0) for _ in range(K)])
    ),
    "eps": st.sampled_from([2.220446049250313e-16, 1e-7]),
    "alpha": st.one_of(st.just(-1.0), st.floats(0.05, 0.95)),
    "gamma": st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]),
    "label_smoothing": st.floats(0.0, 0.3),
    "class_weights": st.one_of(st.none(), st.tuples(*[st.floats(0.2, 3.0) for _ in range(K)])),
    "ignore_index": st.sampled_from([None, 1.0]),
    "log_target": st.just(False),
    "multilabel": st.booleans(),
    "multioutput": st.sampled_from(["uniform", "raw"]),
    "power": st.sampled_from([-0.5, 0.0, 1.0, 1.3, 2.0, 3.0]),
    "full": st.booleans(),
    "poly_epsilon": st.sampled_from([-1.0, 0.0, 1.0, 2.0, 5.0]),
}


def consistent(params: dict[str, Any]) -> dict[str, Any]:
    """Independently drawn parameters made valid together: per-label weights need
    K label columns (``focal`` takes them with ``multilabel``), and the class-index
    option ``ignore_index`` does not apply to K independent labels."""
    out = dict(params)
    if "multilabel" in out and isinstance(out.get("pos_weight"), tuple):
        out["multilabel"] = True
    if out.get("multilabel"):
        out.pop("ignore_index", None)
    return out
