"""Output of ``train``: tables and a loss curve for people, JSON for machines."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console

    from losscli.train import TrainReport

BLOCKS = " ▁▂▃▄▅▆▇█"


def train_json(report: TrainReport) -> str:
    """The SPEC's ``train --format json`` object (plus a few extra keys)."""
    return json.dumps(train_dict(report), allow_nan=False) + "\n"


def train_dict(report: TrainReport) -> dict[str, Any]:
    model = report.model.to_json()
    fit = report.fit
    return {
        "model": model["kind"],
        "link": model["link"],
        "loss": model["loss"]["name"],
        "params": model["loss"]["params"],
        "target": model["target"],
        "features": model["features"],
        "classes": model["classes"],
        "coef": model["coef"],
        "intercept": model["intercept"],
        "epochs": fit.epochs,
        "best_epoch": fit.best_epoch,
        "stop_reason": fit.stop_reason.value,
        "objective": fit.objective,
        # solvers hook: the method that ran (auto's choice and why) and the certificate
        "optimizer": fit.optimizer,
        "optimizer_choice": fit.choice or None,
        "gap": _gap(fit.certificate),
        "metrics": report.metrics,
        "options": model["options"],
        "n_train": report.n_train,
        "n_validation": report.n_validation,
        "dropped": report.dropped,
        "seconds": report.seconds,
    }


def _gap(cert: Any) -> dict[str, Any] | None:
    """The certificate as JSON: finite values only (None for a diverged fit)."""
    if cert is None:
        return None
    out: dict[str, Any] = cert.to_json()
    if not math.isfinite(out["value"]):
        out["value"] = None
    return out


def _gap_text(cert: Any) -> str:
    if cert is None:
        return "—"
    what = "upper bound on objective − optimum" if cert.bound else "not a bound"
    return f"{_num(cert.value, 3)} ({cert.kind}; {what})"


def _num(x: float | None, digits: int = 6) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


def train_tables(report: TrainReport, console: Console, *, curve: bool) -> None:
    """Summary, coefficients, metrics and (on a terminal) the loss curve."""
    from rich.table import Table

    m, fit = report.model, report.fit
    summary = Table(show_header=False, title="losscli train")
    summary.add_column("", style="bold")
    summary.add_column("")
    params = ", ".join(f"{k}={v}" for k, v in m.loss_params.items() if v is not None)
    summary.add_row("model", f"{m.kind} ({m.link} link)")
    summary.add_row("loss", m.loss + (f" ({params})" if params else ""))
    chosen = fit.optimizer or str(m.options.get("optimizer"))
    if fit.choice:
        chosen = f"auto → {chosen} ({fit.choice})"
    summary.add_row("optimizer", chosen)
    summary.add_row(
        "rows",
        f"{report.n_train} train"
        + (f", {report.n_validation} validation" if report.n_validation else ""),
    )
    summary.add_row("epochs", f"{fit.epochs} ({fit.stop_reason.value})")
    summary.add_row("objective", _num(fit.objective, 10))
    summary.add_row("gap", _gap_text(fit.certificate))
    summary.add_row("time", f"{report.seconds:.3f} s")
    console.print(summary)

    coefs = Table(title="coefficients", caption="original feature scale")
    coefs.add_column("feature")
    if m.coef.ndim == 1:
        coefs.add_column("coefficient", justify="right")
        for name, c in zip(m.features, m.coef.tolist(), strict=True):
            coefs.add_row(name, _num(c, 8))
        coefs.add_row("[italic]intercept[/italic]", _num(float(m.intercept[0]), 8))
    else:
        for cls in m.classes or ():
            coefs.add_column(cls, justify="right")
        for name, row in zip(m.features, m.coef.tolist(), strict=True):
            coefs.add_row(name, *(_num(c, 8) for c in row))
        coefs.add_row("[italic]intercept[/italic]", *(_num(c, 8) for c in m.intercept.tolist()))
    console.print(coefs)

    if report.metrics:
        table = Table(title="metrics")
        table.add_column("metric")
        parts = list(report.metrics)
        for part in parts:
            table.add_column(part, justify="right")
        for key in report.metrics[parts[0]]:
            table.add_row(key, *(_num(report.metrics[p].get(key)) for p in parts))
        console.print(table)
    if curve and len(fit.history) > 1:
        console.print(loss_curve([r.objective for r in fit.history]))


def loss_curve(values: Sequence[float], *, width: int = 60, height: int = 8) -> str:
    """A block chart of the objective's excess over its best value, log scale.

    Convergence shows as a falling line (a straight one when it is linear),
    where a plain chart would be one cliff at epoch 1 and then flat.
    """
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < 2:
        return ""
    best = min(finite)
    floor = 1e-15 * max(1.0, abs(best))
    excess = [math.log10(max(v - best, floor)) for v in finite]
    n, w = len(excess), min(width, len(excess))
    cols = [excess[round(i * (n - 1) / (w - 1))] for i in range(w)]  # first and last included
    above = [c for c in cols if c > math.log10(floor)]  # the best itself has no excess
    low, high = (min(above), max(above)) if above else (math.log10(floor), math.log10(floor))
    cols = [max(c, low) for c in cols]
    span = high - low or 1.0
    units = [round((v - low) / span * (height * 8 - 1)) + 1 for v in cols]
    lines = [
        "│" + "".join(BLOCKS[min(8, max(0, u - row * 8))] for u in units)
        for row in range(height - 1, -1, -1)
    ]
    header = (
        f"objective {finite[0]:.6g} → {finite[-1]:.6g}; "
        f"chart: excess over the best, 1e{high:.0f} … 1e{low:.0f} (log scale)"
    )
    footer = "└" + "─" * len(cols) + f" epoch {len(values)}"
    return "\n".join([header, *lines, footer])


def history_lines(report: TrainReport) -> list[str]:
    """``--history``: one CSV row per epoch."""
    out = ["epoch,objective,loss,val_loss,lr,seconds\n"]
    for r in report.fit.history:
        val = "" if r.val_loss is None else repr(r.val_loss)
        lr = "" if math.isnan(r.lr) else repr(r.lr)  # the solvers have no learning rate
        out.append(f"{r.epoch},{r.objective!r},{r.loss!r},{val},{lr},{r.seconds!r}\n")
    return out
