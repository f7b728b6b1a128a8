"""train past --memory-limit: the cached, block-by-block fit reaches the in-memory optimum."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.engine.cache import LazyFolder
from losscli.losses import make_loss
from losscli.train import TrainRequest, prepare

ROWS = 30_000
LIMIT = "1MB"  # the matrix of ROWS × 4 needs ~11 MB in memory: spilled


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(ROWS, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 50.0, -2.0, 1.0]
    score = x @ [0.8, -0.05, 3.0, 0.2]
    score -= score.mean()
    y = score + rng.normal(size=ROWS)
    cls = (score + rng.logistic(size=ROWS) > 0).astype(int)
    noisy = score + rng.normal(size=ROWS)
    names = np.array(["cat", "dog", "emu"])[np.digitize(noisy, np.quantile(noisy, [0.3, 0.7]))]
    counts = rng.poisson(np.exp(0.2 * score))
    path = tmp_path_factory.mktemp("ooc") / "train.csv"
    with path.open("w") as f:
        f.write("a,b,c,d,y,cls,animal,count\n")
        for row, yi, ci, ni, ki in zip(x, y, cls, names, counts, strict=True):
            f.write(",".join(repr(float(v)) for v in row) + f",{float(yi)!r},{ci},{ni},{ki}\n")
    return path


def _train(path: Path, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["train", str(path), "-f", "json", "-q", *args])
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


CASES = {
    "mse": ["--target", "y", "--features", "a,b,c,d"],
    "mse-lbfgs-no-intercept": [
        "--target", "y", "--features", "a,b,c,d", "--optimizer", "lbfgs", "--no-intercept",
    ],
    "bce-l2-val": [
        "--loss", "bce", "--target", "cls", "--features", "a,b,c,d", "--l2", "1e-3",
        "--val-split", "0.25",
    ],
    "ce-text-labels": [
        "--loss", "ce", "--target", "animal", "--features", "a,b,c,d", "--l2", "1e-2",
    ],
    "poisson-raw-l2": [
        "--loss", "poisson", "--target", "count", "--features", "a,b,c,d", "--l2", "0.1",
        "--no-standardize",
    ],
    "huber-gd": ["--loss", "huber", "--target", "y", "--features", "a,b,c,d", "--optimizer", "gd"],
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_out_of_core_reaches_the_in_memory_optimum(
    data_file: Path, tmp_path: Path, case: str
) -> None:
    args = CASES[case]
    memory = _train(data_file, *args)
    spilled = _train(data_file, *args, "--memory-limit", LIMIT, "--cache-dir", str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # the cache is gone
    assert spilled["stop_reason"] == memory["stop_reason"] == "converged"
    f0, f1 = float(memory["objective"]), float(spilled["objective"])  # type: ignore[arg-type]
    assert abs(f1 - f0) <= 1e-10 * abs(f0)
    c0, c1 = np.array(memory["coef"]), np.array(spilled["coef"])
    np.testing.assert_allclose(c1, c0, rtol=1e-8, atol=1e-8 * np.abs(c0).max())
    np.testing.assert_allclose(spilled["intercept"], memory["intercept"], rtol=1e-8, atol=1e-8)
    assert spilled["n_train"] == memory["n_train"]
    assert spilled["n_validation"] == memory["n_validation"]
    assert spilled["classes"] == memory["classes"]
    for part, values in memory["metrics"].items():  # type: ignore[attr-defined]
        for name, value in values.items():
            other = spilled["metrics"][part][name]  # type: ignore[index]
            assert other == pytest.approx(value, rel=1e-9, abs=1e-12), (part, name)


def test_the_limit_decides_whether_to_spill(data_file: Path) -> None:
    for limit, spills in ((1_000_000, True), (10**9, False)):
        with contextlib.ExitStack() as stack:
            folder = LazyFolder(None, stack)
            request = TrainRequest(
                str(data_file), make_loss("mse"), target="y", features="a,b,c,d", memory_limit=limit
            )
            data = prepare(request, folder)
            assert (data.spilled is not None) is spills
            assert (folder.path is not None) is spills
            n = data.spilled.n_rows if data.spilled is not None else len(data.y)
            assert n == ROWS


def test_mini_batches_run_out_of_core(data_file: Path, tmp_path: Path) -> None:
    args = ["--target", "y", "--features", "a,b,c,d", "--optimizer", "adam", "--epochs", "3"]
    out = _train(data_file, *args, "--memory-limit", LIMIT, "--cache-dir", str(tmp_path))
    exact = _train(data_file, "--target", "y", "--features", "a,b,c,d")
    assert float(out["objective"]) < 1.2 * float(exact["objective"])  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_bad_cells_are_reported_with_their_row_out_of_core(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    rows = [f"{i},{2 * i}" for i in range(40_000)]
    rows[35_000] = ",1"  # a blank cell
    path.write_text("a,y\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(cli, ["train", str(path), "--memory-limit", "1MB"])
    assert result.exit_code == 2
    assert "column 'a' has missing values in row 35001" in result.output


def test_a_kinked_loss_out_of_core_runs_uncertified_not_refused(data_file: Path) -> None:
    """auto's exact LP needs the rows in memory: past the limit it fits by proximal
    gradient, says why, and calls the result not_optimal (never converged)."""
    args = ["--loss", "mae", "--target", "y", "--features", "a,b,c,d"]
    exact = _train(data_file, *args)
    result = CliRunner().invoke(
        cli, ["train", str(data_file), "-f", "json", *args, "--memory-limit", LIMIT]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert exact["optimizer"] == "lp" and exact["stop_reason"] == "converged"
    assert out["optimizer"] == "gd" and out["stop_reason"] == "not_optimal"
    assert "in memory" in str(out["optimizer_choice"])
    assert "raise --memory-limit" in result.stderr
    assert float(out["objective"]) >= float(exact["objective"]) * (1 - 1e-8)  # type: ignore[arg-type]
    assert float(out["objective"]) < 1.01 * float(exact["objective"])  # type: ignore[arg-type]
