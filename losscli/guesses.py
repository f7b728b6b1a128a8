"""Guesses about the data, said out loud: each returns a sentence or None.

The tool never changes what it computes on a guess; it tells the person
what the data looks like and which flag would match it.  These are pure
functions over arrays (no printing), so ``train``, ``compute`` and the
Python API can all say the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli.fit.objective import Objective

    Array = NDArray[Any]

CONTINUOUS_DISTINCT = 20  # a numeric target with more distinct values than this is not classes
PROBABILITY_ROW_TOL = 1e-6  # rows of "logits" that sum to 1 within this look like probabilities


def binary_target(y: Array, loss_name: str) -> str | None:
    """A regression loss on a target of only 0 and 1: a classification loss fits it better."""
    # no np.unique: its sorted copy of y is the largest allocation of an out-of-core fit
    zero = y == 0.0
    if zero.any() and not zero.all() and bool(((y == 1.0) | zero).all()):
        return (
            f"target looks binary (only 0 and 1) but {loss_name} fits a linear model: "
            "--loss bce fits a logistic model"
        )
    return None


def continuous_target(
    values: Array, column: str, loss_name: str, task: str
) -> tuple[str, str] | None:
    """A classification loss on a numeric target with many distinct values: (problem, fix)."""
    finite = values[np.isfinite(values)]
    distinct = np.unique(finite)
    fractional = bool(np.any(distinct != np.round(distinct)))
    if len(distinct) <= CONTINUOUS_DISTINCT and not fractional:
        return None
    shown = ", ".join(f"{v:g}" for v in finite[:3])
    return (
        f"target column {column!r} looks continuous ({len(distinct):,} distinct values, "
        f"e.g. {shown}), but {loss_name} is a {task} classification loss",
        "use a regression loss (--loss mse, huber, mae, …), or give class labels",
    )


def continuous_classes(
    classes: tuple[str, ...], column: str, loss_name: str, task: object
) -> tuple[str, str] | None:
    """:func:`continuous_target` on the distinct labels a reader found (their names)."""
    try:
        values = np.array([float(c) for c in classes])
    except ValueError:
        return None  # class names, not numbers
    return continuous_target(values, column, loss_name, str(task))


def separable(obj: Objective, theta: Array, x: Array, y: Array) -> str | None:
    """Every training row classified right and the loss still falling as θ grows.

    Then the loss has no finite minimiser: it tends to 0 as the coefficients
    grow without bound, and whatever values training stopped at (converged or
    not) say more about the stopping rule than about the data.  Losses that
    reach exactly 0 at a finite margin (hinge and its kin) are not affected:
    at 4θ their loss is 0, not merely smaller.
    """
    if len(y) == 0:
        return None
    scores = obj.scores(theta, x)
    if scores.ndim == 2 and scores.shape[1] > 1:
        right = np.argmax(scores, axis=1) == y.astype(np.int64)
    else:
        right = (np.ravel(scores) > 0) == (y > 0.5)
    if not bool(np.all(right)):
        return None
    with np.errstate(all="ignore"):
        now, double, quad = (obj.mean_loss(c * theta, x, y) for c in (1.0, 2.0, 4.0))
        penalised = obj.value(2.0 * theta, x, y) < obj.value(theta, x, y)
    if not (double < now and quad > 0.0 and penalised):
        return None
    return (
        "the classes are separable: every training row is classified right and the loss "
        "keeps falling as the coefficients grow, so they have no finite optimum (their size "
        "only says when training stopped); add --l2 (e.g. --l2 0.001)"
    )


def probabilities_as_logits(y_pred: Array) -> str | None:
    """Logits (``--logits``, or logit_<class> columns) all in [0, 1] (rows summing to 1)."""
    if y_pred.size == 0:
        return None
    if not bool(np.all((y_pred >= 0.0) & (y_pred <= 1.0))):
        return None
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        sums = y_pred.sum(axis=1)
        if not bool(np.all(np.abs(sums - 1.0) <= PROBABILITY_ROW_TOL)):
            return None
        return (
            "read as logits, but every prediction row lies in [0, 1] and sums to 1: "
            "they look like probabilities (drop --logits, or name the columns p_<class>)"
        )
    return (
        "read as logits, but every prediction lies in [0, 1]: they look like probabilities "
        "(drop --logits, or name the column y_pred)"
    )
