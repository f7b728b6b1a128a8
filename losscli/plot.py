"""Figures for ``--plot FILE`` (.png, .svg, .pdf), drawn with matplotlib.

matplotlib is an optional extra (``pip install 'losscli[plot]'``): it is
imported only when a figure is asked for, with the Agg backend (no display
needed), and its absence is a clear usage error, never a traceback.

* ``train --plot``: the objective per epoch (log scale) with the
  validation loss, the best epoch and the stop marked; the coefficients.
* ``compute --plot``: for regression losses, predicted against true with
  the identity line, and the histogram of residuals; for classification,
  the reliability diagram (mean predicted probability against the observed
  frequency, per bin) over a histogram of the predicted probabilities, and
  the ROC curve with its area.  Raw-score losses (hinge) have no
  probabilities: their left panel is the histogram of scores per class.
"""

from __future__ import annotations

import io
import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli.errors import InputError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from losscli.compute import ComputeReport
    from losscli.train import TrainReport

    Array = NDArray[Any]

EXTENSIONS = (".png", ".svg", ".pdf")
MAX_POINTS = 1_000_000  # rows a figure holds; more are thinned by an even stride
SCATTER_POINTS = 20_000  # points in a scatter (more is one blot, and a slow SVG)
BINS = 10  # of the reliability diagram


def check_target(path: str) -> None:
    """Fail early (before any work) on a file type matplotlib will not write, or no matplotlib."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        raise InputError(
            f"--plot {path}: cannot tell the figure type from {ext or 'no extension'!r}",
            f"end the file name in {', '.join(EXTENSIONS)}",
        )
    _pyplot()


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise InputError(
            "--plot needs matplotlib, which is not installed",
            "pip install 'losscli[plot]'  (or: pip install matplotlib)",
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str) -> None:
    """Render the figure in memory, then write it through the one output mechanism.

    :func:`losscli.io.atomic.atomic_binary_output` is what ``--grad-out``,
    ``--save`` and ``--history`` use: the path was checked before any input
    was read, the file is staged and renamed into place only once stdout was
    written too, a symlink is followed, a device or FIFO is written directly,
    and an existing file keeps its permission bits.  Rendering first means a
    matplotlib failure never opens the target.
    """
    from losscli.io.atomic import atomic_binary_output

    buffer = io.BytesIO()
    try:
        fig.savefig(
            buffer, format=os.path.splitext(path)[1].lower()[1:], dpi=110, bbox_inches="tight"
        )
    finally:
        _pyplot().close(fig)
    with atomic_binary_output(path) as handle:
        handle.write(buffer.getvalue())


# --------------------------------------------------------------------------- train


def train_figure(report: TrainReport, path: str) -> None:
    """Objective and validation loss per epoch (log scale), and the coefficients."""
    plt = _pyplot()
    fit, model = report.fit, report.model
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    epochs = [r.epoch for r in fit.history]
    objective = [r.objective for r in fit.history]
    left.plot(epochs, _positive(objective), color="C0", label="train objective")
    if any(r.val_loss is not None for r in fit.history):
        val = [math.nan if r.val_loss is None else r.val_loss for r in fit.history]
        left.plot(epochs, _positive(val), color="C1", label="validation loss")
        left.axvline(fit.best_epoch, color="C2", ls="--", label=f"best epoch {fit.best_epoch}")
    if epochs:
        left.axvline(epochs[-1], color="0.4", ls=":", label=f"stop ({fit.stop_reason.value})")
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel("objective (log scale)")
    left.set_title(f"{model.loss}: objective per epoch")
    left.legend(fontsize=8)
    left.grid(True, which="both", alpha=0.3)

    coef = np.atleast_2d(model.coef.T).T if model.coef.ndim == 1 else model.coef
    names = list(model.features)
    ypos = np.arange(len(names))
    k = coef.shape[1]
    height = 0.8 / k
    for j in range(k):
        label = model.classes[j] if model.classes and k > 1 else None
        right.barh(ypos + (j - (k - 1) / 2) * height, coef[:, j], height=height, label=label)
    right.set_yticks(ypos, names, fontsize=7 if len(names) > 12 else 9)
    right.invert_yaxis()
    right.axvline(0, color="0.3", lw=0.8)
    right.set_xlabel("coefficient (original feature scale)")
    right.set_title(
        "coefficients" + (" (unbounded: separable classes)" if report.separable else "")
    )
    if k > 1:
        right.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def _positive(values: list[float]) -> list[float]:
    """A log axis cannot show 0: exact zeros become gaps."""
    return [v if v > 0 else math.nan for v in values]


# --------------------------------------------------------------------------- compute


def _gather(report: ComputeReport) -> tuple[Array, Array]:
    """Every row's (y_true, y_pred) from pass 2, thinned to MAX_POINTS by an even stride."""
    stride = max(1, math.ceil(report.n / MAX_POINTS))
    trues, preds = [], []
    seen = 0
    from losscli.compute import samples

    for chunk in samples(report):
        start = (-seen) % stride
        trues.append(chunk.y_true[start::stride])
        preds.append(chunk.y_pred[start::stride])
        seen += len(chunk.rows)
    return np.concatenate(trues), np.concatenate(preds)


