"""--engine dask: the same numbers as the local engine on the same globs; faults end cleanly.

The tests start their own clusters on 127.0.0.1: an in-process one (threads,
fast to start) for the numbers, and a small process one for killing a worker.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.engine.dask import LOOPBACK_HTTP

distributed = pytest.importorskip("distributed")

PARTS = 4
ROWS = 3000  # per part


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pandas as pd

    rng = np.random.default_rng(11)
    out = tmp_path_factory.mktemp("dask")
    for i in range(PARTS):
        x = rng.normal(size=(ROWS, 3)) * [1.0, 5.0, 0.5] + [0.0, 2.0, -1.0]
        score = x @ [0.7, -0.2, 1.5] + 0.5
        frame = pd.DataFrame(x, columns=["a", "b", "c"])
        frame["y"] = score + rng.normal(size=ROWS)
        frame["cls"] = (score + rng.logistic(size=ROWS) > 0).astype(int)
        frame["animal"] = np.array(["cat", "dog", "emu"])[
            np.digitize(score + rng.normal(size=ROWS), [-1.0, 1.5])
        ]
        frame.to_csv(out / f"part-{i}.csv", index=False)
        frame.to_parquet(out / f"part-{i}.parquet", row_group_size=1000)
    return out


def _train(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["train", "-f", "json", "-q", *args])
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


FITS = {
    "mse": ["--target", "y", "--features", "a,b,c"],
    "bce-l2": ["--loss", "bce", "--target", "cls", "--features", "a,b,c", "--l2", "1e-3"],
    "ce-lbfgs": [
        "--loss", "ce", "--target", "animal", "--features", "a,b,c", "--optimizer", "lbfgs",
    ],
    "huber-gd": ["--loss", "huber", "--target", "y", "--features", "a,b,c", "--optimizer", "gd"],
}  # fmt: skip


@pytest.mark.parametrize("kind", ["*.csv", "*.parquet"])
@pytest.mark.parametrize("fit", list(FITS))
def test_dask_train_reaches_the_local_optimum(
    scheduler: str, folder: Path, kind: str, fit: str
) -> None:
    source = str(folder / kind)
    local = _train(source, *FITS[fit])
    remote = _train(source, *FITS[fit], "--engine", "dask", "--scheduler", scheduler)
    assert remote["stop_reason"] == local["stop_reason"] == "converged"
    f0, f1 = float(local["objective"]), float(remote["objective"])  # type: ignore[arg-type]
    assert abs(f1 - f0) <= 1e-10 * abs(f0)
    c0 = np.array(local["coef"])
    np.testing.assert_allclose(remote["coef"], c0, rtol=1e-8, atol=1e-8 * np.abs(c0).max())
    np.testing.assert_allclose(remote["intercept"], local["intercept"], rtol=1e-8, atol=1e-10)
    assert remote["classes"] == local["classes"]
    assert remote["n_train"] == local["n_train"] == PARTS * ROWS
    for name, value in local["metrics"]["train"].items():  # type: ignore[index]
        assert remote["metrics"]["train"][name] == pytest.approx(value, rel=1e-9)  # type: ignore[index]


def test_a_folder_is_its_csv_and_parquet_files(scheduler: str, folder: Path) -> None:
    one = _train(str(folder / "*.csv"), "--target", "y", "--features", "a,b,c")
    both = _train(str(folder), "--target", "y", "--features", "a,b,c")
    assert both["n_train"] == 2 * one["n_train"]  # type: ignore[operator]
    assert float(both["objective"]) == pytest.approx(float(one["objective"]), rel=1e-12)  # type: ignore[arg-type]


def test_mini_batches_are_refused_naming_the_full_batch_choices(
    scheduler: str, folder: Path
) -> None:
    args = [str(folder / "*.csv"), "--optimizer", "adam", "--engine", "dask"]
    result = CliRunner().invoke(cli, ["train", *args, "--scheduler", scheduler])
    assert result.exit_code == 2
    assert "adam takes mini-batches" in result.output
    assert "newton" in result.output and "lbfgs" in result.output


def test_bad_cells_name_the_file_and_row_as_the_local_engine_does(
    scheduler: str, tmp_path: Path
) -> None:
    for i in range(3):
        rows = [f"{j},{j + i}" for j in range(50)]
        if i == 2:
            rows[6] = ",7"
        (tmp_path / f"p{i}.csv").write_text("a,y\n" + "\n".join(rows) + "\n")
    source = str(tmp_path / "*.csv")
    local = CliRunner().invoke(cli, ["train", source])
    remote = CliRunner().invoke(
        cli, ["train", source, "--engine", "dask", "--scheduler", scheduler]
    )
    assert local.exit_code == remote.exit_code == 2
    assert f"{tmp_path / 'p2.csv'}: column 'a' has missing values in row 7" in local.output
    assert remote.output == local.output


def test_no_input_files_is_an_error(scheduler: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["train", str(tmp_path / "*.csv"), "--engine", "dask", "--scheduler", scheduler]
    )
    assert result.exit_code == 2
    assert "matches no file" in result.output


@pytest.mark.parametrize("extra", [[], ["--val-split", "0.2"]], ids=["all-rows", "val-split"])
def test_a_worker_killed_mid_train_is_survived_with_the_same_result(
    folder: Path, extra: list[str]
) -> None:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=LOOPBACK_HTTP,
    )
    try:
        args = [
            str(folder / "*.csv"), "--target", "y", "--features", "a,b,c",
            "--optimizer", "gd", "--lr", "0.01", "--epochs", "400", "--tol", "0", *extra,
        ]  # fmt: skip
        local = _train(*args)
        pids = [w.process.pid for w in cluster.workers.values()]

        def kill_one() -> None:
            time.sleep(1.5)
            os.kill(pids[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_one)
        killer.start()
        start = time.perf_counter()
        result = CliRunner().invoke(
            cli,
            ["train", "-f", "json", "-q", *args, "--engine", "dask"],
            env={"DASK_SCHEDULER_ADDRESS": cluster.scheduler_address},
        )
        killer.join()
        assert time.perf_counter() - start > 1.5, "the fit ended before the kill: make it longer"
    finally:
        cluster.close()
    if result.exit_code == 0:
        remote = json.loads(result.stdout)
        f0 = float(local["objective"])  # type: ignore[arg-type]
        assert abs(float(remote["objective"]) - f0) <= 1e-10 * abs(f0)
        np.testing.assert_allclose(remote["coef"], local["coef"], rtol=1e-9)
        assert remote["n_validation"] == local["n_validation"]
        for split, scores in local["metrics"].items():  # type: ignore[attr-defined]
            assert remote["metrics"][split] == pytest.approx(scores, rel=1e-9)
    else:  # the other allowed end: exit 1 with a one-line message, never a hang
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) <= 2


def _compute(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["compute", "-f", "json", *args])
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_dask_compute_equals_the_local_engine_and_one_concatenated_file(
    scheduler: str, folder: Path, tmp_path: Path
) -> None:
    args = ["-l", "mse,mae,huber,log_cosh", "--true", "y", "--pred", "a"]
    source = str(folder / "*.csv")
    local = _compute(*args, source)
    remote = _compute(*args, source, "--engine", "dask", "--scheduler", scheduler)
    lines = [p.read_text().splitlines() for p in sorted(folder.glob("*.csv"))]
    whole = tmp_path / "all.csv"
    whole.write_text("\n".join([lines[0][0], *(r for part in lines for r in part[1:])]) + "\n")
    single = _compute(*args, str(whole))
    assert remote["n"] == local["n"] == single["n"] == PARTS * ROWS
    for a, b, c in zip(local["results"], remote["results"], single["results"], strict=True):  # type: ignore[call-overload]
        assert b["value"] == pytest.approx(a["value"], rel=1e-12)
        assert a["value"] == pytest.approx(c["value"], rel=1e-12)


def test_dask_compute_per_row_output_on_a_glob_is_the_local_one(
    scheduler: str, folder: Path
) -> None:
    args = ["compute", "-l", "mse", "--true", "y", "--pred", "a", str(folder / "*.csv")]
    args += ["--grad", "-f", "json"]
    local = CliRunner().invoke(cli, args)
    remote = CliRunner().invoke(cli, [*args, "--engine", "dask", "--scheduler", scheduler])
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout
    assert len(json.loads(local.stdout)["results"][0]["gradient"]) == PARTS * ROWS


@pytest.mark.parametrize("kind", ["*.csv", "*.parquet"])
def test_dask_predict_writes_the_local_output_in_order(
    scheduler: str, folder: Path, tmp_path: Path, kind: str
) -> None:
    model = tmp_path / "m.json"
    fit = ["train", str(folder / "*.csv"), "--loss", "ce", "--target", "animal"]
    fit += ["--features", "a,b,c", "--l2", "0.01", "-q", "--save", str(model)]
    assert CliRunner().invoke(cli, fit).exit_code == 0
    args = ["predict", "-m", str(model), str(folder / kind)]
    local = CliRunner().invoke(cli, args)
    remote = CliRunner().invoke(cli, [*args, "--engine", "dask", "--scheduler", scheduler])
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout  # exactly, rows in file order
    lines = local.stdout.splitlines()
    assert lines[0] == "y_true,p_cat,p_dog,p_emu" and len(lines) == 1 + PARTS * ROWS
