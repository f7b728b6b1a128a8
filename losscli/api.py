"""The public Python API: what the command line does, as functions.

::

    import losscli
    f = losscli.loss("focal", gamma=2)
    f.value(y_true, y_pred, logits=True)                # a float (or per-sample for "none")
    f.gradient(y_true, y_pred, logits=True)             # the CLI's ∂L/∂ŷ
    report = losscli.compute("preds.csv", losses=["mse", "mae"])
    model = losscli.train("data.csv", loss="huber", delta=2, l2=0.01)
    model.predict(X); model.save("m.json"); losscli.load_model("m.json")

Each function builds the same request the command builds from its flags and
calls the same library function (``compute.run_compute``, ``train.train``,
``losses.make_losses``), so values and errors are the command's: bad input
raises :class:`losscli.errors.InputError` and a failed run
:class:`losscli.errors.RunError`, with the message the command prints.
Warnings the command prints to stderr (a fit stopped at its epoch limit) are
:class:`LossCliWarning`\\ s here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli import compute as computing
from losscli._types import Reduction
from losscli.errors import BadValues, InputError
from losscli.evaluate import EvaluateOptions
from losscli.losses import PARAM_FLAGS, Loss, LossResult, check_logits, make_losses

if TYPE_CHECKING:
    from losscli._types import Array
    from losscli.fit.loop import Callback
    from losscli.fit.model import Model

# losscli.loss() and compute() need NumPy only; train and models (pandas, the
# fit loop) load on first use.

__all__ = [
    "LossCliWarning",
    "LossFunction",
    "compute",
    "load_model",
    "loss",
    "predict",
    "samples",
    "train",
]


class LossCliWarning(UserWarning):
    """What the command line prints as ``warning: …`` on stderr."""


# --------------------------------------------------------------------------- losses


def loss(name: str, **params: Any) -> LossFunction:
    """The named loss (any name or alias) with its parameters, checked as the CLI checks them.

    ``losscli.loss("focal", gamma=2)``; list parameters (``class_weights``)
    take a sequence of numbers.
    """
    unknown = sorted(set(params) - set(PARAM_FLAGS))
    if unknown:
        raise TypeError(f"loss() got an unexpected keyword argument {unknown[0]!r}")
    given = {k: _param(v) for k, v in params.items()}
    (instance,) = make_losses((name,), given, logits=False, single=True)
    return LossFunction(instance)


def _param(value: Any) -> Any:
    """A list parameter as the comma text the CLI's flag would carry."""
    if isinstance(value, str) or np.ndim(value) == 0:
        return value
    return ",".join(repr(float(v)) for v in np.asarray(value, dtype=np.float64).ravel())


@dataclass(frozen=True)
class LossFunction:
    """A loss bound to its parameters, evaluated on arrays.

    ``y_true``/``y_pred``/``sample_weight`` may be lists, NumPy arrays or
    pandas Series (a DataFrame or 2-D array of predictions = one column per
    class).  ``reduction`` is ``"mean"`` (Σsℓ/Σs), ``"sum"`` or ``"none"``
    (the per-sample vector); gradients are those of the reduced loss with
    respect to each prediction as given, the same numbers as ``compute --grad``.
    Targets may also be words, read by the one label normaliser
    (:mod:`losscli.io.labels`) as ``compute`` reads a file's: true/false, or
    class names when ``classes`` names the prediction columns in order.
    """

    loss: Loss

    @property
    def name(self) -> str:
        return self.loss.name

    def params(self) -> dict[str, Any]:
        return self.loss.params()

    def evaluate(
        self,
        y_true: Any,
        y_pred: Any,
        *,
        logits: bool = False,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        classes: Sequence[str] | None = None,
    ) -> LossResult:
        """Value, gradient, per-sample losses and clipping count in one result."""
        check_logits((self.loss.name,), logits)
        weight = None if sample_weight is None else _numbers(sample_weight, "weight")
        return self.loss.evaluate(
            _targets(y_true, classes),
            _numbers(y_pred, "y_pred"),
            logits=logits,
            reduction=reduction,
            weight=weight,
        )

    def value(
        self,
        y_true: Any,
        y_pred: Any,
        *,
        logits: bool = False,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        classes: Sequence[str] | None = None,
    ) -> float | Array:
        """The reduced loss: a float, or the per-sample vector for ``reduction="none"``."""
        result = self.evaluate(
            y_true,
            y_pred,
            logits=logits,
            reduction=reduction,
            sample_weight=sample_weight,
            classes=classes,
        )
        return _plain(result.value)

    def gradient(
        self,
        y_true: Any,
        y_pred: Any,
        *,
        logits: bool = False,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        classes: Sequence[str] | None = None,
    ) -> Array:
        """∂L/∂ŷ, shaped like ``y_pred``."""
        result = self.evaluate(
            y_true,
            y_pred,
            logits=logits,
            reduction=reduction,
            sample_weight=sample_weight,
            classes=classes,
        )
        return result.gradient

    def value_and_grad(
        self,
        y_true: Any,
        y_pred: Any,
        *,
        logits: bool = False,
        reduction: Reduction = "mean",
        sample_weight: Any = None,
        classes: Sequence[str] | None = None,
    ) -> tuple[float | Array, Array]:
        """(value, gradient) from one evaluation."""
        result = self.evaluate(
            y_true,
            y_pred,
            logits=logits,
            reduction=reduction,
            sample_weight=sample_weight,
            classes=classes,
        )
        return _plain(result.value), result.gradient


