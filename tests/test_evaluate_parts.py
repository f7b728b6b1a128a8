"""--baseline, --bootstrap, --by and --worst on globs and on Dask equal one concatenated file.

The reference is the local engine on the files concatenated into one CSV;
the same options on the glob (local engine, files in turn) and on a
LocalCluster (127.0.0.1, in-process workers) must give every value,
baseline, D², interval bound and worst row to 1e-12.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli

distributed = pytest.importorskip("distributed")

PARTS = 3


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three files of unequal length (not multiples of the bootstrap's 4,096-row cells),
    with weights, a group column whose levels first appear in different files, and
    a few bad rows for --dropna."""
    import pandas as pd

    rng = np.random.default_rng(5)
    out = tmp_path_factory.mktemp("evalparts")
    frames = []
    for i, rows in enumerate([5000, 2300, 4100]):
        y = rng.gamma(2.0, 3.0, size=rows)
        frame = pd.DataFrame(
            {
                "y_true": y,
                "y_pred": y + rng.normal(size=rows) * 2,
                "w": rng.uniform(0.5, 2.0, size=rows),
                "cls": (rng.uniform(size=rows) < 0.3).astype(int),
                "p": rng.uniform(0.01, 0.99, size=rows),
                "site": rng.choice([*["a", "b", "c"][: i + 1], "z"], size=rows),
            }
        )
        frame.loc[7 + i, "y_pred"] = np.nan  # dropped with --dropna: it still numbers rows
        frames.append(frame)
        frame.to_csv(out / f"part-{i}.csv", index=False)
    whole = pd.concat(frames)
    whole.to_csv(out / "all.csv", index=False)
    whole.to_parquet(out / "all.parquet", row_group_size=1500, index=False)
    return out


def _compute(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["compute", "-f", "json", "--dropna", *args])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def _close(a: Any, b: Any, path: str = "") -> None:
    """Equal structure; numbers to 1e-12 relative (1e-12 absolute near 0)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


CASES = {
    "regression": [
        "-l", "mse,mae,huber,quantile", "--quantile", "0.8", "--true", "y_true",
        "--pred", "y_pred", "--weight", "w", "--baseline", "--bootstrap", "50", "--by", "site",
        "--worst", "4",
    ],
    "binary": ["-l", "bce,hinge", "--true", "cls", "--pred", "p", "--baseline", "--by", "site"],
    "bootstrap-only": ["-l", "mae", "--true", "y_true", "--pred", "y_pred", "--bootstrap", "40"],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_glob_on_both_engines_equals_the_concatenated_file(
    case: str, data: Path, scheduler: str
) -> None:
    args = CASES[case]
    whole = _compute(str(data / "all.csv"), *args)
    glob = _compute(str(data / "part-*.csv"), *args)
    dask = _compute(str(data / "part-*.csv"), *args, "--engine", "dask", "--scheduler", scheduler)
    for got in (glob, dask):
        _close(whole, got)
    first = whole["results"][0]
    assert "baseline" in first or "ci" in first  # the options did add something


def test_the_spooled_pass_data_is_merged_too(
    data: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the summary cap, each partition spools its rows (small blocks: several of
    them) and the baseline's passes run where they are: the same numbers."""
    import losscli.evaluate.passes as passes
    import losscli.io.csvblocks as csvblocks

    monkeypatch.setattr(passes, "SUMMARY_CAP", 50)
    monkeypatch.setattr(csvblocks, "DEFAULT_BLOCK_BYTES", 40_000)
    args = ["-l", "mae,huber", "--true", "y_true", "--pred", "y_pred", "--baseline", "--by", "site"]
    whole = _compute(str(data / "all.csv"), *args)
    _close(whole, _compute(str(data / "part-*.csv"), *args))
    _close(
        whole,
        _compute(str(data / "part-*.csv"), *args, "--engine", "dask", "--scheduler", scheduler),
    )


