"""The same data in every input format gives the same numbers and the same errors.

One table is written as CSV, TSV, semicolon-CSV, headerless CSV, Parquet
(several row groups), Feather (Arrow IPC file), an Arrow IPC stream, JSON
Lines, and compressed text (gzip, bzip2, xz, zstd); compute, train and
predict must print identical numbers (to 1e-12) for each, and the same bad
cells must give the same error message (same rows) in every format.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from losscli.cli import cli

N = 300


def invoke(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x1, x2 = rng.normal(size=N), rng.normal(size=N) * 3
    y = (x1 - 0.4 * x2 + rng.normal(size=N) > 0).astype(np.int64)
    p = 1 / (1 + np.exp(-(x1 - 0.4 * x2)))
    return pd.DataFrame({"x1": x1, "x2": x2, "y_pred": p, "y": y})


def _csv_text(frame: pd.DataFrame, sep: str = ",", header: bool = True) -> str:
    lines = [sep.join(frame.columns)] if header else []
    for row in frame.itertuples(index=False):
        lines.append(sep.join(v if isinstance(v, str) else repr(v) for v in row))
    return "\n".join(lines) + "\n"


def _jsonl_text(frame: pd.DataFrame) -> str:
    rows = []
    for row in frame.itertuples(index=False):
        values = [v.item() if hasattr(v, "item") else v for v in row]
        rows.append(json.dumps(dict(zip(frame.columns, values, strict=True))))
    return "\n".join(rows) + "\n"


def write_all(frame: pd.DataFrame, folder: Path) -> dict[str, tuple[Path, list[str]]]:
    """Every format: name -> (path, the extra flags it needs)."""
    csv = _csv_text(frame).encode()
    out: dict[str, tuple[Path, list[str]]] = {}

    def put(name: str, data: bytes, flags: list[str] | None = None) -> None:
        path = folder / name
        path.write_bytes(data)
        out[name] = (path, flags or [])

    put("d.csv", csv)
    put("d.tsv", _csv_text(frame, "\t").encode())
    put("d.tab.txt", _csv_text(frame, "\t").encode(), ["--tab"])
    put("semi.csv", _csv_text(frame, ";").encode(), ["-d", ";"])
    put("noheader.csv", _csv_text(frame, header=False).encode(), ["--no-header"])
    put("d.jsonl", _jsonl_text(frame).encode())
    put("d.ndjson.gz", gzip.compress(_jsonl_text(frame).encode()))
    put("d.csv.gz", gzip.compress(csv))
    put("d.csv.bz2", bz2.compress(csv))
    put("d.csv.xz", lzma.compress(csv))
    put("d.tsv.gz", gzip.compress(_csv_text(frame, "\t").encode()))
    put("noext", csv, ["--input-format", "csv"])
    zst = folder / "d.csv.zst"
    with pa.CompressedOutputStream(str(zst), "zstd") as handle:
        handle.write(csv)
    out["d.csv.zst"] = (zst, [])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, folder / "d.parquet", row_group_size=64)
    out["d.parquet"] = (folder / "d.parquet", [])
    pq.write_table(table, folder / "d.pq")
    out["d.pq"] = (folder / "d.pq", [])
    feather.write_feather(frame, folder / "d.feather")
    out["d.feather"] = (folder / "d.feather", [])
    with (
        pa.OSFile(str(folder / "stream.arrows"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as writer,
    ):
        writer.write_table(table, max_chunksize=50)
    out["stream.arrows"] = (folder / "stream.arrows", ["--input-format", "arrow"])
    return out


@pytest.fixture(scope="module")
def formats(tmp_path_factory):
    return write_all(_frame(), tmp_path_factory.mktemp("formats"))


def _columns(name: str, flags: list[str], **named: str) -> list[str]:
    """Column flags: by name, or by 1-based position for the headerless file."""
    positions = {"x1": "1", "x2": "2", "y_pred": "3", "y": "4"}
    out = []
    for flag, col in named.items():
        out += [f"--{flag}", positions[col] if "--no-header" in flags else col]
    return out


def test_compute_is_the_same_in_every_format(formats):
    results = {}
    for name, (path, flags) in formats.items():
        cols = _columns(name, flags, true="y", pred="y_pred")
        r = invoke("compute", "-l", "bce,mse", "-f", "json", "--grad", *flags, *cols, str(path))
        assert r.exit_code == 0, (name, r.stderr)
        obj = json.loads(r.stdout)
        results[name] = [(res["value"], res["gradient"]) for res in obj["results"]]
    reference = results["d.csv"]
    for name, got in results.items():
        for (v, g), (rv, rg) in zip(got, reference, strict=True):
            assert v == pytest.approx(rv, rel=1e-12), name
            np.testing.assert_allclose(g, rg, rtol=1e-12, err_msg=name)


def test_stdin_in_every_format(formats):
    for name in ("d.csv", "d.parquet", "d.feather", "d.jsonl", "d.csv.gz"):
        path, flags = formats[name]
        r = invoke("compute", "-l", "mse", "--true", "y", "--pred", "y_pred",
                   "--grad-out", "-", *flags, "-", stdin=path.read_bytes())  # fmt: skip
        assert r.exit_code == 0, (name, r.stderr)
        assert len(r.stdout.splitlines()) == N + 1


def test_train_and_predict_are_the_same_in_every_format(formats, tmp_path):
    coefs, preds = {}, {}
    for name, (path, flags) in formats.items():
        target = ["--target", "4"] if "--no-header" in flags else []
        features = ["--features", "1,2"] if "--no-header" in flags else ["--features", "x1,x2"]
        model = tmp_path / f"{name}.json"
        r = invoke("train", "-l", "bce", "-f", "json", *flags, *target, *features,
                   "--save", str(model), str(path))  # fmt: skip
        assert r.exit_code == 0, (name, r.stderr)
        obj = json.loads(r.stdout)
        coefs[name] = [*obj["coef"], obj["intercept"]]
        if "--no-header" in flags:
            continue  # its model's features are named 1, 2
        p = invoke("predict", "-m", str(model), *flags, str(path))
        assert p.exit_code == 0, (name, p.stderr)
        preds[name] = pd.read_csv(pd.io.common.StringIO(p.stdout)).to_numpy()
    for name, coef in coefs.items():
        np.testing.assert_allclose(coef, coefs["d.csv"], rtol=1e-12, err_msg=name)
    for name, table in preds.items():
        np.testing.assert_allclose(table, preds["d.csv"], rtol=1e-12, err_msg=name)


def _bad_frame() -> pd.DataFrame:
    """y_pred as text: row 3 is 'abc', row 5 blank."""
    frame = _frame().head(8)
    text = [repr(v) for v in frame["y_pred"]]
    text[2] = "abc"
    cells: list[str | None] = list(text)
    cells[4] = None
    frame = frame.assign(y_pred=pd.Series(cells, dtype=object))
    return frame


@pytest.mark.parametrize("dropna", [False, True])
def test_bad_cells_give_the_same_message_in_every_format(tmp_path, dropna):
    frame = _bad_frame()
    csv = "x1,x2,y_pred,y\n" + "".join(
        f"{a!r},{b!r},{'' if p is None else p},{y}\n"
        for a, b, p, y in frame.itertuples(index=False)
    )
    paths = {"csv": tmp_path / "b.csv", "tsv": tmp_path / "b.tsv"}
    paths["csv"].write_text(csv)
    paths["tsv"].write_text(csv.replace(",", "\t"))
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(csv.encode()))
    paths["gz"] = tmp_path / "b.csv.gz"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "b.parquet")
    paths["parquet"] = tmp_path / "b.parquet"
    feather.write_feather(frame, tmp_path / "b.feather")
    paths["feather"] = tmp_path / "b.feather"
    (tmp_path / "b.jsonl").write_text(_jsonl_text(frame))
    paths["jsonl"] = tmp_path / "b.jsonl"
    extra = ["--dropna"] if dropna else []
    outputs = {}
    for name, path in paths.items():
        r = invoke("compute", "-l", "mse", "--true", "y", "-f", "value", *extra, str(path))
        outputs[name] = (r.exit_code, r.stdout, r.stderr)
    if not dropna:
        assert outputs["csv"] == (
            2,
            "",
            "Error: column 'y_pred' has non-numeric values in row 3 (e.g. 'abc')\n"
            "use --dropna to skip such rows\n",
        )
    else:
        assert outputs["csv"][0] == 0 and "dropped 2 rows" in outputs["csv"][2]
    for name, got in outputs.items():
        assert got == outputs["csv"], name
    # train reads the same rules: the same message, or the same dropped rows
    trained = {}
    for name, path in paths.items():
        r = invoke(
            "train", "-f", "json", "--target", "y", "--features", "y_pred", *extra, str(path)
        )
        trained[name] = (r.exit_code, r.stderr, r.stdout and json.loads(r.stdout)["coef"])
    for name, got in trained.items():
        assert got == trained["csv"], name


def test_parquet_streams_by_row_group(tmp_path, monkeypatch):
    """compute reads a Parquet file in blocks of row groups, never the whole table."""
    from losscli.io import formats

    monkeypatch.setattr(formats, "ARROW_ROWS", 10)
    seen = []
    original = formats._arrow_block

    def spy(batch, keys, used, numbers):
        seen.append(batch.num_rows)
        return original(batch, keys, used, numbers)

    monkeypatch.setattr(formats, "_arrow_block", spy)
    frame = _frame()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "d.parquet",
                   row_group_size=25)  # fmt: skip
    r = invoke("compute", "-l", "mse", "--true", "y", "-f", "value", str(tmp_path / "d.parquet"))
    assert r.exit_code == 0, r.stderr
    assert max(seen) <= 10 and sum(seen) == N
    expected = float(np.mean((frame["y_pred"] - frame["y"]) ** 2))
    assert float(r.stdout) == pytest.approx(expected, rel=1e-12)


def test_semicolon_file_names_its_delimiter(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("y_true;y_pred\n1;2\n")
    r = invoke("compute", "-l", "mse", str(path))
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: {path} has one column and looks ';'-separated, not ','-separated\n"
        "give the delimiter: -d ';'\n",
    )
    r = invoke("train", str(path))
    assert r.exit_code == 2 and "-d ';'" in r.stderr
    tab = tmp_path / "t.csv"
    tab.write_text("y_true\ty_pred\n1\t2\n")
    r = invoke("compute", "-l", "mse", str(tab))
    assert r.exit_code == 2 and "give the delimiter: --tab" in r.stderr


def test_input_option_errors(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("y_true,y_pred\n1,2\n")
    r = invoke("compute", "-l", "mse", "-d", ";;", str(path))
    assert r.exit_code == 2 and "the delimiter must be one character" in r.stderr
    r = invoke("compute", "-l", "mse", "--input-format", "parquet", str(path))
    assert r.exit_code == 2 and "is not a readable Parquet file" in r.stderr
    assert "Traceback" not in r.output


def test_headerless_columns_are_positions(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("1,1.5,9\n2,2.5,9\n")
    r = invoke("compute", "-l", "mse", "--no-header", "--true", "1", "--pred", "2", "-f",
               "value", str(path))  # fmt: skip
    assert (r.exit_code, r.stdout) == (0, "0.25\n")
    r = invoke("compute", "-l", "mse", "--no-header", "--true", "1", "--pred", "4", str(path))
    assert r.exit_code == 2 and "no column named '4'" in r.stderr


# --------------------------------------------------------------------------- in memory


def test_library_calls_take_dataframes_and_arrays(formats, tmp_path):
    """compute/train/predict accept a DataFrame (and train an (X, y) pair) like a file."""
    import io

    from losscli.compute import ComputeRequest, run_compute
    from losscli.io.columns import ColumnRequest
    from losscli.losses import make_loss
    from losscli.predict import write_predictions
    from losscli.train import TrainRequest, train

    frame = _frame()
    path = str(formats["d.csv"][0])
    columns = ColumnRequest("y", "y_pred")
    on_file = run_compute(ComputeRequest(path, (make_loss("bce"),), columns))
    in_memory = run_compute(ComputeRequest(frame, (make_loss("bce"),), columns))
    assert in_memory.summaries[0].value == pytest.approx(on_file.summaries[0].value, rel=1e-12)
    loss = make_loss("bce")
    by_file = train(TrainRequest(path, loss, target="y", features="x1,x2"))
    by_frame = train(TrainRequest(frame, loss, target="y", features="x1,x2"))
    by_arrays = train(TrainRequest((frame[["x1", "x2"]].to_numpy(), frame["y"].to_numpy()), loss))
    for report in (by_frame, by_arrays):
        np.testing.assert_allclose(report.model.coef, by_file.model.coef, rtol=1e-12)
        np.testing.assert_allclose(report.model.intercept, by_file.model.intercept, rtol=1e-12)
    assert by_arrays.model.features == ["x1", "x2"] and by_arrays.model.target == "y"
    x = frame[["x1", "x2"]].to_numpy()
    before = x.copy()
    train(TrainRequest((x, frame["y"].to_numpy()), loss))
    assert np.array_equal(x, before)  # the caller's array is not standardized in place
    out_file, out_frame = io.StringIO(), io.StringIO()
    write_predictions(by_file.model, path, out_file, logits=False)
    write_predictions(by_file.model, frame, out_frame, logits=False)
    assert out_file.getvalue() == out_frame.getvalue()


def test_dataframe_pass_two_reads_the_frame_again(monkeypatch):
    """Per-row output of a DataFrame over several blocks: pass 2 re-reads it from memory."""
    from losscli.compute import ComputeRequest, run_compute, samples
    from losscli.io import formats
    from losscli.losses import make_loss

    monkeypatch.setattr(formats, "ARROW_ROWS", 7)
    frame = _frame()
    request = ComputeRequest(frame, (make_loss("mse"),), per_sample=True)
    report = run_compute(request)
    grads = np.concatenate([s.grads[0] for s in samples(report)])
    expected = 2 * (frame["y_pred"] - frame["y"]).to_numpy() / N
    np.testing.assert_allclose(grads, expected, rtol=1e-12)