def _plain(value: float | Array | tuple[float, ...]) -> float | Array:
    """One value per output (``multioutput="raw"``) as an array, like ``none``'s."""
    return np.asarray(value, dtype=np.float64) if isinstance(value, tuple) else value


def _targets(values: Any, classes: Sequence[str] | None) -> Array:
    """y_true: numbers as they are; words (true/false, class names) through the label normaliser."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.dtype.kind in "biuf" and classes is None:
        return _numbers(array, "y_true")
    import pandas as pd

    from losscli.io.blocks import Problems
    from losscli.io.labels import compute_targets

    series = pd.Series(array.astype(object) if array.dtype.kind in "US" else array)
    problems = Problems(len(series))
    names = None if classes is None else tuple(str(c) for c in classes)
    labels = compute_targets(series, "y_true", names, problems)
    problems.raise_first(np.arange(1, len(series) + 1, dtype=np.int64))
    return _numbers(labels, "y_true")


def _numbers(values: Any, role: str) -> Array:
    """Plain-Python, NumPy or pandas input as float64; missing and infinite values refused.

    Labels given as words (true/false, class names) are for files and
    DataFrames (``compute``/``train``), whose reader normalises them.
    """
    if hasattr(values, "to_numpy"):  # pandas Series/DataFrame without importing pandas
        values = values.to_numpy()
    array = np.asarray(values)
    if array.dtype.kind == "b":
        array = array.astype(np.float64)
    if array.dtype.kind not in "iuf":
        raise InputError(
            f"{role} must hold numbers (got {array.dtype.name} values)",
            "give numbers, true/false, or class names with classes=[…]",
        )
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0 or array.ndim > 2:
        raise InputError(f"{role} must be one value per sample (1-D), or one row per sample")
    bad = ~np.isfinite(array)
    if bad.any():
        rows = bad if bad.ndim == 1 else bad.any(axis=1)
        nan = np.isnan(array).any()
        problem = "has missing values" if nan else "has infinite or overflowing values"
        raise BadValues(
            role, problem, np.flatnonzero(rows), [], "every value must be a finite float64 number"
        )
    return array


# --------------------------------------------------------------------------- compute


def compute(
    source: Any,
    losses: str | Sequence[str],
    *,
    true: str | None = None,
    pred: str | None = None,
    weight: str | None = None,
    logits: bool = False,
    reduction: Reduction = "mean",
    dropna: bool = False,
    check_grad: bool = False,
    compat: str | None = None,
    dtype: str | None = None,
    hazards: bool = False,
    input_format: str | None = None,
    delimiter: str | None = None,
    header: bool = True,
    evaluate: EvaluateOptions | None = None,
    **params: Any,
) -> computing.ComputeReport:
    """``losscli compute`` on a file path (any format the CLI reads) or a pandas DataFrame.

    Columns are found as the command finds them (``true``/``pred``/``weight``
    are its ``--true``/``--pred``/``--weight``); loss parameters are keywords
    (``delta=2``); ``compat``, ``dtype`` and ``hazards`` are ``--compat``,
    ``--dtype`` and ``--hazards``; ``input_format``, ``delimiter`` and
    ``header`` are ``--input-format``, ``--delimiter`` and ``--no-header``.
    ``report.values`` maps each loss to its value; per-sample losses and
    gradients are pass 2: :func:`samples`.  ``evaluate`` adds baselines,
    intervals, groups and worst rows (``report.evaluation``), as
    ``--baseline``/``--bootstrap``/``--by``/``--worst`` do.
    """
    names = (losses,) if isinstance(losses, str) else tuple(losses)
    evaluate = evaluate or EvaluateOptions()
    unknown = sorted(set(params) - set(PARAM_FLAGS))
    if unknown:
        raise TypeError(f"compute() got an unexpected keyword argument {unknown[0]!r}")
    from losscli.io.columns import ColumnRequest

    request = computing.ComputeRequest(
        source=_source(source),
        input=_reading(input_format, delimiter, header),
        losses=tuple(
            make_losses(
                names,
                {k: _param(v) for k, v in params.items()},
                logits=logits,
                compat=compat,
                dtype=dtype,
            )
        ),
        columns=ColumnRequest(true, pred, weight, group=evaluate.by),
        logits=logits,
        reduction=reduction,
        dropna=dropna,
        per_sample=True,
        check_grad=check_grad,
        hazards=hazards,
        evaluate=evaluate,
    )
    return computing.run_compute(request)


def samples(report: computing.ComputeReport) -> Iterator[computing.Samples]:
    """Per-sample losses and gradients of a :func:`compute` report, chunk by chunk (pass 2)."""
    return computing.samples(report)


def _reading(input_format: str | None, delimiter: str | None, header: bool) -> Any:
    """The input layer's reading options, checked as the command's flags are."""
    from losscli.io.formats import InputOptions

    reading = InputOptions(format=input_format, delimiter=delimiter, header=header)
    reading.check()
    return reading


def _source(source: Any) -> Any:
    """A path as text; DataFrames and (X, y) pairs go to the reader as they are."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        return os.fsdecode(source)
    return source


