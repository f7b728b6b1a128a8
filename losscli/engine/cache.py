"""The on-disk training cache: one private folder, removed whatever happens.

The folder is made under ``--cache-dir`` (default: the system's temporary
folder) and removed when the run ends: normally, on an error, on Ctrl-C
(KeyboardInterrupt unwinds through the ``finally``), and on SIGTERM, which
:func:`cache_folder` turns into an exception for the time it is open so
that the same ``finally`` runs.  The previous SIGTERM handler is restored
on the way out.  A run killed with SIGKILL cannot clean up; its folder is
named ``losscli-cache-*`` so it can be found.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

from losscli.errors import InputError

PREFIX = "losscli-cache-"


class Terminated(KeyboardInterrupt):
    """SIGTERM while a cache is open: unwinds like Ctrl-C, so cleanup runs."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


@contextlib.contextmanager
def cache_folder(parent: str | None = None) -> Iterator[str]:
    """A fresh private folder for the cache files; gone when the block exits."""
    if parent is not None and not os.path.isdir(parent):
        raise InputError(
            f"--cache-dir {parent!r} is not a folder", "give an existing folder with free space"
        )
    try:
        folder = tempfile.mkdtemp(prefix=PREFIX, dir=parent)
    except OSError as exc:
        raise InputError(
            f"cannot create the training cache in {parent or tempfile.gettempdir()}: "
            f"{exc.strerror}",
            "point --cache-dir at a writable folder",
        ) from None
    previous = None
    main = threading.current_thread() is threading.main_thread()
    if main:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if main:
            signal.signal(signal.SIGTERM, previous)


class LazyFolder:
    """A cache folder made only when first asked for (a file that fits never makes one)."""

    def __init__(self, parent: str | None, stack: contextlib.ExitStack) -> None:
        self.parent, self.stack = parent, stack
        self.path: str | None = None

    def __call__(self) -> str:
        if self.path is None:
            self.path = self.stack.enter_context(cache_folder(self.parent))
        return self.path
