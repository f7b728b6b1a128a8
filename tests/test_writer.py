"""The per-row CSV writer (losscli.io.writer) and predict's output through it."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
import pytest

from losscli.io.writer import block_bytes, header_line, write_block


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_floats_round_trip_exactly() -> None:
    rng = np.random.default_rng(7)
    special = np.array(
        [
            0.0,
            -0.0,
            5e-324,
            2.2250738585072014e-308,
            1e-7,
            0.1,
            1 / 3,
            151.0,
            1e16,
            1e22,
            1.7976931348623157e308,
            -2.5e-5,
            2.0**53 + 2,
            np.inf,
            -np.inf,
        ]
    )
    values = np.concatenate(
        [special, rng.standard_normal(5000) * 10.0 ** rng.integers(-30, 30, 5000)]
    )
    out = io.StringIO()
    write_block(out, {"y_pred": values}, header=True)
    rows = _cells(out.getvalue())
    assert rows[0] == ["y_pred"]
    back = np.array([float(r[0]) for r in rows[1:]])
    assert back.tobytes() == values.tobytes()  # bit for bit, the sign of -0.0 too
    # the shortest text that round-trips: never more digits than repr
    for text, v in zip(rows[1:], values, strict=True):
        if math.isfinite(v):
            digits = lambda s: len(s.lstrip("-").split("e")[0].replace(".", "").strip("0"))  # noqa: E731
            assert digits(text[0]) <= digits(repr(float(v)))


def test_text_and_integer_columns() -> None:
    data = block_bytes({"y_true": np.array(["cat", "dog"], dtype=object), "n": np.array([1, 2])})
    assert data == b"cat,1\ndog,2\n"


@pytest.mark.parametrize(
    "column",
    [
        np.array([1.0, np.nan]),  # NaN: an empty cell, as pandas writes it
        np.array(["a,b", "c"], dtype=object),  # needs quotes
        np.array(['say "hi"', "c"], dtype=object),
        np.array(["line\nbreak", "c"], dtype=object),
        np.array([None, "c"], dtype=object),  # a null: an empty cell either way
    ],
)
def test_blocks_the_fast_writer_declines_are_written_as_pandas_does(column: np.ndarray) -> None:
    out = io.StringIO()
    write_block(out, {"a": column, "b": np.array([0.5, 2.0])}, header=True)
    expected = pd.DataFrame({"a": column, "b": [0.5, 2.0]}).to_csv(index=False, lineterminator="\n")
    if column[0] is not None:
        assert block_bytes({"a": column}) is None
        assert out.getvalue() == expected
    else:  # pyarrow writes it: 2 for 2.0, the same value
        pd.testing.assert_frame_equal(
            pd.read_csv(io.StringIO(out.getvalue())), pd.read_csv(io.StringIO(expected))
        )


def test_header_quotes_only_where_needed() -> None:
    assert header_line(["y_true", "p_a,b", 'p_"q"']) == 'y_true,"p_a,b","p_""q"""\n'


def test_bytes_go_to_the_buffer_of_a_text_stream(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "out.csv"
    with open(path, "w") as out:
        out.write("")  # text written before must come first
        write_block(out, {"y": np.array([1.5])}, header=True)
        write_block(out, {"y": np.array([2.5])}, header=False)
    assert path.read_text() == "y\n1.5\n2.5\n"


def _train_and_predict(tmp_path, frame: pd.DataFrame, target: str, *extra: str) -> str:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from losscli.cli.app import cli

    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "model.json"
    runner = CliRunner()
    trained = runner.invoke(
        cli, ["train", str(data), "--target", target, "--save", str(model), "-q", *extra]
    )
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(cli, ["predict", "-m", str(model), str(data)])
    assert result.exit_code == 0, result.output
    return result.output


def _reference(tmp_path, output: str, frame: pd.DataFrame, target: str) -> None:  # type: ignore[no-untyped-def]
    """The same numbers as the model applied in memory, in the same rows."""
    from losscli.fit.model import load

    model = load(str(tmp_path / "model.json"))
    got = pd.read_csv(io.StringIO(output), dtype=str, keep_default_na=False)
    x = frame[list(model.design.columns)].to_numpy(dtype=np.float64)
    pred = model.predict(x)
    names = ["y_pred"] if pred.ndim == 1 else [f"p_{c}" for c in model.classes or ()]
    assert list(got.columns) == ["y_true", *names]
    want = pred.reshape(len(frame), -1)
    for j, name in enumerate(names):
        # equal to rounding (BLAS may sum a block in another order than the whole)
        np.testing.assert_allclose(
            [float(v) for v in got[name]], want[:, j], rtol=1e-13, atol=1e-15
        )
    return got


def test_predict_regression_output_is_exact(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3000, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["y"] = x @ [1.0, -2.0, 0.5] + rng.standard_normal(3000)
    out = _train_and_predict(tmp_path, frame, "y")
    got = _reference(tmp_path, out, frame, "y")
    assert np.array_equal([float(v) for v in got["y_true"]], frame["y"].to_numpy())


def test_predict_passes_blank_targets_through(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": rng.standard_normal(200)})
    frame["y"] = 2 * frame["a"] + 1
    out = _train_and_predict(tmp_path, frame, "y")
    data = tmp_path / "blank.csv"
    frame.assign(y=frame["y"].where(frame.index % 7 != 0)).to_csv(data, index=False)
    from click.testing import CliRunner

    from losscli.cli.app import cli

    result = CliRunner().invoke(cli, ["predict", "-m", str(tmp_path / "model.json"), str(data)])
    assert result.exit_code == 0, result.output
    rows = _cells(result.output)[1:]
    assert [r[0] == "" for r in rows] == [i % 7 == 0 for i in range(200)]
    assert out.splitlines()[1:][1:2] == result.output.splitlines()[1:][1:2]


def test_predict_binary_and_multiclass_labels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((600, 2))
    frame = pd.DataFrame(x, columns=["a", "b"])
    frame["y"] = np.where(x[:, 0] + rng.standard_normal(600) > 0, "yes", "no")
    out = _train_and_predict(tmp_path, frame, "y", "--loss", "bce")
    got = _reference(tmp_path, out, frame, "y")
    assert got["y_true"].tolist() == np.where(frame["y"] == "yes", "1", "0").tolist()

    frame["k"] = np.select([x[:, 0] > 0.5, x[:, 1] > 0], ["a,1", "b"], "c")  # a label with a comma
    frame = frame.drop(columns="y")
    (tmp_path / "mc").mkdir()
    out = _train_and_predict(tmp_path / "mc", frame, "k", "--loss", "ce")
    assert out.splitlines()[0] == 'y_true,"p_a,1",p_b,p_c'
    got = _reference(tmp_path / "mc", out, frame, "k")
    assert got["y_true"].tolist() == frame["k"].tolist()
