"""The options of ``losscli.evaluate`` (--baseline, --bootstrap, --ci, --seed, --by, --worst).

Shared by ``compute`` and ``compare``: the command receives them as one
:class:`EvaluateOptions` named ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from losscli.cli.options import grouped
from losscli.evaluate import DEFAULT_LEVEL, EvaluateOptions
from losscli.evaluate.groups import MAX_GROUPS

Decorator = Callable[[Any], Any]


def evaluate_options(*, baseline: bool = True, default_replicates: int = 0) -> Decorator:
    """The options, passed to the command as ``evaluate=EvaluateOptions(...)``.

    ``baseline=False`` leaves --baseline and --worst out.
    """
    opts: list[Decorator] = [
        click.option(
            "--bootstrap",
            "bootstrap",
            type=click.IntRange(min=0),
            default=default_replicates,
            show_default=bool(default_replicates),
            metavar="B",
            help="Confidence intervals from B Poisson-bootstrap replicates (BCa); "
            "compare also runs B sign-flip permutations.",
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
        opts.append(
            click.option(
                "--worst",
                type=click.IntRange(min=0),
                default=0,
                metavar="N",
                help="List the N rows with the largest weighted loss contributions.",
            )
        )

    def build(
        bootstrap: int,
        ci: float,
        seed: int,
        by: str | None,
        baseline: bool = False,
        worst: int = 0,
    ) -> EvaluateOptions:
        return EvaluateOptions(
            baseline=baseline, replicates=bootstrap, level=ci, seed=seed, by=by, worst=worst
        )

    return grouped("evaluate", opts, build)
