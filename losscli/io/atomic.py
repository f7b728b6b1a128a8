"""Files the tool writes appear whole or not at all.

``--grad-out``, ``--save`` and ``--history`` write to a temporary file in
the target's folder and rename it over the target at the end (a rename is
atomic within one file system), so a failed or interrupted run leaves no
partial file and an existing file untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO

from losscli.errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: str) -> Iterator[IO[str]]:
    """A text file handle for ``path`` (``-`` = stdout) committed on success."""
    if path == "-":
        yield sys.stdout
        return
    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise InputError(f"cannot write {path}: it is a folder", "give a file name")
    folder = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".part", dir=folder
        )
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror}", "check that the folder exists and is writable"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
