"""Multi-output regression: ``--multioutput uniform|raw`` (sklearn's ``multioutput``).

Golden literals in ``tests/multioutput_cases.py`` (values: scikit-learn 1.9's
``raw_values`` / ``uniform_average``; gradients and Hessians: torch autograd),
re-derived by ``tests/oracle/derive_multioutput.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.compute import ComputeRequest, run_compute, samples
from losscli.io.columns import ColumnRequest
from losscli.losses import LOSSES, make_loss
from tests.multioutput_cases import CASES

MULTI = sorted(
    n for n, cls in LOSSES.items() if "multioutput" in {p.name for p in cls.param_info()}
)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _loss(case):
    params = dict(case["params"])
    return make_loss(case["loss"], **params)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_sklearn_and_torch(case):
    weight = None if case["weight"] is None else np.array(case["weight"])
    result = _loss(case).evaluate(
        np.array(case["y_true"]), np.array(case["y_pred"]), weight=weight, hessian=True
    )
    raw = case["params"]["multioutput"] == "raw"
    assert isinstance(result.value, tuple) == raw
    np.testing.assert_allclose(result.value, case["value"], rtol=1e-9, err_msg=case["oracle"])
    np.testing.assert_allclose(
        result.gradient, case["grad"], rtol=1e-9, atol=1e-12, err_msg=case["oracle"]
    )
    np.testing.assert_allclose(
        result.hessian, case["hess"], rtol=1e-7, atol=1e-12, err_msg=case["oracle"]
    )


def _csv(tmp_path: Path, case, name: str = "in.csv") -> str:
    k = len(case["y_true"][0])
    head = [f"y{j}" for j in range(k)] + [f"p{j}" for j in range(k)] + ["w"]
    rows = [",".join(head)]
    weight = case["weight"] or [1.0] * len(case["y_true"])
    for yt, yp, w in zip(case["y_true"], case["y_pred"], weight, strict=True):
        rows.append(",".join(repr(v) for v in [*yt, *yp, w]))
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def _columns(k: int) -> tuple[str, str]:
    return ",".join(f"y{j}" for j in range(k)), ",".join(f"p{j}" for j in range(k))


RAW_WEIGHTED = [c for c in CASES if c["params"]["multioutput"] == "raw" and c["weight"]]


@pytest.mark.parametrize("case", RAW_WEIGHTED[:4], ids=[c["id"] for c in RAW_WEIGHTED[:4]])
def test_json_has_one_value_per_output_named_by_the_prediction_columns(tmp_path, case):
    k = len(case["y_true"][0])
    true, pred = _columns(k)
    extra = ["--quantile", str(case["params"]["quantile"])] if "quantile" in case["params"] else []
    r = run(
        "compute", "-l", case["loss"], "--multioutput", "raw", *extra, "--true", true,
        "--pred", pred, "--weight", "w", "-f", "json", "--grad", "--hessian",
        _csv(tmp_path, case),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["results"][0]
    assert res["outputs"] == pred.split(",")
    assert res["params"]["multioutput"] == "raw"
    np.testing.assert_allclose(res["value"], case["value"], rtol=1e-9)
    np.testing.assert_allclose(res["gradient"], case["grad"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res["hessian"], case["hess"], rtol=1e-7, atol=1e-12)


def test_streaming_in_many_blocks_gives_the_same_per_output_values(tmp_path):
    case = next(c for c in RAW_WEIGHTED if c["loss"] == "rmse")
    true, pred = _columns(3)
    request = ComputeRequest(
        source=_csv(tmp_path, case),
        losses=(_loss(case),),
        columns=ColumnRequest(true=true, pred=pred, weight="w"),
        block_bytes=64,
        per_sample=True,
        hessian=True,
    )
    report = run_compute(request)
    np.testing.assert_allclose(report.summaries[0].value, case["value"], rtol=1e-9)
    grads = np.concatenate([chunk.grads[0] for chunk in samples(report)])
    np.testing.assert_allclose(grads, case["grad"], rtol=1e-9, atol=1e-12)
    hess = np.concatenate([chunk.hessians[0] for chunk in samples(report)])
    np.testing.assert_allclose(hess, case["hess"], rtol=1e-7, atol=1e-12)


def test_csv_tsv_value_and_table_have_one_row_per_output(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("y1,y2,a,b\n1,2,1.5,2\n3,4,2,5\n0,1,0.5,0\n")
    common = ["compute", "-l", "mse", "--multioutput", "raw", "--true", "y1,y2", "--pred", "a,b"]
    r = run(*common, "-f", "csv", str(f))
    assert r.exit_code == 0, r.output
    # output a: (0.25 + 1 + 0.25)/3, output b: (0 + 1 + 1)/3
    assert r.stdout.splitlines() == [
        "loss,reduction,value",
        "mse[a],mean,0.5",
        f"mse[b],mean,{2 / 3!r}",
    ]
    r = run(*common, "-f", "tsv", "--reduction", "sum", str(f))
    assert r.stdout.splitlines()[1:] == ["mse[a]\tsum\t1.5", "mse[b]\tsum\t2.0"]
    r = run(*common, "-f", "value", str(f))
    assert r.stdout.splitlines() == ["0.5", repr(2 / 3)]
    r = run(*common, "-f", "table", str(f))
    assert r.exit_code == 0, r.output
    assert "mse[a]" in r.stdout and "mse[b]" in r.stdout


def test_raw_sum_gradient_is_the_weighted_per_element_derivative():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[1.5, 2.0], [2.0, 5.0]])
    w = np.array([2.0, 0.5])
    r = make_loss("mse", multioutput="raw").evaluate(y, p, reduction="sum", weight=w)
    assert r.value == (2 * 0.25 + 0.5 * 1.0, 0.5 * 1.0)
    np.testing.assert_array_equal(r.gradient, w[:, None] * 2 * (p - y))


def test_uniform_stays_the_default_and_raw_means_average_to_it():
    rng = np.random.default_rng(3)
    y, p, w = rng.normal(size=(9, 3)), rng.normal(size=(9, 3)), rng.uniform(0.1, 2, 9)
    for name in ("mse", "mae", "huber", "quantile", "log_cosh"):
        uniform = make_loss(name).evaluate(y, p, weight=w)
        raw = make_loss(name, multioutput="raw").evaluate(y, p, weight=w)
        assert uniform.value == pytest.approx(np.mean(raw.value), rel=1e-12)
        np.testing.assert_allclose(raw.gradient, 3 * uniform.gradient, rtol=1e-12)


@pytest.mark.parametrize("name", MULTI)
@pytest.mark.parametrize("mode", ["raw", "uniform"])
def test_each_outputs_gradient_is_the_difference_of_its_value(name, mode):
    """Central differences of the reported value(s) along each prediction, every loss."""
    rng = np.random.default_rng(7)
    y = rng.uniform(0.2, 2.0, size=(6, 3))
    p = y + rng.uniform(0.3, 1.0, size=(6, 3)) * rng.choice([-1, 1], size=(6, 3)) * 0.2
    w = rng.uniform(0.5, 2.0, 6)
    loss = make_loss(name, multioutput=mode)
    result = loss.evaluate(y, p, weight=w)
    for i in range(6):
        for j in range(3):
            h = 1e-6
            up, down = p.copy(), p.copy()
            up[i, j] += h
            down[i, j] -= h
            vu = loss.evaluate(y, up, weight=w).value
            vd = loss.evaluate(y, down, weight=w).value
            diff = (np.asarray(vu) - np.asarray(vd)) / (2 * h)
            expect = diff[j] if mode == "raw" else diff
            assert result.gradient[i, j] == pytest.approx(expect, rel=1e-5, abs=1e-8)
            if mode == "raw":  # output j's value does not move with another column
                assert np.delete(diff, j) == pytest.approx(0.0, abs=1e-8)


def test_raw_with_reduction_none_is_refused_with_a_fix(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("y1,y2,a,b\n1,2,1.5,2\n")
    r = run(
        "compute", "-l", "mae", "--multioutput", "raw", "--reduction", "none",
        "--true", "y1,y2", "--pred", "a,b", str(f),
    )  # fmt: skip
    assert r.exit_code == 2
    assert "--multioutput raw" in r.output and "Traceback" not in r.output


def test_an_unknown_multioutput_word_and_a_loss_without_it_are_errors(tmp_path):
    f = tmp_path / "b.csv"
    f.write_text("y_true,y_pred\n1,0.5\n")
    r = run("compute", "-l", "mse", "--multioutput", "variance_weighted", str(f))
    assert r.exit_code == 2
    r = run("compute", "-l", "bce", "--multioutput", "raw", str(f))
    assert r.exit_code == 2 and "multioutput" in r.output


def test_one_output_is_unchanged_by_raw():
    y, p = np.array([1.0, 2.0, 4.0]), np.array([1.5, 1.0, 4.5])
    for name in ("mse", "rmse"):
        raw = make_loss(name, multioutput="raw").evaluate(y, p)
        assert raw.value == make_loss(name).evaluate(y, p).value


def test_many_files_merge_the_per_output_totals(tmp_path):
    """A glob is reduced from per-file block totals: the per-output ones travel too."""
    rows = ["1,2,1.5,2", "3,4,2,5", "0,1,0.5,0"]
    head = "y1,y2,a,b\n"
    (tmp_path / "p1.csv").write_text(head + "\n".join(rows[:2]) + "\n")
    (tmp_path / "p2.csv").write_text(head + rows[2] + "\n")
    (tmp_path / "all.csv").write_text(head + "\n".join(rows) + "\n")
    for loss in ("mse", "rmse"):
        for mode in ("raw", "uniform"):
            common = ["compute", "-l", loss, "--multioutput", mode, "--true", "y1,y2"]
            common += ["--pred", "a,b", "-f", "json"]
            parts = run(*common, str(tmp_path / "p*.csv"))
            whole = run(*common, str(tmp_path / "all.csv"))
            assert parts.exit_code == 0 and whole.exit_code == 0, parts.output + whole.output
            value = json.loads(whole.stdout)["results"][0]["value"]
            assert json.loads(parts.stdout)["results"][0]["value"] == value


def test_paths_with_one_value_per_loss_refuse_per_output_values(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("y1,y2,a,b\n1,2,1.5,2\n3,4,2,5\n0,1,0.5,0\n")
    cols = ["--true", "y1,y2", "--pred", "a,b", str(f)]
    for loss, extra in (("mse", ["--multioutput", "raw"]), ("rmse", [])):
        r = run("compute", "-l", loss, *extra, "--baseline", *cols)
        assert r.exit_code == 2, r.output
        assert "one per output" in r.output and "Traceback" not in r.output
