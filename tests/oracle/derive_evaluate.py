"""Print the scikit-learn D² goldens of tests/test_evaluate_baseline.py.

    /work/oracle-venv/bin/python tests/oracle/derive_evaluate.py

scikit-learn 1.9.1: r2_score (mse), d2_absolute_error_score (mae),
d2_pinball_score (quantile), d2_log_loss_score (bce, cross_entropy),
d2_brier_score (brier), d2_tweedie_score (tweedie), on the
arrays of tests/evaluate_inputs.py, with and without sample weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sklearn import metrics

from tests import evaluate_inputs as inputs


def main() -> None:
    out = {}
    for weighted in (False, True):
        tag = "weighted" if weighted else "plain"
        y, p, w = inputs.regression(weighted)
        out[f"mse-{tag}"] = metrics.r2_score(y, p, sample_weight=w)
        out[f"mae-{tag}"] = metrics.d2_absolute_error_score(y, p, sample_weight=w)
        for q in (0.1, 0.3, 0.5, 0.9):
            out[f"quantile{q}-{tag}"] = metrics.d2_pinball_score(y, p, alpha=q, sample_weight=w)
        y, p, w = inputs.binary(weighted)
        out[f"bce-{tag}"] = metrics.d2_log_loss_score(y, p, sample_weight=w)
        out[f"brier-{tag}"] = metrics.d2_brier_score(y, p, sample_weight=w)
        y, p, w = inputs.positive(weighted)
        for power in (1.0, 1.5, 2.0):
            out[f"tweedie{power}-{tag}"] = metrics.d2_tweedie_score(
                y, p, sample_weight=w, power=power
            )
        y, p, w = inputs.multiclass(weighted)
        out[f"cross_entropy-{tag}"] = metrics.d2_log_loss_score(y, p, sample_weight=w)
        out[f"brier_mc-{tag}"] = metrics.d2_brier_score(y, p, sample_weight=w)
    print("SKLEARN_D2 = {")
    for key, value in out.items():
        print(f"    {key!r}: {float(value)!r},")
    print("}")


if __name__ == "__main__":
    main()
