"""``--by COL``: dense group indices for the values of a grouping column.

Memory is bounded by the number of groups, so a column with more than
:data:`MAX_GROUPS` distinct values (an id, a timestamp) is refused with
that number rather than filling memory.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from losscli._lazy import lazy_module
from losscli.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]
else:
    np = lazy_module("numpy", globals(), "np")

MAX_GROUPS = 1000  # distinct values of a --by column; documented in the README


def canonical(value: Any) -> Any:
    """A group key for output: integral numbers as int, other numbers as float, text as str."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        x = float(value)
        return int(x) if x.is_integer() and abs(x) < 2**53 else x
    return str(value)


class GroupIndex:
    """Maps the values of the ``--by`` column to 0, 1, 2, … in order of first appearance."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.codes: dict[Any, int] = {}

    def index(self, raw: Array) -> NDArray[np.intp]:
        """Group indices of one block's keys (raising past :data:`MAX_GROUPS`)."""
        if raw.dtype.kind == "f":
            distinct, inverse = np.unique(raw, return_inverse=True)
        else:
            distinct, inverse = np.unique(raw.astype(str), return_inverse=True)
        codes = np.array([self._code(canonical(v)) for v in distinct.tolist()], dtype=np.intp)
        return codes[inverse.ravel()] if codes.size else np.zeros(0, dtype=np.intp)

    def add(self, key: Any) -> int:
        """The code of a key, given the next one if new (another partition's keys)."""
        return self._code(key)

    def _code(self, key: Any) -> int:
        code = self.codes.get(key)
        if code is None:
            if len(self.codes) >= MAX_GROUPS:
                raise InputError(
                    f"--by {self.column}: more than {MAX_GROUPS} distinct values",
                    f"group by a column with at most {MAX_GROUPS} levels (bin it first)",
                )
            code = self.codes[key] = len(self.codes)
        return code

    def __len__(self) -> int:
        return len(self.codes)

    def ordered(self) -> list[tuple[Any, int]]:
        """(key, index) sorted by key: numbers in order first, then text."""

        def order(item: tuple[Any, int]) -> tuple[int, float, str]:
            key = item[0]
            if isinstance(key, (int, float)) and not isinstance(key, bool):
                return (0, float(key) if not math.isnan(float(key)) else math.inf, "")
            return (1, 0.0, str(key))

        return sorted(self.codes.items(), key=order)
