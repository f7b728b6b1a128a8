"""Tables that never cut a number: ``print_table`` is how every table is shown.

rich fits a table to the terminal by shrinking columns, and a shrunk cell
loses its tail: at 40 columns an MSE of 3.5e-06 showed as ``3.51315…`` (the
exponent gone — a wrong number), at 10 columns the cells were empty.  Here
a column whose cells are all numbers may not be shrunk below its widest
cell (``no_wrap`` + ``min_width``; text columns still wrap), and when even
that does not fit the terminal, the table is shown as one ``header: value``
line per cell, which a terminal wraps but never truncates.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

_NUMBER = re.compile(r"^[\s+\-−]*(\d[\d,.]*|\.\d+)([eE][+\-−]?\d+)?\s*$|^(nan|inf|-inf|—)$")


TEXT_MIN = 8  # columns of text may be folded down to this width


def _plain(cell: object) -> str:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)


def _is_number(text: str) -> bool:
    return bool(_NUMBER.match(text.strip())) if text.strip() else True


def print_table(console: Console, table: Table) -> None:
    """Print ``table`` whole: numbers keep every digit and exponent, at any width."""
    needed = 0
    for column in table.columns:
        cells = [_plain(c) for c in column._cells]
        words = [w for c in [*cells, _plain(column.header)] for w in c.split()]
        # text folds (a long word continues on the next line), so it needs little room
        width = min(max((len(w) for w in words), default=1), TEXT_MIN)
        column.overflow = "fold"  # a text cell too long for its column wraps, never "…"
        if cells and all(_is_number(c) for c in cells):
            column.no_wrap = True
            column.min_width = width = max(width, *(len(c) for c in cells))
        needed += width + table.padding[1] + table.padding[3]
    if table.box is not None:
        needed += len(table.columns) + 1 if table.show_edge else len(table.columns) - 1
    if needed <= console.width:
        console.print(table)
        return
    _print_vertical(console, table)


def _print_vertical(console: Console, table: Table) -> None:
    """One ``header: value`` line per cell, rows separated by a blank line."""
    from rich.markup import escape

    if table.title:
        console.print(_plain(table.title), soft_wrap=True)
    headers = [_plain(c.header) for c in table.columns]
    rows = max((len(c._cells) for c in table.columns), default=0)
    for r in range(rows):
        for header, column in zip(headers, table.columns, strict=True):
            value = _plain(column._cells[r]) if r < len(column._cells) else ""
            label = f"{header}: " if header else ""
            console.print(escape(f"{label}{value}"), soft_wrap=True, highlight=False)
        if r < rows - 1:
            console.print("", soft_wrap=True)
    if table.caption:
        console.print(_plain(table.caption), soft_wrap=True)
