"""The loss catalogue: the ``LOSSES`` registry over the classes in this package.

Adding a loss is one class in a family module plus one line in ``_CATALOGUE``;
the command line, the catalogue and the parametrized tests pick it up.
"""

from __future__ import annotations

import difflib
from typing import Any

from losscli._types import REDUCTIONS, Reduction, Space
from losscli.errors import InputError
from losscli.losses.base import (
    MACHINE_EPS,
    BestConstant,
    Loss,
    LossResult,
    ParamInfo,
    Pointwise,
    check_finite,
    check_weights,
    weighted_totals,
)
from losscli.losses.binary import BCE, Hinge, ModifiedHuber, Perceptron, SquaredHinge
from losscli.losses.gaussian import GaussianNLL
from losscli.losses.multiclass import CrossEntropy, Focal, KLDiv, Poly1
from losscli.losses.regression import (
    MAE,
    MAPE,
    MSE,
    MSLE,
    RMSE,
    RMSLE,
    EpsilonInsensitive,
    Expectile,
    Huber,
    LogCosh,
    Poisson,
    Quantile,
    SmoothL1,
)
from losscli.losses.tweedie import GammaDeviance, PoissonDeviance, Tweedie
from losscli.losses.vector import Brier, CategoricalHinge, CosineDistance, MulticlassHinge

__all__ = [
    "ALIASES",
    "BCE",
    "CHOICE_PARAMS",
    "FLAG_PARAMS",
    "LOSSES",
    "MACHINE_EPS",
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "PARAM_FLAGS",
    "REDUCTIONS",
    "RMSE",
    "RMSLE",
    "BestConstant",
    "Brier",
    "CategoricalHinge",
    "CosineDistance",
    "CrossEntropy",
    "EpsilonInsensitive",
    "Expectile",
    "Focal",
    "GammaDeviance",
    "GaussianNLL",
    "Hinge",
    "Huber",
    "KLDiv",
    "LogCosh",
    "Loss",
    "LossResult",
    "ModifiedHuber",
    "MulticlassHinge",
    "ParamInfo",
    "Perceptron",
    "Pointwise",
    "Poisson",
    "PoissonDeviance",
    "Poly1",
    "Quantile",
    "Reduction",
    "SmoothL1",
    "Space",
    "SquaredHinge",
    "Tweedie",
    "canonical_name",
    "check_finite",
    "check_logits",
    "check_weights",
    "get_loss",
    "make_loss",
    "make_losses",
    "weighted_totals",
]

# --------------------------------------------------------------------------- registry

_CATALOGUE: tuple[type[Loss], ...] = (
    MSE,
    RMSE,
    MAE,
    Huber,
    SmoothL1,
    LogCosh,
    Quantile,
    EpsilonInsensitive,
    MAPE,
    MSLE,
    RMSLE,
    Expectile,
    GaussianNLL,
    Tweedie,
    PoissonDeviance,
    GammaDeviance,
    Poisson,
    BCE,
    Focal,
    Brier,
    Hinge,
    SquaredHinge,
    ModifiedHuber,
    Perceptron,
    CrossEntropy,
    KLDiv,
    Poly1,
    MulticlassHinge,
    CategoricalHinge,
    CosineDistance,
)

LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in _CATALOGUE}
ALIASES: dict[str, str] = {alias: cls.name for cls in _CATALOGUE for alias in cls.aliases}


