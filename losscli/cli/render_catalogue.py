"""``losscli losses``: the catalogue, drawn from the registry (no NumPy needed)."""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any

from losscli.cli import render_compat

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.losses import Loss


def _param_text(cls: type[Loss]) -> str:
    parts = []
    for p in cls.param_info():
        default = "none" if p.default is None else f"{p.default:g}"
        parts.append(f"--{p.name.replace('_', '-')} {default}")
    return ", ".join(parts) or "—"


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
            {
                "name": p.name,
                "flag": "--" + p.name.replace("_", "-"),
                "default": p.default,
                "help": p.doc,
            }
            for p in cls.param_info()
        ],
        "formula": cls.formula,
        "gradient": cls.gradient,
        "reference": cls.reference,
    }


def as_json(entries: list[type[Loss]]) -> str:
    return json.dumps([entry(cls) for cls in entries], ensure_ascii=False, indent=2)


def table(entries: list[type[Loss]], console: Console) -> None:
    from rich.table import Table

    t = Table(title="losscli losses", show_lines=False)
    for col in ("name", "aliases", "task", "predictions", "parameters", "formula"):
        t.add_column(col, overflow="fold")
    for cls in entries:
        t.add_row(
            cls.name,
            ", ".join(cls.aliases) or "—",
            cls.task,
            cls.takes,
            _param_text(cls),
            cls.formula,
        )
    console.print(t)
    console.print("[dim]losscli losses NAME shows a loss's gradient and reference[/dim]")


def detail(cls: type[Loss], console: Console) -> None:
    from rich.table import Table

    t = Table(show_header=False, title=cls.name)
    t.add_column("field", style="bold")
    t.add_column("value", overflow="fold")
    t.add_row("aliases", ", ".join(cls.aliases) or "—")
    t.add_row("task", cls.task)
    t.add_row("predictions", cls.takes)
    t.add_row("reductions", ", ".join(cls.reductions))
    for p in cls.param_info():
        default = "none" if p.default is None else f"{p.default:g}"
        t.add_row(f"--{p.name.replace('_', '-')}", f"{p.doc} (default {default})")
    t.add_row("loss ℓ", cls.formula)
    t.add_row("gradient ∂ℓ/∂ŷ", cls.gradient)
    t.add_row("reference", cls.reference)
    console.print(t)
    render_compat.catalogue(cls.name, console)
    doc = inspect.getdoc(cls)
    if doc:
        console.print(doc)
