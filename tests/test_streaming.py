"""Streaming compute: block by block gives what one pass over all rows in memory gives.

The reader cuts the input into blocks of whole records (``block_bytes``) and
parses them in threads; here blocks are made tiny (a few rows each) so that
every file below spans many blocks, and the results are compared with
``Loss.evaluate`` on the whole arrays (to 1e-12 relative), and with the same
run in one block.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.compute import ComputeRequest, run_compute, samples
from losscli.io import csvblocks as dataio
from losscli.io.columns import ColumnRequest
from losscli.losses import make_loss

TINY = 64  # bytes per block: two or three rows


def run(*args: str, stdin: str | bytes | None = None):
    return CliRunner().invoke(cli, ["compute", *args], input=stdin)


@pytest.fixture(params=["arrow", "pandas"], autouse=True)
def parser(request, monkeypatch):
    """Every test runs with the Arrow fast path, and with pandas alone (no pyarrow)."""
    if request.param == "pandas":
        monkeypatch.setattr(dataio, "_arrow_modules", lambda: None)
    elif dataio._arrow_modules() is None:
        pytest.skip("pyarrow is not installed")
    return request.param


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Every CLI run in the test reads its input 64 bytes at a time."""
    monkeypatch.setattr(dataio, "DEFAULT_BLOCK_BYTES", TINY)


def _csv(columns: dict[str, np.ndarray]) -> str:
    names = list(columns)
    lines = [",".join(names)]
    for row in zip(*columns.values(), strict=True):
        lines.append(",".join(repr(float(v)) for v in row))
    return "\n".join(lines) + "\n"


def _data(kind: str, n: int = 200, seed: int = 0) -> tuple[dict[str, np.ndarray], str]:
    rng = np.random.default_rng(seed)
    if kind == "reg":
        y = rng.normal(size=n) * 1e3
        cols = {"y_true": y, "y_pred": y + rng.normal(size=n), "w": rng.uniform(0, 2, n)}
    elif kind == "bin":
        cols = {
            "y_true": rng.integers(0, 2, n).astype(float),
            "y_pred": rng.uniform(0.001, 0.999, n),
            "w": rng.uniform(0, 2, n),
        }
    else:
        z = rng.normal(size=(n, 4))
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        cols = {"y_true": rng.integers(0, 4, n).astype(float)}
        cols.update({f"p_{c}": p[:, c] for c in range(4)})
        cols["w"] = rng.uniform(0, 2, n)
    return cols, _csv(cols)


CASES = [
    ("mse", "reg", {}),
    ("huber", "reg", {"delta": 0.5}),
    ("mae", "reg", {}),
    ("bce", "bin", {}),
    ("focal", "bin", {"gamma": 2.0}),
    ("cross_entropy", "mc", {}),
    ("focal", "mc", {}),
]


