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

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli import guesses
from losscli._lazy import callable_module
from losscli._types import ModelKind, Task
from losscli.engine.cache import LazyFolder
from losscli.engine.outofcore import (
    RowSource,
    SpillingRows,
    Streamed,
    arrange,
    labels_of,
    predictions,
    regression_scores,
)
from losscli.engine.parts import is_many
from losscli.errors import InputError, RunError
from losscli.fit import metrics
from losscli.fit.loop import Callback, FitResult, StopReason, TrainConfig, fit
from losscli.fit.model import Model
from losscli.fit.objective import Objective
from losscli.fit.optimizers import OPTIMIZERS
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
    memory_limit: int | None = None  # bytes for the whole run; None = engine.memory default
    cache_dir: str | None = None  # where a matrix past the limit is cached
    engine: str = "local"  # or "dask": the partitions are read and kept on a cluster
    scheduler: str | None = None  # dask: a running scheduler (else a LocalCluster)
    partition_size: int | None = None  # dask: bytes per partition (None: 64 MB; 0: per file)


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
    spilled: Streamed | None = None  # the matrix is in an on-disk cache or on Dask (x, y empty)


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


def prepare(request: TrainRequest, open_folder: Callable[[], str] | None = None) -> Prepared:
    """Read the input straight into X and y (:mod:`losscli.io.design`), choose the model.

    With ``open_folder`` (a cache folder on demand) a matrix past
    ``request.memory_limit`` goes to an on-disk cache as it is read
    (:class:`~losscli.engine.outofcore.SpillingRows`); a glob or a folder is
    read file by file (:mod:`losscli.engine.parts`).  When even that does not
    fit, the error says how much it needs (:func:`memory_needed`), not a
    MemoryError traceback.
    """
    try:
        return _prepare(request, open_folder)
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


