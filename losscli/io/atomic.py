"""Files the tool writes appear whole or not at all — and special files stay special.

``--grad-out``, ``--save``, ``--history`` and ``--plot`` (bytes) write to a temporary file in
the target's folder and rename it over the target at the end (a rename is
atomic within one file system), so a failed or interrupted run leaves no
partial file and an existing file untouched.  The rename is for *regular*
files only:

* a symlink is followed, and the file it points to is replaced (the link stays);
* an existing file keeps its permission bits (and, where allowed, its owner);
* a device, FIFO or socket (``/dev/null``, a named pipe) is opened and
  written directly: renaming over it would replace the device node with a
  regular file (as root) or fail;
* ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N`` name a
  descriptor the shell opened, whatever it points at — possibly a regular
  file (``> out.txt``): it is written through a duplicate of that descriptor
  (sharing its offset, so the run's other output is not overwritten), never
  replaced or truncated; any other path under ``/dev`` or ``/proc`` is
  opened for appending.

:func:`check_output_paths` runs before any input is read, so a bad path
(a missing folder, an unwritable file) costs nothing.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import IO, Any

from losscli.errors import InputError, RunError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None


def check_output_paths(*paths: str | None) -> None:
    """Refuse, before any work, output paths that cannot be written."""
    for path in paths:
        if path is None or path == "-":
            continue
        st = _stat(path)  # follows symlinks (/dev/stdout → a pipe, terminal or file)
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise InputError(f"cannot write {path}: it is a folder", "give a file name")
        if st is not None and (not stat.S_ISREG(st.st_mode) or _stream_alias(path)):
            if not os.access(path, os.W_OK):
                raise InputError(f"cannot write {path}: permission denied")
            continue
        target = os.path.realpath(path)
        folder = os.path.dirname(target)
        if not os.path.isdir(folder):
            raise InputError(
                f"cannot write {path}: the folder {folder} does not exist",
                "create the folder first, or give another path",
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(
                f"cannot write {path}: the folder {folder} is not writable",
                "give a path in a folder you can write to",
            )
        if st is not None and not os.access(target, os.W_OK):
            raise InputError(
                f"cannot write {path}: the file is read-only",
                "make it writable (chmod u+w), or give another path",
            )


class _Writer(io.TextIOBase):
    """A text handle whose failed writes name the file (not standard output)."""

    def __init__(self, handle: IO[Any], path: str) -> None:
        self._handle, self._path = handle, path

    def _failed(self, exc: OSError) -> RunError:
        return RunError(f"cannot write {self._path}: {exc.strerror or exc}")

    def write(self, text: Any) -> int:
        try:
            return self._handle.write(text)
        except OSError as exc:
            raise self._failed(exc) from None

    def writelines(self, lines: Iterable[str]) -> None:  # type: ignore[override]
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._handle.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def writable(self) -> bool:
        return True


@contextmanager
def atomic_output(path: str) -> Iterator[IO[str]]:
    """A text file handle for ``path`` (``-`` = stdout) committed on success."""
    yield from _output(path, binary=False)


@contextmanager
def atomic_binary_output(path: str) -> Iterator[IO[bytes]]:
    """:func:`atomic_output` for bytes (a figure): the same checks, staging and rename."""
    yield from _output(path, binary=True)


def _output(path: str, *, binary: bool) -> Iterator[Any]:
    """The one way a file is written: every rule in this module's docstring applies."""
    if path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    check_output_paths(path)
    st = _stat(path)
    if _stream_alias(path):
        yield from _descriptor(path, binary)
        return
    if st is not None and not stat.S_ISREG(st.st_mode):
        yield from _direct(path, "wb" if binary else "w")
        return
    target = os.path.realpath(path)  # a symlink's own file is the one replaced
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
        with _fdopen(fd, binary) as handle:
            writer = _Writer(handle, path)
            yield writer
            writer.flush()
        _keep_metadata(tmp, st)
        stage(tmp, target, path)  # inside staged_outputs(): renamed at its end
    except RunError:
        raise  # stage removed the temporary file
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


_STAGED: ContextVar[list[tuple[str, str, str]] | None] = ContextVar("staged", default=None)


@contextmanager
def staged_outputs() -> Iterator[None]:
    """Files written inside appear only when the whole block succeeded — stdout included.

    A command writes its files and prints its result inside one block; the
    renames wait until the result has been flushed to stdout, so a run whose
    stdout fails (a full disk, a closed descriptor) leaves every file as it
    was, and a run whose file fails has printed nothing (the files are written
    first).  A closed pipe (``| head``) still commits: the work is done and
    the reader chose to stop.
    """
    pending: list[tuple[str, str, str]] = []
    token = _STAGED.set(pending)
    reader_left = False
    try:
        try:
            yield
            sys.stdout.flush()
        except BrokenPipeError:
            reader_left = True
        except SystemExit as exc:
            if exc.code != 141:  # quiet_pipe's exit: the reader left
                raise
            reader_left = True
    except BaseException:
        for tmp, _, _ in pending:
            with suppress(OSError):
                os.unlink(tmp)
        raise
    finally:
        _STAGED.reset(token)
    for i, (tmp, target, path) in enumerate(pending):
        try:
            os.replace(tmp, target)
        except OSError as exc:
            for rest, _, _ in pending[i:]:
                with suppress(OSError):
                    os.unlink(rest)
            raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None
    if reader_left:
        raise BrokenPipeError


