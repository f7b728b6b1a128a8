"""``losscli losses``: the catalogue, drawn from the registry (no NumPy needed).

Every piece of catalogue text is printed as plain text, never parsed as rich
markup: formulas are full of square brackets (``−[w·y·log p + …]``,
``[eps, 1 − eps]``) that markup would silently eat.  Docstrings are written
in reStructuredText; their double backquotes are dropped for the terminal.

Three shapes, chosen by who reads:

* a pipe (or ``--format tsv``): a header, then one loss per line —
  name, aliases, task, parameters, formula — tab-separated, never wrapped;
* a terminal at least :data:`WIDE` columns wide: one table, names unbroken;
* a narrower terminal: one block per loss, the text wrapped at spaces.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import TYPE_CHECKING, Any

from losscli.cli import render_compat

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.losses import Loss

WIDE = 140  # below this the formula column would be too narrow: one block per loss
TSV_COLUMNS = ("name", "aliases", "task", "parameters", "formula")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _default(value: Any) -> str:
    from losscli.cli.numbers import setting

    return setting(value)


def param_text(cls: type[Loss]) -> str:
    """``--delta 1, --eps 2.22045e-16``: each parameter flag and its default."""
    parts = [f"{flag(p.name)} {_default(p.default)}" for p in cls.param_info()]
    return ", ".join(parts) or "—"


def plain(text: str) -> str:
    """reStructuredText to terminal text: ``code`` and `code` lose their backquotes."""
    return re.sub(r"`{1,2}([^`]+)`{1,2}", r"\1", text)


def entry(cls: type[Loss]) -> dict[str, Any]:
    """One loss as a JSON-ready description."""
    from losscli.losses.compat import describe

    return {
        "compat": describe(cls.name),
        "name": cls.name,
        "aliases": list(cls.aliases),
        "task": cls.task,
        "predictions": cls.takes,
        "logits": cls.logit_space,
        "reductions": list(cls.reductions),
        "params": [
            {"name": p.name, "flag": flag(p.name), "default": p.default, "help": p.doc}
            for p in cls.param_info()
        ],
        "formula": cls.formula,
        "gradient": cls.gradient,
        "hessian": cls.hessian,
        "reference": cls.reference,
    }


def as_json(entries: list[type[Loss]]) -> str:
    return json.dumps([entry(cls) for cls in entries], ensure_ascii=False, indent=2)


def _tsv_cell(text: str) -> str:
    """A cell that cannot break the TSV: tabs and newlines become spaces."""
    return re.sub(r"[\t\r\n]+", " ", text)


def tsv_lines(entries: list[type[Loss]]) -> list[str]:
    """A header, then one line per loss (aliases comma-separated, '' when none)."""
    out = ["\t".join(TSV_COLUMNS) + "\n"]
    for cls in entries:
        params = ", ".join(f"{flag(p.name)} {_default(p.default)}" for p in cls.param_info())
        cells = (cls.name, ",".join(cls.aliases), cls.task, params, cls.formula)
        out.append("\t".join(map(_tsv_cell, cells)) + "\n")
    return out


def detail_rows(cls: type[Loss]) -> list[tuple[str, str]]:
    """(field, value) of one loss: aliases, task, …, parameters, formula, gradient, reference."""
    rows = [
        ("aliases", ", ".join(cls.aliases) or "—"),
        ("task", cls.task),
        ("predictions", cls.takes),
        ("reductions", ", ".join(cls.reductions)),
    ]
    rows += [(flag(p.name), f"{p.doc} (default {_default(p.default)})") for p in cls.param_info()]
    rows += [
        ("loss ℓ", cls.formula),
        ("gradient ∂ℓ/∂ŷ", cls.gradient),
        ("Hessian ∂²ℓ/∂ŷ²", cls.hessian),
        ("reference", cls.reference),
    ]
    return rows


def detail_tsv_lines(cls: type[Loss]) -> list[str]:
    """One loss for a pipe: ``field<TAB>value`` lines, the name first."""
    rows = [("name", cls.name), *detail_rows(cls)]
    return [f"{_tsv_cell(k)}\t{_tsv_cell(v)}\n" for k, v in rows]


def table(entries: list[type[Loss]], console: Console) -> None:
    """The catalogue for a terminal: a table when it is wide, else one block per loss."""
    from rich.text import Text

    if console.width >= WIDE:
        _wide_table(entries, console)
    else:
        _blocks(entries, console)
    console.print(
        Text("losscli losses NAME shows a loss's gradient, Hessian and reference", style="dim")
    )


def _wide_table(entries: list[type[Loss]], console: Console) -> None:
    """Name, aliases, task, parameters, formula; widths fixed so no name or flag breaks.

    The predictions column is left to ``losscli losses NAME`` (and the
    narrow layout): six columns leave the formula too little room.
    """
    from rich.table import Table
    from rich.text import Text

    def widest(words: list[str]) -> int:
        return max([len(w) for w in words] + [1])

    fixed = {
        "name": widest([c.name for c in entries]),
        "aliases": widest([a + "," for c in entries for a in c.aliases]),
        "task": widest([w for c in entries for w in str(c.task).split()] + ["regression"]),
        "parameters": max(
            22,
            widest(
                [f"{flag(p.name)} {_default(p.default)}," for c in entries for p in c.param_info()]
            ),
        ),
    }
    rest = console.width - sum(fixed.values()) - 3 * (len(fixed) + 1) - 1
    t = Table(title=Text("losscli losses", style="bold"))
    for col, width in (*fixed.items(), ("formula", max(rest, 20))):
        t.add_column(col, width=width, no_wrap=col == "name")
    for cls in entries:
        params = "\n".join(f"{flag(p.name)} {_default(p.default)}" for p in cls.param_info())
        cells = (cls.name, ", ".join(cls.aliases) or "—", str(cls.task), params or "—")
        t.add_row(*(Text(c) for c in (*cells, cls.formula)))
    console.print(t)


def _blocks(entries: list[type[Loss]], console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    for cls in entries:
        head = Text(cls.name, style="bold")
        if cls.aliases:
            head.append(f" ({', '.join(cls.aliases)})")
        head.append(f" · {cls.task}", style="dim")
        console.print(head)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column()  # wraps at spaces under its own indent
        for label, value in (
            ("  takes", cls.takes),
            ("  params", param_text(cls)),
            ("  loss", cls.formula),
        ):
            grid.add_row(Text(label), Text(value))
        console.print(grid)


def detail(cls: type[Loss], console: Console) -> None:
    """One loss: every field, its gradient, reference, and its docstring."""
    from rich.table import Table
    from rich.text import Text

    t = Table(show_header=False, title=Text(cls.name, style="bold"))
    t.add_column("field", style="bold", no_wrap=True)
    t.add_column("value")
    for field, value in detail_rows(cls):
        t.add_row(Text(field), Text(value))
    console.print(t)
    render_compat.catalogue(cls.name, console)
    doc = inspect.getdoc(cls)
    if doc:
        console.print(Text(plain(doc)))