@pytest.mark.parametrize(("name", "kind", "params"), CASES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_blocks_equal_in_memory(tmp_path, name, kind, params, weighted, reduction):
    cols, text = _data(kind)
    path = tmp_path / "in.csv"
    path.write_text(text)
    loss = make_loss(name, **params)
    request = ComputeRequest(
        source=str(path),
        losses=(loss,),
        columns=ColumnRequest(weight="w" if weighted else None),
        reduction=reduction,
        per_sample=True,
        block_bytes=TINY,
    )
    report = run_compute(request)
    pred_names = [c for c in cols if c.startswith("p_")] or ["y_pred"]
    y_pred = np.column_stack([cols[c] for c in pred_names]) if kind == "mc" else cols["y_pred"]
    whole = loss.evaluate(
        cols["y_true"], y_pred, reduction=reduction, weight=cols["w"] if weighted else None
    )
    assert report.n == len(cols["y_true"])
    assert report.summaries[0].value == pytest.approx(whole.value, rel=1e-12)
    chunks = list(samples(report))
    assert len(chunks) > 40  # it really streamed
    grad = np.concatenate([c.grads[0] for c in chunks])
    np.testing.assert_allclose(grad, whole.gradient, rtol=1e-12, atol=0)
    rows = np.concatenate([c.rows for c in chunks])
    np.testing.assert_array_equal(rows, np.arange(1, report.n + 1))


def test_sums_are_accurate_over_many_blocks(tmp_path):
    """Totals are fsum-ed over blocks: a large offset does not swamp small terms."""
    n = 4000
    y_true = np.zeros(n)
    y_pred = np.where(np.arange(n) == 0, 1e8, 1e-3)  # one huge residual, many tiny ones
    path = tmp_path / "in.csv"
    path.write_text(_csv({"y_true": y_true, "y_pred": y_pred}))
    report = run_compute(
        ComputeRequest(source=str(path), losses=(make_loss("mse"),), reduction="sum")
    )
    small = run_compute(
        ComputeRequest(
            source=str(path), losses=(make_loss("mse"),), reduction="sum", block_bytes=TINY
        )
    )
    exact = math.fsum((y_pred**2).tolist())
    assert report.summaries[0].value == pytest.approx(exact, rel=1e-15)
    assert small.summaries[0].value == pytest.approx(exact, rel=1e-15)


def test_stdin_streams_with_tiny_blocks(tiny_blocks):
    cols, text = _data("reg", 300)
    expected = make_loss("mse").evaluate(cols["y_true"], cols["y_pred"]).value
    r = run("-l", "mse", "-f", "value", "-", stdin=text)
    assert r.exit_code == 0, r.stderr
    assert float(r.stdout) == pytest.approx(expected, rel=1e-12)


def test_stdin_per_sample_output_reads_input_once(tiny_blocks):
    """Pass 2 on stdin reads the spooled copy: every row comes out once, in order."""
    cols, text = _data("reg", 300)
    r = run("-l", "mse", "-f", "csv", "--grad", "-", stdin=text)
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "row,mse,mse_grad"
    assert [int(line.split(",")[0]) for line in lines[1:]] == list(range(1, 301))
    e = cols["y_pred"] - cols["y_true"]
    grads = np.array([float(line.split(",")[2]) for line in lines[1:]])
    np.testing.assert_allclose(grads, 2 * e / 300, rtol=1e-12)


def test_grad_out_streams_the_same_bytes(tmp_path, monkeypatch):
    _, text = _data("mc", 400)
    path = tmp_path / "in.csv"
    path.write_text(text)
    outputs = []
    for block in (TINY, 1 << 20):
        monkeypatch.setattr(dataio, "DEFAULT_BLOCK_BYTES", block)
        out = tmp_path / f"grad_{block}.csv"
        r = run("-l", "ce,focal", "-f", "value", "--grad-out", str(out), str(path))
        assert r.exit_code == 0, r.stderr
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    header = outputs[0].splitlines()[0].split(",")
    assert header[:3] == ["row", "cross_entropy", "cross_entropy_grad_0"]
    assert len(outputs[0].splitlines()) == 401


def test_quoted_newlines_never_split_a_record(tmp_path, tiny_blocks):
    rows = [f'{i},{i + 0.5},"note {i}\nsecond line, with comma"' for i in range(40)]
    path = tmp_path / "in.csv"
    path.write_text("y_true,y_pred,note\n" + "\n".join(rows) + "\n")
    r = run("-l", "mse", "-f", "value", str(path))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "0.25\n", "")


def test_quirks_across_blocks(tmp_path, tiny_blocks):
    body = "".join(f"{i}, {i + 1}\r\n" + ("\r\n" if i % 7 == 0 else "") for i in range(60))
    path = tmp_path / "in.csv"
    path.write_bytes(("\ufeff y_true , y_pred \r\n" + body).encode())
    r = run("-l", "mse", "-f", "json", str(path))
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    assert (obj["n"], obj["results"][0]["value"]) == (60, 1.0)


ERRORS = [
    (40, "3,4,5", "line 42 has 3 fields but the header has 2 (ragged rows)"),
    (0, "3,4,5", "line 2 has 3 fields but the header has 2 (ragged rows)"),
    (40, '"3,4', "a quote opened near line 42 is never closed"),
]


@pytest.mark.parametrize(("good", "bad", "message"), ERRORS)
def test_error_lines_count_from_the_file_start(tmp_path, monkeypatch, good, bad, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(dataio, "DEFAULT_BLOCK_BYTES", 16)
    lines = ["y_true,y_pred", *(f"{i},{i}" for i in range(good)), bad, "5,6", "7,8"]
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    r = run("-l", "mse", "in.csv")
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == f"Error: in.csv: {message}"


def test_bad_values_name_file_rows_in_later_blocks(tmp_path, tiny_blocks):
    lines = ["y_true,y_pred", *(f"{i},{i}" for i in range(100)), "1,abc", "2,"]
    path = tmp_path / "in.csv"
    path.write_text("\n".join(lines) + "\n")
    r = run("-l", "mse", str(path))
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: column 'y_pred' has non-numeric values in row 101")
    r = run("-l", "mse", "-f", "value", "--dropna", str(path))
    assert (r.exit_code, r.stdout) == (0, "0.0\n")
    assert "dropped 2 rows" in r.stderr


def test_reader_stays_a_few_blocks_ahead():
    """Bounded memory: when the first frame arrives, only a few blocks have been read."""
    body = b"".join(b"%d,%d\n" % (i, i) for i in range(20000))
    stream = io.BufferedReader(io.BytesIO(b"y_true,y_pred\n" + body))  # type: ignore[arg-type]
    frames = dataio.iter_frames(stream, "test", block_bytes=1024, workers=2)
    first = next(frames)
    assert len(first) < 200
    assert stream.tell() < 10 * 1024  # of ~200 kB
    total = len(first) + sum(len(f) for f in frames)
    assert total == 20000


def test_blocks_keep_records_whole():
    data = b'1,"a\nb"\n2,"c""\nd"\n3,x\n' * 50
    stream = io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]
    blocks = list(dataio._blocks(stream, "test", 5))
    assert b"".join(blocks) == data
    for block in blocks:
        assert block.endswith(b"\n")
        assert block.count(b'"') % 2 == 0


