"""Whole-process wall time and peak memory of one command, measured cleanly.

``ru_maxrss`` of a child counts the pages it shares with its parent from
``fork`` until ``exec``: a benchmark process holding 300 MB of data makes
every child it starts look at least that big (``benchmarks/run.py`` once
reported 123 MB for every 100k-row command this way).  So each command runs
under ``/usr/bin/time``, a small program that forks *itself* (a few MB) and
execs the command, and reports the command's own peak (``%M``, KiB).
Without ``/usr/bin/time`` the fallback is the old ``wait4`` figure, marked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

TIME = "/usr/bin/time"


def run_measured(
    cmd: Sequence[str],
    *,
    stdin_path: Path | None = None,
    stdout_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> tuple[float, float, bool]:
    """(seconds, peak RSS in MB, clean) for one run; ``clean`` is False on the wait4 fallback.

    A run longer than ``timeout`` seconds is killed (its whole process group,
    which this function created) and raises ``subprocess.TimeoutExpired``.
    """
    clean = os.access(TIME, os.X_OK)
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        argv = [TIME, "-f", "%M", "-o", report.name, *cmd] if clean else list(cmd)
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL  # noqa: SIM115
        stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv,
                stdin=stdin,
                stdout=stdout,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
                start_new_session=True,  # one group to kill on a timeout
            )
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise
            elapsed = time.perf_counter() - start
            code = proc.returncode
        finally:
            for handle in (stdin, stdout):
                if handle is not subprocess.DEVNULL:
                    handle.close()  # type: ignore[union-attr]
        if code != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {code}: {err.decode()[-800:]}")
        if clean:
            lines = [line for line in Path(report.name).read_text().splitlines() if line.strip()]
            return elapsed, int(lines[-1]) / 1024.0, True
        import resource

        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the fallback: all children so far
        return elapsed, usage.ru_maxrss / 1024.0, False
