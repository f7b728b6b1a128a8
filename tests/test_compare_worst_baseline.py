"""compare --worst N and --baseline: the evaluate package's worst rows and best constant."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli


def _file(tmp_path, n=300, weighted=False):
    rng = np.random.default_rng(4)
    y = rng.normal(size=n)
    a = y + rng.normal(scale=0.5, size=n)
    b = y + rng.normal(scale=0.4, size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    path = tmp_path / "models.csv"
    head = "y,a,b,w\n" if weighted else "y,a,b\n"
    rows = zip(y.tolist(), a.tolist(), b.tolist(), w.tolist(), strict=True)
    body = "".join(
        f"{r[0]!r},{r[1]!r},{r[2]!r}" + (f",{r[3]!r}\n" if weighted else "\n") for r in rows
    )
    path.write_text(head + body)
    return path, y, a, b, w


def _run(*args):
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.mark.parametrize("weighted", [False, True])
def test_worst_rows_equal_a_full_sort_of_the_difference(tmp_path, weighted):
    path, y, a, b, w = _file(tmp_path, weighted=weighted)
    extra = ["--weight", "w"] if weighted else []
    out = json.loads(
        _run("compare", "-l", "mae", "--true", "y", "--pred", "a,b", *extra, "--worst", "7",
             "--bootstrap", "0", "-f", "json", str(path))
    )  # fmt: skip
    s = w if weighted else np.ones_like(y)
    base, new = s * np.abs(y - a), s * np.abs(y - b)
    order = np.lexsort((np.arange(y.size), -(new - base)))[:7]
    worst = out["results"][0]["worst"]
    assert [r["row"] for r in worst] == (order + 1).tolist()
    for r, i in zip(worst, order, strict=True):
        assert r["base"] == pytest.approx(base[i], rel=1e-12)
        assert r["new"] == pytest.approx(new[i], rel=1e-12)
        assert (r["y_true"], r["base_pred"], r["new_pred"]) == (y[i], a[i], b[i])


def test_worst_rows_in_csv_instead_of_the_summary(tmp_path):
    path, *_ = _file(tmp_path, n=40)
    lines = _run(
        "compare", "-l", "mse", "--true", "y", "--pred", "a,b", "--worst", "3", "-f", "csv",
        str(path)
    ).splitlines()  # fmt: skip
    assert lines[0].split(",")[:5] == ["loss", "base_name", "new_name", "rank", "row"]
    assert len(lines) == 4 and [line.split(",")[3] for line in lines[1:]] == ["1", "2", "3"]


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_baseline_d2_of_each_model_equals_compute_baseline(tmp_path, loss):
    path, *_ = _file(tmp_path, weighted=True)
    out = json.loads(
        _run("compare", "-l", loss, "--true", "y", "--pred", "a,b", "--weight", "w",
             "--baseline", "--bootstrap", "0", "-f", "json", str(path))
    )  # fmt: skip
    got = out["results"][0]["baseline"]
    for model, key in (("a", "d2_base"), ("b", "d2_new")):
        ref = json.loads(
            _run("compute", "-l", loss, "--true", "y", "--pred", model, "--weight", "w",
                 "--baseline", "-f", "json", str(path))
        )["results"][0]["baseline"]  # fmt: skip
        assert got["constant"] == pytest.approx(ref["constant"], rel=1e-12)
        assert got["value"] == pytest.approx(ref["value"], rel=1e-12)
        assert got[key] == pytest.approx(ref["d2"], rel=1e-12)


def test_baseline_per_group_and_in_csv(tmp_path):
    path, *_ = _file(tmp_path, n=60)
    text = path.read_text().splitlines()
    path.write_text(
        "\n".join([text[0] + ",g", *(f"{t},{i % 2}" for i, t in enumerate(text[1:]))]) + "\n"
    )
    out = json.loads(
        _run("compare", "-l", "mse", "--true", "y", "--pred", "a,b", "--by", "g", "--baseline",
             "--bootstrap", "0", "-f", "json", str(path))
    )  # fmt: skip
    for g in out["groups"]:
        ref = json.loads(
            _run("compute", "-l", "mse", "--true", "y", "--pred", "a", "--by", "g", "--baseline",
                 "-f", "json", str(path))
        )["groups"]  # fmt: skip
        mine = next(r for r in ref if r["key"] == g["key"])["results"][0]["baseline"]
        assert g["results"][0]["baseline"]["d2_base"] == pytest.approx(mine["d2"], rel=1e-12)
    head = _run(
        "compare", "-l", "mse", "--true", "y", "--pred", "a,b", "--baseline", "--bootstrap", "0",
        "-f", "csv", str(path)
    ).splitlines()[0]  # fmt: skip
    assert head.endswith("baseline,baseline_value,d2_base,d2_new")


# --------------------------------------------------------------- the shared input options


def _diff(*args):
    out = json.loads(_run("compare", "-l", "mse", "--bootstrap", "0", "-f", "json", *args))
    return out["results"][0]["diff"]


def test_compare_reads_tab_headerless_and_delimited_input(tmp_path):
    path, *_ = _file(tmp_path, n=50)
    ref = _diff("--true", "y", "--pred", "a,b", str(path))
    lines = path.read_text().splitlines()
    tsv = tmp_path / "models.txt"
    tsv.write_text("\n".join(line.replace(",", "\t") for line in lines[1:]) + "\n")
    assert _diff("-t", "--no-header", "--true", "1", "--pred", "2,3", str(tsv)) == ref
    semi = tmp_path / "models.dat"
    semi.write_text("\n".join(line.replace(",", ";") for line in lines) + "\n")
    assert _diff("-d", ";", "--true", "y", "--pred", "a,b", str(semi)) == ref


def test_compare_two_files_with_an_input_format(tmp_path):
    path, y, a, b, _ = _file(tmp_path, n=30)
    ref = _diff("--true", "y", "--pred", "a,b", str(path))
    files = []
    for name, p in (("base", a), ("new", b)):
        f = tmp_path / f"{name}.txt"  # jsonl under a name that says nothing
        rows = zip(y.tolist(), p.tolist(), strict=True)
        f.write_text("".join(json.dumps({"y": t, "p": q}) + "\n" for t, q in rows))
        files.append(str(f))
    assert _diff("--input-format", "jsonl", "--true", "y", "--pred", "p", *files) == ref


def test_compare_refuses_disagreeing_tab_and_delimiter(tmp_path):
    path, *_ = _file(tmp_path, n=5)
    r = CliRunner().invoke(
        cli, ["compare", "-l", "mse", "--pred", "a,b", "-t", "-d", ";", str(path)]
    )
    assert r.exit_code == 2 and "--tab and --delimiter disagree" in r.output
