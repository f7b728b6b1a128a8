"""--engine dask cuts files into partitions the way Dask does, and gives the local numbers.

One CSV cut into byte ranges and one Parquet file cut into runs of row
groups, each into at least four partitions: compute equals the local engine
(to 1e-12; in fact to the bit, the CSV ranges being the local reader's
blocks), predict and every per-row output byte for byte, errors name the
same row and line.  The reader's block is shrunk to 16 kB (so small files
make many partitions); the cluster runs in this process (threads), so the
workers see the same setting.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.engine.parts import PartKind, partitions
from losscli.io import csvblocks

distributed = pytest.importorskip("distributed")

ROWS = 24_000
BLOCK = 16_000  # bytes per parsed block here (2 MB by default)
SIZE = "150kB"  # --partition-size: about 17 partitions of the CSV, 1,400 rows each
BAD_ROW = 3_500


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvblocks, "DEFAULT_BLOCK_BYTES", BLOCK)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pandas as pd

    rng = np.random.default_rng(5)
    out = tmp_path_factory.mktemp("parts")
    x = rng.normal(size=(ROWS, 2))
    score = x @ [1.5, -0.7] + 0.2
    frame = pd.DataFrame(x, columns=["a", "b"])
    frame["y"] = score + rng.normal(size=ROWS)
    frame["y_true"] = (score + rng.logistic(size=ROWS) > 0).astype(int)
    frame["y_pred"] = 1 / (1 + np.exp(-score))
    frame["w"] = rng.uniform(0.1, 3.0, size=ROWS)
    frame.to_csv(out / "big.csv", index=False)
    frame.to_parquet(out / "big.parquet", row_group_size=2_000)  # 12 row groups
    lines = (out / "big.csv").read_text().splitlines(keepends=True)
    bad = lines.copy()
    bad[BAD_ROW] = "0.1,0.2,0.3,1,oops,1.0\n"  # data row 3500: in the 3rd partition
    (out / "bad.csv").write_text("".join(bad))
    ragged = lines.copy()
    ragged[BAD_ROW] = "0.1,0.2,0.3,1,0.5,1.0,9\n"  # 7 fields under 6 names
    (out / "ragged.csv").write_text("".join(ragged))
    quoted = lines.copy()
    quoted[20_000] = '0.1,"0.2\n",0.3,1,0.5,1.0\n'  # a quoted field spanning two lines
    (out / "quoted.csv").write_text("".join(quoted))
    return out


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _both(scheduler: str, *args: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    local = _run(*args)
    remote = _run(*args, "--engine", "dask", "--scheduler", scheduler, "--partition-size", SIZE)
    return local, remote


def test_the_files_are_cut_into_at_least_four_partitions(data: Path) -> None:
    from losscli.engine.memory import parse_size

    size = parse_size(SIZE, minimum=0)
    csv = partitions([str(data / "big.csv")], None, size)
    assert len(csv) >= 4 and {p.kind for p in csv} == {PartKind.BYTES}
    assert csv[0].first_row == 1 and all(p.first_row is None for p in csv[1:])
    # contiguous, from the end of the header to the end of the file, on line ends
    text = (data / "big.csv").read_bytes()
    assert csv[0].start == text.index(b"\n") + 1 and csv[-1].stop == len(text)
    for left, right in itertools.pairwise(csv):
        assert left.stop == right.start and text[right.start - 1 : right.start] == b"\n"
    parquet = partitions([str(data / "big.parquet")], None, size)
    assert len(parquet) >= 4 and {p.kind for p in parquet} == {PartKind.ROW_GROUPS}
    assert [p.first_row for p in parquet[:2]] == [1, 1 + (parquet[0].stop * 2_000)]
    assert parquet[-1].stop == 12
    assert len(partitions([str(data / "big.csv")], None, 0)) == 1  # --partition-size 0


def test_rows_before_a_partition_are_counted_by_the_parser(data: Path) -> None:
    from losscli.engine.memory import parse_size
    from losscli.engine.partread import count_before

    parts = partitions([str(data / "big.csv")], None, parse_size(SIZE, minimum=0))
    text = (data / "big.csv").read_bytes()
    third = count_before(parts[2])
    rows = text[: parts[2].start].count(b"\n") - 1  # less the header
    assert third.first_row == rows + 1 and third.first_line == rows + 2


@pytest.mark.parametrize("name", ["big.csv", "big.parquet"])
def test_compute_equals_the_local_engine(scheduler: str, data: Path, name: str) -> None:
    args = ["compute", "-l", "bce,focal,mse,hinge", "-f", "json", str(data / name)]
    for extra in ([], ["--weight", "w"]):
        local, remote = _both(scheduler, *args, *extra)
        assert local[0] == remote[0] == 0, remote
        a, b = json.loads(local[1]), json.loads(remote[1])
        assert a["n"] == b["n"] == ROWS
        for ra, rb in zip(a["results"], b["results"], strict=True):
            assert rb["value"] == pytest.approx(ra["value"], rel=1e-12, abs=0)
        assert remote[1] == local[1]  # read in the local reader's blocks: to the bit


@pytest.mark.parametrize("name", ["big.csv", "big.parquet"])
def test_predict_equals_the_local_engine_exactly(
    scheduler: str, data: Path, tmp_path: Path, name: str
) -> None:
    model = tmp_path / "m.json"
    fit = ["train", str(data / "big.csv"), "--loss", "bce", "--target", "y_true"]
    assert _run(*fit, "--features", "a,b", "-q", "--save", str(model))[0] == 0
    local, remote = _both(scheduler, "predict", "-m", str(model), str(data / name))
    assert local[0] == remote[0] == 0, remote
    assert remote[1] == local[1] and len(local[1].splitlines()) == ROWS + 1


@pytest.mark.parametrize(
    "output",
    [
        ["--grad", "-f", "csv"],
        ["--grad", "-f", "json", "--weight", "w"],
        ["--reduction", "none", "-f", "tsv"],
        ["--grad-out", "-"],
    ],
)
def test_per_row_output_equals_the_local_bytes(
    scheduler: str, data: Path, output: list[str]
) -> None:
    for name in ("big.csv", "big.parquet"):
        local, remote = _both(scheduler, "compute", "-l", "bce,mse", str(data / name), *output)
        assert local[0] == remote[0] == 0, remote
        assert remote[1] == local[1]
        if "json" in output:
            assert len(json.loads(local[1])["results"][0]["gradient"]) == ROWS
        else:
            assert len(local[1].splitlines()) >= ROWS


def test_grad_out_folder_holds_one_file_per_partition(
    scheduler: str, data: Path, tmp_path: Path
) -> None:
    whole = tmp_path / "whole.csv"
    args = ["compute", "-l", "mse", "--weight", "w", str(data / "big.csv")]
    assert _run(*args, "--grad-out", str(whole))[0] == 0
    folder = tmp_path / "rows"
    dask = ["--engine", "dask", "--scheduler", scheduler, "--partition-size", SIZE]
    code, _, err = _run(*args, *dask, "--grad-out", f"{folder}/")
    assert code == 0, err
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f"part-{i:05d}.csv" for i in range(len(files))]
    assert len(files) >= 4
    texts = [f.read_text() for f in files]
    header = texts[0].splitlines(keepends=True)[0]
    assert all(t.startswith(header) for t in texts)
    assert header + "".join(t[len(header) :] for t in texts) == whole.read_text()
    # a run that fails leaves nothing, not even temporary files; the old files stay
    code, _, err = _run(*args[:-1], str(data / "bad.csv"), *dask, "--grad-out", f"{folder}/")
    assert code == 2 and [f.read_text() for f in sorted(folder.iterdir())] == texts
    fresh = tmp_path / "fresh"
    assert _run(*args[:-1], str(data / "bad.csv"), *dask, "--grad-out", f"{fresh}/")[0] == 2
    assert not fresh.exists()


@pytest.mark.parametrize("name", ["bad.csv", "ragged.csv"])
def test_an_error_in_a_later_partition_names_the_local_row(
    scheduler: str, data: Path, name: str
) -> None:
    from losscli.engine.memory import parse_size

    parts = partitions([str(data / name)], None, parse_size(SIZE, minimum=0))
    where = (data / name).read_bytes().index(b"0.1,0.2")
    assert [p.start <= where < p.stop for p in parts].index(True) == 2  # the 3rd
    for command in (
        ["compute", "-l", "mse", str(data / name)],
        ["train", str(data / name), "--target", "y", "--features", "a,b,y_pred", "-q"],
    ):
        local, remote = _both(scheduler, *command)
        assert local[0] == remote[0] == 2
        assert remote[2] == local[2]
        assert (f"row {BAD_ROW}" if name == "bad.csv" else f"line {BAD_ROW + 1}") in local[2]


def test_a_quoted_field_across_lines_is_refused_not_misread(scheduler: str, data: Path) -> None:
    args = ["compute", "-l", "mse", "--true", "y", "--pred", "a", str(data / "quoted.csv")]
    local, remote = _both(scheduler, *args)
    assert local[0] == 0  # the local engine reads it: a newline inside quotes is valid CSV
    assert remote[0] == 2 and "quoted field that spans lines" in remote[2]
    assert "--partition-size 0" in remote[2]
    whole = _run(*args, "--engine", "dask", "--scheduler", scheduler, "--partition-size", "0")
    assert whole[:2] == local[:2]


def test_check_grad_and_metrics_equal_the_local_engine(scheduler: str, data: Path) -> None:
    args = ["compute", "-l", "bce,mse", "--check-grad", "-f", "json", str(data / "big.csv")]
    args += ["--metric", "roc_auc,accuracy,log_loss,mae,r2"]
    for extra in ([], ["--weight", "w"]):
        local, remote = _both(scheduler, *args, *extra)
        assert local[0] == remote[0] == 0, remote
        a, b = json.loads(local[1]), json.loads(remote[1])
        assert b["metrics"] == a["metrics"] and set(a["metrics"]) >= {"accuracy", "mae"}
        for ra, rb in zip(a["results"], b["results"], strict=True):
            assert rb["check_grad"] == ra["check_grad"]


@pytest.mark.parametrize(
    "fit", [["--target", "y"], ["--loss", "bce", "--target", "y_true", "--l2", "1e-3"]]
)
def test_train_on_partitions_reaches_the_local_optimum(
    scheduler: str, data: Path, fit: list[str]
) -> None:
    args = ["train", "-f", "json", "-q", "--features", "a,b", *fit]
    for name in ("big.csv", "big.parquet"):
        local, remote = _both(scheduler, *args, str(data / name))
        assert local[0] == remote[0] == 0, remote
        a, b = json.loads(local[1]), json.loads(remote[1])
        assert b["objective"] == pytest.approx(a["objective"], rel=1e-10)
        assert np.allclose(b["coef"], a["coef"], rtol=1e-8, atol=0)


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        (b'1,"a\nb",2\n3,4,5\n', True),  # a newline inside quotes
        (b'b",2\n3,4,5\n', True),  # a range that starts inside a quoted field
        (b'1,"a ""q"" b",2\n3,"4",5\n', False),  # doubled quotes: even on every line
        (b"1,2,3\n4,5,6\n", False),
    ],
)
def test_a_range_notices_quoted_fields_across_lines(
    tmp_path: Path, text: bytes, spans: bool
) -> None:
    from losscli.engine.partread import _Range
    from losscli.errors import InputError

    path = tmp_path / "r.csv"
    path.write_bytes(b"pad\n" + text)
    stream = _Range(str(path), 4, 4 + len(text), "r.csv")
    read = lambda: [stream.read(3) for _ in range(len(text))]  # noqa: E731  (tiny reads)
    if spans:
        with pytest.raises(InputError, match="quoted field that spans lines"):
            read()
    else:
        assert b"".join(read()) == text
    stream.close()


def test_per_row_output_metrics_and_checks_on_a_local_glob_are_the_whole_files(
    data: Path, tmp_path: Path
) -> None:
    lines = (data / "big.csv").read_text().splitlines(keepends=True)
    whole = tmp_path / "whole.csv"
    whole.write_text("".join(lines[:4001]))
    (tmp_path / "halves").mkdir()
    (tmp_path / "halves" / "h1.csv").write_text("".join(lines[:2001]))
    (tmp_path / "halves" / "h2.csv").write_text(lines[0] + "".join(lines[2001:4001]))
    args = ["compute", "-l", "mse,bce", "--check-grad", "--metric", "roc_auc,mae", "--grad"]
    one = json.loads(_run(*args, "-f", "json", str(whole))[1])
    glob = json.loads(_run(*args, "-f", "json", str(tmp_path / "halves" / "*.csv"))[1])
    assert glob["metrics"] == one["metrics"] and glob["n"] == one["n"] == 4000
    for a, b in zip(one["results"], glob["results"], strict=True):
        assert b["gradient"] == a["gradient"] and b["check_grad"] == a["check_grad"]
        assert b["value"] == pytest.approx(a["value"], rel=1e-12)


def test_metrics_that_are_means_merge_from_the_partitions(scheduler: str, data: Path) -> None:
    from losscli.engine.metric_parts import MEANS

    args = ["compute", "--metric", ",".join(sorted(MEANS)), "-f", "json"]
    for name in ("big.csv", "big.parquet"):
        for extra in ([], ["--weight", "w"]):
            local, remote = _both(scheduler, *args, str(data / name), *extra)
            assert local[0] == remote[0] == 0, remote
            a, b = json.loads(local[1])["metrics"], json.loads(remote[1])["metrics"]
            assert set(a) == MEANS
            assert b == pytest.approx(a, rel=1e-12, abs=0)


@pytest.mark.parametrize("variant", ["crlf", "bom", "no-header", "tsv", "semicolon"])
def test_csv_dialects_cut_into_partitions_read_as_locally(
    scheduler: str, data: Path, tmp_path: Path, variant: str
) -> None:
    lines = (data / "big.csv").read_text().splitlines()[:8001]
    args = ["compute", "-l", "mse", "--grad", "-f", "csv", "--true", "y", "--pred", "a"]
    name = "v.tsv" if variant == "tsv" else "v.csv"
    if variant == "crlf":
        text = "\r\n".join(lines) + "\r\n"
    elif variant == "bom":
        text = "\ufeff" + "\n".join(lines) + "\n"
    elif variant == "no-header":
        text = "\n".join(lines[1:]) + "\n"
        args = [*args[:6], "--true", "3", "--pred", "1", "--no-header"]
    else:
        sep = "\t" if variant == "tsv" else ";"
        text = "\n".join(line.replace(",", sep) for line in lines) + "\n"
        args += ["-d", ";"] if variant == "semicolon" else []
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    from losscli.io.formats import InputOptions

    options = InputOptions(
        delimiter=";" if variant == "semicolon" else None, header=variant != "no-header"
    )
    assert len(partitions([str(path)], options, 100_000)) >= 4
    local = _run(*args, str(path))
    remote = _run(*args, str(path), "--engine", "dask", "--scheduler", scheduler,
                  "--partition-size", "100kB")  # fmt: skip
    assert local[0] == remote[0] == 0, (local, remote)
    assert remote[1] == local[1] and len(local[1].splitlines()) == 8001


@pytest.mark.parametrize("blank", ["", "\n", "  \t\r\n"])
def test_rows_before_a_partition_count_blank_lines_as_the_parser_does(
    data: Path, tmp_path: Path, blank: str
) -> None:
    from losscli.engine.partread import _line_ends, count_before

    lines = (data / "big.csv").read_text().splitlines(keepends=True)[:6001]
    text = lines[0] + blank + "".join(lines[1:3000]) + blank * 3 + "".join(lines[3000:])
    path = tmp_path / "blank.csv"
    path.write_text(text, newline="")
    parts = partitions([str(path)], None, 60_000)
    assert len(parts) >= 4
    for part in parts[1:]:
        counted = count_before(part)
        # the truth: the rows the parser reads before the partition
        from losscli.engine.partread import _parsed_rows

        assert part.header is not None
        assert counted.first_row == 1 + _parsed_rows(part, part.header)
        assert counted.first_line == 1 + text.encode()[: part.start].count(b"\n")
    assert _line_ends(str(path), 0, len(text))[1] is bool(blank)


@pytest.mark.parametrize(
    ("text", "blank"),
    [(b"1\n2\n \t\r\n3\n", True), (b"\n1\n", True), (b"1\n 2\n3 \n", False)],
)
def test_blank_lines_are_seen_across_the_counters_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bytes, blank: bool
) -> None:
    from losscli.engine import partread

    path = tmp_path / "t.csv"
    path.write_bytes(text)
    for chunk in range(1, len(text) + 1):
        monkeypatch.setattr(partread, "_CHUNK", chunk)
        assert partread._line_ends(str(path), 0, len(text)) == (text.count(b"\n"), blank)


def test_the_first_rows_of_later_partitions_are_numbered_and_scaled_as_locally(
    scheduler: str, data: Path
) -> None:
    from losscli.compute import ComputeRequest, run_compute
    from losscli.engine.compute_parts import compute_any
    from losscli.io.columns import ColumnRequest
    from losscli.losses import make_loss

    request = ComputeRequest(
        source=str(data / "big.csv"),
        losses=(make_loss("bce"),),
        columns=ColumnRequest(weight="w"),
        head_rows=5_000,  # more than the first partition holds
    )
    local = run_compute(request)
    with compute_any(request, "dask", scheduler, 150_000) as remote:
        assert remote.head.rows.tolist() == list(range(1, 5_001))
        assert remote.head.values[0].tolist() == local.head.values[0].tolist()
        assert remote.head.grads[0] == pytest.approx(local.head.grads[0], rel=1e-15, abs=0)


def test_a_partition_whose_rows_dropna_drops_all_is_not_an_error(
    scheduler: str, data: Path, tmp_path: Path
) -> None:
    lines = (data / "big.csv").read_text().splitlines(keepends=True)
    for i in range(2_001, 6_001):  # y_pred of rows 2001…6000 unreadable
        cells = lines[i].split(",")
        cells[4] = "oops"
        lines[i] = ",".join(cells)
    path = tmp_path / "holes.csv"
    path.write_text("".join(lines))
    parts = partitions([str(path)], None, 150_000)
    text = path.read_bytes()
    assert any(
        text[p.start : p.stop].count(b"oops") == text[p.start : p.stop].count(b"\n") for p in parts
    )  # some partition holds nothing else
    for output in (["-f", "json"], ["--grad", "-f", "csv"]):
        local, remote = _both(scheduler, "compute", "-l", "mse", "--dropna", str(path), *output)
        assert local[0] == remote[0] == 0, remote
        assert remote[1] == local[1]
        if "json" in output:
            assert json.loads(remote[1])["dropped"] == 4_000


def test_train_skips_a_partition_whose_rows_dropna_drops_all(
    scheduler: str, data: Path, tmp_path: Path
) -> None:
    lines = (data / "big.csv").read_text().splitlines(keepends=True)
    for i in range(2_001, 6_001):  # the feature a of rows 2001…6000 missing
        cells = lines[i].split(",")
        cells[0] = ""
        lines[i] = ",".join(cells)
    path = tmp_path / "holes.csv"
    path.write_text("".join(lines))
    base = ["train", "-f", "json", "-q", "--features", "a,b", "--dropna"]
    for fit in (["--target", "y"], ["--target", "y_true", "--loss", "bce", "--val-split", "0.2"]):
        local, remote = _both(scheduler, *base, *fit, str(path))
        assert local[0] == remote[0] == 0, remote
        a, b = json.loads(local[1]), json.loads(remote[1])
        assert a["dropped"] == b["dropped"] == 4_000
        assert (a["n_train"], a["n_validation"]) == (b["n_train"], b["n_validation"])
        assert b["objective"] == pytest.approx(a["objective"], rel=1e-10)
        assert np.allclose(b["coef"], a["coef"], rtol=1e-8, atol=0)