def test_one_object_outputs_refuse_past_the_budget(tmp_path, monkeypatch):
    """json and a table of every row cannot stream: they say so instead of exhausting memory."""
    from losscli import compute

    monkeypatch.setattr(compute, "MAX_HELD_BYTES", 100 * compute.JSON_NUMBER_BYTES)
    _, text = _data("reg", 200)
    path = tmp_path / "in.csv"
    path.write_text(text)
    r = run("-l", "mse", "-f", "json", "--grad", str(path))
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: --format json holds every per-row number in memory: 200 here, "
        "more than the 100 allowed\n"
        "use --grad-out FILE, or --format csv or tsv with --grad: they stream\n"
    )
    r = run("-l", "mse", "-f", "table", "--grad", str(path))
    assert r.exit_code == 2
    assert "--grad with --format table holds every per-row number" in r.stderr
    assert run("-l", "mse", "-f", "json", str(path)).exit_code == 0  # reduced: fine
    assert run("-l", "mse", "-f", "csv", "--grad", str(path)).exit_code == 0  # streams
    out = tmp_path / "g.csv"
    assert run("-l", "mse", "-f", "value", "--grad-out", str(out), str(path)).exit_code == 0


def test_text_blanks_and_inf_after_clean_blocks(tmp_path, tiny_blocks, parser):
    """Blocks the fast path declines are read by pandas: the same values and messages."""
    clean = [f"{i},{i + 0.5}" for i in range(60)]
    path = tmp_path / "in.csv"
    for bad, message in (
        ("1,abc", "Error: column 'y_pred' has non-numeric values in row 61 (e.g. 'abc')"),
        ("1,", "Error: column 'y_pred' has missing values in row 61"),
        ("1,nan", "Error: column 'y_pred' has missing values in row 61"),
        ("1,inf", "Error: column 'y_pred' has infinite or overflowing values in row 61"),
        ("1,2,3", f"Error: {path}: line 62 has 3 fields but the header has 2 (ragged rows)"),
    ):
        path.write_text("\n".join(["y_true,y_pred", *clean, bad, *clean]) + "\n")
        r = run("-l", "mse", str(path))
        assert (r.exit_code, r.stderr.splitlines()[0]) == (2, message), bad
    path.write_text("\n".join(["y_true,y_pred", *clean, "1,", "2,abc", *clean]) + "\n")
    r = run("-l", "mse", "-f", "json", "--dropna", str(path))
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    assert (obj["n"], obj["dropped"], obj["results"][0]["value"]) == (120, 2, 0.25)


def test_labels_after_numbers_switch_to_pandas(tmp_path, tiny_blocks):
    """Class indices, then class names: the blocks of names go to pandas, all rows count."""
    rows = [f"{i % 3},0.2,0.3,0.5" for i in range(30)] + [
        f"{'abc'[i % 3]},0.2,0.3,0.5" for i in range(30)
    ]
    path = tmp_path / "in.csv"
    path.write_text("y_true,p_a,p_b,p_c\n" + "\n".join(rows) + "\n")
    r = run("-l", "ce", "-f", "value", str(path))
    assert r.exit_code == 0, r.stderr
    expected = -np.mean(np.log([[0.2, 0.3, 0.5][i % 3] for i in range(60)]))
    assert float(r.stdout) == pytest.approx(expected, rel=1e-12)


def test_numeric_class_names_are_mapped(tmp_path, tiny_blocks):
    """Columns p_1, p_2, p_3 make labels 1, 2, 3 names, not indices: never the fast path."""
    rows = [f"{1 + i % 3},0.2,0.3,0.5" for i in range(40)]
    path = tmp_path / "in.csv"
    path.write_text("y_true,p_1,p_2,p_3\n" + "\n".join(rows) + "\n")
    r = run("-l", "ce", "-f", "value", str(path))
    expected = -np.mean(np.log([[0.2, 0.3, 0.5][i % 3] for i in range(40)]))
    assert float(r.stdout) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bad", [False, True])
def test_session_removes_its_stdin_copy(tmp_path, monkeypatch, tiny_blocks, bad):
    """Pass 2 of stdin reads a temporary copy; it is gone afterwards, also after an error."""
    import tempfile

    spools = tmp_path / "spools"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    _, text = _data("reg", n=50)
    if bad:
        text += "1,oops,1\n"
    r = run("-l", "mse", "--grad", "-f", "csv", "-", stdin=text)
    assert r.exit_code == (2 if bad else 0), r.output
    assert list(spools.iterdir()) == []
    if not bad:
        assert len(r.stdout.splitlines()) == 51


def test_pass_two_of_stdin_outside_a_session_is_refused(monkeypatch, tiny_blocks):
    _, text = _data("reg", n=50)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    report = run_compute(ComputeRequest(source="-", losses=(make_loss("mse"),)))
    with pytest.raises(ValueError, match="compute_session"):
        next(samples(report))
