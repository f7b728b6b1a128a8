"""The training loop: split, standardize, step, stop; reports through a callback.

``fit`` hands the problem to a full-batch solver of :mod:`losscli.fit.solvers`
(``newton``, ``prox_newton``, ``lbfgs``, ``lp``; ``auto``, the default, picks
one by loss, penalty and shape), or runs one of two first-order loops:

* ``gd`` — full-batch proximal gradient descent.  Without ``--lr`` the step
  length is chosen each epoch (Barzilai–Borwein, with a non-monotone
  sufficient-decrease safeguard), so it converges on any convex problem
  without tuning; with ``--lr`` the step is fixed and may diverge.
  Convergence: the gradient mapping (θ − prox(θ − ηg))/η — the gradient
  where no L1 is in play — falls below ``tol`` times its first value.
* the SGD family — shuffled mini-batches, an optimizer from
  ``losscli.fit.optimizers``, the L1 part as a soft-threshold after each step;
  mse and 0/1-label bce steps run on the lean kernels of
  :mod:`losscli.fit.lean`.  By default (``--average``; not with L1) what an
  epoch yields is the mean of its iterates: the objective, the validation
  loss, the stopping rules and the returned weights see that mean.
  Convergence: the training objective improves by less than ``tol``
  (relative) for ``patience`` epochs in a row.

With a validation split, the validation loss decides instead: training
stops when it has not improved for ``patience`` epochs and the best
epoch's weights (its mean iterate, with averaging) are restored.  A
NaN/inf objective stops with ``diverged``.  The loop never prints; the
command line renders ``EpochRecord``s from the callback.

Every fit ends with a :class:`~losscli.fit.solvers.Certificate` (a bound on
objective − optimum, or a named gradient norm).  ``converged`` means the
certificate is below the tolerance: the solvers stop on it; the first-order
loops stop on their own rules, and a loop that would say ``converged`` says
``not_optimal`` when its certificate is above ``FIRST_ORDER_CERT_TOL`` (always,
for kinked losses, whose subgradient norm certifies nothing).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli.errors import BadValues, InputError
from losscli.fit import solvers
from losscli.fit.data import DataSource, InMemory
from losscli.fit.lean import LeanKernel, lean_kernel
from losscli.fit.objective import Objective
from losscli.fit.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    OptimizerSpec,
    make_optimizer,
    make_schedule,
    soft_threshold,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli._types import Array
NONMONOTONE_MEMORY = 10  # GLL window: accept a step if it beats the worst of the last 10
ARMIJO = 1e-4
SEPARABLE_SLOPE = 20.0  # logit change per σ of a feature beyond which the classes look separable
FIRST_ORDER_CERT_TOL = 1e-6  # a first-order loop's "converged" needs a certificate this small
BLOW_UP = 1e4  # an objective this many times its starting value (plus 1) has diverged
STALL_EPOCHS = 100  # gd's window for "the objective stopped moving"
KINK_TOL = 1e-12  # … by this much, relative, for losses with kinks (mae, hinge, …)
GATHER_ROWS = 4096  # rows per shuffled gather in the mini-batch loop (~650 kB at 20 features)
RETRIES = 3  # default-rate restarts after a divergence (each with lr/10)
PLATEAU_FACTOR = 5.0  # the adaptive schedule divides the rate by this at each plateau
PLATEAU_FLOOR = 1e-4  # … and has converged once the rate is below this fraction of --lr


class StopReason(str, Enum):
    """Why training ended (the JSON ``stop_reason``)."""

    CONVERGED = "converged"
    NOT_OPTIMAL = "not_optimal"  # stopped, but the certificate does not show the optimum
    MAX_EPOCHS = "max_epochs"
    EARLY_STOPPING = "early_stopping"
    DIVERGED = "diverged"


@dataclass(frozen=True)
class TrainConfig:
    """Optimizer and stopping settings; None means "the optimizer's default".

    ``hyper`` holds the optimizer's own settings by name (``momentum``,
    ``beta1``, …; see ``OptimizerSpec.hyper``); the defaults for everything
    else come from the optimizer's ``OptimizerSpec.defaults``.
    """

    optimizer: str = "auto"
    lr: float | None = None
    epochs: int | None = None
    batch_size: int | None = None
    hyper: Mapping[str, float | None] = field(default_factory=dict)
    schedule: str | None = None
    tol: float | None = None
    patience: int = 5
    seed: int = 0
    average: bool | None = None

    @property
    def spec(self) -> OptimizerSpec:
        return OPTIMIZERS[self.optimizer]

    @property
    def full_batch(self) -> bool:
        return self.spec.full_batch

    @property
    def solver(self) -> bool:
        """A full-batch solver of losscli.fit.solvers (newton, lbfgs, lp, auto…)."""
        return self.spec.solver

    def first_order(self) -> TrainConfig:
        """``auto`` with a first-order flag (--lr, --schedule, --batch-size, …) is that loop.

        A learning rate or schedule configures gradient descent, a batch size
        mini-batches, a momentum or β its optimizer; auto then means the loop
        the flags describe.
        """
        if self.optimizer != "auto":
            return self
        given = {k for k, v in self.hyper.items() if v is not None}
        if given:
            for name, spec in OPTIMIZERS.items():
                if not spec.solver and given <= set(spec.hyperparameters):
                    return replace(self, optimizer=name)
        if self.batch_size is not None or self.average is not None:
            return replace(self, optimizer="sgd")
        if self.lr is not None or self.schedule is not None:
            return replace(self, optimizer="gd")
        return self

    def resolved_epochs(self) -> int:
        return self.epochs or self.spec.defaults.epochs

    def resolved_schedule(self) -> str:
        return self.spec.defaults.schedule if self.schedule is None else self.schedule

    def resolved_tol(self) -> float:
        return self.spec.defaults.tol if self.tol is None else self.tol

    def resolved_batch_size(self) -> int | None:
        return self.batch_size or self.spec.defaults.batch_size

    def resolved_average(self, *, l1: bool) -> bool:
        """Whether the mini-batch loop scores each epoch's mean iterate.

        On by default for the sgd family, except with L1: a mean of sparse
        iterates is not sparse, and the soft-threshold's exact zeros are
        the point of --l1 (``--average`` turns it on there too).
        """
        if self.average is not None:
            return self.average
        return self.spec.defaults.average and not l1

    def resolved_lr(self) -> float | None:
        """The fixed learning rate; None = gd's automatic step length."""
        return self.spec.default_lr if self.lr is None else self.lr

    def validate(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise InputError(
                f"unknown optimizer {self.optimizer!r}", f"choose from {', '.join(OPTIMIZERS)}"
            )
        checks = [
            (self.lr is None or (self.lr > 0 and math.isfinite(self.lr)), "--lr must be > 0"),
            (self.epochs is None or self.epochs >= 1, "--epochs must be ≥ 1"),
            (self.batch_size is None or self.batch_size >= 1, "--batch-size must be ≥ 1"),
            (
                self.tol is None or 0 <= self.tol < 1,
                "--tol must lie in [0, 1): it is relative, and 1 or more stops at once",
            ),
            (self.patience >= 1, "--patience must be ≥ 1"),
            (self.seed >= 0, "--seed must be an integer ≥ 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(message)
        if self.optimizer == "auto" and self.first_order() is not self:
            self.first_order().validate()
            return
        if self.solver:
            flags: list[tuple[str, object]] = [("--lr", self.lr), ("--schedule", self.schedule)]
            flags += [("--batch-size", self.batch_size), ("--average", self.average)]
            flags += [(f"--{k.replace('_', '-')}", v) for k, v in self.hyper.items()]
            given = [flag for flag, value in flags if value is not None]
            if given:
                raise InputError(
                    f"{self.optimizer} is a full-batch solver and chooses its own steps; "
                    f"it takes no {', '.join(given)}",
                    "drop them, or use --optimizer gd / sgd / adam … for a first-order loop",
                )
            return
        for flag, value in (("--batch-size", self.batch_size), ("--average", self.average)):
            if self.full_batch and value is not None:
                raise InputError(
                    f"{self.optimizer} is full-batch and takes no {flag}",
                    "use --optimizer sgd (or adam, …) for mini-batches",
                )
        try:
            make_optimizer(self.optimizer, **self.hyper)
        except ValueError as exc:
            raise InputError(str(exc)) from None


@dataclass(frozen=True)
class EpochRecord:
    """One epoch, as the callback and ``--history`` see it."""

    epoch: int
    objective: float
    loss: float
    val_loss: float | None
    lr: float
    seconds: float


@dataclass(frozen=True)
class FitResult:
    """The fitted parameters and how the fit ended."""

    theta: Array
    stop_reason: StopReason
    epochs: int
    objective: float
    history: tuple[EpochRecord, ...]
    best_epoch: int
    lr: float | None = None  # the fixed rate used (None: gd's automatic steps)
    optimizer: str = ""  # the method that ran (what auto chose)
    choice: str = ""  # why auto chose it ("" when it was named)
    certificate: solvers.Certificate | None = None


Callback = Callable[[EpochRecord], None]


class _Diverged(Exception):
    """Raised inside the loops when the objective stops being a finite number."""


# The rows a loop runs on: an in-memory matrix with its labels, or a
# DataSource (out of core, a cluster) whose labels travel with it (y None).
Rows = Any


def _on_source(x: Rows) -> bool:
    return not isinstance(x, np.ndarray)


def _n_rows(x: Rows) -> int:
    return int(x.n_rows) if _on_source(x) else int(x.shape[0])


def _smooth(
    obj: Objective, theta: Array, x: Rows, y: Any, out: Array | None = None
) -> tuple[float, Array]:
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            if _on_source(x):
                value, grad = obj.data_smooth_value_and_grad(theta, x)
            else:
                value, grad = obj.smooth_value_and_grad(theta, x, y, out)
    except BadValues as exc:
        if exc.role == "y_pred":  # scores overflowed: the parameters ran away
            raise _Diverged from None
        raise
    if not (math.isfinite(value) and np.isfinite(grad).all()):
        raise _Diverged
    return value, grad


def _full_objective(obj: Objective, theta: Array, x: Rows, y: Any) -> tuple[float, float]:
    """(objective, mean loss) on (x, y); NaN/inf raise _Diverged."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            loss = obj.data_mean_loss(theta, x) if _on_source(x) else obj.mean_loss(theta, x, y)
            value = loss + obj.penalty(theta)  # ‖w‖² may overflow too: checked below
    except BadValues as exc:
        if exc.role == "y_pred":
            raise _Diverged from None
        raise
    if not math.isfinite(value):
        raise _Diverged
    return value, loss


class _Tracker:
    """Stopping rules, best weights, history and the callback in one place."""

    def __init__(
        self,
        obj: Objective,
        config: TrainConfig,
        validation: tuple[Rows, Array | None] | None,
        callback: Callback | None,
    ) -> None:
        self.obj, self.config, self.validation, self.callback = obj, config, validation, callback
        self.tol = config.resolved_tol()
        self.history: list[EpochRecord] = []
        self.best_score = math.inf
        self.best_theta: Array | None = None
        self.best_epoch = 0
        self.stale = 0
        self.start = time.perf_counter()
        self.ceiling = math.inf  # beyond it = divergence; see start_from

    def start_from(self, objective: float) -> None:
        """The objective at θ0 sets the divergence ceiling."""
        self.ceiling = BLOW_UP * (abs(objective) + 1.0)

    def record(self, epoch: int, theta: Array, objective: float, loss: float, lr: float) -> bool:
        """Log the epoch; True when the patience rule says stop."""
        if objective > self.ceiling:
            raise _Diverged  # finite, but thousands of times worse than the start
        val_loss = None
        if self.validation is not None:
            val_loss = _full_objective(self.obj, theta, *self.validation)[1]
        rec = EpochRecord(epoch, objective, loss, val_loss, lr, time.perf_counter() - self.start)
        self.history.append(rec)
        if self.callback is not None:
            self.callback(rec)
        score = objective if val_loss is None else val_loss
        improved = (
            score < self.best_score - self.tol * max(1.0, abs(self.best_score))
            if (math.isfinite(self.best_score))
            else True
        )
        if score < self.best_score:
            if self.validation is not None:
                self.best_theta = theta.copy()
            self.best_score, self.best_epoch = score, epoch
        self.stale = 0 if improved else self.stale + 1
        return self.stale >= self.config.patience


def fit(
    obj: Objective,
    x: Array | DataSource,
    y: Array | None,
    config: TrainConfig,
    *,
    validation: tuple[Array | DataSource, Array | None] | None = None,
    callback: Callback | None = None,
    theta0: Array | None = None,
) -> FitResult:
    """Minimise ``obj`` on (x, y) from θ0 (zeros by default).

    ``x`` may be a :class:`~losscli.fit.data.DataSource` (with ``y`` None):
    the solvers and ``gd`` then take every sum through its ``reduce``, and
    the mini-batch loop reads its ``shuffled_blocks`` (out of core).

    A mini-batch optimizer running on its *default* learning rate that diverges
    is restarted with a rate ten times smaller (up to three times): the right
    rate depends on the loss's scale, and a default must work untuned.  An
    explicit ``--lr`` is never second-guessed.
    """
    config.validate()
    config = config.first_order()
    start = np.zeros(obj.size) if theta0 is None else theta0.astype(np.float64)
    data: DataSource
    if isinstance(x, np.ndarray):
        assert y is not None
        data = InMemory(x, y)
    else:
        data = x
    if config.solver:
        return _solve(obj, data, config, start, validation, callback)
    loop = _gd if config.full_batch else _minibatch
    retries = RETRIES if config.lr is None and not config.full_batch else 0
    lr = config.resolved_lr()
    for attempt in range(retries + 1):
        run_config = replace(config, lr=lr)
        tracker = _Tracker(obj, run_config, validation, callback)
        try:
            reason, theta = loop(obj, x, y, run_config, start.copy(), tracker)
            break
        except _Diverged:
            if attempt == retries:
                last = tracker.history[-1].epoch if tracker.history else 0
                history = tuple(tracker.history)
                return FitResult(
                    start,
                    StopReason.DIVERGED,
                    last + 1,
                    math.nan,
                    history,
                    0,
                    lr,
                    optimizer=config.optimizer,
                )
            assert lr is not None
            lr /= 10.0
    if validation is not None and tracker.best_theta is not None:
        theta = tracker.best_theta
        if reason is StopReason.CONVERGED:
            reason = StopReason.EARLY_STOPPING
    objective = _full_objective(obj, theta, x, y)[0]
    epochs = tracker.history[-1].epoch if tracker.history else 0
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            cert = solvers.certify(obj, theta, data)
    except solvers.SolverDiverged:
        cert = solvers.Certificate("gradient_norm", math.inf, False)
    if reason is StopReason.CONVERGED and not cert.certifies(objective, FIRST_ORDER_CERT_TOL):
        reason = StopReason.NOT_OPTIMAL
    if reason is StopReason.CONVERGED and _runs_away(obj, theta, cert):
        reason = StopReason.NOT_OPTIMAL
    return FitResult(
        theta,
        reason,
        epochs,
        objective,
        tuple(tracker.history),
        tracker.best_epoch,
        lr,
        optimizer=config.optimizer,
        certificate=cert,
    )


def _runs_away(obj: Objective, theta: Array, cert: solvers.Certificate) -> bool:
    """A classifier without L2 whose small gradient only says the classes separate.

    On separable classes the logistic/softmax loss has no minimiser: it tends
    to 0 as the weights grow, and its gradient vanishes on the way.  A
    gradient-norm certificate then proves nothing, so weights steeper than
    SEPARABLE_SLOPE logits per σ of a (standardized) feature are reported as
    ``not_optimal`` instead of ``converged``.
    """
    if cert.bound or obj.l2 or not obj.logits or obj.loss.task in ("regression", "counts"):
        return False
    w, _ = obj.split(theta)
    return bool(np.abs(w).max(initial=0.0) > SEPARABLE_SLOPE)


def _solve(
    obj: Objective,
    data: DataSource,
    config: TrainConfig,
    start: Array,
    validation: tuple[Rows, Array | None] | None,
    callback: Callback | None,
) -> FitResult:
    """Run a solver of losscli.fit.solvers (auto: the one ``solvers.choose`` picks).

    The solver stops on its certificate; the tracker only logs (history,
    validation loss, callback).  With ``auto`` choosing the first-order
    ``gd`` (kinked losses with L2), that loop runs instead.
    """
    x, y = (data.x, data.y) if isinstance(data, InMemory) else (data, None)
    name, why = config.optimizer, ""
    if name == "auto":
        name, why = solvers.choose(obj, data.n_rows, in_memory=isinstance(data, InMemory))
        if name == "gd":
            result = fit(
                obj,
                x,
                y,
                replace(config, optimizer="gd"),
                validation=validation,
                callback=callback,
                theta0=start,
            )
            return replace(result, choice=why)
    run = replace(config, optimizer=name) if config.optimizer == "auto" else config
    tracker = _Tracker(obj, run, validation, callback)

    def on_iteration(iteration: int, theta: Array, objective: float) -> None:
        tracker.record(iteration, theta, objective, objective - obj.penalty(theta), math.nan)

    tol = run.resolved_tol()
    try:  # a start whose objective already overflows diverges like a blown-up step
        tracker.start_from(_full_objective(obj, start, x, y)[0] if name != "lp" else math.inf)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = solvers.SOLVERS[name](
                obj,
                data,
                start.copy(),
                tol=tol,
                max_iter=run.resolved_epochs(),
                on_iteration=on_iteration,
            )
    except solvers.SolverFailed as exc:  # the LP gave up: proximal gradient, uncertified
        result = fit(
            obj,
            x,
            y,
            replace(config, optimizer="gd"),
            validation=validation,
            callback=callback,
            theta0=start,
        )
        return replace(result, choice=f"{exc}; fell back to proximal gradient")
    except (solvers.SolverDiverged, _Diverged):
        last = tracker.history[-1].epoch if tracker.history else 0
        return FitResult(
            start,
            StopReason.DIVERGED,
            last + 1,
            math.nan,
            tuple(tracker.history),
            0,
            optimizer=name,
            choice=why,
        )
    if out.converged and not _runs_away(obj, out.theta, out.certificate):
        reason = StopReason.CONVERGED
    elif out.exhausted:
        reason = StopReason.MAX_EPOCHS
    else:
        reason = StopReason.NOT_OPTIMAL
    objective = _full_objective(obj, out.theta, x, y)[0]
    return FitResult(
        out.theta,
        reason,
        out.iterations,
        objective,
        tuple(tracker.history),
        out.iterations,
        None,
        optimizer=name,
        choice=why,
        certificate=out.certificate,
    )


# --------------------------------------------------------------------------- full batch


def _prox(obj: Objective, theta: Array, step: float, mask: NDArray[np.bool_]) -> Array:
    if obj.l1:
        soft_threshold(theta, obj.l1_thresholds(step), mask)
    return theta


class _Trial:
    """A trial step of the full-batch loop by the optimizer's own rule, on a copy of θ.

    The line search may reject a trial, so θ itself is never updated in place;
    full-batch rules are stateless (``gd`` is sgd's rule) and share one state.
    """

    def __init__(self, config: TrainConfig, theta: Array) -> None:
        self.opt = make_optimizer(config.optimizer, **config.hyper)
        self.state = self.opt.init(theta)

    def __call__(self, theta: Array, g: Array, step: float) -> Array:
        new, self.state = self.opt.update(g, self.state, theta.copy(), step)
        return new


def _gd(
    obj: Objective, x: Rows, y: Array | None, config: TrainConfig, theta: Array, tracker: _Tracker
) -> tuple[StopReason, Array]:
    """Proximal gradient descent; BB steps with a GLL safeguard unless --lr is fixed."""
    trial = _Trial(config, theta)
    mask = obj.coef_mask()
    fixed = config.resolved_lr()
    epochs = config.resolved_epochs()
    schedule = make_schedule(config.resolved_schedule(), fixed or 1.0, total_steps=epochs)
    f, g = _smooth(obj, theta, x, y)
    recent = [f + obj.l1_penalty(theta)]
    tracker.start_from(recent[0])
    step = 1.0 / max(1e-12, float(np.abs(g).max()))  # first trial; BB takes over after
    first_mapping = None
    bests: list[float] = []  # best objective so far, per epoch
    for epoch in range(1, epochs + 1):
        if fixed is not None:
            step = schedule(epoch - 1)
            new = _prox(obj, trial(theta, g, step), step, mask)
            f_new, g_new = _smooth(obj, new, x, y)
        else:
            new, f_new, g_new, step = _safeguarded_step(
                obj, x, y, theta, g, step, recent, mask, trial
            )
        mapping = float(np.abs(theta - new).max()) / step
        first_mapping = first_mapping or mapping
        s, d = new - theta, g_new - g
        theta, f, g = new, f_new, g_new
        total = f + obj.l1_penalty(theta)
        recent = [*recent[-(NONMONOTONE_MEMORY - 1) :], total]
        if fixed is None:
            sy = float(s @ d)
            step = float(s @ s) / sy if sy > 0 else step * 2.0  # Barzilai–Borwein
            step = min(max(step, 1e-12), 1e12)
        stop = tracker.record(epoch, theta, total, total - obj.penalty(theta), step)
        if tracker.validation is not None:
            if stop:
                return StopReason.EARLY_STOPPING, theta
        elif mapping <= tracker.tol * max(first_mapping, 1e-300) or mapping == 0.0:
            return StopReason.CONVERGED, theta
        bests.append(min(total, bests[-1]) if bests else total)
        if tracker.validation is None and _stalled(bests, smooth=obj.loss.smooth):
            return StopReason.CONVERGED, theta
    return StopReason.MAX_EPOCHS, theta


def _stalled(bests: list[float], *, smooth: bool) -> bool:
    """No progress over the last STALL_EPOCHS epochs.

    At a kink the gradient mapping need not vanish, so for losses with kinks a
    relative gain below KINK_TOL over the window is convergence.  Smooth
    losses converge on the gradient instead — an ill-conditioned valley can
    gain 1e-12 per hundred epochs while its coefficients are still 3% off
    (diabetes under MSE) — and stop here only when nothing decreases at all.
    """
    if len(bests) <= STALL_EPOCHS:
        return False
    before, now = bests[-STALL_EPOCHS - 1], bests[-1]
    if smooth:
        return now >= before
    return before - now <= KINK_TOL * abs(now)


def _safeguarded_step(
    obj: Objective,
    x: Rows,
    y: Array | None,
    theta: Array,
    g: Array,
    step: float,
    recent: list[float],
    mask: NDArray[np.bool_],
    trial: _Trial,
) -> tuple[Array, float, Array, float]:
    """Shrink the step until F(new) ≤ max(recent F) − c/(2η)·‖new − θ‖² (GLL)."""
    reference = max(recent)
    for _ in range(60):
        new = _prox(obj, trial(theta, g, step), step, mask)
        try:
            f_new, g_new = _smooth(obj, new, x, y)
        except _Diverged:
            step /= 4.0
            continue
        move = new - theta
        if f_new + obj.l1_penalty(new) <= reference - ARMIJO / (2 * step) * float(move @ move):
            return new, f_new, g_new, step
        step /= 4.0
    f_new, g_new = _smooth(obj, theta, x, y)
    return theta.copy(), f_new, g_new, step  # no decrease possible: a fixed point


# --------------------------------------------------------------------------- mini-batch


def _minibatch(
    obj: Objective, x: Rows, y: Array | None, config: TrainConfig, theta: Array, tracker: _Tracker
) -> tuple[StopReason, Array]:
    """Shuffled mini-batches; with averaging, each epoch's mean iterate is what counts.

    The optimizer's rule moves θ step by step as it always does.  With
    ``--average`` (the default without L1) the loop also sums the iterates
    and, at the end of each epoch, scores their mean over that epoch — the
    objective, the validation loss, the stopping rules and the returned
    weights all see it, never the last iterate.  Averaging an epoch's
    iterates cancels most of the steps' noise (Polyak–Ruppert; "tail
    averaging" over the last epoch, so the first epoch's transient and a
    schedule's larger early rates do not linger): measured on 1M×20 bce with
    λ2 = 1e-4, batch 32 and the default rate, the last iterate ends 2.6e-3
    (relative) above the optimum after 7 epochs, the epoch mean 7e-6 after
    one.  When the adaptive schedule cuts the rate, the steps go on from
    that mean: the last iterate still carries the larger rate's noise, which
    the smaller steps would take an epoch to shed.
    """
    n = _n_rows(x)
    batch_size = config.resolved_batch_size()
    assert batch_size is not None
    batch = min(batch_size, n)
    epochs = config.resolved_epochs()
    steps_per_epoch = -(-n // batch)
    lr = config.resolved_lr()
    assert lr is not None
    name = config.resolved_schedule()
    schedule = make_schedule(name, lr, total_steps=epochs * steps_per_epoch)
    plateau = SCHEDULES[name].plateau
    per_epoch = plateau or name == "constant"  # the rate changes between epochs only
    scale = 1.0  # the adaptive schedule's current fraction of lr
    mask = obj.coef_mask()
    hyper: dict[str, Any] = dict(config.hyper)
    if config.optimizer == "adamw":
        hyper["decay_mask"] = mask
    rng = np.random.default_rng(config.seed)
    probe = min(n, 10_000)  # the start's objective on a sample sets the blow-up ceiling
    if _on_source(x):
        tracker.start_from(_full_objective(obj, theta, x, None)[0])
    else:
        assert y is not None
        tracker.start_from(_full_objective(obj, theta, x[:probe], y[:probe])[0])
    # The shuffled rows are gathered a group of batches at a time into two
    # small reused buffers, and batches are views of them.  Measured on 1M×20:
    # one permuted copy of X per epoch costs 48 ms plus 415 ms of page faults
    # for its fresh 160 MB on the first epoch (and doubles memory); a gather
    # per batch costs 54 ms an epoch at batch 256 but 119 ms at 32, from call
    # overhead that a group of ≥ GATHER_ROWS rows amortises.
    group = max(batch, GATHER_ROWS // batch * batch)
    # The lean kernels check the labels once, on the whole target: in memory only.
    kernel = lean_kernel(obj, y, batch) if y is not None else None
    constant = (1.0 if obj.intercept else 0.0) if kernel is not None else None
    groups = _shuffled_groups(x, y, group, batch, constant)
    step = _step_rule(obj, config, hyper, kernel, theta)
    average = config.resolved_average(l1=bool(obj.l1))
    iterates = np.zeros(obj.size)  # Σθ over the epoch's steps (with averaging)
    add = np.add
    mean = theta
    t = 0
    for epoch in range(1, epochs + 1):
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                rate = schedule(t) * scale
                iterates[:] = 0.0
                first = t
                for batches in groups(rng):
                    for xb, yb in batches:
                        if not per_epoch:
                            rate = schedule(t)
                        step(theta, xb, yb, rate)
                        if obj.l1:
                            _prox(obj, theta, rate, mask)
                        if average:
                            add(iterates, theta, out=iterates)
                        t += 1
        except BadValues as exc:
            if exc.role == "y_pred":  # scores overflowed: the parameters ran away
                raise _Diverged from None
            raise
        mean = iterates / (t - first) if average else theta
        total, loss = _full_objective(obj, mean, x, y)
        if tracker.record(epoch, mean, total, loss, rate):
            if tracker.validation is not None:
                return StopReason.EARLY_STOPPING, mean
            if not plateau or scale / PLATEAU_FACTOR < PLATEAU_FLOOR:
                return StopReason.CONVERGED, mean
            scale /= PLATEAU_FACTOR  # a plateau: smaller steps lower the noise floor
            tracker.stale = 0
            if average:  # go on from the mean: the last iterate carries the old rate's noise
                theta[...] = mean
    return StopReason.MAX_EPOCHS, mean


Step = Callable[["Array", "Array", "Array", float], None]  # (θ, X_b, y_b, lr): θ in place


def _step_rule(
    obj: Objective,
    config: TrainConfig,
    hyper: dict[str, Any],
    kernel: LeanKernel | None,
    theta: Array,
) -> Step:
    """One mini-batch step θ ← update(θ, ∇f_batch(θ), lr), in place.

    Plain sgd and adam(w) on a lean kernel are fused steps; every other optimizer gets
    the batch gradient (lean or general) and applies its own ``update``.
    """
    opt = make_optimizer(config.optimizer, **hyper)
    if kernel is not None:  # hook (losscli.fit.lean): sgd and adam fuse with the gradient
        fused = kernel.fused(opt, theta)
        if fused is not None:
            return fused
    state = opt.init(theta)
    grad = np.empty(obj.size)
    gradient = kernel.gradient if kernel is not None else obj.batch_gradient
    update = opt.update

    def step(theta: Array, xb: Array, yb: Array, lr: float) -> None:
        nonlocal state
        gradient(theta, xb, yb, grad)
        _, state = update(grad, state, theta, lr)  # in place: θ is the same array

    return step


def _shuffled_groups(
    x: Rows, y: Array | None, group: int, batch: int, constant: float | None
) -> Callable[[np.random.Generator], Iterator[list[tuple[Array, Array]]]]:
    """An epoch's rows in shuffled groups of ``group`` rows, each as its list of batches.

    Batches are views into two reused buffers.  In memory: one permutation
    of all rows, gathered a group at a time; the views of a full group are
    made once.  A data source with ``shuffled_blocks`` (the out-of-core
    cache): blocks in a random order, rows shuffled within each — sequential
    reads instead of one random read per row.  With ``constant`` the buffer
    is augmented for the lean kernels: an extra last column holding it.
    """

    def cut(xg: Array, yg: Array) -> list[tuple[Array, Array]]:
        return [(xg[s : s + batch], yg[s : s + batch]) for s in range(0, len(yg), batch)]

    if _on_source(x):
        if not hasattr(x, "shuffled_blocks"):
            raise InputError(
                "mini-batch optimizers need rows in order on one machine",
                "use a full-batch optimizer: auto, newton, lbfgs or gd",
            )
        assert constant is None  # the lean kernels need the labels checked up front

        def from_source(rng: np.random.Generator) -> Iterator[list[tuple[Array, Array]]]:
            for xb, yb in x.shuffled_blocks(rng):
                for first in range(0, len(yb), group):
                    yield cut(xb[first : first + group], yb[first : first + group])

        return from_source
    assert y is not None
    n, d = x.shape
    extra = 0 if constant is None else 1
    gx, gy = np.empty((group, d + extra)), np.empty((group, *y.shape[1:]))
    rows_x = gx if constant is None else np.empty((group, d))
    if constant is not None:
        gx[:, d] = constant
    full = cut(gx, gy)

    def in_memory(rng: np.random.Generator) -> Iterator[list[tuple[Array, Array]]]:
        order = rng.permutation(n)
        for first in range(0, n, group):
            rows = order[first : first + group]
            m = len(rows)
            xr, yg = (rows_x, gy) if m == group else (rows_x[:m], gy[:m])
            np.take(x, rows, axis=0, out=xr, mode="clip")  # clip: unbuffered
            np.take(y, rows, axis=0, out=yg, mode="clip")
            if constant is not None:  # into the augmented buffer (a strided take is slower)
                gx[:m, :d] = xr
            yield full if m == group else cut(gx[:m], yg)

    return in_memory