def test_too_many_groups_across_files_is_refused_as_for_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import losscli.evaluate.groups as groups

    monkeypatch.setattr(groups, "MAX_GROUPS", 3)
    for i in range(2):
        rows = "\n".join(f"{k},{k + 0.5},g{i}{k}" for k in range(2))
        (tmp_path / f"p{i}.csv").write_text("y_true,y_pred,g\n" + rows + "\n")
    result = CliRunner().invoke(
        cli, ["compute", "-l", "mse", str(tmp_path / "p*.csv"), "--by", "g"]
    )
    assert result.exit_code == 2
    assert "more than 3 distinct values" in result.output


def test_moments_merged_about_one_pilot_give_the_one_pass_acceleration() -> None:
    """Resampler.merge: two halves fed apart, merged, equal the whole fed at once."""
    from losscli.evaluate.bootstrap import OVERALL, Resampler

    rng = np.random.default_rng(3)
    values = np.column_stack([rng.gamma(2.0, size=9000), rng.uniform(0.5, 2, size=9000)])
    rows = np.arange(1, 9001, dtype=np.int64)
    whole = Resampler([(0, 2)], 30, 7)
    whole.add(rows, values)
    whole.finish()
    a, b = Resampler([(0, 2)], 30, 7), Resampler([(0, 2)], 30, 7)
    a.add(rows[:5000], values[:5000])
    b.add(rows[5000:], values[5000:])
    a.finish()
    b.finish()
    a.merge(b)
    np.testing.assert_allclose(a.totals[OVERALL], whole.totals[OVERALL], rtol=1e-13)
    np.testing.assert_allclose(a.point(OVERALL, 0), whole.point(OVERALL, 0), rtol=1e-13)
    grad = np.array([1.0 / values[:, 1].sum(), -values[:, 0].sum() / values[:, 1].sum() ** 2])
    assert math.isclose(
        a.acceleration(OVERALL, 0, grad), whole.acceleration(OVERALL, 0, grad), rel_tol=1e-9
    )


def test_process_workers_run_the_baseline_passes(data: Path) -> None:
    """Without --scheduler the command starts worker processes: the baseline's pass
    functions (closures over the loss and the bracket) are pickled to them."""
    args = ["-l", "mae,bce", "--true", "cls", "--pred", "p", "--baseline", "--by", "site"]
    whole = _compute(str(data / "all.csv"), *args)
    _close(whole, _compute(str(data / "part-*.csv"), *args, "--engine", "dask"))


def test_a_lazy_module_pickles_as_the_module() -> None:
    """Closures defined in modules that import numpy lazily travel to workers by value."""
    import pickle

    from losscli._lazy import lazy_module

    namespace: dict[str, object] = {}
    stand_in = lazy_module("math", namespace, "math")
    assert pickle.loads(pickle.dumps(stand_in)).sqrt(4.0) == 2.0


@pytest.mark.parametrize("case", ["regression", "bootstrap-only"])
def test_partitions_within_one_file_on_dask_equal_the_local_engine(
    case: str, data: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte ranges of one CSV (their first rows unknown until counted) and Parquet row
    groups: the bootstrap's and --worst's row numbers are still the file's."""
    import losscli.io.csvblocks as csvblocks
    from losscli.engine.parts import partitions

    monkeypatch.setattr(csvblocks, "DEFAULT_BLOCK_BYTES", 16_000)  # cuts fall on block ends
    assert len(partitions([str(data / "all.csv")], None, 150_000, 16_000)) > 3
    args = CASES[case]
    whole = _compute(str(data / "all.csv"), *args)
    cut = ["--engine", "dask", "--scheduler", scheduler, "--partition-size", "150kB"]
    _close(whole, _compute(str(data / "all.csv"), *args, *cut))
    _close(
        _compute(str(data / "all.parquet"), *args),
        _compute(str(data / "all.parquet"), *args, *cut),
    )
