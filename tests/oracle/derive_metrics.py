"""Derive the golden metric values in tests/metric_cases.py (needs scikit-learn 1.9).

Run from the repository root:
    /work/oracle-venv/bin/python tests/oracle/derive_metrics.py   # rewrites tests/metric_cases.py
Each case is seeded; the values are scikit-learn's functions of the same names
(ece, which scikit-learn lacks, is NumPy: equal-width bins over max-probability
confidence). The script also asserts that losscli's metrics agree to 1e-12.
"""

from __future__ import annotations

import random
import sys
import zlib
from pathlib import Path

import numpy as np
import sklearn
import sklearn.metrics as skm

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from losscli.fit.metrics import METRICS, MetricOptions  # noqa: E402

OUT = ROOT / "tests" / "metric_cases.py"
REG = ["mse", "mae", "r2", "explained_variance", "max_error", "median_absolute_error",
       "d2_absolute_error"]  # fmt: skip
CLS = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "matthews_corrcoef",
       "roc_auc", "average_precision", "log_loss", "brier", "zero_one", "ece"]  # fmt: skip


def ece(y: np.ndarray, p: np.ndarray, w: np.ndarray | None, bins: int) -> float:
    probs = np.column_stack([1 - p, p]) if p.ndim == 1 else p
    conf = probs.max(1)
    correct = (probs.argmax(1) == y).astype(float)
    ww = np.ones(len(y)) if w is None else w
    total = 0.0
    edges = np.linspace(0, 1, bins + 1)
    for b in range(bins):
        inside = (conf > edges[b]) & (conf <= edges[b + 1])
        if b == 0:
            inside |= conf == 0
        if inside.any():
            total += abs(float(ww[inside] @ correct[inside]) - float(ww[inside] @ conf[inside]))
    return float(total / ww.sum())


def sk_value(name: str, y, p, w, t: float, bins: int) -> float:
    if name in REG:
        fn = {"mse": skm.mean_squared_error, "mae": skm.mean_absolute_error,
              "r2": skm.r2_score, "explained_variance": skm.explained_variance_score,
              "max_error": skm.max_error, "median_absolute_error": skm.median_absolute_error,
              "d2_absolute_error": skm.d2_absolute_error_score}[name]  # fmt: skip
        return float(fn(y, p) if name == "max_error" else fn(y, p, sample_weight=w))
    k = 2 if p.ndim == 1 else p.shape[1]
    labels = list(range(k))
    pred = (p > t).astype(int) if p.ndim == 1 else p.argmax(1)
    avg = "binary" if k == 2 else "macro"
    if name == "accuracy":
        return float(skm.accuracy_score(y, pred, sample_weight=w))
    if name == "zero_one":
        return float(skm.zero_one_loss(y, pred, sample_weight=w))
    if name == "balanced_accuracy":
        return float(skm.balanced_accuracy_score(y, pred, sample_weight=w))
    if name in ("precision", "recall", "f1"):
        fn = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}
        return float(fn[name](y, pred, average=avg, sample_weight=w, zero_division=0))
    if name == "matthews_corrcoef":
        return float(skm.matthews_corrcoef(y, pred, sample_weight=w))
    if name == "roc_auc":
        if p.ndim == 1:
            return float(skm.roc_auc_score(y, p, sample_weight=w))
        return float(skm.roc_auc_score(y, p, multi_class="ovr", labels=labels, sample_weight=w))
    if name == "average_precision":
        if p.ndim == 1:
            return float(skm.average_precision_score(y, p, sample_weight=w))
        onehot = np.eye(k)[y]
        return float(skm.average_precision_score(onehot, p, average="macro", sample_weight=w))
    if name == "log_loss":
        return float(skm.log_loss(y, p, labels=labels, sample_weight=w))
    if name == "brier":
        return float(skm.brier_score_loss(y, p, labels=labels, sample_weight=w))
    assert name == "ece"
    return ece(y, p, w, bins)


def cases() -> list[dict]:
    out = []
    for task, names in (("regression", REG), ("binary", CLS), ("multi", CLS)):
        for weighted in (False, True):
            for variant in range(2):
                cid = f"{task}-{'weighted' if weighted else 'plain'}-{variant}"
                rng = random.Random(zlib.crc32(cid.encode()))
                n = rng.randint(8, 14)
                w = [round(rng.uniform(0.2, 3.0), 2) for _ in range(n)] if weighted else None
                if task == "regression":
                    y = [round(rng.uniform(-3, 5), 2) for _ in range(n)]
                    p = [round(v + rng.uniform(-2, 2), 2) for v in y]
                elif task == "binary":
                    y = [rng.randint(0, 1) for _ in range(n)]
                    y[0], y[1] = 0, 1
                    p = [round(rng.uniform(0.01, 0.99), 2) for _ in range(n)]  # ties on purpose
                else:
                    y = [rng.randrange(3) for _ in range(n)]
                    y[:3] = [0, 1, 2]
                    p = []
                    for _ in range(n):
                        a = [rng.uniform(0.05, 1) for _ in range(3)]
                        p.append([v / sum(a) for v in a])
                t = 0.5 if variant == 0 else 0.3
                bins = 10 if variant == 0 else 4
                out.append({"id": cid, "names": names, "y": y, "p": p, "w": w, "threshold": t,
                            "bins": bins})  # fmt: skip
    return out


def main() -> int:
    rows = []
    for c in cases():
        y, p = np.asarray(c["y"]), np.asarray(c["p"], dtype=float)
        w = None if c["w"] is None else np.asarray(c["w"], dtype=float)
        values = {}
        for name in c["names"]:
            v = sk_value(name, y, p, w, c["threshold"], c["bins"])
            opts = MetricOptions(threshold=c["threshold"], bins=c["bins"])
            score = METRICS[name].score
            assert score is not None
            mine = score(y.astype(float), p, w, opts)
            assert mine is not None and abs(mine - v) <= 1e-12 * max(1.0, abs(v)), (
                c["id"],
                name,
                mine,
                v,
            )
            values[name] = v
        rows.append({**{k: c[k] for k in ("id", "y", "p", "w", "threshold", "bins")},
                     "values": values})  # fmt: skip
    text = (
        "# GENERATED by tests/oracle/derive_metrics.py; do not edit by hand.\n"
        f"# scikit-learn {sklearn.__version__} metrics (ece: NumPy, equal-width bins).\n"
        '"""Golden metric values: sklearn 1.9 functions of the same name."""\n\n'
        "from typing import Any\n\n"
        f"CASES: list[dict[str, Any]] = {rows!r}\n"
    )
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(rows)} cases to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
