"""Output of ``train``: tables and a convergence chart for people, JSON for machines.

The chart plots the objective itself on a log scale — not its excess over
the best value, which falls to zero by construction and makes a run cut
off at the epoch limit look converged — with the validation loss beside
it, the best epoch and the stop marked, and labelled axes.
"""

from __future__ import annotations

import inspect
import json
import math
from typing import TYPE_CHECKING, Any

from losscli.cli import numbers
from losscli.cli.layout import Col, print_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console

    from losscli.fit.loop import EpochRecord
    from losscli.train import TrainReport

TRAIN_MARK, VAL_MARK, BOTH_MARK, BEST_MARK = "•", "×", "◆", "┊"


def train_json(report: TrainReport) -> str:
    """The SPEC's ``train --format json`` object (plus a few extra keys)."""
    return json.dumps(train_dict(report), allow_nan=False) + "\n"


def _gap(cert: Any) -> dict[str, Any] | None:
    """The certificate as JSON: finite values only (None for a diverged fit)."""
    if cert is None:
        return None
    out: dict[str, Any] = cert.to_json()
    if not math.isfinite(out["value"]):
        out["value"] = None
    return out


def _gap_text(cert: Any) -> str:
    """``1.8e-15 (duality_gap; upper bound on objective − optimum)``."""
    if cert is None:
        return "—"
    what = "upper bound on objective − optimum" if cert.bound else "not a bound"
    return f"{cert.value:.3g} ({cert.kind}; {what})"


def train_dict(report: TrainReport) -> dict[str, Any]:
    model = report.model.to_json()
    fit = report.fit
    out = {
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
        "warnings": list(report.warnings),
        "separable": report.separable,
    }
    if report.n_validation and fit.history:
        out["final_objective"] = fit.history[-1].objective  # before the best weights came back
    return out


def _num(x: float | None, digits: int = 6) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


# --------------------------------------------------------------------------- the summary


def _optimizer_text(options: dict[str, Any], lr: float | None, ran: str = "") -> str:
    """``adam: lr 0.1, beta1 0.9, beta2 0.999, batch 32, schedule adaptive, tol 1e-05``;
    for a solver (what ``ran``, auto's choice included) only what it uses:
    ``qp: tol 1e-12, at most 500 iterations`` — no rate, schedule or patience."""
    from losscli.fit.optimizers import OPTIMIZERS

    name = ran or str(options.get("optimizer"))
    spec = OPTIMIZERS.get(name)
    if spec is not None and spec.solver:
        tol, most = numbers.setting(options.get("tol")), numbers.setting(options.get("epochs"))
        return f"{name}: tol {tol}, at most {most} iterations"
    parts = []
    if spec is not None and spec.full_batch and lr is None:
        parts.append("lr automatic (Barzilai–Borwein steps)")
    else:
        parts.append(f"lr {numbers.setting(lr if lr is not None else options.get('lr'))}")
    if spec is not None:
        signature = inspect.signature(spec.factory).parameters
        for hyper in spec.hyperparameters:
            value = options.get(hyper)
            if value is None and hyper in signature:
                value = signature[hyper].default
            if value is not None and value is not inspect.Parameter.empty:
                parts.append(f"{hyper} {numbers.setting(value)}")
        if not spec.full_batch:
            parts.append(f"batch {numbers.setting(options.get('batch_size') or 32)}")
            if options.get("average"):
                parts.append("averaged")
    parts.append(f"schedule {options.get('schedule')}")
    parts.append(f"tol {numbers.setting(options.get('tol'))}")
    parts.append(f"patience {numbers.setting(options.get('patience'))}")
    return f"{name}: " + ", ".join(parts)


def _penalty_text(options: dict[str, Any]) -> str:
    l1, l2 = options.get("l1", 0.0) or 0.0, options.get("l2", 0.0) or 0.0
    where = "standardized" if options.get("standardize", True) else "original-scale"
    text = f"l1 {numbers.setting(float(l1))}, l2 {numbers.setting(float(l2))}"
    if l1 or l2:
        text += f" (on the {where} coefficients)"
    return text