def compute_figure(report: ComputeReport, path: str) -> None:
    """Regression: predicted vs true and residuals; classification: reliability and ROC."""
    plt = _pyplot()
    loss = report.summaries[0].loss
    y_true, y_pred = _gather(report)
    if loss.task in ("regression", "counts"):
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
        _regression(left, right, y_true, y_pred, log_rates=report.predictions == "logit")
    else:
        fig = plt.figure(figsize=(11, 5))
        grid = fig.add_gridspec(2, 2, height_ratios=(3, 1))
        left, below = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])
        right = fig.add_subplot(grid[:, 1])
        _classification(left, below, right, y_true, y_pred, report, loss.logit_space == "always")
    fig.suptitle(f"{', '.join(s.loss.name for s in report.summaries)} · {report.n:,} rows")
    fig.tight_layout()
    _save(fig, path)


def _regression(left: Any, right: Any, y: Array, p: Array, *, log_rates: bool) -> None:
    if log_rates:
        p = np.exp(p)
    step = max(1, len(y) // SCATTER_POINTS)
    left.scatter(y[::step], p[::step], s=6, alpha=0.5)
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    left.plot([lo, hi], [lo, hi], color="C3", lw=1, label="predicted = true")
    left.set_xlabel("true value")
    left.set_ylabel("predicted value")
    left.set_title("predicted against true")
    left.legend(fontsize=8)
    residual = p - y
    right.hist(residual, bins=min(60, max(10, int(math.sqrt(len(y))))), color="C0")
    right.axvline(0, color="C3", lw=1)
    right.set_xlabel("residual (predicted − true)")
    right.set_ylabel("rows")
    right.set_title(f"residuals: mean {residual.mean():.4g}, sd {residual.std():.4g}")


def _probabilities(y_pred: Array, space: str) -> Array:
    if space != "logit":
        return y_pred
    if y_pred.ndim == 1:
        out: Array = 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # σ(x) without overflow
        return out
    z = y_pred - y_pred.max(axis=1, keepdims=True)
    e = np.exp(z)
    soft: Array = e / e.sum(axis=1, keepdims=True)
    return soft


def _binary_view(y_true: Array, y_pred: Array) -> tuple[Array, Array, str]:
    """(0/1 outcome, score, what the score is): the positive class, or the top class's hit."""
    if y_pred.ndim == 1:
        return (y_true > 0).astype(np.float64), y_pred, "P(y = 1)"
    truth = np.argmax(y_true, axis=1) if y_true.ndim == 2 else y_true.astype(np.int64)
    top = np.argmax(y_pred, axis=1)
    return (top == truth).astype(np.float64), y_pred.max(axis=1), "top-class probability"


def roc_curve(outcome: Array, score: Array) -> tuple[Array, Array, float]:
    """False- and true-positive rates over every threshold (ties as one step), and the AUC."""
    order = np.argsort(-score, kind="mergesort")
    s, o = score[order], outcome[order]
    distinct = np.flatnonzero(np.diff(s)) if len(s) > 1 else np.zeros(0, np.int64)
    cut = np.concatenate([distinct, [len(s) - 1]])
    tp = np.cumsum(o)[cut]
    fp = (cut + 1) - tp
    pos, neg = float(o.sum()), float(len(o) - o.sum())
    tpr = np.concatenate([[0.0], tp / pos]) if pos else np.zeros(len(cut) + 1)
    fpr = np.concatenate([[0.0], fp / neg]) if neg else np.zeros(len(cut) + 1)
    auc = float(np.trapezoid(tpr, fpr)) if pos and neg else math.nan
    return fpr, tpr, auc


def reliability(outcome: Array, prob: Array, bins: int = BINS) -> tuple[Array, Array, Array]:
    """Per equal-width bin of predicted probability: mean prediction, observed rate, count."""
    which = np.clip((prob * bins).astype(np.int64), 0, bins - 1)
    count = np.bincount(which, minlength=bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(which, weights=prob, minlength=bins) / count
        rate = np.bincount(which, weights=outcome, minlength=bins) / count
    return mean_p, rate, count


def _classification(
    left: Any,
    below: Any,
    right: Any,
    y_true: Array,
    y_pred: Array,
    report: ComputeReport,
    raw_scores: bool,
) -> None:
    """Reliability diagram over the histogram of predictions (left), ROC curve(s) (right)."""
    if raw_scores:  # hinge and kin: scores, not probabilities
        outcome, score = (y_true > 0).astype(np.float64), y_pred
        for value, name in ((0.0, "negative"), (1.0, "positive")):
            left.hist(score[outcome == value], bins=40, alpha=0.6, label=f"{name} rows")
        left.set_ylabel("rows")
        left.set_title("raw scores per class (no probabilities: no reliability diagram)")
        left.legend(fontsize=8)
        below.hist(score, bins=40, color="C1")
        below.set_xlabel("raw score")
        below.set_ylabel("rows")
        curves = [("positive class", outcome, score)]
    else:
        prob = _probabilities(y_pred, report.predictions)
        outcome, score, what = _binary_view(y_true, prob)
        mean_p, rate, count = reliability(outcome, score)
        left.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="perfectly calibrated")
        seen = count > 0
        left.plot(mean_p[seen], rate[seen], "o-", color="C0", label="observed")
        left.set_xlim(0, 1)
        left.set_ylim(0, 1)
        left.set_ylabel("observed frequency" if prob.ndim == 1 else "accuracy")
        left.set_title(f"reliability diagram ({BINS} bins)")
        left.legend(fontsize=8, loc="upper left")
        below.hist(score, bins=BINS * 2, range=(0, 1), color="C1")
        below.set_xlim(0, 1)
        below.set_xlabel(f"predicted {what}")
        below.set_ylabel("rows")
        if prob.ndim == 1:
            curves = [("positive class", outcome, score)]
        else:  # one-vs-rest per class
            truth = np.argmax(y_true, axis=1) if y_true.ndim == 2 else y_true.astype(np.int64)
            names = report.columns.classes or tuple(str(j) for j in range(prob.shape[1]))
            curves = [
                (str(name), (truth == j).astype(np.float64), prob[:, j])
                for j, name in enumerate(names)
            ]
    for name, hit, s in curves:
        fpr, tpr, auc = roc_curve(hit, s)
        label = f"AUC {auc:.4f}" if len(curves) == 1 else f"{name} vs rest: AUC {auc:.4f}"
        right.plot(fpr, tpr, label=label)
    right.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="chance")
    right.set_xlabel("false positive rate")
    right.set_ylabel("true positive rate")
    right.set_title("ROC curve")
    right.legend(fontsize=8, loc="lower right")
