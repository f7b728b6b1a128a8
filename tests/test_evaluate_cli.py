"""The evaluate options end to end: compute --baseline/--bootstrap/--by/--worst, compare.

References: a pandas group-by for --by, a full stable sort for --worst,
NumPy's median and mean for the baselines — on small files, standard
input, and a file of a million rows (several blocks, the spool, selection
passes).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.evaluate.groups import MAX_GROUPS


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.round(rng.normal(0, 2, n), 4)
    return pd.DataFrame(
        {
            "y_true": y,
            "y_pred": np.round(y + rng.normal(0, 1, n) * rng.uniform(0.5, 2, n), 4),
            "w": np.round(rng.uniform(0.1, 2, n), 3),
            "g": rng.choice(["north", "south", "east"], n),
        }
    )


def write(tmp_path: Path, df: pd.DataFrame, name: str = "in.csv") -> str:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)


def per_row(df: pd.DataFrame) -> pd.DataFrame:
    e = df["y_pred"] - df["y_true"]
    return df.assign(mse=e * e, mae=e.abs())


def check_groups(obj: dict, df: pd.DataFrame, weighted: bool) -> None:
    rows = per_row(df)
    assert obj["by"] == "g"
    keys = [g["key"] for g in obj["groups"]]
    assert keys == sorted(rows["g"].unique())
    for g in obj["groups"]:
        part = rows[rows["g"] == g["key"]]
        assert g["n"] == len(part)
        for res in g["results"]:
            w = part["w"] if weighted else np.ones(len(part))
            want = float((w * part[res["loss"]]).sum() / w.sum())
            assert res["value"] == pytest.approx(want, rel=1e-12)


def test_by_matches_a_pandas_group_by(tmp_path):
    df = frame(3000)
    r = run(
        "compute", "-l", "mse,mae", "--weight", "w", "--by", "g", "-f", "json", write(tmp_path, df)
    )
    assert r.exit_code == 0, r.output
    check_groups(json.loads(r.stdout), df, weighted=True)
    # the same in pandas' own words: an unweighted group-by mean
    r = run("compute", "-l", "mae", "--by", "g", "-f", "json", write(tmp_path, df))
    obj = json.loads(r.stdout)
    want = per_row(df).groupby("g")["mae"].mean()
    got = {g["key"]: g["results"][0]["value"] for g in obj["groups"]}
    assert got == pytest.approx(want.to_dict(), rel=1e-12)


def test_worst_matches_a_full_sort(tmp_path):
    df = frame(2500)
    df.loc[10:30, "y_pred"] = df.loc[10:30, "y_true"] + 9.0  # ties at the top
    r = run(
        "compute", "-l", "mae", "--weight", "w", "--worst", "25", "-f", "json", write(tmp_path, df)
    )
    assert r.exit_code == 0, r.output
    (res,) = json.loads(r.stdout)["results"]
    rows = per_row(df).assign(row=np.arange(1, len(df) + 1), c=lambda d: d["w"] * d["mae"])
    want = rows.sort_values("c", ascending=False, kind="stable").head(25)
    assert [x["row"] for x in res["worst"]] == want["row"].tolist()
    assert [x["loss"] for x in res["worst"]] == pytest.approx(want["c"].tolist(), rel=1e-15)
    first = res["worst"][0]
    i = first["row"] - 1
    assert first["y_true"] == df["y_true"][i] and first["y_pred"] == df["y_pred"][i]
    sign = np.sign(df["y_pred"][i] - df["y_true"][i])
    assert first["gradient"] == pytest.approx(sign * df["w"][i] / df["w"].sum(), rel=1e-12)


def test_baseline_and_interval_in_every_format(tmp_path):
    df = frame(400)
    path = write(tmp_path, df)
    r = run(
        "compute",
        "-l",
        "mse",
        "--baseline",
        "--bootstrap",
        "200",
        "--seed",
        "3",
        "-f",
        "json",
        path,
    )
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    (res,) = obj["results"]
    e = df["y_pred"] - df["y_true"]
    assert res["baseline"]["constant"] == pytest.approx(df["y_true"].mean(), rel=1e-12)
    sst = float(((df["y_true"] - df["y_true"].mean()) ** 2).mean())
    assert res["baseline"]["value"] == pytest.approx(sst, rel=1e-12)
    assert res["baseline"]["d2"] == pytest.approx(1 - float((e * e).mean()) / sst, rel=1e-12)
    ci = res["ci"]
    assert set(ci) == {"low", "high", "level", "method", "replicates"}
    assert ci["low"] < res["value"] < ci["high"]
    assert (ci["level"], ci["replicates"], obj["seed"]) == (0.95, 200, 3)
    assert ci["method"] == "poisson bootstrap BCa"
    again = run(
        "compute",
        "-l",
        "mse",
        "--baseline",
        "--bootstrap",
        "200",
        "--seed",
        "3",
        "-f",
        "json",
        path,
    )
    assert json.loads(again.stdout)["results"][0]["ci"] == ci
    r = run(
        "compute", "-l", "mse", "--baseline", "--bootstrap", "200", "--seed", "3", "-f", "tsv", path
    )
    head, line = r.stdout.splitlines()
    assert head.split("\t") == [
        "loss", "reduction", "value", "baseline", "baseline_value", "d2",
        "ci_low", "ci_high", "ci_level", "ci_method",
    ]  # fmt: skip
    cells = line.split("\t")
    assert float(cells[5]) == res["baseline"]["d2"] and float(cells[6]) == ci["low"]
    r = run("compute", "-l", "mse", "--baseline", "--bootstrap", "200", "-f", "table", path)
    assert r.exit_code == 0 and "D²" in r.stdout and "95% CI" in r.stdout
    assert "poisson bootstrap BCa" in r.stdout


def test_stdin_gives_the_same_as_the_file(tmp_path):
    df = frame(500)
    path = write(tmp_path, df)
    args = ["compute", "-l", "mae", "--baseline", "--by", "g", "--bootstrap", "100", "-f", "json"]
    from_file = run(*args, path)
    from_stdin = run(*args, "-", stdin=Path(path).read_text())
    assert from_file.exit_code == 0 and from_file.stdout == from_stdin.stdout


def test_too_many_groups_are_refused_with_the_limit(tmp_path):
    df = pd.DataFrame(
        {"y_true": np.zeros(MAX_GROUPS + 1), "y_pred": 1.0, "id": np.arange(MAX_GROUPS + 1)}
    )
    r = run("compute", "-l", "mse", "--by", "id", write(tmp_path, df))
    assert r.exit_code == 2
    assert f"more than {MAX_GROUPS} distinct values" in r.stderr
    assert "Traceback" not in r.output


def test_bad_options_are_usage_errors(tmp_path):
    path = write(tmp_path, frame(20))
    r = run("compute", "-l", "mse", "--bootstrap", "5", path)
    assert r.exit_code == 2 and "at least 10 replicates" in r.stderr
    r = run("compute", "-l", "mse", "--bootstrap", "100", "--ci", "1.5", path)
    assert r.exit_code == 2 and "--ci must lie strictly between 0 and 1" in r.stderr
    r = run("compute", "-l", "mse", "--baseline", "--reduction", "none", path)
    assert r.exit_code == 2 and "reduced losses" in r.stderr
    r = run("compute", "-l", "mse", "--by", "nope", path)
    assert r.exit_code == 2 and "no column named 'nope' (from --by)" in r.stderr


def test_a_million_rows(tmp_path):
    """Several blocks: the spool, selection passes, groups and the heap, against NumPy."""
    n = 1_000_000
    rng = np.random.default_rng(1)
    y = rng.normal(0, 1, n)
    pred = y + rng.normal(0, 1, n)
    g = rng.integers(0, 4, n)
    path = tmp_path / "big.csv"
    body = np.char.add(
        np.char.add(np.char.mod("%.6f,", y), np.char.mod("%.6f,", pred)), g.astype(str)
    )
    path.write_text("y_true,y_pred,g\n" + "\n".join(body.tolist()) + "\n")
    df = pd.read_csv(path)
    y, pred = df["y_true"].to_numpy(), df["y_pred"].to_numpy()
    r = run(
        "compute",
        "-l",
        "mae,mse",
        "--baseline",
        "--by",
        "g",
        "--worst",
        "3",
        "-f",
        "json",
        str(path),
    )
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    mae, mse = obj["results"]
    assert mae["baseline"]["constant"] == float(np.median(y))  # exact: selection, not sorting
    assert mse["baseline"]["constant"] == pytest.approx(float(y.mean()), rel=1e-12, abs=1e-15)
    l0 = float(np.abs(y - np.median(y)).mean())
    assert mae["baseline"]["value"] == pytest.approx(l0, rel=1e-12)
    e = np.abs(pred - y)
    order = np.lexsort((np.arange(n), -e))[:3]
    assert [x["row"] for x in mae["worst"]] == (order + 1).tolist()
    medians = df.groupby("g")["y_true"].median()
    got = {gr["key"]: gr["results"][0]["baseline"]["constant"] for gr in obj["groups"]}
    assert got == medians.to_dict()
    check = df.assign(w=1.0, g=df["g"])
    check_groups(obj, check, weighted=False)


# --------------------------------------------------------------------------- compare


def test_compare_two_files_and_columns_agree(tmp_path):
    df = frame(1500)
    rng = np.random.default_rng(8)
    df["m2"] = df["y_true"] + rng.normal(0, 0.8, len(df))
    base = write(tmp_path, df[["y_true", "y_pred"]], "base.csv")
    new = write(tmp_path, df[["y_true", "m2"]].rename(columns={"m2": "y_pred"}), "new.csv")
    both = write(tmp_path, df, "both.csv")
    a = run("compare", "-l", "mse,mae", "-f", "json", base, new)
    b = run("compare", "-l", "mse,mae", "--pred", "y_pred,m2", "-f", "json", both)
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    ra, rb = json.loads(a.stdout)["results"], json.loads(b.stdout)["results"]
    for x, y in zip(ra, rb, strict=True):
        assert {k: x[k] for k in ("loss", "base", "new", "diff", "ci", "p_value")} == {
            k: y[k] for k in ("loss", "base", "new", "diff", "ci", "p_value")
        }
    mse = ra[0]
    e_base = df["y_pred"] - df["y_true"]
    e_new = df["m2"] - df["y_true"]
    assert mse["base"] == pytest.approx(float((e_base**2).mean()), rel=1e-12)
    assert mse["diff"] == pytest.approx(float((e_new**2).mean() - (e_base**2).mean()), rel=1e-9)
    assert mse["ci"]["low"] < mse["diff"] < mse["ci"]["high"] < 0
    assert mse["p_value"] < 0.01
    assert json.loads(a.stdout)["test"] == "paired sign-flip permutation"
    table = run("compare", "-l", "mse", "-f", "table", base, new)
    assert "new.csv is lower by" in table.stdout and "p < 0.001" in table.stdout


def test_compare_names_the_first_differing_target_row(tmp_path):
    df = frame(50)
    other = df.copy()
    other.loc[36, "y_true"] += 1.0
    r = run("compare", "-l", "mse", write(tmp_path, df, "a.csv"), write(tmp_path, other, "b.csv"))
    assert r.exit_code == 2
    assert "the targets differ at row 37" in r.stderr
    short = write(tmp_path, df.head(49), "c.csv")
    r = run("compare", "-l", "mse", write(tmp_path, df, "a.csv"), short)
    assert r.exit_code == 2 and "different numbers of rows" in r.stderr


def test_compare_several_columns_against_the_first_and_by_group(tmp_path):
    df = frame(800)
    df["m2"] = df["y_pred"] * 0.9
    df["m3"] = df["y_pred"] + 0.1
    r = run(
        "compare",
        "-l",
        "mae",
        "--pred",
        "y_pred,m2,m3",
        "--by",
        "g",
        "-f",
        "json",
        write(tmp_path, df),
    )
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert [(x["base_name"], x["new_name"]) for x in obj["results"]] == [
        ("y_pred", "m2"),
        ("y_pred", "m3"),
    ]
    rows = per_row(df)
    for group in obj["groups"]:
        part = df[df["g"] == group["key"]]
        want = float(
            (part["m3"] - part["y_true"]).abs().mean() - rows.loc[part.index, "mae"].mean()
        )
        assert group["results"][1]["diff"] == pytest.approx(want, rel=1e-9, abs=1e-15)


def test_a_group_without_weight_is_null_not_nan(tmp_path):
    df = pd.DataFrame(
        {
            "y_true": [1.0, 2, 3, 4, 5, 6],
            "y_pred": [1.5, 2, 3, 4, 5, 7],
            "m2": [1.0, 2, 3, 4, 5, 6.5],
            "w": [0.0, 0, 1, 1, 2, 1],
            "g": ["z", "z", "a", "a", "b", "b"],
        }
    )
    path = write(tmp_path, df)
    for loss in ("mse", "mae", "huber"):
        r = run(
            "compute",
            "-l",
            loss,
            "--weight",
            "w",
            "--by",
            "g",
            "--baseline",
            "--bootstrap",
            "50",
            "-f",
            "json",
            path,
        )
        assert r.exit_code == 0, r.output
        (z,) = [g for g in json.loads(r.stdout)["groups"] if g["key"] == "z"]
        assert z["results"][0]["value"] is None
        assert z["results"][0]["baseline"] == {"constant": None, "value": None, "d2": None}
    r = run(
        "compare",
        "-l",
        "mse",
        "--weight",
        "w",
        "--pred",
        "y_pred,m2",
        "--by",
        "g",
        "-f",
        "json",
        path,
    )
    assert r.exit_code == 0, r.output
    (z,) = [g for g in json.loads(r.stdout)["groups"] if g["key"] == "z"]
    assert (z["results"][0]["diff"], z["results"][0]["p_value"]) == (None, None)


def test_worst_in_tsv_lists_the_rows(tmp_path):
    df = frame(300)
    r = run("compute", "-l", "mse", "--worst", "4", "-f", "tsv", write(tmp_path, df))
    assert r.exit_code == 0, r.output
    head, *lines = r.stdout.splitlines()
    assert head == "loss\trank\trow\ty_true\ty_pred\tloss_value\tgradient"
    e2 = ((df["y_pred"] - df["y_true"]) ** 2).to_numpy()
    want = np.lexsort((np.arange(len(df)), -e2))[:4] + 1
    assert [int(line.split("\t")[2]) for line in lines] == want.tolist()
    assert [line.split("\t")[1] for line in lines] == ["1", "2", "3", "4"]


def test_compare_reads_one_file_from_stdin(tmp_path):
    df = frame(400)
    df["m2"] = df["y_pred"] + 0.05
    path = write(tmp_path, df)
    args = ["compare", "-l", "mae", "--pred", "y_pred,m2", "--bootstrap", "200", "-f", "json"]
    from_file = run(*args, path)
    from_stdin = run(*args, "-", stdin=Path(path).read_text())
    assert from_file.exit_code == 0, from_file.output
    assert json.loads(from_file.stdout)["results"] == json.loads(from_stdin.stdout)["results"]