def summary_rows(report: TrainReport) -> list[tuple[str, str]]:
    """(field, value) lines of the summary box, in reading order."""
    m, fit = report.model, report.fit
    params = ", ".join(f"{k}={numbers.setting(v)}" for k, v in m.loss_params.items())
    rows = [
        ("model", f"{m.kind} ({m.link} link)"),
        ("loss", m.loss + (f" ({params})" if params else "")),
        ("target", m.target + (f" · classes {', '.join(m.classes)}" if m.classes else "")),
        ("features", f"{len(m.features)}: {', '.join(m.features)}"),
        ("optimizer", _chosen(report) + _optimizer_text(m.options, fit.lr, fit.optimizer)),
        ("penalty", _penalty_text(m.options)),
    ]
    part = numbers.plural(report.n_train, "train row")
    if report.n_validation:
        part += f", {numbers.plural(report.n_validation, 'validation row')}"
    if report.dropped:
        part += f" ({numbers.count(report.dropped)} dropped)"
    rows.append(("rows", part))
    stopped = fit.stop_reason.value
    if report.separable:
        stopped += "; separable classes: the coefficients are unbounded, see the warning"
    rows.append(("epochs", f"{numbers.count(fit.epochs)} ({stopped})"))
    if report.n_validation and fit.history:
        last = fit.history[-1]
        best = next((r for r in fit.history if r.epoch == fit.best_epoch), None)
        rows.append(
            (
                "objective",
                f"final {numbers.human(last.objective)} at epoch {numbers.count(last.epoch)}"
                f" (validation loss {numbers.maybe(last.val_loss)})",
            )
        )
        if best is not None:
            rows.append(
                (
                    "kept",
                    f"best epoch {numbers.count(best.epoch)}: objective "
                    f"{numbers.human(fit.objective)}, validation loss "
                    f"{numbers.maybe(best.val_loss)} (its weights were restored)",
                )
            )
    else:
        rows.append(("objective", numbers.human(fit.objective)))
    rows.append(("gap", _gap_text(fit.certificate)))
    rows.append(("time", f"{report.seconds:.3f} s"))
    return rows


def _chosen(report: TrainReport) -> str:
    """``auto → newton (why)``, when auto chose (solvers)."""
    fit = report.fit
    return f"auto → {fit.optimizer} ({fit.choice}) · " if fit.choice else ""


def train_tables(report: TrainReport, console: Console, *, curve: bool) -> None:
    """Summary, coefficients, metrics and (on a terminal) the convergence chart."""
    from rich.table import Table
    from rich.text import Text

    m, fit = report.model, report.fit
    summary = Table(show_header=False, title=Text("losscli train", style="bold"))
    summary.add_column("", style="bold", no_wrap=True)
    summary.add_column("")
    for field, value in summary_rows(report):
        summary.add_row(Text(field), Text(value))
    console.print(summary)

    if m.coef.ndim == 1:
        cols = [Col("feature", "left", key=True), Col("coefficient")]
        rows = [
            [name, numbers.human(c)] for name, c in zip(m.features, m.coef.tolist(), strict=True)
        ]
        rows.append(["(intercept)", numbers.human(float(m.intercept[0]))])
    else:
        cols = [Col("feature", "left", key=True), *(Col(c) for c in m.classes or ())]
        rows = [
            [name, *(numbers.human(c) for c in row)]
            for name, row in zip(m.features, m.coef.tolist(), strict=True)
        ]
        rows.append(["(intercept)", *(numbers.human(c) for c in m.intercept.tolist())])
    print_table(console, cols, rows, title="coefficients", caption="original feature scale")

    if report.metrics:
        parts = list(report.metrics)
        cols = [Col("metric", "left", key=True), *(Col(p) for p in parts)]
        rows = [
            [key, *(numbers.maybe(report.metrics[p].get(key)) for p in parts)]
            for key in report.metrics[parts[0]]
        ]
        print_table(console, cols, rows, title="metrics")
    if curve and len(fit.history) > 1:
        lines = convergence_chart(
            fit.history,
            best_epoch=fit.best_epoch if report.n_validation else None,
            stop=fit.stop_reason.value,
            width=min(console.width, 100),
        )
        for line in lines:
            console.print(Text(line), no_wrap=True, crop=False)


# --------------------------------------------------------------------------- the chart


def _ticks(exponents: Sequence[float]) -> list[str]:
    """Axis labels at 10^e: two significant digits, or as many more as keep them apart
    (19.6 … 21 on a log axis would otherwise read 20, 20, 21)."""
    for digits in range(2, numbers.SIGNIFICANT + 1):
        labels = [numbers.human(float(f"{10**e:.{digits}g}")) for e in exponents]
        if len(set(labels)) == len(labels):
            return labels
    return labels


