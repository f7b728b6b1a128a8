"""--bootstrap with --metric: an interval for every metric, seeded and reproducible."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from losscli.cli import cli
from losscli.compute import ComputeRequest, run_compute
from losscli.evaluate import EvaluateOptions
from losscli.evaluate.metric_intervals import metric_intervals, replicate_counts
from losscli.fit.metrics import MetricOptions, score_metrics
from losscli.losses import make_loss


def _write(tmp_path, n=400, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    p = y + rng.normal(scale=0.5, size=n)
    path = tmp_path / "reg.csv"
    lines = (f"{a!r},{b!r}\n" for a, b in zip(y.tolist(), p.tolist(), strict=True))
    path.write_text("y_true,y_pred\n" + "".join(lines))
    return path


def test_metric_interval_contains_value_and_repeats(tmp_path):
    path = _write(tmp_path)
    args = ["compute", "--metric", "r2,mae", "--bootstrap", "200", "--seed", "7", "-f", "json"]
    first = CliRunner().invoke(cli, [*args, str(path)])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli, [*args, str(path)])
    other = CliRunner().invoke(cli, [*args[:-3], "8", "-f", "json", str(path)])
    out = json.loads(first.stdout)
    for name in ("r2", "mae"):
        ci = out["metrics_ci"][name]
        assert ci["low"] < out["metrics"][name] < ci["high"]
        assert (ci["level"], ci["replicates"]) == (0.95, 200)
        assert ci["method"].startswith("poisson bootstrap")
    assert json.loads(again.stdout)["metrics_ci"] == out["metrics_ci"]
    assert json.loads(other.stdout)["metrics_ci"]["r2"] != out["metrics_ci"]["r2"]
    assert out["seed"] == 7


def test_metric_interval_does_not_depend_on_block_size(tmp_path):
    path = _write(tmp_path, n=300)
    o = EvaluateOptions(replicates=50, seed=3)
    base = dict(source=str(path), losses=(make_loss("mse"),), metrics=("r2",), evaluate=o)
    whole = run_compute(ComputeRequest(**base))
    tiny = run_compute(ComputeRequest(**base, block_bytes=64))
    assert whole.metric_intervals == tiny.metric_intervals
    assert whole.metric_intervals["r2"] is not None


def test_metric_rows_and_interval_in_tsv_beside_losses(tmp_path):
    path = _write(tmp_path, n=100)
    r = CliRunner().invoke(
        cli, ["compute", "-l", "mse", "--metric", "r2", "--bootstrap", "50", "-f", "tsv", str(path)]
    )
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert lines[0] == ["loss", "reduction", "value", "ci_low", "ci_high", "ci_level", "ci_method"]
    assert lines[2][:2] == ["r2", "metric"]
    low, value, high = float(lines[2][3]), float(lines[2][2]), float(lines[2][4])
    assert low < value < high


def test_metrics_listed_with_baseline_too(tmp_path):
    path = _write(tmp_path, n=50)
    r = CliRunner().invoke(
        cli, ["compute", "-l", "mse", "--metric", "r2", "--baseline", "-f", "csv", str(path)]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[-1].startswith("r2,metric,")


def test_counts_are_poisson_one_and_keyed_by_row_number():
    rows = np.arange(1, 20_001, dtype=np.int64)
    counts = replicate_counts(5, 0, rows)
    assert abs(counts.mean() - 1.0) < 0.03 and abs(counts.var() - 1.0) < 0.05
    assert np.array_equal(replicate_counts(5, 0, rows[1::3]), counts[1::3])
    assert not np.array_equal(replicate_counts(5, 1, rows), counts)


def test_accuracy_interval_covers_the_population_value():
    """200 seeded samples of n = 200 with accuracy 0.7: the 95% interval covers 0.7 in 90-98%."""
    rng = np.random.default_rng(11)
    options = MetricOptions()
    covered = 0
    reps = 200
    rows = np.arange(1, 201, dtype=np.int64)
    for r in range(reps):
        y = rng.integers(0, 2, size=200).astype(float)
        right = rng.random(200) < 0.7
        p = np.where(right == (y == 1), 0.9, 0.1)
        values = score_metrics(("accuracy",), y, p, None, logits=False, options=options)
        ci = metric_intervals(
            ("accuracy",),
            values,
            (y, p, None, rows),
            logits=False,
            options=options,
            replicates=200,
            level=0.95,
            seed=r,
        )["accuracy"]
        assert ci is not None
        covered += ci.low <= 0.7 <= ci.high
    assert 0.90 <= covered / reps <= 0.98