def _prepare(request: TrainRequest, open_folder: Callable[[], str] | None) -> Prepared:
    """Read the input straight into X and y (:mod:`losscli.io.design`), choose the model."""
    require_trainable(request.loss)
    classification = not request.loss.task.regression
    if isinstance(request.source, str) and is_many(request.source):
        from losscli.engine.outofcore import read_files

        files = read_files(request, classification=classification, open_folder=open_folder)
        return _prepared(request, files)
    sink = None
    if isinstance(request.source, tuple):
        data = _arrays(request.source, classification=classification)
    else:
        table = open_any(request.source, request.input)
        if open_folder is not None and isinstance(request.source, str):
            sink = SpillingRows.factory(
                request.memory_limit, open_folder, spill=not request.one_hot
            )
        try:
            data = read_training(
                table,
                target=request.target,
                features=request.features,
                one_hot=request.one_hot,
                dropna=request.dropna,
                classification=classification,
                sink=sink,
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
    spilled = None
    if sink is not None and sink.made is not None and sink.made.cache is not None:
        spilled = sink.made.finish(labels.y, data.design, data.target, labels.classes, data.dropped)
    return Prepared(
        kind,
        link,
        data.x,
        labels.y if spilled is None else np.zeros(0),
        labels.classes,
        data.design,
        data.target,
        data.dropped,
        data.note,
        spilled,
    )


def _prepared(request: TrainRequest, data: Streamed) -> Prepared:
    """A Prepared whose rows live elsewhere (several files, a Dask cluster)."""
    n_classes = None if data.classes is None else len(data.classes)
    kind, link = choose_model(request.loss, request.model, n_classes)
    if data.cache is None:
        assert data.x is not None and data.y is not None
        return Prepared(
            kind, link, data.x, data.y, data.classes, data.design, data.target, data.dropped
        )
    empty = np.zeros((0, data.stats.width))
    return Prepared(
        kind,
        link,
        empty,
        np.zeros(0),
        data.classes,
        data.design,
        data.target,
        data.dropped,
        None,
        data,
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
        rest = np.ones(n, dtype=bool)  # not setdiff1d: its two sorts took 0.4 s on 1M rows
        rest[val] = False
        train = np.flatnonzero(rest)
    if len(val) == 0 or len(train) == 0:
        raise InputError(
            f"--val-split {fraction} leaves an empty part of {n} rows", "use a fraction nearer 0.2"
        )
    return train, val


# Rows of X per chunk while scaling: about 512 kB, so a chunk stays in the L2 cache
# while several operations run over it (max, min and sum; divide, shift and
# scale) and each pass reads X from memory once.  (32 MB chunks, as before,
# made every operation a pass of its own: 0.09 s of a 200k × 50 train.)
SCALING_ROWS_BYTES = 1 << 19


def _chunks(x: Array) -> list[Array]:
    step = max(1, SCALING_ROWS_BYTES // (8 * max(1, x.shape[1])))
    return [x[i : i + step] for i in range(0, len(x), step)]


def scaling(x: Array, *, center: bool) -> tuple[Array, Array]:
    """(μ, σ): population mean and standard deviation; σ = 1 for constant columns.

    Without an intercept the columns are scaled by their root mean square and
    not centred (centring would smuggle an intercept back in).  Computed in
    cache-sized chunks of rows, so no temporary the size of X exists and X is
    read twice: once for each column's largest magnitude and sum, once for
    the squared deviations (two passes: as accurate as ``x.std``).  Each
    column is divided by a power of two near its largest magnitude (exact),
    so neither x² overflows for features near 1e300 nor underflows near
    1e-310; a spread float64 cannot hold is refused.
    """
    n, p = x.shape
    chunks = _chunks(x)
    high = np.zeros(p)
    total = np.zeros(p)
    for c in chunks:
        np.maximum(high, c.max(axis=0), out=high)
        np.maximum(high, -c.min(axis=0), out=high)
        if center:
            total += c.sum(axis=0)
    unit = _power_of_two(high)
    if center:
        # Σx/u is Σ(x/u) exactly (u a power of two) unless the raw sum overflowed;
        # then sum the scaled columns instead.
        if not np.isfinite(total).all():
            total = sum(((c / unit).sum(axis=0) for c in chunks), np.zeros(p))
        else:
            total = total / unit
        mu_s = total / n
    else:
        mu_s = np.zeros(p)
    squares = np.zeros(p)
    buf = np.empty_like(chunks[0]) if chunks else np.empty((0, p))
    for c in chunks:
        d = buf[: len(c)]
        np.divide(c, unit, out=d)
        d -= mu_s
        d *= d
        squares += d.sum(axis=0)
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


def _power_of_two(high: Array) -> Array:
    """Per column, the power of two 2^k with 1 ≤ high/2^k < 2 (1 for all-zero columns).

    (2^k rather than frexp's 2^(k+1): near float64's top 2^1024 itself overflows.)
    """
    _, e = np.frexp(np.where(high > 0, high, 1.0))
    out: Array = np.ldexp(1.0, e - 1)
    return out


def standardize_in_place(x: Array, mu: Array, sigma: Array) -> Array:
    """x ← (x − μ)/σ without a second copy of X, on columns divided by a power of
    two first (exact), so x − μ cannot overflow; the three operations run on
    one cache-sized chunk at a time (one pass over X in memory)."""
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
    with contextlib.ExitStack() as stack:  # closes (removes) a cache folder, if one was made
        folder = LazyFolder(request.cache_dir, stack)
        if request.engine == "dask":
            data = _prepare_on_dask(request, stack)
        else:
            data = prepare(request, folder)
        return _train_rows(request, data, folder, callback, started)


def _prepare_on_dask(request: TrainRequest, stack: contextlib.ExitStack) -> Prepared:
    """The partitions read and kept on the workers of a cluster open until train returns."""
    from losscli.engine.dask import dask_client
    from losscli.engine.dask_train import read_on_workers

    config = request.config.first_order()
    if not config.solver and not config.full_batch:
        full = ", ".join(n for n, o in OPTIMIZERS.items() if o.full_batch)
        raise InputError(
            f"{config.optimizer} takes mini-batches, which --engine dask does not run",
            f"use a full-batch optimizer: {full}",
        )
    client = stack.enter_context(dask_client(request.scheduler))
    data = read_on_workers(client, request, classification=not request.loss.task.regression)
    return _prepared(request, data)


def _widen(request: TrainRequest) -> Callable[[Array], Array]:
    def widen(sigma: Array) -> Array:
        if not request.standardize and request.l2:
            # Raw-scale L2 has curvature λ2/σ² per scaled coefficient; widening the
            # scale to √(σ² + λ2) balances it against the loss's (Jacobi scaling).
            return np.asarray(np.hypot(sigma, math.sqrt(request.l2)))
        return sigma

    return widen


def _train_rows(
    request: TrainRequest,
    data: Prepared,
    folder: Callable[[], str],
    callback: Callback | None,
    started: float,
) -> TrainReport:
    """Standardize, fit, map back and score: in memory, or over the spilled cache."""
    outputs = len(data.classes) if data.kind is ModelKind.SOFTMAX and data.classes else 1
    classification = data.classes is not None
    n = data.spilled.n_rows if data.spilled is not None else len(data.y)
    strata = None
    if classification and request.val_split:
        spilled = data.spilled.cache if data.spilled is not None else None
        strata = data.y if spilled is None else labels_of(spilled)
    train_idx, val_idx = (
        split(n, request.val_split, request.config.seed, strata)
        if request.val_split
        else (np.arange(n), np.arange(0))
    )
    del strata
    validation: tuple[Any, Any] | None = None
    x_fit: Any
    y_fit: Array | None
    if data.spilled is not None:
        # Out of core: standardize the cache in place (or into training and
        # validation caches), then every solver reads it block by block.
        arranged = arrange(
            data.spilled,
            folder,
            val_rows=val_idx,
            center=request.intercept,
            widen=_widen(request),
        )
        mu, sigma = arranged.mu, arranged.sigma
        x_fit, y_fit, y_train = arranged.train, None, arranged.y_train
        if arranged.validation is not None:
            validation = (arranged.validation, None)
    else:
        if len(val_idx):
            x_train, y_train = data.x[train_idx], data.y[train_idx]
            x_val: Array | None = data.x[val_idx]
        else:  # the matrix as read, scaled in place: no second copy of X
            x_train, y_train, x_val = data.x, data.y, None
        # Always optimise on scaled features (conditioning); --no-standardize only
        # moves the penalty onto the original coefficients w = w_scaled/σ.
        mu, sigma = scaling(x_train, center=request.intercept)
        sigma = _widen(request)(sigma)
        x_fit, y_fit = standardize_in_place(x_train, mu, sigma), y_train
        if x_val is not None:
            validation = (standardize_in_place(x_val, mu, sigma), data.y[val_idx])
    objective = Objective(
        loss=request.loss,
        n_features=len(mu),
        outputs=outputs,
        logits=request.loss.logit_space != "never",
        l1=request.l1,
        l2=request.l2,
        intercept=request.intercept,
        penalty_scale=None if request.standardize else 1.0 / sigma,
    )
    result = fit(
        objective,
        x_fit,
        y_fit,
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
        options=_options(request, result.optimizer),
    )
    scores: dict[str, dict[str, float | None]] = {}
    overflowed: list[str] = []  # metrics beyond float64, reported as null
    if result.stop_reason is not StopReason.DIVERGED:
        if data.spilled is not None:
            scores["train"] = spilled_scores(model, x_fit, mu, sigma)
            if validation is not None:
                scores["validation"] = spilled_scores(model, validation[0], mu, sigma)
        else:
            # X is standardized now: score it with the coefficients of that scale
            w_std, b_std = objective.split(result.theta)
            scaled = dataclasses.replace(
                model, coef=w_std[:, 0] if objective.outputs == 1 else w_std, intercept=b_std
            )
            scores["train"] = score(scaled, x_fit, y_train, overflowed)
            if validation is not None:
                scores["validation"] = score(scaled, validation[0], validation[1], overflowed)
    model = Model(**{**model.__dict__, "metrics": scores})
    notes = []
    if data.kind is ModelKind.LINEAR and request.loss.task is Task.REGRESSION:
        notes.append(guesses.binary_target(y_train, request.loss.name))
    separable = None
    in_memory = data.spilled is None
    if in_memory and classification and result.stop_reason is not StopReason.DIVERGED:
        # x_fit is the standardized matrix the objective was minimised on
        separable = guesses.separable(objective, result.theta, x_fit, y_train)
        notes.append(separable)
    report = TrainReport(
        model,
        result,
        scores,
        n - len(val_idx),
        len(val_idx),
        data.dropped,
        time.perf_counter() - started,
        _warnings(
            result,
            classification=classification,
            separable=separable is not None,
            l2=request.l2,
        )
        + tuple(n for n in notes if n is not None)
        + tuple(dict.fromkeys(overflowed)),
        note=data.note,
        separable=separable is not None,
    )
    if result.stop_reason is StopReason.DIVERGED:
        raise TrainingDiverged(report, request.config.lr)
    return report


def _warnings(
    result: FitResult, *, classification: bool, separable: bool, l2: float = 0.0
) -> tuple[str, ...]:
    """What a person should know about a fit that did not fail.

    Complete separation is tested (losscli.guesses.separable) and has its own
    warning; a class separable from only some others is not, so an
    unpenalised classifier that ran out of epochs is pointed at --l2 as well.
    """
    if result.stop_reason is StopReason.NOT_OPTIMAL:  # solvers: an uncertified stop
        cert = result.certificate
        gap = f" ({cert.kind} {cert.value:.3g})" if cert is not None else ""
        if classification and not l2:
            fix = "the classes may be separable — add --l2"
        elif cert is not None and cert.kind == "subgradient_norm":
            from losscli.fit.solvers import NEED_ROWS_IN_MEMORY

            if NEED_ROWS_IN_MEMORY in result.choice:
                fix = "a kinked loss: exact solvers need the rows in memory: raise --memory-limit"
            else:
                fix = "a kinked loss: use --optimizer auto (an exact LP, or a QP with --l2)"
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
    """Train/validation metrics: MSE, MAE, R²; or accuracy, log loss, …, ROC AUC."""
    return score_predictions(model, model.predict(x), y, notes)


def spilled_scores(
    model: Model, source: RowSource, mu: Array, sigma: Array
) -> dict[str, float | None]:
    """Metrics over a cache: regression ones as block sums; classification ones need
    every prediction (ROC AUC ranks them), gathered in order (8·K bytes a row)."""
    if model.classes is None:
        return regression_scores(model.predict, source, mu, sigma)
    pred, y = predictions(model.predict, source, mu, sigma)
    return score_predictions(model, pred, y)


def score_predictions(
    model: Model, pred: Array, y: Array, notes: list[str] | None = None
) -> dict[str, float | None]:
    """The metrics of predictions already made (out of core: gathered block by block).

    A metric beyond float64 (the MSE of targets near 1e300) is None (JSON
    null), never inf, and is named in ``notes``.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if model.classes is None:
            out = metrics.regression_metrics(y, pred)
        else:
            out = metrics.classification_metrics(y.astype(np.int64), pred)
    for key, value in out.items():
        if value is not None and not math.isfinite(value):
            out[key] = None
            if notes is not None:
                notes.append(f"{key} overflows float64 and is reported as null")
    return out


def _options(request: TrainRequest, ran: str) -> dict[str, Any]:
    """The options as run: auto's lr, epochs, schedule and tol are those of the method it chose."""
    asked = request.config.first_order()  # auto with --lr / --batch-size: the loop they set
    c = dataclasses.replace(asked, optimizer=ran) if asked.optimizer == "auto" and ran else asked
    return {
        "model": request.model,
        "optimizer": asked.optimizer,
        "lr": c.lr,
        "epochs": c.resolved_epochs(),
        "batch_size": c.batch_size,
        "average": None if c.full_batch else c.resolved_average(l1=bool(request.l1)),
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
