"""Tables that fit the terminal without cutting a single character.

rich shrinks a table that is wider than the console by wrapping or cutting
its cells (``0.971…``, ``∂L/∂p…``): a number that loses digits or its
exponent is a wrong number.  :func:`print_table` measures every cell first
and never lets rich shrink anything:

1. the whole table fits: one table;
2. it does not: the columns are dealt into several tables that each fit,
   the *key* columns (``row``, ``feature``) repeated in every part, so each
   part still says which row a number belongs to;
3. not even one value column fits beside the keys: one block per row,
   ``header  value`` lines (a vertical layout).

Cells are plain text (never rich markup: a ``[x]`` in a column name or a
formula must print as written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Console

Justify = Literal["left", "right"]


@dataclass(frozen=True)
class Col:
    """A column: its header, alignment (numbers right), and whether it is a key."""

    header: str
    justify: Justify = "right"
    key: bool = False


def _cell_len(text: str) -> int:
    from rich.cells import cell_len

    return int(cell_len(text))


def table_width(widths: Sequence[int]) -> int:
    """Width of a boxed rich table: each column plus 2 of padding, plus n + 1 rules."""
    return sum(widths) + 3 * len(widths) + 1


def column_groups(
    widths: Sequence[int], keys: Sequence[bool], limit: int
) -> list[list[int]] | None:
    """Column indices per part, keys first in every part; None when even one will not fit."""
    if table_width(widths) <= limit:
        return [list(range(len(widths)))]
    key_idx = [i for i, k in enumerate(keys) if k]
    rest = [i for i, k in enumerate(keys) if not k]
    groups: list[list[int]] = []
    current: list[int] = []
    for i in rest:
        trial = key_idx + current + [i]
        if table_width([widths[j] for j in trial]) <= limit:
            current.append(i)
            continue
        if not current:
            return None  # this column cannot sit beside the keys at any split
        groups.append(current)
        current = [i]
        if table_width([widths[j] for j in key_idx + current]) > limit:
            return None
    if current:
        groups.append(current)
    return [sorted(key_idx + g) for g in groups]


def print_table(
    console: Console,
    columns: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Print ``rows`` under ``columns`` at the console's width, every cell whole."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    widths = [
        max([_cell_len(c.header), *(_cell_len(r[i]) for r in rows)]) for i, c in enumerate(columns)
    ]
    groups = column_groups(widths, [c.key for c in columns], console.width)
    if groups is None:
        _vertical(console, columns, rows, title=title, caption=caption)
        return
    for part, group in enumerate(groups):
        label = title
        if len(groups) > 1:
            label = f"{title or 'table'} · part {part + 1} of {len(groups)}"
        if label:  # a line of its own: a table's title would wrap at the table's width
            console.print(Text(label, style="bold"))
        table = Table(
            caption=caption if part == len(groups) - 1 else None,
            box=box.HEAVY_HEAD,
        )
        for i in group:
            c = columns[i]
            table.add_column(
                Text(c.header),
                justify=c.justify,
                no_wrap=True,
                min_width=widths[i],
            )
        for r in rows:
            table.add_row(*(Text(r[i]) for i in group))
        console.print(table)


def _vertical(
    console: Console,
    columns: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None,
    caption: str | None,
) -> None:
    """One block per row: ``header  value`` lines, the keys naming the block."""
    from rich.text import Text

    if title:
        console.print(Text(title, style="bold"))
    name_width = max(_cell_len(c.header) for c in columns)
    for r in rows:
        keys = [f"{c.header} {r[i]}" for i, c in enumerate(columns) if c.key]
        console.print(Text(" · ".join(keys) or "—", style="bold"))
        for i, c in enumerate(columns):
            if c.key:
                continue
            pad = " " * (name_width - _cell_len(c.header))
            line = f"  {c.header}{pad}  {r[i]}"
            if _cell_len(line) > console.width:  # the value on a line of its own, whole
                line = f"  {c.header}\n    {r[i]}"
            console.print(Text(line), soft_wrap=True)
    if caption:
        console.print(Text(caption, style="dim"))
