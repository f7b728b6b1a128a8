"""train on globs: --one-hot and --val-split on both engines, and a glob past --memory-limit.

The reference is always the local engine on the files concatenated into
one CSV: the same rows held out, the same categories, the same optimum.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.engine.cache import LazyFolder
from losscli.losses import make_loss
from losscli.train import TrainRequest, prepare

distributed = pytest.importorskip("distributed")

SIZES = (4000, 2500, 3500)  # rows per file: unequal, so offsets matter


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files whose --one-hot column holds different categories in each (the first
    file only two of four), with classes and a regression target."""
    import pandas as pd

    rng = np.random.default_rng(21)
    out = tmp_path_factory.mktemp("trainparts")
    frames = []
    colors = ["red", "green", "blue", "violet"]
    for i, rows in enumerate(SIZES):
        x = rng.normal(size=(rows, 3)) * [1.0, 4.0, 0.5] + [0.0, 3.0, -1.0]
        color = rng.choice(colors[: i + 2], size=rows)
        shift = np.array([colors.index(c) for c in color]) * 0.4
        score = x @ [0.8, -0.1, 1.2] + shift - 0.5
        frame = pd.DataFrame(x, columns=["a", "b", "c"])
        frame["color"] = color
        frame["y"] = score + rng.normal(size=rows)
        frame["cls"] = (score + rng.logistic(size=rows) > 0).astype(int)
        frame["animal"] = np.array(["cat", "dog", "emu"])[
            np.digitize(score + rng.normal(size=rows), [-1.0, 1.0])
        ]
        frames.append(frame)
        frame.to_csv(out / f"part-{i}.csv", index=False)
    (out / "whole").mkdir()
    pd.concat(frames).to_csv(out / "whole" / "all.csv", index=False)
    return out


def _train(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["train", "-f", "json", "-q", *args])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def _same_fit(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got["features"] == want["features"]
    assert got["classes"] == want["classes"]
    assert (got["n_train"], got["n_validation"]) == (want["n_train"], want["n_validation"])
    f0, f1 = float(want["objective"]), float(got["objective"])
    assert abs(f1 - f0) <= 1e-10 * abs(f0)
    c0, c1 = np.array(want["coef"]), np.array(got["coef"])
    if any("=" in f for f in want["features"]):
        # a one-hot column's levels and the intercept are collinear (every row has one
        # level): the optimum is a line, and only the objective and the predictions are
        # pinned; the dense features' coefficients are
        dense = [i for i, f in enumerate(want["features"]) if "=" not in f]
        c0, c1 = c0[dense], c1[dense]  # rows are features (softmax: features × classes)
    np.testing.assert_allclose(c1, c0, rtol=1e-7, atol=1e-7 * np.abs(c0).max())
    for part, values in want["metrics"].items():
        for name, value in values.items():
            assert got["metrics"][part][name] == pytest.approx(value, rel=1e-8, abs=1e-12)


CASES = {
    "mse-one-hot-val": [
        "--target", "y", "--features", "a,b,c,color", "--one-hot", "color", "--val-split", "0.2",
    ],
    "bce-stratified-val": [
        "--loss", "bce", "--target", "cls", "--features", "a,b,c", "--l2", "1e-3",
        "--val-split", "0.3", "--seed", "4",
    ],
    "ce-one-hot-lbfgs": [
        "--loss", "ce", "--target", "animal", "--features", "a,b,c,color", "--one-hot", "color",
        "--optimizer", "lbfgs", "--l2", "1e-2", "--val-split", "0.25",
    ],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_glob_on_both_engines_fits_as_the_concatenated_file(
    case: str, data: Path, scheduler: str
) -> None:
    args = CASES[case]
    whole = _train(str(data / "whole" / "all.csv"), *args)
    glob = str(data / "part-*.csv")
    _same_fit(_train(glob, *args), whole)
    _same_fit(_train(glob, *args, "--engine", "dask", "--scheduler", scheduler), whole)
    if "--one-hot" in args:
        assert "color=violet" in whole["features"]  # a category the first file lacks


def test_a_glob_past_the_memory_limit_spills_and_fits_as_in_memory(
    data: Path, tmp_path: Path
) -> None:
    glob = str(data / "part-*.csv")
    with contextlib.ExitStack() as stack:
        folder = LazyFolder(str(tmp_path), stack)
        request = TrainRequest(
            glob, make_loss("mse"), target="y", features="a,b,c", memory_limit=1_000_000
        )
        prepared = prepare(request, folder)
        assert prepared.spilled is not None and folder.path is not None
        assert prepared.spilled.n_rows == sum(SIZES)
    assert list(tmp_path.iterdir()) == []  # removed with the run
    args = ["--target", "y", "--features", "a,b,c", "--val-split", "0.2"]
    spilled = _train(glob, *args, "--memory-limit", "1MB", "--cache-dir", str(tmp_path))
    _same_fit(spilled, _train(str(data / "whole" / "all.csv"), *args))
    assert list(tmp_path.iterdir()) == []


def test_files_of_different_widths_are_refused_naming_both(tmp_path: Path) -> None:
    (tmp_path / "p0.csv").write_text("a,b,y\n1,2,3\n2,3,5\n4,1,2\n")
    (tmp_path / "p1.csv").write_text("a,y\n1,3\n2,5\n")
    result = CliRunner().invoke(cli, ["train", str(tmp_path / "p*.csv"), "--target", "y"])
    assert result.exit_code == 2
    assert f"{tmp_path / 'p1.csv'} gives 1 numeric feature columns, but" in result.output
    assert "Traceback" not in result.output


def test_partitions_within_files_train_as_the_concatenated_file(
    data: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte ranges of the files: the held-out rows are still the local engine's, and
    every range's categories are merged."""
    import losscli.io.csvblocks as csvblocks

    monkeypatch.setattr(csvblocks, "DEFAULT_BLOCK_BYTES", 16_000)  # cuts fall on block ends
    args = CASES["mse-one-hot-val"]
    whole = _train(str(data / "whole" / "all.csv"), *args)
    cut = ["--engine", "dask", "--scheduler", scheduler, "--partition-size", "60kB"]
    _same_fit(_train(str(data / "part-*.csv"), *args, *cut), whole)
