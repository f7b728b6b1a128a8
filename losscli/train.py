"""From a CSV to a fitted model: choose the model, split, standardize, fit, score.

This is what ``losscli train`` calls.  The model follows from the loss and
the target (``--model auto``): a regression loss fits a linear model (with
a log link for Poisson), a binary loss a logistic one, a multi-class loss a
softmax one when the target has more than two classes.  Features are
standardized on the training part (population standard deviation, as
scikit-learn's StandardScaler), the penalty applies to the standardized
coefficients, and the coefficients are mapped back to the original scale.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli import guesses
from losscli._lazy import callable_module
from losscli._types import ModelKind, Task
from losscli.errors import InputError, RunError
from losscli.fit import metrics
from losscli.fit.loop import Callback, FitResult, StopReason, TrainConfig, fit
from losscli.fit.model import Model
from losscli.fit.objective import Objective
from losscli.io.design import Design, TrainingData, read_training
from losscli.io.formats import InputOptions, open_any
from losscli.io.labels import Labels, encode_classes, label_cells
from losscli.losses import Loss
from losscli.losses.links import IDENTITY, LOG, LOGIT, SOFTMAX, Link

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli._types import Array


@dataclass(frozen=True)
class TrainRequest:
    """Everything ``train`` needs; the CLI builds one from its flags."""

    source: Any  # a path, "-", a pandas DataFrame, or an (X, y) pair of arrays
    loss: Loss
    config: TrainConfig = field(default_factory=TrainConfig)
    model: str = "auto"
    target: str | None = None
    features: str | None = None
    one_hot: str | None = None
    dropna: bool = False
    l1: float = 0.0
    l2: float = 0.0
    standardize: bool = True
    intercept: bool = True
    val_split: float = 0.0
    input: InputOptions = field(default_factory=InputOptions)  # format, delimiter, header


@dataclass(frozen=True)
class TrainReport:
    """The fitted model and how the fit went."""

    model: Model
    fit: FitResult
    metrics: dict[str, dict[str, float | None]]
    n_train: int
    n_validation: int
    dropped: int
    seconds: float
    warnings: tuple[str, ...] = ()  # incl. guesses said out loud (losscli.guesses)
    note: str | None = None  # how a default column was chosen ("target: the last column …")
    separable: bool = False  # the coefficients grow without bound (a warning says so)


class TrainingDiverged(RunError):
    """The objective blew up; ``report`` holds the failed run.

    The fix suggests a smaller ``--lr`` only when one was given (``lr``);
    a default step that diverges points at the data's scale instead.
    """

    def __init__(self, report: TrainReport, lr: float | None) -> None:
        fit = report.fit
        finite = [r.objective for r in fit.history if math.isfinite(r.objective)]
        if not finite:
            what = "the objective blew up at the first step (NaN, infinite, or 10⁴ times its start)"
        else:
            what = (
                f"the objective went from {finite[0]:.6g} to {finite[-1]:.6g}, then blew up "
                "(NaN, infinite, or 10⁴ times its start)"
            )
        if lr is not None:
            fix = f"try a smaller --lr (now {lr:g})"
        else:
            fix = "rescale the target and features (other units), or set a small --lr"
        super().__init__(f"training diverged at epoch {fit.epochs}: {what}", fix)
        self.report = report


@dataclass(frozen=True)
class Prepared:
    """Data ready for the objective: standardized features and numeric labels."""

    kind: ModelKind
    link: Link
    x: Array
    y: Array
    classes: tuple[str, ...] | None
    design: Design
    target: str
    dropped: int
    note: str | None = None


def require_trainable(loss: Loss) -> None:
    """train fits one linear layer: not a predicted variance, nor K-vector targets."""
    if not loss.task.trainable:
        raise InputError(
            f"train has no model for {loss.name} ({loss.task})",
            "use `losscli compute` to evaluate it, or train with another loss",
        )


def choose_model(loss: Loss, requested: str, n_classes: int | None) -> tuple[ModelKind, Link]:
    """(kind, link) for a loss, the --model flag and the number of classes."""
    task: Task = loss.task
    require_trainable(loss)
    if task.regression:
        if requested not in ("auto", ModelKind.LINEAR):
            raise InputError(
                f"{loss.name} is a regression loss and fits a linear model, not {requested}",
                "use --model linear (or auto)",
            )
        return ModelKind.LINEAR, LOG if task.log_link else IDENTITY
    assert n_classes is not None
    if n_classes < 2:
        raise InputError(
            "the target has a single class", "classification needs at least two classes"
        )
    if requested == ModelKind.LINEAR:
        raise InputError(
            f"{loss.name} is a classification loss; a linear model predicts values",
            "use --model logistic (two classes) or softmax",
        )
    if n_classes > 2 and not task.multiclass:
        raise InputError(
            f"{loss.name} is a binary loss but the target has {n_classes} classes",
            "use --loss cross_entropy (or focal) for several classes",
        )
    if requested == ModelKind.LOGISTIC and n_classes > 2:
        raise InputError(
            f"a logistic model has two classes, the target has {n_classes}", "use --model softmax"
        )
    if requested == ModelKind.SOFTMAX and not task.multiclass:
        raise InputError(f"{loss.name} is a binary loss; use --model logistic")
    if requested == ModelKind.SOFTMAX or (requested == "auto" and n_classes > 2):
        return ModelKind.SOFTMAX, SOFTMAX
    return ModelKind.LOGISTIC, LOGIT


def prepare(request: TrainRequest) -> Prepared:
    """Read the CSV, build X and y, choose the model.

    Training holds the whole table in memory; when it does not fit, the error
    says how much it needs (:func:`memory_needed`), not a MemoryError traceback.
    """
    try:
        return _prepare(request)
    except MemoryError:
        raise memory_needed(request.source) from None


# Memory per numeric cell while training: the parsed table (8 B) and the float64
# design matrix (8 B), its standardized copy (8 B), and pandas' per-column slack.
BYTES_PER_CELL = 32


def memory_needed(source: object) -> RunError:
    """How much memory training on ``source`` needs, estimated from its size and cells."""
    try:
        if not isinstance(source, str) or source == "-":
            raise OSError
        size = os.path.getsize(source)
        with open(source, "rb") as handle:
            sample = handle.read(1 << 20) if size else b""
    except OSError:
        size, sample = 0, b""
    if not size or not sample:
        return RunError(
            "ran out of memory holding the training data (train reads the whole table)",
            "free memory, or train on a sample of the rows",
        )
    cells = size * (sample.count(b",") + sample.count(b"\n")) / len(sample)
    need = cells * BYTES_PER_CELL
    return RunError(
        f"ran out of memory: training on {source} ({size / 2**20:,.0f} MiB of CSV, about "
        f"{cells:,.0f} cells) needs about {need / 2**30:,.1f} GiB of memory",
        "free memory, or train on a sample of the rows (e.g. head -n 100000)",
    )


def _prepare(request: TrainRequest) -> Prepared:
    """Read the input straight into X and y (:mod:`losscli.io.design`), choose the model."""
    require_trainable(request.loss)
    classification = not request.loss.task.regression
    if isinstance(request.source, tuple):
        data = _arrays(request.source, classification=classification)
    else:
        table = open_any(request.source, request.input)
        try:
            data = read_training(
                table,
                target=request.target,
                features=request.features,
                one_hot=request.one_hot,
                dropna=request.dropna,
                classification=classification,
            )
        finally:
            table.close()
    labels = data.labels
    if labels.classes is not None:
        continuous = guesses.continuous_classes(
            labels.classes, data.target, request.loss.name, request.loss.task
        )
        if continuous is not None:
            raise InputError(*continuous)
    n_classes = None if labels.classes is None else len(labels.classes)
    kind, link = choose_model(request.loss, request.model, n_classes)
    return Prepared(
        kind,
        link,
        data.x,
        labels.y,
        labels.classes,
        data.design,
        data.target,
        data.dropped,
        data.note,
    )


def _arrays(pair: tuple[Any, Any], *, classification: bool) -> TrainingData:
    """An (X, y) pair given to the library: features x1…xd, target y (X is copied)."""
    if len(pair) != 2:
        raise InputError("train's source pair must be (X, y)")
    x = np.array(pair[0], dtype=np.float64, order="C", ndmin=2)
    y_raw = np.asarray(pair[1])
    if x.ndim != 2 or y_raw.ndim != 1 or len(y_raw) != len(x):
        raise InputError(
            f"X must be 2-D and y 1-D with one label per row (got X {x.shape}, y {y_raw.shape})"
        )
    if len(x) == 0:
        raise InputError("X has no rows")
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(f"X has a missing or infinite value in row {row + 1}, column {col + 1}")
    if classification:
        cells = y_raw.astype(np.float64) if y_raw.dtype.kind in "iufb" else y_raw.astype(object)
        labels = encode_classes([label_cells(cells)], "y")
    else:
        y = y_raw.astype(np.float64)
        if not np.isfinite(y).all():
            raise InputError("y has a missing or infinite value")
        labels = Labels(y, None)
    names = tuple(f"x{j + 1}" for j in range(x.shape[1]))
    return TrainingData(x, labels, Design(names, {}), "y", 0, None)


def split(
    n: int, fraction: float, seed: int, strata: Array | None
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Train and validation row indices; stratified by class when ``strata`` given."""
    if not 0 < fraction < 1:
        raise InputError(f"--val-split must lie strictly between 0 and 1 (got {fraction})")
    rng = np.random.default_rng(seed)
    if strata is None:
        order = rng.permutation(n)
        k = round(fraction * n)
        val, train = np.sort(order[:k]), np.sort(order[k:])
    else:
        picks = []
        for c in np.unique(strata):
            members = rng.permutation(np.flatnonzero(strata == c))
            picks.append(members[: round(fraction * len(members))])
        val = np.sort(np.concatenate(picks))
        train = np.setdiff1d(np.arange(n), val)
    if len(val) == 0 or len(train) == 0:
        raise InputError(
            f"--val-split {fraction} leaves an empty part of {n} rows", "use a fraction nearer 0.2"
        )
    return train, val


