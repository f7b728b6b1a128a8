"""Progress bars on stderr, for people at a terminal only.

A bar appears only when stderr is a terminal, ``--quiet`` is off, and the
work has already taken :data:`DELAY` seconds (a 300-row file stays silent).
The library never prints: it calls back with how far it got
(:class:`losscli.compute.ReadProgress`, :class:`losscli.fit.loop.EpochRecord`)
and these classes draw.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from losscli.cli import numbers

if TYPE_CHECKING:
    from losscli.compute import ReadProgress

DELAY = 1.0  # seconds of silent work before a bar is worth showing


def wanted() -> bool:
    from losscli.cli.options import stderr_is_terminal
    from losscli.cli.output import is_quiet

    return stderr_is_terminal() and not is_quiet()


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f}"


class ReadBar:
    """``compute``: bytes read of the file's size (rows, for a pipe), for each pass."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self.bar: Any = None
        self.tasks: dict[int, Any] = {}
        self.paused = False  # while pass 2 streams to a terminal's stdout: its rows show progress

    def __call__(self, p: ReadProgress) -> None:
        if self.paused:
            return
        if self.bar is None:
            if time.perf_counter() - self.started < DELAY:
                return
            self._start()
        task = self.tasks.get(p.phase)
        what = "reading" if p.phase == 1 else "per-row output"
        if task is None:
            if p.phase != 1:  # pass 1 is over: show it full
                for t in self.tasks.values():
                    done = self.bar.tasks[t].total
                    self.bar.update(t, completed=done if done is not None else 0)
            task = self.tasks[p.phase] = self.bar.add_task(
                f"{what} {self.label}", total=p.total, rows="", size=""
            )
        if p.total is not None:  # a file: bytes of its size
            size = f"{_mb(p.bytes)}/{_mb(p.total)} MB"
            self.bar.update(task, completed=p.bytes)
        else:  # a pipe has no size: the bar pulses, the rows count
            size = f"{_mb(p.bytes)} MB"
        self.bar.update(task, rows=f"{numbers.count(p.rows)} rows", size=size)

    def _start(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from losscli.cli.options import stderr_console

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[size]}"),
            TextColumn("{task.fields[rows]}"),
            TimeElapsedColumn(),
            console=stderr_console(),
            transient=True,
        )
        self.bar.start()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
            self.tasks = {}

    def __enter__(self) -> ReadBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TrainBar:
    """``train``: a spinner while the file is read, then epochs; full when it stops early."""

    def __init__(self, label: str, epochs: int) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from losscli.cli.options import stderr_console

        self.epochs = epochs
        self.bar = Progress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=stderr_console(),
            transient=False,
        )
        self.reading = self.bar.add_task(f"reading {label}", total=None, status="")
        self.task: Any = None
        self.bar.start()

    def __call__(self, record: Any) -> None:
        if self.task is None:
            self.bar.update(self.reading, total=1, completed=1, description="read", status="")
            self.bar.remove_task(self.reading)
            self.task = self.bar.add_task(
                "epoch", total=self.epochs, status="objective …", visible=True
            )
        self.bar.update(
            self.task,
            completed=record.epoch,
            description=f"epoch {numbers.count(record.epoch)}/{numbers.count(self.epochs)}",
            status=f"objective {numbers.human(record.objective)}",
        )

    def finish(self, epochs: int, reason: str) -> None:
        """Stopped at ``epochs``: the bar ends full, saying why it stopped."""
        if self.task is not None:
            self.bar.update(
                self.task,
                total=max(epochs, 1),
                completed=max(epochs, 1),
                description=f"{numbers.plural(epochs, 'epoch')} ({reason})",
            )

    def close(self) -> None:
        self.bar.stop()