# --------------------------------------------------------------------------- train


def train(
    source: Any,
    loss: str = "mse",
    *,
    callback: Callback | None = None,
    **options: Any,
) -> Model:
    """``losscli train``: fit a model; every flag is a keyword (``l2=0.01``, ``optimizer="adam"``).

    ``source`` is a path (any input format), a pandas DataFrame, or an
    ``(X, y)`` pair of arrays.  Loss parameters (``delta=2``), the reading
    options (``input_format``, ``delimiter``, ``header``), the model's
    options (``model``, ``target``,
    ``features``, ``one_hot``, ``dropna``, ``l1``, ``l2``, ``standardize``,
    ``intercept``, ``val_split``), the optimizer's (``optimizer``, ``lr``,
    ``epochs``, ``batch_size``, ``average``, ``schedule``, ``tol``,
    ``patience``, ``seed``) and its settings (``momentum``, ``beta1``, ``beta2``) are told
    apart by name.  Returns the fitted :class:`~losscli.fit.model.Model`;
    its ``metrics`` and ``options`` say how the fit went.
    """
    from losscli import train as training
    from losscli.fit.loop import TrainConfig
    from losscli.fit.optimizers import exposed_hyperparameters

    reading = {"input_format", "delimiter", "header"}
    requested = {f.name for f in fields(training.TrainRequest)} - {
        "source",
        "loss",
        "config",
        "input",
    }
    configured = {f.name for f in fields(TrainConfig)} - {"hyper"}
    hyper_names = set(exposed_hyperparameters())
    known = requested | configured | hyper_names | reading | set(PARAM_FLAGS)
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"train() got an unexpected keyword argument {unknown[0]!r}")
    loss_params = {k: _param(v) for k, v in options.items() if k in PARAM_FLAGS}
    (instance,) = make_losses((loss,), loss_params, logits=False, single=True)
    config = TrainConfig(
        hyper={k: v for k, v in options.items() if k in hyper_names and v is not None},
        **{k: v for k, v in options.items() if k in configured},
    )
    request = training.TrainRequest(
        _source(source),
        instance,
        config,
        input=_reading(
            options.get("input_format"), options.get("delimiter"), options.get("header", True)
        ),
        **{k: v for k, v in options.items() if k in requested},
    )
    report = training.train(request, callback=callback)
    for text in report.warnings:
        warnings.warn(text, LossCliWarning, stacklevel=2)
    model: Model = report.model
    return model


def predict(
    model: Model | str | os.PathLike[str],
    source: Any,
    *,
    logits: bool = False,
    input_format: str | None = None,
    delimiter: str | None = None,
    header: bool = True,
) -> Any:
    """``losscli predict``: the table it writes, as a pandas DataFrame.

    ``model`` is a fitted model or the path of a model file; ``source`` a
    path (any input format) or a DataFrame.  Columns: ``y_true`` when the
    input has the model's target, then ``y_pred`` or one ``p_<class>`` per
    class (raw scores with ``logits``) — ready for :func:`compute`.
    """
    import pandas as pd

    from losscli import predict as predicting

    fitted = model if not isinstance(model, (str, os.PathLike)) else load_model(os.fspath(model))
    frames = predicting.prediction_frames(
        fitted, _source(source), logits=logits, input=_reading(input_format, delimiter, header)
    )
    return pd.concat(list(frames), ignore_index=True)


def load_model(path: str) -> Model:
    """A model file written by ``train --save`` or ``Model.save``, validated field by field."""
    from losscli.fit.model import load

    return load(path)
