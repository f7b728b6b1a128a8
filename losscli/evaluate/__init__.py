"""Is it better?  Baselines and D², intervals, paired comparison, groups, worst rows.

One module per job, each streaming in bounded memory:

* :mod:`~losscli.evaluate.baseline` — best constant c*, its loss L₀, D² = 1 − L/L₀;
* :mod:`~losscli.evaluate.passes` — the rows the baseline reads again (summary, block, spool);
* :mod:`~losscli.evaluate.bootstrap` — Poisson bootstrap BCa intervals, swap permutations;
* :mod:`~losscli.evaluate.groups` — ``--by``: group indices, the level limit;
* :mod:`~losscli.evaluate.worst` — ``--worst``: a bounded selection of the worst rows;
* :mod:`~losscli.evaluate.tracker` — all of the above fed by ``compute``'s pass 1;
* :mod:`~losscli.evaluate.paired` — ``compare``: two predictions of the same targets.
"""

from __future__ import annotations

from dataclasses import dataclass

from losscli.errors import InputError

DEFAULT_LEVEL = 0.95
DEFAULT_REPLICATES = 1000


@dataclass(frozen=True)
class EvaluateOptions:
    """What to add to the loss values: all off by default."""

    baseline: bool = False
    replicates: int = 0  # bootstrap replicates; 0 = no interval
    level: float = DEFAULT_LEVEL
    seed: int = 0
    by: str | None = None
    worst: int = 0
    # Set by the engine for one partition of a many-file input, never by a flag:
    # the rows before this partition (the bootstrap's counter and --worst rows are
    # global data-row numbers), and ``deferred`` to return the mergeable state
    # (:attr:`EvaluationReport.state`) instead of finishing.
    row_offset: int = 0
    deferred: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.level < 1.0:
            raise InputError(
                f"--ci must lie strictly between 0 and 1 (got {self.level!r})", "try --ci 0.95"
            )
        if self.replicates < 0 or 0 < self.replicates < 10:
            raise InputError(
                f"--bootstrap needs at least 10 replicates (got {self.replicates})",
                "try --bootstrap 1000",
            )
        if self.seed < 0 or self.seed >= 2**64:
            raise InputError(f"--seed must lie in 0…2⁶⁴−1 (got {self.seed})")
        if self.worst < 0:
            raise InputError(f"--worst must be ≥ 0 (got {self.worst})")

    @property
    def active(self) -> bool:
        return bool(self.baseline or self.replicates or self.by or self.worst)
