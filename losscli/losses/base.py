"""The Loss base class and the conventions every loss follows, written once.

The family modules (regression, binary, multiclass, tweedie, gaussian,
vector) subclass :class:`Loss`; the registry is in ``losses/__init__``.
Conventions:

* ``y_pred`` has shape ``(n,)`` (regression, counts, binary) or ``(n, K)``
  (one column per class).  ``y_true`` has shape ``(n,)`` (values, 0/1
  labels, class indices 0..K-1) or ``(n, K)`` (soft labels, rows summing
  to 1).
* Predictions live in one *space*: ``"value"`` (the regression prediction
  itself, or a Poisson rate), ``"probability"`` or ``"logit"`` (a raw
  score).  ``logits=True`` picks the logit space for the losses that take
  both; hinge-family losses always take raw scores.
* :meth:`Loss.pointwise` returns per-sample losses ℓᵢ and their derivatives
  ∂ℓᵢ/∂ŷᵢ with respect to the predictions in the space given (one row of K
  numbers for multi-class), plus an optional per-sample normaliser nᵢ
  (torch's class-weighted mean divides by Σ w[yᵢ], not by n).
* With ``hessian=True`` it also returns the second derivatives ∂²ℓᵢ/∂ŷᵢ²
  (for K columns the diagonal ∂²ℓᵢ/∂ŷᵢⱼ² of each row's K×K Hessian; rows
  never couple, so that is the whole diagonal of the Hessian).  They are
  computed only when asked: the default path does not pay for them.  Where
  a loss has a kink (|e|, max(0, ·)) the second derivative is that of the
  piece the loss formula selects at the point, 0 for the piecewise-linear
  losses — what torch's double backward reports too.
* :meth:`Loss.evaluate` reduces with sample weights sᵢ: ``mean`` is
  Σsᵢℓᵢ / Σsᵢnᵢ, ``sum`` is Σsᵢℓᵢ, ``none`` is the vector sᵢℓᵢ.  The
  gradient is that of the reported loss with respect to each prediction, as
  PyTorch autograd gives it; for ``none``, each sᵢ·∂ℓᵢ/∂ŷᵢ.
* Probabilities are clipped to [eps, 1−eps] (eps = float64 machine epsilon,
  as scikit-learn's log_loss); where a value was clipped the gradient is the
  derivative at the clipped value, and the clipped cells are counted.

Adding a loss is one class in a family module plus one line in ``_CATALOGUE``
(``losses/__init__``); the command line, the catalogue and the parametrized
tests pick it up.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

from losscli._lazy import lazy_module
from losscli._types import REDUCTIONS, LogitSpace, Precision, Reduction, Space, Task
from losscli.errors import BadValues, InputError
from losscli.losses.totals import Reduced, Scaled, reduce_totals, scaled_dot, scaled_sum

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from losscli._types import Array
else:
    np = lazy_module("numpy", globals(), "np")

# How a loss's best constant prediction argmin_c Σ wᵢ ℓ(yᵢ, c) is found (losscli.evaluate):
# "mean" (weighted mean of y), "count_mean" (the mean; its log in logit space),
# "rate" (the positive rate; its logit in logit space), "median", "quantile" (the
# weighted q-quantile, q = the loss's ``quantile``), "frequencies" (class frequencies;
# their logs in logit space), or "minimise" (exact convex minimisation, the default).
BestConstant = Literal[
    "mean", "count_mean", "rate", "median", "quantile", "frequencies", "minimise"
]
MACHINE_EPS = sys.float_info.epsilon  # 2.220446049250313e-16, float64
ROW_SUM_TOL = 1e-4  # probability rows printed with a few decimals still sum to 1
POISSON_EPS = 1e-8  # torch poisson_nll_loss default, guards log(0)
MAX_EXP = math.log(sys.float_info.max)  # 709.78…; exp() above this overflows


# --------------------------------------------------------------------------- parameters


def _positive(v: float) -> str | None:
    return None if v > 0 and math.isfinite(v) else "must be a positive number"


def _opt_positive(v: float | None) -> str | None:
    return None if v is None else _positive(v)


def _nonnegative(v: float) -> str | None:
    return None if v >= 0 and math.isfinite(v) else "must be a number ≥ 0"


def _open_unit(v: float) -> str | None:
    return None if 0 < v < 1 else "must lie strictly between 0 and 1"


def _unit(v: float) -> str | None:
    return None if 0 <= v <= 1 else "must lie between 0 and 1"


def _finite(v: float) -> str | None:
    return None if math.isfinite(v) else "must be a finite number"


def _clip_eps(v: float) -> str | None:
    if not 0 < v < 0.5:
        return "must lie strictly between 0 and 0.5"
    # below half the machine epsilon 1 − eps rounds to 1.0 and log(1 − p) to −inf
    if 1.0 - v == 1.0:
        return f"must be at least {MACHINE_EPS / 2:.3g}: 1 − eps rounds to 1 in float64"
    return None


def _weights(v: tuple[float, ...] | None) -> str | None:
    if v is None:
        return None
    if not v or not all(math.isfinite(w) and w >= 0 for w in v):
        return "must be a list of numbers ≥ 0"
    return None if any(w > 0 for w in v) else "must not be all zero"


def _alpha(v: float | tuple[float, ...]) -> str | None:
    if isinstance(v, tuple):
        if not v or not all(math.isfinite(a) and a >= 0 for a in v):
            return "must be one number, or one number ≥ 0 per class"
        return None
    return _finite(v)


def _opt_positive_list(v: float | tuple[float, ...] | None) -> str | None:
    if isinstance(v, tuple):
        if not v or not all(math.isfinite(x) and x > 0 for x in v):
            return "must be positive numbers"
        return None
    return _opt_positive(v)


def _single(v: float | tuple[float, ...], problem: str, fix: str) -> float:
    """A list parameter where the data take one value: a one-element list is that
    number, a longer one an input error (``problem`` names the count as ``{n}``)."""
    if isinstance(v, tuple):
        if len(v) != 1:
            raise InputError(problem.format(n=len(v)), fix)
        return v[0]
    return v


def _per_column(v: tuple[float, ...], k: int, flag: str, columns: str, fix: str) -> Array:
    """A list parameter with one value per column: as an array, or an input error
    when the list does not have ``k`` values."""
    if len(v) != k:
        raise InputError(f"{flag} has {len(v)} values but there are {k} {columns}", fix)
    out: Array = np.asarray(v, dtype=np.float64)
    return out


def _opt_index(v: float | None) -> str | None:
    if v is None or (math.isfinite(v) and v == int(v)):
        return None
    return "must be a whole number (a class index)"


def param(
    default: Any,
    doc: str,
    check: Callable[[Any], str | None],
    *,
    is_list: bool = False,
    choices: tuple[str, ...] = (),
    quiet: bool = False,
) -> Any:
    """A loss parameter: a dataclass field with its help text and range check.

    ``is_list``: the command line reads it as numbers separated by commas;
    ``choices``: it is one of these words (``--multioutput uniform|raw``);
    ``quiet``: :meth:`Loss.params` leaves it out while it has its default (a
    setting that only matters for some inputs keeps the SPEC's ``"params": {}``).
    """
    metadata = {"doc": doc, "check": check, "list": is_list, "choices": choices, "quiet": quiet}
    return field(default=default, metadata=metadata)


class ParamInfo(NamedTuple):
    """What the catalogue and the command line need to know of a parameter."""

    name: str
    default: Any
    doc: str
    is_list: bool
    choices: tuple[str, ...] = ()


# --------------------------------------------------------------------------- results


class Pointwise(NamedTuple):
    """Per-sample losses ℓᵢ, their derivatives ∂ℓᵢ/∂ŷᵢ, normalisers nᵢ, clip count,
    the second derivatives ∂²ℓᵢ/∂ŷᵢ² (shape of ``grad``) when asked for, and for
    multi-output regression the per-output terms ℓᵢⱼ (``elements``, n×K; ℓᵢ = Σⱼℓᵢⱼ)
    from which each output's own total is taken."""

    loss: Array
    grad: Array
    norm: Array | None = None
    clipped: int = 0
    hess: Array | None = None
    elements: Array | None = None


@dataclass(frozen=True)
class LossResult:
    """A reduced loss: ``value`` is a float, or the per-sample vector for ``none``."""

    loss: str
    params: dict[str, Any]
    reduction: Reduction
    space: Space
    value: float | Array | tuple[float, ...]  # a tuple: one per output (--multioutput raw)
    gradient: Array
    per_sample: Array
    n: int
    clipped: int
    hessian: Array | None = None  # ∂²L/∂ŷᵢ² of the reported loss, when asked for


def weighted_totals(pw: Pointwise, weight: Array | None) -> tuple[Scaled, Scaled]:
    """(Σsᵢℓᵢ, Σsᵢnᵢ): all a reduction needs, and what chunks add up when streaming.

    Held as mantissa·2^exponent (:mod:`losscli.losses.totals`): a sum of finite
    rows may pass float64's range although the mean does not.
    """
    n = pw.loss.shape[0]
    if weight is None:
        num = scaled_sum(pw.loss)
        den = Scaled.of(float(n)) if pw.norm is None else scaled_sum(pw.norm)
    else:
        num = scaled_dot(weight, pw.loss)
        den = scaled_sum(weight) if pw.norm is None else scaled_dot(weight, pw.norm)
    return num, den


def output_totals(pw: Pointwise, weight: Array | None) -> tuple[Scaled, ...]:
    """Σᵢsᵢℓᵢⱼ for each output j of a multi-output regression (empty otherwise):
    what a per-output value (``--multioutput raw``, sklearn's multi-output roots) needs."""
    if pw.elements is None:
        return ()
    e = pw.elements
    if weight is None:
        return tuple(scaled_sum(e[:, j]) for j in range(e.shape[1]))
    return tuple(scaled_dot(weight, e[:, j]) for j in range(e.shape[1]))


Value = float | tuple[float, ...]  # one reported loss, or one per output


def reduce_loss(
    loss: Loss,
    num: Scaled,
    den: Scaled,
    reduction: Reduction,
    outputs: tuple[Scaled, ...] = (),
) -> tuple[Value | None, float | Array, Reduced]:
    """(reported value or None for ``none``, gradient factor c, the weights' shift).

    ∂L/∂ŷᵢ = c · ``reduced.weights(s)``ᵢ · ∂ℓᵢ/∂ŷᵢ; c is one number per output
    column where each output is reduced on its own (``outputs``: Σsℓ per output).
    Overflow of the value itself is a :class:`~losscli.losses.totals.TotalOverflow`.
    """
    if reduction == "mean" and not den.m > 0:
        raise InputError(
            f"{loss.name}: the weights add up to 0, so the mean is undefined",
            "give some rows a positive weight, or use --reduction sum",
        )
    reduced = reduce_totals(num, den, reduction, loss.name, outputs)
    value: Value | None = None
    if reduction != "none":
        with np.errstate(over="ignore", invalid="ignore"):
            value = loss.reduce_outputs(reduced.num, reduced.den, reduction, reduced.outputs)
        if not all(math.isfinite(v) for v in (value if isinstance(value, tuple) else (value,))):
            reduce_totals(Scaled(math.inf), den, reduction, loss.name)  # raises
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        scale = loss.output_scale(reduced.num, reduced.den, reduction, reduced.outputs)
    return value, scale, reduced


# --------------------------------------------------------------------------- base class


@dataclass(frozen=True)
class Loss:
    """A loss: its parameters are the dataclass fields; the kernel is ``pointwise``.

    Class attributes describe the loss for the catalogue: ``name``,
    ``aliases``, ``task``, ``takes`` (what predictions it expects),
    ``formula``, ``gradient`` (its derivative), ``hessian`` (its second
    derivative, and what is reported at a kink), ``reference`` (the oracle
    it must match) and ``logit_space``: ``"never"`` (values only),
    ``"optional"`` (``--logits`` switches from probabilities/rates to
    logits/log-rates) or ``"always"`` (raw scores whatever the flag).
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    task: ClassVar[Task]
    takes: ClassVar[str]
    formula: ClassVar[str]
    gradient: ClassVar[str]
    hessian: ClassVar[str]  # ∂²ℓ/∂ŷ², and the value reported at a kink
    reference: ClassVar[str]
    logit_space: ClassVar[LogitSpace] = "never"
    default_space: ClassVar[Space] = "value"
    reductions: ClassVar[tuple[Reduction, ...]] = REDUCTIONS
    multiclass: ClassVar[bool] = False
    smooth: ClassVar[bool] = True  # differentiable everywhere (False: kinks, as |e|)
    best_constant: ClassVar[BestConstant] = "minimise"  # closed form of the baseline, if any
    # Set on the classes that ``losses.compat`` derives for --compat and --dtype:
    precision: ClassVar[Precision] = "float64"
    library: ClassVar[str | None] = None  # whose convention this class computes
    mean_over_rows: ClassVar[bool] = False  # weighted mean Σsℓ/n (torch, keras), not Σsℓ/Σs
    shadow: ClassVar[bool] = False  # a float64 twin of a float32 loss, shown as a comparison

    def __post_init__(self) -> None:
        for f in fields(self):
            problem = f.metadata["check"](getattr(self, f.name))
            if problem:
                raise InputError(
                    f"{self.name}: {f.name} {problem} (got {getattr(self, f.name)!r})",
                    f"pass a valid --{f.name.replace('_', '-')}",
                )

    # -- description ---------------------------------------------------------

    @classmethod
    def param_info(cls) -> tuple[ParamInfo, ...]:
        """The parameters this loss takes, with defaults and help."""
        return tuple(
            ParamInfo(
                f.name,
                f.default,
                f.metadata["doc"],
                f.metadata["list"] or f.metadata["check"] is _weights,
                f.metadata["choices"],
            )
            for f in fields(cls)
        )

    def params(self) -> dict[str, Any]:
        """Parameter values as JSON-ready Python objects."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.metadata["quiet"] and v == f.default:
                continue
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    def constant_form(self) -> BestConstant:
        """The closed form of the best constant for these parameters (``best_constant``)."""
        return self.best_constant

    def value_domain(self) -> str:
        """Which values targets and predictions may take, for input generators:
        ``"real"`` unless a loss says otherwise (``"log1p"``: > −1; ``"positive"``:
        y, ŷ > 0; ``"counts"``: y ≥ 0, ŷ > 0; ``"positive_mean"``: y real, ŷ > 0)."""
        return "real"

    def space(self, logits: bool) -> Space:
        """The space the predictions are read in, given the ``--logits`` flag."""
        if self.logit_space == "always" or (logits and self.logit_space == "optional"):
            return "logit"
        return self.default_space

    # -- evaluation ----------------------------------------------------------

    def pointwise(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        strict: bool = True,
        finite: bool = True,
        hessian: bool = False,
    ) -> Pointwise:
        """Per-sample losses and derivatives; validates the inputs first.

        ``strict=False`` skips the probability rows' sum-to-1 check, for finite
        differences that move one class column at a time.  ``finite=False``
        skips the overflow check, for training loops that check their sums.
        ``hessian=True`` adds ``hess``, the per-sample second derivatives
        (Newton steps, ``--hessian``).
        """
        single = self.precision == "float32"
        if single:
            y_true, y_pred = _float32_values(y_true), _float32_values(y_pred, "y_pred")
        # Overflow inside a kernel is found by check_finite, by row, never as a raw warning.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            pw = self._pointwise(y_true, y_pred, logits=logits, strict=strict, hessian=hessian)
        if single:
            hess = None if pw.hess is None else _float32_values(pw.hess)
            pw = pw._replace(
                loss=_float32_values(pw.loss), grad=_float32_values(pw.grad), hess=hess
            )
        if finite:
            check_finite(pw, fix=self.overflow_fix())
        return pw

    def overflow_fix(self) -> str:
        """What to check when the loss overflows: weights above 1 before the predictions."""
        big = [
            f"--{k.replace('_', '-')}"
            for k, v in self.params().items()
            if k.endswith("weight") or k.endswith("weights")
            if v is not None and max(v if isinstance(v, list) else [v]) > 1
        ]
        if big:
            return f"{' and '.join(big)} times the loss overflows: use smaller weights"
        return SCALE_FIX

    def totals(self, pw: Pointwise, weight: Array | None) -> tuple[Scaled, Scaled]:
        """(Σsᵢℓᵢ, the mean's divisor): Σsᵢnᵢ, or Σnᵢ where the convention divides by
        the row count (torch's ``weight=``, Keras's ``sum_over_batch_size``)."""
        num, den = weighted_totals(pw, weight)
        if self.mean_over_rows and weight is not None:
            den = weighted_totals(pw, None)[1]
        return num, den

    def _pointwise(
        self, y_true: Array, y_pred: Array, *, logits: bool, strict: bool, hessian: bool = False
    ) -> Pointwise:
        raise NotImplementedError

    def reduce_value(self, num: float, den: float, reduction: Reduction) -> float:
        """The reported loss from the totals Σsℓ and Σsn (one number: what the
        baselines, intervals and merged parts use)."""
        return num / den if reduction == "mean" else num

    def grad_scale(self, num: float, den: float, reduction: Reduction) -> float:
        """Factor c with ∂L/∂ŷᵢ = c·sᵢ·∂ℓᵢ/∂ŷᵢ (chain rule through the reduction)."""
        return 1.0 / den if reduction == "mean" else 1.0

    def reduce_outputs(
        self, num: float, den: float, reduction: Reduction, outputs: tuple[float, ...] = ()
    ) -> Value:
        """The reported loss given also ``outputs``, Σsℓ per output of a multi-output
        regression on the same 2^-k footing: one value per output for
        ``--multioutput raw``, sklearn's per-output roots; else :meth:`reduce_value`."""
        return self.reduce_value(num, den, reduction)

    def output_scale(
        self, num: float, den: float, reduction: Reduction, outputs: tuple[float, ...] = ()
    ) -> float | Array:
        """:meth:`grad_scale` given ``outputs``: one factor per output column where
        the outputs are reduced apart."""
        return self.grad_scale(num, den, reduction)

    def needs_outputs(self, outputs: int) -> bool:
        """Does the reported value need the per-output totals (``outputs`` > 1)?
        Paths that carry only Σsℓ and Σsn refuse such a loss rather than misreport it."""
        return False

    def reduced_hessian(
        self,
        pw: Pointwise,
        s: Array | float,
        num: float,
        den: float,
        reduction: Reduction,
        outputs: tuple[float, ...] = (),
    ) -> Array:
        """∂²L/∂ŷᵢ² of the reported loss: the reduction is linear in the ℓᵢ, so
        c·sᵢ·∂²ℓᵢ/∂ŷᵢ² with the gradient's factor c."""
        assert pw.hess is not None
        out: Array = (s * self.output_scale(num, den, reduction, outputs)) * pw.hess + 0.0
        return out

    def available_reductions(self) -> tuple[Reduction, ...]:
        """The reductions this instance takes (its class's, narrowed by its parameters:
        ``--multioutput raw`` reports per output, so not per row)."""
        return self.reductions

    def check_reduction(self, reduction: str) -> None:
        if reduction not in self.reductions:
            raise InputError(
                f"{self.name} supports --reduction {' or '.join(self.reductions)} only",
                f"use --reduction {self.reductions[0]}",
            )

    def evaluate(
        self,
        y_true: Array,
        y_pred: Array,
        *,
        logits: bool = False,
        reduction: Reduction = "mean",
        weight: Array | None = None,
        hessian: bool = False,
    ) -> LossResult:
        """The reduced loss and its gradient with respect to ``y_pred``;
        with ``hessian=True`` also the diagonal of its Hessian (``hessian``)."""
        self.check_reduction(reduction)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        y_true = np.asarray(y_true, dtype=np.float64)
        if weight is not None:
            weight = check_weights(np.asarray(weight, dtype=np.float64), y_pred.shape[0])
        pw = self.pointwise(y_true, y_pred, logits=logits, hessian=hessian)
        num, den = self.totals(pw, weight)
        outputs = output_totals(pw, weight)
        reduced_value, scale, reduced = reduce_loss(self, num, den, reduction, outputs)
        s = reduced.weights(weight)
        if not isinstance(s, float) and pw.grad.ndim == 2:
            s = s[:, None]
        per_sample = pw.loss if weight is None else weight * pw.loss
        # "+ 0.0" turns the −0.0 of zero-target terms into 0.0 for printing.
        with np.errstate(over="ignore", invalid="ignore"):
            gradient = (s * scale) * pw.grad + 0.0
        if reduction != "mean":
            check_weighted(per_sample, gradient)
        value: float | Array | tuple[float, ...] = (
            per_sample if reduced_value is None else reduced_value
        )
        return LossResult(
            loss=self.name,
            params=self.params(),
            reduction=reduction,
            space=self.space(logits),
            value=value,
            gradient=gradient,
            per_sample=per_sample,
            n=int(y_pred.shape[0]),
            clipped=pw.clipped,
            hessian=(
                self.reduced_hessian(pw, s, reduced.num, reduced.den, reduction, reduced.outputs)
                if hessian
                else None
            ),
        )


# --------------------------------------------------------------------------- validation


def _float32_values(values: Array, role: str | None = None) -> Array:
    """``values`` rounded to float32 (held as float64 so every kernel runs unchanged).

    A finite input beyond float32's range (±3.4e38) is an error naming its rows
    rather than an inf; outputs (``role`` None) round as float32 arithmetic would.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        single = values.astype(np.float32)
    if role is not None:
        with np.errstate(invalid="ignore"):
            _fail(
                np.isfinite(values) & ~np.isfinite(single),
                role,
                "is beyond float32's range (±3.4e38)",
                values,
                "use --dtype float64",
            )
    return single.astype(np.float64)


def _fail(mask: Array, role: str, problem: str, values: Array, fix: str | None = None) -> None:
    """Raise BadValues naming the rows where ``mask`` holds (rows of a 2-D mask)."""
    rows = mask if mask.ndim == 1 else mask.any(axis=1)
    if rows.any():
        bad = values[rows] if values.ndim == 1 else values[mask]
        raise BadValues(role, problem, np.flatnonzero(rows), bad.ravel()[:3].tolist(), fix)


def check_weights(weight: Array, n: int) -> Array:
    """Sample weights must be one finite, non-negative number per row."""
    if weight.shape != (n,):
        raise InputError(f"weights have shape {weight.shape}, expected ({n},)")
    _fail(~np.isfinite(weight), "weight", "is not a finite number", weight)
    _fail(weight < 0, "weight", "is negative", weight, "weights must be ≥ 0")
    return weight


SCALE_FIX = "check the scale of the predictions (logits or probabilities? units?)"


def check_finite(
    pw: Pointwise,
    *,
    role: str = "y_pred",
    problem: str = "makes the loss overflow float64",
    fix: str = SCALE_FIX,
) -> None:
    """A loss that overflows float64 is reported, never printed as inf or nan.

    Two sums decide in one pass each (a NaN or inf anywhere makes its sum
    non-finite); only then are the rows looked for.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if (
            np.isfinite(pw.loss.sum())
            and np.isfinite(pw.grad.sum())
            and (pw.hess is None or np.isfinite(pw.hess.sum()))
        ):
            return
    bad = ~np.isfinite(pw.loss)
    for d in (pw.grad, pw.hess):
        if d is not None:
            bad |= ~np.isfinite(d) if d.ndim == 1 else ~np.isfinite(d).all(axis=1)
    if bad.any():
        raise BadValues(role, problem, np.flatnonzero(bad), [], fix)


def check_weighted(per_sample: Array, gradient: Array) -> None:
    """Per-row sᵢℓᵢ and gradients of ``none``/``sum`` must be finite: weights too large."""
    check_finite(
        Pointwise(per_sample, gradient),
        role="weight",
        problem="times the loss (or its gradient) overflows float64",
        fix="use smaller weights (only their ratios matter for --reduction mean)",
    )


def _one_d(y_true: Array, y_pred: Array, name: str) -> None:
    if y_pred.ndim != 1:
        raise InputError(
            f"{name} takes one prediction column, got {y_pred.shape[1]}",
            "select a single column with --pred",
        )
    if y_true.shape != y_pred.shape:
        raise InputError(
            f"{name} takes one target column, got {y_true.shape[1] if y_true.ndim == 2 else '?'}",
            "select a single column with --true",
        )


def _probabilities(p: Array, eps: float) -> tuple[Array, int]:
    """Check p ∈ [0, 1] and clip it to [eps, 1 − eps]; return the clipped count."""
    if p.size and p.min() >= eps and p.max() <= 1.0 - eps:  # nothing to clip: two passes
        return p, 0
    _fail(
        (p < 0) | (p > 1),
        "y_pred",
        "has values outside [0, 1]",
        p,
        "if these are raw scores (logits), pass --logits",
    )
    clipped = np.clip(p, eps, 1.0 - eps)
    return clipped, int(np.count_nonzero(clipped != p))


def _binary_labels(y: Array, *, soft: bool) -> Array:
    """Binary targets as floats in [0, 1]: −1/+1 map to 0/1; soft labels if allowed."""
    if y.size and y.min() >= 0 and y.max() <= 1:  # the common case, in two cheap passes
        if soft or _hard(y):
            return y
    elif np.all((y == -1) | (y == 1)):
        return (y + 1.0) / 2.0
    if soft:
        _fail(
            (y < 0) | (y > 1),
            "y_true",
            "is not a label 0/1 or a probability",
            y,
            "binary losses take 0/1, true/false or −1/+1 targets (or soft labels in [0, 1])",
        )
    else:
        _fail(
            (y != 0) & (y != 1),
            "y_true",
            "is not a label 0/1 or −1/+1",
            y,
            "margin losses take 0/1, true/false or −1/+1 targets",
        )
    return y


def _hard(y: Array) -> bool:
    """Are labels in [0, 1] all exactly 0 or 1?  y·y = Σy holds iff so, since
    y² < y strictly inside (0, 1): two passes, no temporary array."""
    return bool(float(y @ y) == float(y.sum()))
