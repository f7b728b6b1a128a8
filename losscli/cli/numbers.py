"""How numbers are written: one policy for people, one for machines.

People (tables, summaries, notes on stderr) read every real number — loss
values, per-row values, gradients, coefficients, metrics — with the same
:data:`SIGNIFICANT` digits, so two columns of a table are comparable at a
glance and no number is shown with more precision than another.  Counts
carry thousands separators (``10,000,000``).  Machines (json, csv, tsv,
``--format value``, every file the tool writes) read ``repr``: the shortest
text that parses back to the same float64, so a pipeline loses nothing.

Nothing else in the package formats a number for output; a renderer that
needs one calls these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

SIGNIFICANT = 6  # digits for people: enough to compare losses, short enough for 80 columns


def human(x: float) -> str:
    """A real number for people: :data:`SIGNIFICANT` significant digits.

    ``-0.0`` reads as ``0`` (a sign on zero only confuses), NaN and the
    infinities as ``nan``, ``inf``, ``-inf``.
    """
    x = float(x)
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{SIGNIFICANT}g}"


PRECISE = 10  # digits where two numbers are compared for their difference (float32 vs float64)


def precise(x: float) -> str:
    """A number for people set beside a near-equal one (conventions, precisions): 10 digits."""
    x = float(x)
    return human(x) if x == 0.0 or not math.isfinite(x) else f"{x:.{PRECISE}g}"


def maybe(x: float | None) -> str:
    """:func:`human`, or an em dash where there is no value (a metric that is undefined)."""
    return "—" if x is None else human(x)


def count(n: int) -> str:
    """A count for people: ``10,000,000``."""
    return f"{int(n):,}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 row``, ``2,500 rows``."""
    return f"{count(n)} {word if n == 1 else (many or word + 's')}"


def exact(x: float) -> str:
    """A real number for machines: the shortest text that reads back as the same float64."""
    return repr(float(x))


def exact_all(values: Any) -> list[str]:
    """:func:`exact` of every element of a NumPy array (about 0.5 µs a number).

    CPython's shortest-repr search; NumPy's and json's formatters are no
    faster, and nothing faster is exact.
    """
    return list(map(float.__repr__, values.tolist()))


def setting(value: Any) -> str:
    """An option value for people: numbers by the policy, lists joined, None as ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return human(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ",".join(setting(v) for v in value)
    return str(value)
