"""Types named once: arrays, prediction spaces, reductions, and the Task of a loss.

Importing this module costs nothing (no NumPy): the array aliases exist for
type checkers only, and every module imports them under ``TYPE_CHECKING``.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention; masks and indices share the alias
    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

    from losscli.losses.links import Link

__all__ = [
    "PRECISIONS",
    "REDUCTIONS",
    "SPACES",
    "Array",
    "BoolArray",
    "FloatArray",
    "IntArray",
    "LogitSpace",
    "ModelKind",
    "Precision",
    "Reduction",
    "Space",
    "Task",
]

Space = Literal["value", "probability", "logit"]
"""What a prediction is: the value itself (or a rate), a probability, or a logit."""
SPACES: tuple[Space, ...] = ("value", "probability", "logit")

LogitSpace = Literal["never", "optional", "always"]
"""Whether a loss reads logits: never (values only), with --logits, or always (raw scores)."""

Precision = Literal["float64", "float32"]
"""The float type a loss computes in (``--dtype``; Keras's convention is float32)."""
PRECISIONS: tuple[Precision, ...] = ("float64", "float32")

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS: tuple[Reduction, ...] = ("mean", "sum", "none")


class Task(str, Enum):
    """What a loss is for; it decides the model ``train`` fits and how targets are read.

    A str Enum so that JSON and the catalogue show the plain words; every
    routing question is a property here, so a new task must answer them all
    and cannot fall into classification by default.
    """

    REGRESSION = "regression"
    POSITIVE = "positive regression"  # Tweedie deviances: a linear model with the log link
    COUNTS = "counts"
    REGRESSION_WITH_VARIANCE = "regression with variance"  # a mean and a variance per row
    BINARY = "binary"
    MULTICLASS = "multi-class"
    BINARY_OR_MULTICLASS = "binary or multi-class"
    DISTRIBUTIONS = "distributions"
    VECTORS = "vectors"  # K targets and K predictions per row (cosine distance)

    def __str__(self) -> str:
        return self.value

    @property
    def regression(self) -> bool:
        """Targets are numbers (values or counts) and the model predicts one."""
        return self in (Task.REGRESSION, Task.POSITIVE, Task.COUNTS)

    @property
    def log_link(self) -> bool:
        """A linear model for this task predicts log μ (counts, Tweedie deviances)."""
        return self in (Task.POSITIVE, Task.COUNTS)

    @property
    def classification(self) -> bool:
        """Targets are class labels."""
        return self in (
            Task.BINARY,
            Task.MULTICLASS,
            Task.BINARY_OR_MULTICLASS,
            Task.DISTRIBUTIONS,
        )

    @property
    def trainable(self) -> bool:
        """``train`` has a model for it (not for a predicted variance or K-vectors)."""
        return self.regression or self.classification

    @property
    def multiclass(self) -> bool:
        """The loss takes more than two classes (one prediction column per class)."""
        return self in (Task.MULTICLASS, Task.BINARY_OR_MULTICLASS, Task.DISTRIBUTIONS)


class ModelKind(str, Enum):
    """The models ``train`` fits: one linear layer, read through a link.

    linear: identity link (values) or log link (counts, Poisson);
    logistic: logit link, two classes; softmax: softmax link, three or more.
    """

    LINEAR = "linear"
    LOGISTIC = "logistic"
    SOFTMAX = "softmax"

    def __str__(self) -> str:
        return self.value

    @property
    def links(self) -> tuple[Link, ...]:
        """The links a model of this kind may have (the first is its usual one)."""
        from losscli.losses import links

        return {
            ModelKind.LINEAR: (links.IDENTITY, links.LOG),
            ModelKind.LOGISTIC: (links.LOGIT,),
            ModelKind.SOFTMAX: (links.SOFTMAX,),
        }[self]
