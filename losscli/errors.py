"""Errors that carry their exit code and a message for people.

The library raises these; only ``cli.py`` turns them into click errors.  A
message states the problem and, on a second line when useful, the fix.
Exit codes follow click: 2 for bad input or options, 1 for a failure at run
time (for example a diverging fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MAX_ROWS_SHOWN = 5


class LossCliError(Exception):
    """Base class: ``problem`` says what is wrong, ``fix`` how to put it right."""

    exit_code = 1

    def __init__(self, problem: str, fix: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return self.problem if not self.fix else f"{self.problem}\n{self.fix}"


class InputError(LossCliError):
    """Bad input data or option values (exit code 2)."""

    exit_code = 2


class NoRows(InputError):
    """No rows to work on: a header alone, or every row dropped by --dropna.

    An error for a whole input; a partition of one (losscli.engine.parts)
    may be empty while its neighbours are not.  ``empty`` is then what the
    reader had resolved (train: a zero-row TrainingData with its design and
    dropped count), for the caller that can carry on without the rows.
    """

    empty: Any = None


class RunError(LossCliError):
    """A failure while running on valid input, such as divergence (exit code 1)."""

    exit_code = 1


def format_rows(rows: Sequence[int], total: int | None = None) -> str:
    """'row 3' / 'rows 3, 7, 9' / 'rows 3, 7, 9, 12, 15 and 40 more'."""
    total = len(rows) if total is None else total
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN])
    word = "row" if total == 1 else "rows"
    more = total - min(len(rows), MAX_ROWS_SHOWN)
    return f"{word} {shown}" + (f" and {more} more" if more > 0 else "")


class BadValues(InputError):
    """Some rows hold values a loss cannot take.

    Kernels know array positions, not file rows or column names, so they
    raise this with ``role`` ("y_true", "y_pred" or "weight") and 0-based
    ``positions``; the reader maps both onto what the user sees with
    :meth:`locate` before the message is shown.
    """

    def __init__(
        self,
        role: str,
        problem: str,
        positions: NDArray[np.intp],
        examples: Sequence[float],
        fix: str | None = None,
    ) -> None:
        self.role = role
        self.what = problem
        self.positions = positions
        self.examples = list(examples)
        self.rows: list[int] = [int(p) + 1 for p in positions[:MAX_ROWS_SHOWN]]
        self.total = len(positions)
        self.column = role
        super().__init__(self._message(), fix)

    def _message(self) -> str:
        eg = ", ".join(repr(float(v)) for v in self.examples[:3])
        example = f" (e.g. {eg})" if eg else ""
        return f"{self.column} {self.what} in {format_rows(self.rows, self.total)}{example}"

    def locate(self, column: str, row_numbers: NDArray[np.int64] | None) -> BadValues:
        """Name the column(s) and translate positions into file row numbers."""
        self.column = column
        if row_numbers is not None:
            self.rows = [int(r) for r in row_numbers[self.positions[:MAX_ROWS_SHOWN]]]
        self.problem = self._message()
        self.args = (self.problem,)
        return self


SHOWN_CHARS = 60


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr`` of a value quoted in a message, cut to about ``limit`` characters.

    A 200 MB cell must not make a 200 MB message.
    """
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "…"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[: limit + 1] + "…"


def name_list(names: Sequence[str], limit: int = 20) -> str:
    """'a, b, c' — at most ``limit`` names, each cut short (a header may have 1M columns)."""
    parts = [n if len(n) <= SHOWN_CHARS else n[:SHOWN_CHARS] + "…" for n in names[:limit]]
    more = len(names) - limit
    return ", ".join(parts) + (f" and {more:,} more" if more > 0 else "")