def canonical_name(name: str) -> str:
    """The registry name for a loss name or alias (case and dashes forgiven)."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key in LOSSES:
        return key
    known = sorted([*LOSSES, *ALIASES])
    close = difflib.get_close_matches(key, known, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise InputError(f"unknown loss {name!r}", f"{hint}see `losscli losses` for the catalogue")


def get_loss(name: str) -> type[Loss]:
    """The loss class for a name or alias."""
    return LOSSES[canonical_name(name)]


def make_loss(name: str, **params: Any) -> Loss:
    """An instance of the named loss with the given parameters."""
    cls = get_loss(name)
    taken = {p.name for p in cls.param_info()}
    unknown = sorted(set(params) - taken)
    if unknown:
        raise InputError(
            f"{cls.name} does not take {', '.join(unknown)}",
            f"{cls.name} takes {', '.join(sorted(taken)) or 'no parameters'}",
        )
    return cls(**params)


def _param_flags() -> dict[str, tuple[str, bool, list[str]]]:
    """Every loss parameter once: flag name -> (help, is a list, losses using it)."""
    flags: dict[str, tuple[str, bool, list[str]]] = {}
    for cls in LOSSES.values():
        for p in cls.param_info():
            doc, is_list, users = flags.get(p.name, (p.doc, p.is_list, []))
            users.append(cls.name)
            flags[p.name] = (doc, is_list, users)
    return flags


PARAM_FLAGS = _param_flags()
# Parameters that take one of a few words (--multioutput uniform|raw): name -> the words.
CHOICE_PARAMS: dict[str, tuple[str, ...]] = {
    p.name: p.choices for cls in LOSSES.values() for p in cls.param_info() if p.choices
}
# Parameters that are on/off switches (--full, --log-target): flags on the command line.
FLAG_PARAMS = frozenset(
    p.name for cls in LOSSES.values() for p in cls.param_info() if isinstance(p.default, bool)
)


def make_losses(
    names: tuple[str, ...],
    params: dict[str, Any],
    *,
    logits: bool,
    single: bool = False,
    compat: str | None = None,
    dtype: str | None = None,
) -> list[Loss]:
    """Loss instances from --loss names and parameter flags.

    A flag that none of the chosen losses takes is an error, never ignored.
    ``compat`` names a library whose convention to follow (``"all"``: losscli's
    own loss followed by every library's version that applies), ``dtype`` the
    precision (``losses.compat``).
    """
    chosen: list[str] = []
    for item in names:
        for part in item.split(","):
            if part.strip():
                name = canonical_name(part)
                if name not in chosen:
                    chosen.append(name)
    if not chosen:
        raise InputError("no loss given", "choose one with --loss NAME (see `losscli losses`)")
    if single and len(chosen) > 1:
        raise InputError("train minimises one loss", "give a single --loss")
    # An unset switch arrives as False (or None): only a switch that is on counts as given.
    given = {k: _parse_param(k, v) for k, v in params.items() if v is not None and v is not False}
    for key in given:
        takers = [n for n in chosen if key in {p.name for p in LOSSES[n].param_info()}]
        if not takers:
            users = PARAM_FLAGS[key][2]
            raise InputError(
                f"--{key.replace('_', '-')} is not a parameter of {', '.join(chosen)}",
                f"it applies to {', '.join(users)}; remove it or choose one of those losses",
            )
    check_logits(tuple(chosen), logits)
    from losscli.losses import compat as conventions

    precision = conventions.precision(dtype)
    losses: list[Loss] = []
    for name in chosen:
        taken = {p.name for p in LOSSES[name].param_info()}
        own = {k: v for k, v in given.items() if k in taken}
        if compat == "all":
            expanded = conventions.expand(LOSSES[name], own, logits=logits, precision=precision)
            losses.extend(loss for _, loss in expanded if not isinstance(loss, str))
        else:
            library = conventions.library(compat)
            losses.append(
                conventions.make(
                    LOSSES[name], own, logits=logits, library=library, precision=precision
                )
            )
    # float64 twins of float32 losses: the output shows how far float32 moved each
    if compat == "all":
        return losses
    return losses + [conventions.shadow(x) for x in losses if x.precision == "float32"]


def check_logits(names: tuple[str, ...], logits: bool) -> None:
    """--logits with losses that all take plain values is an error, not ignored."""
    if logits and all(LOSSES[n].logit_space == "never" for n in names):
        raise InputError(
            f"--logits does not apply to {', '.join(names)} (they take predicted values)",
            "remove --logits",
        )


def _parse_param(name: str, value: Any) -> Any:
    if PARAM_FLAGS[name][1]:
        try:
            return tuple(float(x) for x in str(value).split(",") if x.strip())
        except ValueError:
            raise InputError(
                f"--{name.replace('_', '-')} takes numbers separated by commas (got {value!r})"
            ) from None
    return value
