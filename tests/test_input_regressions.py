"""Issue 7, the input-reading classes: one regression test each (see README "Input").

Each was a silent wrong number, a traceback, a hang or runaway memory; each
is now fixed at its root in the one input layer (losscli.io).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.compute import ComputeRequest, run_compute, samples
from losscli.errors import InputError
from losscli.losses import make_loss


def invoke(*args: str, stdin: str | bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def clean_error(r, *needles: str) -> None:
    """Exit 2, one to three lines on stderr, no traceback, and the words expected."""
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    assert "Traceback" not in r.output and r.stderr.startswith("Error: ")
    assert 1 <= len(r.stderr.splitlines()) <= 3, r.stderr
    for needle in needles:
        assert needle in r.stderr, r.stderr


@pytest.fixture
def model(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("x,z,y\n1,0,3\n2,1,5\n3,0,7\n4,1,9\n")
    path = tmp_path / "m.json"
    r = invoke("train", "-q", "-f", "json", "--save", str(path), str(data))
    assert r.exit_code == 0, r.stderr
    return path


def test_blank_header_cells_never_shadow_real_columns(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(",Unnamed: 0,y_true\n100,1,1\n100,2,2\n")
    r = invoke("compute", "-l", "mse", "--pred", "Unnamed: 0", "-f", "value", str(path))
    assert (r.exit_code, r.stdout) == (0, "0.0\n")
    path.write_text("a,a.1,a,y_true\n9,1,9,1\n9,2,9,2\n")
    r = invoke("compute", "-l", "mse", "--pred", "a.1", "-f", "value", str(path))
    assert (r.exit_code, r.stdout) == (0, "0.0\n")
    clean_error(invoke("compute", "-l", "mse", "--pred", "a", str(path)), "'a' 2 times")


def test_an_exact_name_beats_its_glob_reading(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("truth[1],score[1],truth1,score1\n1,1,5,9\n2,2,7,0\n")
    r = invoke("compute", "-l", "mse", "--true", "truth[1]", "--pred", "score[1]", "-f", "value",
               str(path))  # fmt: skip
    assert (r.exit_code, r.stdout) == (0, "0.0\n")


def test_predict_refuses_duplicated_feature_names(tmp_path, model):
    path = tmp_path / "dup.csv"
    path.write_text("x,x,z,y\n1,2,0,3\n")
    clean_error(invoke("predict", "-m", str(model), str(path)), "'x' 2 times")
    clean_error(invoke("train", str(path)), "'x' 2 times")


@pytest.mark.parametrize("command", ["compute", "train", "predict"])
def test_cr_only_line_ends(tmp_path, model, command):
    path = tmp_path / "cr.csv"
    path.write_bytes(b"x,z,y\r1,0,3\r2,1,5\r")
    args = {"compute": ["-l", "mse"], "train": [], "predict": ["-m", str(model)]}[command]
    clean_error(invoke(command, *args, str(path)), "lone CR", "tr '\\r' '\\n'")


@pytest.mark.parametrize("command", ["compute", "train", "predict"])
def test_header_cells_over_128_kib(tmp_path, model, command):
    long = "n" * 200_000
    path = tmp_path / "wide.csv"
    path.write_text(f'x,z,y,"{long}"\n1,0,3,1\n2,1,5,1\n3,0,7,1\n')
    args = {
        "compute": ["-l", "mse", "--true", "y", "--pred", "x", "-f", "value"],
        "train": ["-q", "-f", "json", "--features", "x,z", "--target", "y"],
        "predict": ["-m", str(model)],
    }[command]
    r = invoke(command, *args, str(path))
    assert r.exit_code == 0, r.output
    if command == "compute":
        assert r.stdout == f"{(4 + 9 + 16) / 3!r}\n"


@pytest.mark.parametrize("command", ["compute", "train", "predict"])
def test_corrupt_gzip_is_a_clean_error(tmp_path, model, command):
    data = gzip.compress(b"x,z,y\n" + b"1,0,3\n" * 50_000)
    data = data[:30] + bytes(b ^ 0x5A for b in data[30:400]) + data[400:]
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(data)
    args = {"compute": ["-l", "mse", "--true", "y", "--pred", "x"], "train": [],
            "predict": ["-m", str(model)]}[command]  # fmt: skip
    clean_error(invoke(command, *args, str(path)), "cannot be decompressed")


def test_a_header_over_1_mib_is_read_whole(tmp_path):
    names = [f"column_{i:07d}" for i in range(80_000)]  # ~1.2 MB of header
    path = tmp_path / "h.csv"
    path.write_text(",".join([*names, "y_true", "y_pred"]) + "\n" + "0," * 80_000 + "1,1.5\n")
    r = invoke("compute", "-l", "mse", "-f", "value", str(path))
    assert (r.exit_code, r.stdout) == (0, "0.25\n")


def test_input_changing_between_passes_is_an_error(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("y_true,y_pred\n1,2\n3,4\n")
    request = ComputeRequest(
        source=str(path), losses=(make_loss("mse"),), per_sample=True, block_bytes=4
    )  # several blocks: pass 2 reads the file again
    report = run_compute(request)
    path.write_text("y_true,y_pred\n1,2\n3,4\n5,6\n")  # another process appends
    with pytest.raises(InputError, match="changed while it was being read"):
        list(samples(report))
    # the same size and modification time, but other rows: the row count tells
    path.write_text("y_true,y_pred\n1,2\n3,4\n")
    stat = os.stat(path)
    report = run_compute(request)
    path.write_text("y_true,y_pred\n11,222\n\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(InputError, match="1 in the second"):
        list(samples(report))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_with_per_row_output_is_spooled_not_reread(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, sys, threading
        from losscli.cli import main
        fifo = {str(tmp_path / "in.fifo")!r}
        os.mkfifo(fifo)
        def feed():
            with open(fifo, "w") as f:
                f.write("y_true,y_pred\\n" + "".join(f"{{i}},{{i + 1}}\\n" for i in range(3000)))
        threading.Thread(target=feed, daemon=True).start()
        sys.argv = ["losscli", "compute", "-l", "mse", "--grad-out", "-", fifo]
        main()
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "row,mse,mse_grad" and len(lines) == 3001
    assert lines[1] == f"1,1.0,{2 / 3000!r}"


def test_values_in_messages_are_cut_short(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("y_true,y_pred\n1,x" + "abc" * 400_000 + "\n")
    r = invoke("compute", "-l", "mse", str(path))
    clean_error(r, "non-numeric values in row 1", "…")
    assert len(r.stderr) < 300
    labels = tmp_path / "labels.csv"
    labels.write_text(f"y_true,p_a,p_b\n{'c' * 100_000},0.5,0.5\n")
    r = invoke("compute", "-l", "ce", str(labels))
    clean_error(r, "match no prediction column")
    assert len(r.stderr) < 400


def test_a_huge_number_is_overflowing_not_non_numeric(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("y_true,y_pred\n1,2\n1," + "9" * 5000 + "\n")
    clean_error(
        invoke("compute", "-l", "mse", str(path)), "infinite or overflowing values in row 2"
    )
    data = tmp_path / "t.csv"
    data.write_text("x,y\n1,2\n" + "9" * 5000 + ",3\n")
    clean_error(
        invoke("train", str(data)), "column 'x' has infinite or overflowing values in row 2"
    )


@pytest.mark.parametrize("flag", ["--pred", "--true"])
def test_empty_column_flags_are_refused(tmp_path, flag):
    path = tmp_path / "in.csv"
    path.write_text("y_true,y_pred\n1,2\n")
    clean_error(invoke("compute", "-l", "mse", flag, "", str(path)), f"{flag} is empty")
    clean_error(invoke("train", "--target", "", str(path)), "--target is empty")


def test_one_hot_with_blank_cells(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("x,color,y\n1,red,3\n2,,5\n3,blue,7\n4,red,8\n")
    clean_error(invoke("train", "--one-hot", "color", str(path)),
                "column 'color' has missing values in row 2", "--dropna")  # fmt: skip
    r = invoke("train", "-f", "json", "--one-hot", "color", "--dropna", str(path))
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["features"] == ["x", "color=blue", "color=red"] and out["dropped"] == 1


def test_too_many_classes_or_levels_are_refused_before_allocating(tmp_path):
    rng = np.random.default_rng(0)
    n = 5000
    frame = pd.DataFrame({"x": rng.normal(size=n), "price": rng.normal(size=n)})
    path = tmp_path / "c.csv"
    frame.to_csv(path, index=False)
    clean_error(invoke("train", "-l", "ce", "--target", "price", str(path)),
                "5,000 distinct values", "regression loss")  # fmt: skip
    clean_error(invoke("train", "--one-hot", "x", "--target", "price", str(path)),
                "more than 1,000 distinct values", "leave it out of --one-hot")  # fmt: skip


def test_training_data_that_cannot_fit_says_how_much_it_needs():
    from losscli.io.design import _Rows

    with pytest.raises(InputError, match=r"need 1490116\.1 GiB as float64"):
        _Rows(20, 10**13)


def test_train_names_a_guessed_target(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,3\n2,5\n3,7\n")
    r = invoke("train", "-f", "json", str(path))
    assert r.exit_code == 0
    assert "note: target: the last column 'b'" in r.stderr
    assert json.loads(r.stdout)["target"] == "b"


def test_dropped_blank_labels_keep_numeric_class_names(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("x,y\n1,0\n2,\n3,1\n4,0\n5,1\n")
    r = invoke("train", "-l", "bce", "-f", "json", "--dropna", str(path))
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["classes"] == ["0", "1"]
    clean_error(invoke("train", "-l", "bce", str(path)), "column 'y' has missing labels in row 2")


def test_running_out_of_memory_while_reading_is_a_clean_error(monkeypatch):
    """MemoryError (and pyarrow's ArrowMemoryError, a subclass) from any reader."""
    from losscli.io import formats

    def exhausted(self, used, *, numbers=True):
        raise MemoryError
        yield  # a generator, as readers are

    monkeypatch.setattr(formats.FrameReader, "blocks", exhausted)
    frame = pd.DataFrame({"y_true": [1.0], "y_pred": [2.0]})
    with pytest.raises(InputError, match="a block of the input does not fit in memory"):
        run_compute(ComputeRequest(source=frame, losses=(make_loss("mse"),)))
