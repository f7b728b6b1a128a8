"""compute --metric against scikit-learn 1.9 (golden literals in tests/metric_cases.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.fit.metrics import METRICS, MetricOptions, score_metrics
from tests.metric_cases import CASES

CASE_METRICS = [(c, name) for c in CASES for name in c["values"]]


@pytest.mark.parametrize(
    ("case", "name"), CASE_METRICS, ids=[f"{c['id']}-{n}" for c, n in CASE_METRICS]
)
def test_metric_equals_sklearn(case, name):
    y = np.asarray(case["y"], dtype=float)
    p = np.asarray(case["p"], dtype=float)
    w = None if case["w"] is None else np.asarray(case["w"], dtype=float)
    opts = MetricOptions(threshold=case["threshold"], bins=case["bins"])
    got = score_metrics((name,), y, p, w, logits=False, options=opts)[name]
    expected = case["values"][name]
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), f"sklearn 1.9 {name}"


def test_every_compute_metric_has_golden_cases():
    covered = {n for c in CASES for n in c["values"]}
    assert covered == {n for n, s in METRICS.items() if s.score is not None}


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "in.csv"
    path.write_text(text)
    return str(path)


def test_compute_metric_json_has_a_metrics_object(tmp_path):
    case = next(c for c in CASES if c["id"] == "binary-weighted-0")
    rows = "\n".join(
        f"{y},{p},{w}" for y, p, w in zip(case["y"], case["p"], case["w"], strict=True)
    )
    f = write(tmp_path, "y_true,y_pred,w\n" + rows + "\n")
    names = ",".join(case["values"])
    r = CliRunner().invoke(
        cli, ["compute", "-l", "bce", "--weight", "w", "--metric", names, "--bins", "10", "-f",
              "json", f],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    metrics = json.loads(r.stdout)["metrics"]
    assert list(metrics) == list(case["values"])
    for name, value in case["values"].items():
        assert metrics[name] == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_metrics_alone_with_logits_and_the_metrics_command(tmp_path):
    f = write(tmp_path, "y_true,y_pred\n0,-2\n1,0.5\n1,3\n0,1\n")
    r = CliRunner().invoke(cli, ["compute", "--metric", "roc_auc,accuracy", "--logits", f])
    assert r.exit_code == 0, r.output
    assert r.stdout == "loss\treduction\tvalue\nroc_auc\tmetric\t0.75\naccuracy\tmetric\t0.75\n"
    listing = json.loads(CliRunner().invoke(cli, ["metrics", "-f", "json"]).stdout)
    assert {m["name"] for m in listing} == set(METRICS)


def test_unknown_metric_and_bad_targets_are_input_errors(tmp_path):
    f = write(tmp_path, "y_true,y_pred\n0,0.2\n2,0.9\n")
    r = CliRunner().invoke(cli, ["compute", "--metric", "roc_aux", f])
    assert r.exit_code == 2 and "did you mean roc_auc" in r.stderr
    r = CliRunner().invoke(cli, ["compute", "--metric", "accuracy", f])
    assert r.exit_code == 2 and "class indices 0…1" in r.stderr


def test_metric_rows_beyond_the_budget_are_refused(monkeypatch, tmp_path):
    import losscli.fit.metrics as m

    monkeypatch.setattr(m, "MAX_METRIC_ROWS", 3)
    f = write(tmp_path, "y_true,y_pred\n0,0.2\n1,0.9\n1,0.4\n0,0.1\n")
    r = CliRunner().invoke(cli, ["compute", "--metric", "roc_auc", f])
    assert r.exit_code == 2 and "holds every row in memory" in r.stderr