def stage(tmp: str, target: str, path: str) -> None:
    """A finished temporary file ``tmp`` renamed to ``target`` (``path`` as the user gave
    it): now, or inside :func:`staged_outputs` at its end, with the command's other files
    (the Dask engine's per-partition files, written by the workers)."""
    pending = _STAGED.get()
    if pending is not None:
        pending.append((tmp, target, path))
        return
    try:
        os.replace(tmp, target)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None


@contextmanager
def staged_stream(out: IO[str]) -> Iterator[tuple[IO[str], bool]]:
    """``(handle, staged)``: a streaming command's output, staged when it is a regular file.

    ``predict > preds.csv`` streams rows block by block; a block that fails
    late (a score overflowing at row 1M) must not leave the rows before it
    in the file.  When ``out`` is a descriptor on a regular file, the rows go
    to an anonymous spool file (in the same folder where it can, so a full
    disk shows while spooling) and are copied into ``out`` only once the
    whole output exists; a copy that fails is cut back to where ``out``
    stood, so the file is as it was.  A pipe, terminal or device is streamed
    as it is (``staged`` is False): rows already read downstream cannot be
    taken back, and the caller says so.  ``-o FILE`` needs none of this: it
    is a renamed temporary file already (:func:`atomic_output`).
    """
    fd = _regular_descriptor(out)
    if fd is None:
        yield out, False
        return
    try:  # closed by the ``with`` below; opened first to fall back to the temp folder
        spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="", dir=_folder_of(fd))  # noqa: SIM115
    except OSError:
        spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
    with spool:
        yield spool, True
        spool.flush()
        out.flush()
        _copy_into(spool.fileno(), fd)


def _regular_descriptor(out: IO[str]) -> int | None:
    try:
        fd = out.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None


def _folder_of(fd: int) -> str | None:
    with suppress(OSError):
        folder = os.path.dirname(os.readlink(f"/proc/self/fd/{fd}"))
        if os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return None


def _copy_into(src: int, dst: int) -> None:
    """Append all of ``src`` to ``dst``; on failure ``dst`` is cut back to its old length."""
    start = os.lseek(dst, 0, os.SEEK_CUR)
    os.lseek(src, 0, os.SEEK_SET)
    try:
        while chunk := os.read(src, 1 << 22):  # sendfile refuses an O_APPEND target (>>)
            view = memoryview(chunk)
            while view:
                view = view[os.write(dst, view) :]
    except BaseException:
        with suppress(OSError):
            os.ftruncate(dst, start)
            os.lseek(dst, start, os.SEEK_SET)
        raise


def _stream_alias(path: str) -> bool:
    """``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``, …: a stream, not a file name."""
    return os.path.abspath(path).startswith(("/dev/", "/proc/"))


_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def _descriptor_number(path: str) -> int | None:
    """N for /dev/stdout (1), /dev/stderr (2), /dev/fd/N, /proc/self/fd/N; else None."""
    target = os.path.abspath(path)
    if target in _STANDARD:
        return _STANDARD[target]
    for prefix in ("/dev/fd/", "/proc/self/fd/", f"/proc/{os.getpid()}/fd/"):
        if target.startswith(prefix) and target[len(prefix) :].isdigit():
            return int(target[len(prefix) :])
    return None


def _fdopen(fd: int, binary: bool) -> IO[Any]:
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _descriptor(path: str, binary: bool) -> Iterator[Any]:
    """Write through a duplicate of the descriptor ``path`` names (shared offset)."""
    number = _descriptor_number(path)
    if number is None:
        yield from _direct(path, "ab" if binary else "a")
        return
    for stream in (sys.stdout, sys.stderr):  # what they hold goes first, in order
        with suppress(OSError, ValueError, AttributeError):
            stream.flush()
    try:
        handle = _fdopen(os.dup(number), binary)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        writer = _Writer(handle, path)
        yield writer
        writer.flush()


def _direct(path: str, mode: str) -> Iterator[Any]:
    """A device, FIFO, socket or stream alias: write into it; nothing is replaced."""
    try:
        if "b" in mode:
            handle: IO[Any] = open(path, mode)  # noqa: SIM115
        else:
            handle = open(path, mode, encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        writer = _Writer(handle, path)
        yield writer
        writer.flush()


def _keep_metadata(tmp: str, st: os.stat_result | None) -> None:
    """The new file gets the old one's mode (and owner, where we may), else umask's."""
    if st is None:
        os.chmod(tmp, 0o666 & ~_umask())
        return
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        with suppress(OSError):
            os.chown(tmp, st.st_uid, st.st_gid)
