"""The options of ``losscli.evaluate`` (--baseline, --bootstrap, --ci, --seed, --by, --worst).

Shared by ``compute`` and ``compare``; :func:`evaluate_options_from` pops
them from a command's keyword arguments into one :class:`EvaluateOptions`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from losscli.evaluate import DEFAULT_LEVEL, EvaluateOptions
from losscli.evaluate.groups import MAX_GROUPS

F = TypeVar("F", bound=Callable[..., Any])

_NAMES = ("baseline", "bootstrap", "ci", "seed", "by", "worst")


def evaluate_options(*, baseline: bool = True, default_replicates: int = 0) -> Callable[[F], F]:
    """Click options for the evaluate package (``baseline=False`` leaves --baseline out)."""

    def decorate(func: F) -> F:
        opts = [
            click.option(
                "--bootstrap",
                "bootstrap",
                type=click.IntRange(min=0),
                default=default_replicates,
                show_default=bool(default_replicates),
                metavar="B",
                help="Add a confidence interval from B Poisson-bootstrap replicates (BCa).",
            ),
            click.option(
                "--ci",
                "ci",
                type=float,
                default=DEFAULT_LEVEL,
                show_default=True,
                metavar="LEVEL",
                help="Confidence level of the intervals.",
            ),
            click.option(
                "--seed",
                type=click.IntRange(min=0),
                default=0,
                show_default=True,
                help="Seed of the resampling: the same seed gives the same interval.",
            ),
            click.option(
                "--by",
                "by",
                metavar="COL",
                help=f"Also report every loss per value of COL (at most {MAX_GROUPS} values).",
            ),
            click.option(
                "--worst",
                type=click.IntRange(min=0),
                default=0,
                metavar="N",
                help="List the N rows with the largest weighted loss contributions.",
            ),
        ]
        if baseline:
            opts.insert(
                0,
                click.option(
                    "--baseline",
                    is_flag=True,
                    help="Add the best constant prediction, its loss L₀ and D² = 1 − L/L₀.",
                ),
            )
        for opt in reversed(opts):
            func = opt(func)
        return func

    return decorate


def evaluate_options_from(params: dict[str, Any]) -> EvaluateOptions:
    """Pop the evaluate options out of a command's keyword arguments."""
    values = {name: params.pop(name, None) for name in _NAMES}
    return EvaluateOptions(
        baseline=bool(values["baseline"]),
        replicates=int(values["bootstrap"] or 0),
        level=float(values["ci"] if values["ci"] is not None else DEFAULT_LEVEL),
        seed=int(values["seed"] or 0),
        by=values["by"],
        worst=int(values["worst"] or 0),
    )
