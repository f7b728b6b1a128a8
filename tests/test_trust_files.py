"""Issue 7, files: special files stay special, signals clean up, CSV headers quote,
failed runs touch nothing, bad paths fail first.  One regression test per class."""

from __future__ import annotations

import csv
import io
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.io.atomic import atomic_output

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
LOSSCLI = [sys.executable, "-m", "losscli"]


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --------------------------------------------------------------------------- special targets


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_target_is_written_into_not_replaced(tmp_path):
    """As root, a rename over /dev/null would replace the device with a regular file."""
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    data = write(tmp_path, "y_true,y_pred\n1,2\n")
    for args in (
        ("compute", "-l", "mse", "--grad-out", str(node), data),
        ("train", "-q", "--save", str(node), str(SAMPLES / "diabetes.csv")),
        ("train", "-q", "--history", str(node), str(SAMPLES / "diabetes.csv")),
    ):
        r = invoke(*args)
        assert r.exit_code == 0, r.output
        assert stat.S_ISCHR(os.stat(node).st_mode), args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "null"]  # no .part


def test_a_fifo_target_is_written_into(tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = invoke("compute", "-l", "mse", "--grad-out", str(fifo), write(tmp_path, "y,p\n1,2\n"))
    reader.join(10)
    assert r.exit_code == 0, r.output
    assert got == [b"row,mse,mse_grad\n1,1.0,2.0\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_is_followed_and_permissions_are_kept(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    os.chmod(real, 0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    r = invoke("compute", "-l", "mse", "--grad-out", str(link), write(tmp_path, "y,p\n1,2\n"))
    assert r.exit_code == 0, r.output
    assert link.is_symlink()
    assert real.read_text() == "row,mse,mse_grad\n1,1.0,2.0\n"
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640


def test_failed_write_names_the_file_and_leaves_no_part(tmp_path):
    target = tmp_path / "g.csv"
    with pytest.raises(RuntimeError), atomic_output(str(target)) as handle:
        handle.write("partial")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- failed runs


def test_a_diverged_train_leaves_history_and_model_untouched(tmp_path):
    history, model = tmp_path / "h.csv", tmp_path / "m.json"
    history.write_text("previous history\n")
    model.write_text("previous model\n")
    r = invoke(
        "train", "--lr", "1000", "--history", str(history), "--save", str(model),
        str(SAMPLES / "diabetes.csv"),
    )  # fmt: skip
    assert r.exit_code == 1
    assert r.stdout == ""
    assert history.read_text() == "previous history\n"
    assert model.read_text() == "previous model\n"


@pytest.mark.parametrize(
    "args",
    [
        ("compute", "-l", "mse", "--grad-out", "/nonexistent/dir/g.csv"),
        ("train", "--save", "/nonexistent/dir/m.json"),
        ("train", "--history", "/nonexistent/dir/h.csv"),
    ],
)
def test_bad_output_paths_fail_before_the_input_is_read(tmp_path, args):
    """The input is a FIFO nobody writes to: reading it would hang."""
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    proc = subprocess.run([*LOSSCLI, *args, str(fifo)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "/nonexistent/dir does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_read_only_model_file_is_refused_before_training(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may write anything")
    model = tmp_path / "m.json"
    model.write_text("{}")
    os.chmod(model, 0o444)
    r = invoke("train", "--save", str(model), str(SAMPLES / "diabetes.csv"))
    assert r.exit_code == 2
    assert "read-only" in r.stderr


def test_the_file_is_written_before_stdout(tmp_path, monkeypatch):
    """A --grad-out that fails at the end leaves stdout empty: no result, then a failure."""
    from losscli.io import atomic

    def refuse(tmp: str, st: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_keep_metadata", refuse)
    out = tmp_path / "g.csv"
    r = invoke(
        "compute", "-l", "mse", "-f", "tsv", "--grad-out", str(out), write(tmp_path, "y,p\n1,2\n")
    )
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == f"Error: cannot write {out}: No space left on device\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


# --------------------------------------------------------------------------- CSV headers


def test_class_names_with_commas_and_newlines_are_quoted(tmp_path):
    text = 'y_true,"p_a,b","p_c\nd"\n"a,b",0.25,0.75\n"c\nd",0.5,0.5\n'
    path = tmp_path / "in.csv"
    path.write_text(text)
    out = tmp_path / "g.csv"
    r = invoke("compute", "-l", "ce", "--grad-out", str(out), str(path))
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["row", "cross_entropy", "cross_entropy_grad_a,b", "cross_entropy_grad_c\nd"]
    assert {len(row) for row in rows} == {4}


# --------------------------------------------------------------------------- signals


def _spools(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signals_clean_up_like_ctrl_c(tmp_path, signum):
    """Stdin spooled for pass 2, a .part file being written: both gone, exit 130."""
    spool = tmp_path / "tmp"
    spool.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "TMPDIR": str(spool)}
    proc = subprocess.Popen(
        [*LOSSCLI, "compute", "-l", "mse", "--grad-out", str(out / "g.csv"), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(b"y_true,y_pred\n" + b"0.5,0.25\n" * 200_000)
    proc.stdin.flush()
    deadline = time.monotonic() + 20
    while not _spools(spool) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _spools(spool), "stdin was not spooled"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"Traceback" not in err
    assert _spools(spool) == []
    assert _spools(out) == []


# --------------------------------------------------------------------------- concurrency


def test_concurrent_saves_to_one_file_leave_one_whole_model(tmp_path):
    model = tmp_path / "m.json"
    procs = [
        subprocess.Popen(
            [*LOSSCLI, "train", "-q", "--save", str(model), str(SAMPLES / "diabetes.csv")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    import json

    assert json.loads(model.read_text())["format"] == "losscli-model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_dev_stdout_redirected_to_a_file_is_written_through_not_replaced(tmp_path):
    """`--grad-out /dev/stdout > out.txt`: the file the shell opened gets both outputs, in
    order; it is neither replaced (a new inode) nor truncated."""
    data = write(tmp_path, "y_true,y_pred\n1,2\n")
    out = tmp_path / "out.txt"
    out.write_text("")
    inode = os.stat(out).st_ino
    command = [*LOSSCLI, "compute", "-l", "mse", "--grad-out", "/dev/stdout", data]
    with out.open("w") as handle:
        subprocess.run(command, stdout=handle, check=True, timeout=60)
    assert os.stat(out).st_ino == inode
    assert out.read_text() == (
        "row,mse,mse_grad\n1,1.0,2.0\nloss\treduction\tvalue\nmse\tmean\t1.0\n"
    )


@pytest.mark.parametrize("command", ["compute", "train"])
def test_a_failed_stdout_leaves_every_file_untouched(tmp_path, command):
    """`> /dev/full`: the files were written, but appear only if stdout succeeded too."""
    target = tmp_path / "out"
    target.write_text("previous\n")
    if command == "compute":
        args = ["compute", "-l", "mse", "--grad-out", str(target), write(tmp_path, "y,p\n1,2\n")]
    else:
        args = ["train", "-q", "--save", str(target), str(SAMPLES / "diabetes.csv")]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*LOSSCLI, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert proc.returncode == 1
    assert proc.stderr == "Error: cannot write to standard output: No space left on device\n"
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


# --------------------------------------------------------------------------- --plot


def test_plot_is_written_through_the_one_output_mechanism(tmp_path):
    """--plot follows a symlink, keeps permission bits, writes a FIFO directly, and leaves
    no ``.part`` file: the rules of --grad-out, because it is the same code."""
    pytest.importorskip("matplotlib")
    data = str(SAMPLES / "regression_preds.csv")
    real = tmp_path / "real.png"
    real.write_bytes(b"old")
    os.chmod(real, 0o640)
    link = tmp_path / "fig.png"
    link.symlink_to(real)
    r = invoke("compute", "-l", "mse", "-q", "-f", "value", "--plot", str(link), data)
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and real.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = invoke("compute", "-l", "mse", "-q", "-f", "value", "--plot", str(fifo), data)
    reader.join(30)
    assert r.exit_code == 0, r.output
    assert b"<svg" in got[0][:400] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "pipe.svg", "real.png"]


@pytest.mark.parametrize("command", ["compute", "train"])
def test_a_failed_stdout_leaves_the_plot_untouched(tmp_path, command):
    """The figure is staged: renamed into place only after stdout was written."""
    pytest.importorskip("matplotlib")
    target = tmp_path / "fig.png"
    target.write_bytes(b"previous")
    if command == "compute":
        args = ["compute", "-l", "mse", "-f", "value", str(SAMPLES / "regression_preds.csv")]
    else:
        args = ["train", "-f", "json", str(SAMPLES / "diabetes.csv")]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*LOSSCLI, *args, "--plot", str(target)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == "Error: cannot write to standard output: No space left on device\n"
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]


def test_a_bad_plot_path_fails_before_the_input_is_read(tmp_path):
    pytest.importorskip("matplotlib")
    r = invoke("compute", "-l", "mse", "--plot", str(tmp_path / "no" / "f.png"), "-", stdin="")
    assert r.exit_code == 2 and "does not exist" in r.stderr


# --------------------------------------------------------------------------- predict streams


@pytest.fixture(scope="module")
def late_overflow(tmp_path_factory):
    """A model, and an input whose last row (after several 2 MB blocks) overflows the score."""
    folder = tmp_path_factory.mktemp("late")
    train = folder / "train.csv"
    train.write_text("a,y\n1,3\n2,5\n3,7\n4,9\n")
    model = folder / "m.json"
    assert invoke("train", "-q", "--save", str(model), str(train)).exit_code == 0
    n = 1_700_000  # four blocks of the reader's 2 MB: the first reaches a pipe before the last
    good = folder / "good.csv"
    body = "a\n" + "1.25\n" * n
    good.write_text(body)
    bad = folder / "bad.csv"
    bad.write_text(body + "1e308\n")
    return model, good, bad, n


def _predict(model: Path, data: Path, stdout: Any, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LOSSCLI, "predict", "-m", str(model), *extra, str(data)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def test_predict_into_a_file_leaves_nothing_half_written(tmp_path, late_overflow):
    """`> preds.csv` (here after text already in the file) and `-o FILE`: a block failing late
    leaves the file as it was; a run that succeeds writes exactly the streamed output."""
    model, good, bad, n = late_overflow
    target = tmp_path / "preds.csv"
    with target.open("w") as handle:
        handle.write("before\n")
        handle.flush()
        proc = _predict(model, bad, handle)
    assert proc.returncode == 2, proc.stderr
    assert f"row {n + 1}" in proc.stderr and "incomplete" not in proc.stderr
    assert target.read_text() == "before\n"
    output = tmp_path / "o.csv"
    output.write_text("previous\n")
    proc = _predict(model, bad, subprocess.DEVNULL, "-o", str(output))
    assert proc.returncode == 2 and output.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "preds.csv"]
    with target.open("a") as handle:
        proc = _predict(model, good, handle)
    assert proc.returncode == 0, proc.stderr
    piped = _predict(model, good, subprocess.PIPE)
    assert target.read_text() == "before\n" + piped.stdout
    assert len(piped.stdout.splitlines()) == n + 1


def test_predict_into_a_pipe_says_where_the_output_stops(late_overflow):
    """In a pipe the rows already written stay written; the error's last line says from
    which row the output is incomplete, and it is exactly what reached the pipe."""
    model, _, bad, n = late_overflow
    proc = _predict(model, bad, subprocess.PIPE)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert 2 <= len(lines) <= 3 and lines[0].startswith("Error: ") and f"row {n + 1}" in lines[0]
    written = len(proc.stdout.splitlines()) - 1  # the header
    assert 0 < written <= n
    assert lines[-1] == (
        f"the output is incomplete from row {written + 1}: rows 1…{written} were already written"
    )