def convergence_chart(
    history: Sequence[EpochRecord],
    *,
    best_epoch: int | None,
    stop: str,
    width: int = 80,
    height: int = 10,
) -> list[str]:
    """The objective per epoch (and the validation loss), log scale, as text lines.

    ``•`` train objective, ``×`` validation loss, ``◆`` both in one cell; a
    ``┊`` column marks the best (kept) epoch; the x axis runs from epoch 1 to
    the stop, with both ends labelled.
    """
    series = [[r.objective for r in history]]
    if any(r.val_loss is not None for r in history):
        series.append([math.nan if r.val_loss is None else r.val_loss for r in history])
    positive = [v for s in series for v in s if math.isfinite(v) and v > 0]
    if len(history) < 2 or not positive:
        return []
    low, high = math.log10(min(positive)), math.log10(max(positive))
    if high - low < 1e-9:  # flat: a decade around the value
        low, high = low - 0.5, high + 0.5
    floor = low - (high - low) / max(height - 1, 1)  # zeros sit on the bottom row
    rows = (height - 1, (height - 1) // 2, 0)
    labels = dict(zip(rows, _ticks((high, (low + high) / 2, low)), strict=True))
    label_width = max(len(t) for t in labels.values())
    n = len(history)
    cols = max(2, min(60, width - label_width - 2))
    if n >= cols:  # one column per stretch of epochs, first and last included
        points = [(c, round(c * (n - 1) / (cols - 1))) for c in range(cols)]
    else:  # fewer epochs than columns: spread them out
        cols = max(2, min(cols, 6 * (n - 1) + 1))
        points = [(round(i * (cols - 1) / (n - 1)), i) for i in range(n)]
    grid = [[" "] * cols for _ in range(height)]

    def row_of(v: float) -> int | None:
        if not math.isfinite(v):
            return None
        e = math.log10(v) if v > 0 else floor
        return max(0, min(height - 1, round((max(e, low) - low) / (high - low) * (height - 1))))

    best_col = None
    if best_epoch is not None:
        best_col = min(points, key=lambda p: abs(history[p[1]].epoch - best_epoch))[0]
        for line in grid:
            line[best_col] = BEST_MARK
    for k, values in enumerate(series):
        mark = TRAIN_MARK if k == 0 else VAL_MARK
        for c, i in points:
            at = row_of(values[i])
            if at is None:
                continue
            cell = grid[at][c]
            grid[at][c] = BOTH_MARK if cell in (TRAIN_MARK, VAL_MARK) and cell != mark else mark
    lines = ["objective per epoch (log scale)"]
    for r in range(height - 1, -1, -1):
        label = labels.get(r, "")
        axis = "┤" if r in labels else "│"
        lines.append(f"{label:>{label_width}} {axis}{''.join(grid[r])}")
    lines.append(" " * label_width + " └" + "─" * cols)
    first, last = str(history[0].epoch), str(history[-1].epoch)
    ticks = [" "] * (cols + len(last))
    ticks[: len(first)] = first
    ticks[cols - len(last) : cols] = last
    if best_col is not None and best_epoch is not None:
        b = str(best_epoch)
        start = min(max(best_col - len(b) // 2, len(first) + 1), cols - len(last) - len(b) - 1)
        if start > len(first):
            ticks[start : start + len(b)] = b
    lines.append(" " * (label_width + 2) + "".join(ticks).rstrip() + "  epoch")
    items = [f"{TRAIN_MARK} train objective"]
    if len(series) > 1:
        items.append(f"{VAL_MARK} validation loss")
    if best_epoch is not None:
        items.append(f"{BEST_MARK} best epoch {numbers.count(best_epoch)} (kept)")
    items.append(f"stop: epoch {numbers.count(history[-1].epoch)} ({stop})")
    legend = items[0]
    for item in items[1:]:  # wrapped between items, never inside one
        if len(legend) + 2 + len(item) > width:
            lines.append(legend)
            legend = item
        else:
            legend += "  " + item
    lines.append(legend)
    return lines


def history_lines(report: TrainReport) -> list[str]:
    """``--history``: one CSV row per epoch."""
    out = ["epoch,objective,loss,val_loss,lr,seconds\n"]
    for r in report.fit.history:
        val = "" if r.val_loss is None else repr(r.val_loss)
        lr = "" if math.isnan(r.lr) else repr(r.lr)  # the solvers have no learning rate
        out.append(f"{r.epoch},{r.objective!r},{r.loss!r},{val},{lr},{r.seconds!r}\n")
    return out