SCALING_ROWS_BYTES = 32 << 20  # of X per chunk while scaling: no full-size temporary


def _chunks(x: Array) -> list[Array]:
    step = max(1, SCALING_ROWS_BYTES // (8 * max(1, x.shape[1])))
    return [x[i : i + step] for i in range(0, len(x), step)]


def scaling(x: Array, *, center: bool) -> tuple[Array, Array]:
    """(μ, σ): population mean and standard deviation; σ = 1 for constant columns.

    Without an intercept the columns are scaled by their root mean square and
    not centred (centring would smuggle an intercept back in).  Computed in
    chunks of rows, so no temporary the size of X exists (one chunk is the
    whole of a small X: the same numbers as ``x.mean``/``x.std``).  Each
    column is first divided by a power of two near its largest magnitude
    (exact), so neither x² overflows for features near 1e300 nor underflows
    near 1e-310; a spread float64 cannot hold is refused.
    """
    n, p = x.shape
    chunks = _chunks(x)
    unit = _unit_scale(x)
    mu_s = sum(((c / unit).sum(axis=0) for c in chunks), np.zeros(p)) / n if center else np.zeros(p)
    squares = np.zeros(p)
    for c in chunks:
        d = c / unit - mu_s
        squares += (d * d).sum(axis=0)
    spread = np.sqrt(squares / n)
    mu, sigma = mu_s * unit, spread * unit
    sigma[spread == 0] = 1.0
    if not np.isfinite(sigma).all() or not (sigma > 0).all():
        bad = [int(j) for j in np.flatnonzero(~(np.isfinite(sigma) & (sigma > 0)))]
        raise InputError(
            f"feature column(s) {bad} have a spread float64 cannot hold",
            "rescale those features (other units)",
        )
    return mu, sigma


def _unit_scale(x: Array) -> Array:
    """Per column, the power of two 2^k with 1 ≤ max|x|/2^k < 2 (1 for all-zero columns).

    (2^k rather than frexp's 2^(k+1): near float64's top 2^1024 itself overflows.)
    """
    if x.shape[0] == 0:
        return np.ones(x.shape[1])
    high = np.maximum(x.max(axis=0), -x.min(axis=0))
    _, e = np.frexp(np.where(high > 0, high, 1.0))
    out: Array = np.ldexp(1.0, e - 1)
    return out


def standardize_in_place(x: Array, mu: Array, sigma: Array) -> Array:
    """x ← (x − μ)/σ without a second copy of X, on columns divided by a power of
    two first (exact), so x − μ cannot overflow."""
    unit = np.ldexp(1.0, np.frexp(sigma)[1] - 1)
    mu_s, sigma_s = mu / unit, sigma / unit
    for c in _chunks(x):
        c /= unit
        c -= mu_s
        c /= sigma_s
    return x


def train(request: TrainRequest, callback: Callback | None = None) -> TrainReport:
    """Fit the model the request describes.

    Raises :class:`TrainingDiverged` (a RunError, exit code 1) when the fit
    blew up; a fit that ran out of epochs is a report with a warning.
    """
    started = time.perf_counter()
    request.config.validate()
    for name, value in (("--l1", request.l1), ("--l2", request.l2)):
        if not (value >= 0 and math.isfinite(value)):
            raise InputError(f"{name} must be a number ≥ 0 (got {value})")
    data = prepare(request)
    outputs = len(data.classes) if data.kind is ModelKind.SOFTMAX and data.classes else 1
    classification = data.classes is not None
    train_idx, val_idx = (
        split(
            len(data.y), request.val_split, request.config.seed, data.y if classification else None
        )
        if request.val_split
        else (np.arange(len(data.y)), np.arange(0))
    )
    if len(val_idx):
        x_train, y_train = data.x[train_idx], data.y[train_idx]
        x_val: Array | None = data.x[val_idx]
    else:  # the matrix as read, scaled in place: no second copy of X
        x_train, y_train, x_val = data.x, data.y, None
    # Always optimise on scaled features (conditioning); --no-standardize only
    # moves the penalty onto the original coefficients w = w_scaled/σ.
    mu, sigma = scaling(x_train, center=request.intercept)
    if not request.standardize and request.l2:
        # Raw-scale L2 has curvature λ2/σ² per scaled coefficient; widening the
        # scale to √(σ² + λ2) balances it against the loss's (Jacobi scaling).
        sigma = np.hypot(sigma, math.sqrt(request.l2))
    objective = Objective(
        loss=request.loss,
        n_features=data.x.shape[1],
        outputs=outputs,
        logits=request.loss.logit_space != "never",
        l1=request.l1,
        l2=request.l2,
        intercept=request.intercept,
        penalty_scale=None if request.standardize else 1.0 / sigma,
    )
    x_train = standardize_in_place(x_train, mu, sigma)
    validation = None
    if x_val is not None:
        validation = (standardize_in_place(x_val, mu, sigma), data.y[val_idx])
    result = fit(
        objective,
        x_train,
        y_train,
        request.config,
        validation=validation,
        callback=callback,
        theta0=warm_start(objective, data.link, y_train) if request.intercept else None,
    )
    coef, intercept = _original_scale(objective, result.theta, mu, sigma)
    model = Model(
        kind=data.kind,
        link=data.link,
        design=data.design,
        target=data.target,
        classes=data.classes,
        coef=coef,
        intercept=intercept,
        loss=request.loss.name,
        loss_params=request.loss.params(),
        options=_options(request),
    )
    scores: dict[str, dict[str, float | None]] = {}
    overflowed: list[str] = []  # metrics beyond float64, reported as null
    if result.stop_reason is not StopReason.DIVERGED:
        # X is standardized now: score it with the coefficients of that scale
        w_std, b_std = objective.split(result.theta)
        scaled = dataclasses.replace(
            model, coef=w_std[:, 0] if objective.outputs == 1 else w_std, intercept=b_std
        )
        scores["train"] = score(scaled, x_train, y_train, overflowed)
        if validation is not None:
            scores["validation"] = score(scaled, validation[0], validation[1], overflowed)
    model = Model(**{**model.__dict__, "metrics": scores})
    notes = []
    if data.kind is ModelKind.LINEAR and request.loss.task is Task.REGRESSION:
        notes.append(guesses.binary_target(y_train, request.loss.name))
    separable = None
    if classification and result.stop_reason is not StopReason.DIVERGED:
        # x_train is the standardized matrix the objective was minimised on
        separable = guesses.separable(objective, result.theta, x_train, y_train)
        notes.append(separable)
    report = TrainReport(
        model,
        result,
        scores,
        len(train_idx),
        len(val_idx),
        data.dropped,
        time.perf_counter() - started,
        _warnings(result, classification=classification, separable=separable is not None)
        + tuple(n for n in notes if n is not None)
        + tuple(dict.fromkeys(overflowed)),
        note=data.note,
        separable=separable is not None,
    )
    if result.stop_reason is StopReason.DIVERGED:
        raise TrainingDiverged(report, request.config.lr)
    return report


def _warnings(result: FitResult, *, classification: bool, separable: bool) -> tuple[str, ...]:
    """What a person should know about a fit that did not fail.

    Complete separation is tested (losscli.guesses.separable) and has its own
    warning; a class separable from only some others is not, so an
    unpenalised classifier that ran out of epochs is pointed at --l2 as well.
    """
    if result.stop_reason is StopReason.NOT_OPTIMAL:  # solvers hook: an uncertified stop
        cert = result.certificate
        gap = f" ({cert.kind} {cert.value:.3g})" if cert is not None else ""
        if classification and not separable:
            fix = "add --l2 (a class separable from the rest has no finite optimum)"
        elif separable:
            return ()  # the separation warning says it all
        elif cert is not None and cert.kind == "subgradient_norm":
            fix = "a kinked loss: use --optimizer auto (an exact LP) and no --l2"
        else:
            fix = "lower --tol or raise --epochs"
        return (f"stopped short of a certified optimum{gap}; {fix}",)
    if result.stop_reason is not StopReason.MAX_EPOCHS:
        return ()
    hint = ""
    if classification and not separable:
        hint = ", or add --l2 (a class separable from the rest has no finite optimum)"
    return (
        f"stopped at the epoch limit ({result.epochs:,}) before converging; raise --epochs{hint}",
    )


def warm_start(objective: Objective, link: Link, y: Array) -> Array:
    """θ0 with the intercept at the link's best constant, coefficients 0.

    The optimum's intercept sits near the target's mean (features are centred),
    so starting there saves the mini-batch optimizers hundreds of epochs on
    targets far from 0 (the diabetes target averages 152).
    """
    theta = np.zeros(objective.size)
    _, b = objective.split(theta)
    b[:] = link.intercept_only(y, objective.outputs)
    return theta


def _original_scale(
    objective: Objective, theta: Array, mu: Array, sigma: Array
) -> tuple[Array, Array]:
    """w = w_std/σ, b = b_std − μ·w: the same scores on unscaled features."""
    w_std, b_std = objective.split(theta)
    with np.errstate(over="ignore", invalid="ignore"):
        w = w_std / sigma[:, None]
        b = b_std - mu @ w
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise InputError(
            "the fitted coefficients on the original feature scale lie beyond float64 "
            f"(feature spreads from {float(sigma.min()):.3g} to {float(sigma.max()):.3g})",
            "rescale the features (other units) so that they are not so tiny or huge",
        )
    return (w[:, 0] if objective.outputs == 1 else w), b


def score(
    model: Model, x: Array, y: Array, notes: list[str] | None = None
) -> dict[str, float | None]:
    """Train/validation metrics: MSE, MAE, R²; or accuracy, log loss, …, ROC AUC.

    A metric beyond float64 (the MSE of targets near 1e300) is None (JSON
    null), never inf, and is named in ``notes``.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if model.classes is None:
            out = metrics.regression_metrics(y, model.predict(x))
        else:
            out = metrics.classification_metrics(y.astype(np.int64), model.predict(x))
    for key, value in out.items():
        if value is not None and not math.isfinite(value):
            out[key] = None
            if notes is not None:
                notes.append(f"{key} overflows float64 and is reported as null")
    return out


def _options(request: TrainRequest) -> dict[str, Any]:
    c = request.config.first_order()  # auto with --lr / --batch-size: the loop they set
    return {
        "model": request.model,
        "optimizer": c.optimizer,
        "lr": c.lr,
        "epochs": c.resolved_epochs(),
        "batch_size": c.batch_size,
        **dict(c.hyper),  # momentum, beta1, beta2 as given (absent = the optimizer's default)
        "schedule": c.resolved_schedule(),
        "tol": c.resolved_tol(),
        "patience": c.patience,
        "seed": c.seed,
        "l1": request.l1,
        "l2": request.l2,
        "standardize": request.standardize,
        "intercept": request.intercept,
        "val_split": request.val_split,
    }


callable_module(__name__, "train")  # losscli.train(...) is the public API call
