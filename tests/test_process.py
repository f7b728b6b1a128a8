"""The installed command as a process: closed pipes, Ctrl-C, and light start-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
LOSSCLI = [sys.executable, "-m", "losscli"]


def test_closed_pipe_ends_quietly(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("y_true,y_pred\n" + "1,2\n" * 200_000)
    producer = subprocess.Popen(
        [*LOSSCLI, "compute", "-l", "mse", "--reduction", "none", "-f", "csv", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert producer.stdout is not None
    first = producer.stdout.readline()
    producer.stdout.close()  # what `| head -1` does
    _, err = producer.communicate(timeout=60)
    assert first == b"row,mse,mse_grad\n"
    assert err == b""
    assert producer.returncode in (0, 1, 128 + signal.SIGPIPE)  # click exits 1 on EPIPE


def test_ctrl_c_exits_130_without_a_traceback():
    proc = subprocess.Popen(
        [*LOSSCLI, "compute", "-l", "mse", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(b"y_true,y_pred\n1,2\n")
    proc.stdin.flush()  # stdin stays open: the command is waiting for more rows
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"Traceback" not in err


def test_help_version_and_losses_do_not_import_numpy_or_pandas():
    code = (
        "import sys\n"
        "from losscli.cli import cli\n"
        "for args in (['--help'], ['--version'], ['losses'], ['train', '--help']):\n"
        "    try:\n"
        "        cli.main(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
