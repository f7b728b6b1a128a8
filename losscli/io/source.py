"""Where the bytes come from: a path, ``-`` (stdin), a FIFO; decompressed; spooled.

This is the first step of the one input sequence (source → format → header
→ columns → typed blocks).  It knows nothing about formats or columns: it
hands :mod:`losscli.io.formats` a buffered binary stream, already
decompressed when the bytes start with a gzip, bzip2, xz or zstd magic
number (so compression works on stdin and whatever the file is called).

Some work needs the input twice (per-row output of a mean's gradient) or at
random (Parquet's footer).  A regular file is simply opened again; anything
else (stdin, a FIFO, ``<(process substitution)``) is *spooled*: a copy of
its raw bytes goes to a temporary file while the first pass reads it, and
the second pass reads the copy.  Re-opening a FIFO would wait for ever.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import sys
import tempfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

from losscli.errors import InputError

PEEK_BYTES = 1 << 20
STDIN = "-"
# Errors a decompressor raises on corrupt data (zlib.error from gzip's deflate,
# OSError from bz2 and gzip's CRC check, EOFError from a cut stream).
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    lzma.LZMAError,
    zlib.error,
)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def display_name(source: str) -> str:
    """How messages name the input."""
    return "standard input" if source == STDIN else source


def is_regular_file(source: str) -> bool:
    """A path to a regular file (which can be read twice and at random)."""
    if source == STDIN:
        return False
    try:
        return stat.S_ISREG(os.stat(source).st_mode)
    except OSError:
        return False


def signature(source: str) -> tuple[int, int] | None:
    """(size, mtime in ns) of a regular file, to notice it changing between passes."""
    if not is_regular_file(source):
        return None
    info = os.stat(source)
    return info.st_size, info.st_mtime_ns


def check_unchanged(source: str, before: tuple[int, int] | None) -> None:
    """The second pass must read what the first read."""
    if before is not None and signature(source) != before:
        raise InputError(
            f"{display_name(source)} changed while it was being read "
            "(its size or modification time differs between the two passes)",
            "write the input to a file that nothing else modifies, then run again",
        )


class _Tee(io.RawIOBase):
    """Reads from ``source`` and writes a copy of every byte to ``copy``."""

    def __init__(self, source: IO[bytes], copy: IO[bytes]) -> None:
        self._source, self._copy = source, copy

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        self._copy.write(data)
        return len(data)


def _decompress(raw: IO[bytes], kind: str) -> Any:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)
    if kind == "bz2":
        return bz2.BZ2File(raw)
    if kind == "xz":
        return lzma.LZMAFile(raw)
    # zstd through pyarrow's bundled codec: no extra dependency to install
    import pyarrow as pa  # type: ignore[import-untyped]

    return pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), "zstd")


@dataclass
class Opened:
    """A readable stream of the (decompressed) input bytes and what it came from."""

    source: str
    name: str
    stream: io.BufferedReader
    compression: str | None

    def peek(self, size: int = PEEK_BYTES) -> bytes:
        """The first bytes, without consuming them (decompression errors become InputError)."""
        try:
            return self.stream.peek(size)
        except READ_ERRORS as exc:
            raise read_error(exc, self.name) from None

    def close(self) -> None:
        self.stream.close()


def read_error(exc: BaseException, name: str) -> BaseException:
    """A clean message for a stream that fails mid-read (corrupt compressed data…)."""
    if isinstance(exc, BrokenPipeError):
        return exc
    if isinstance(exc, (zlib.error, lzma.LZMAError, EOFError)) or "compressed" in str(exc):
        return InputError(
            f"{name} cannot be decompressed: the compressed data is corrupt or cut short",
            "check the file (e.g. gzip -t), or decompress it yourself first",
        )
    return InputError(f"{name} cannot be read: {exc}")


def open_source(source: str, *, tee: IO[bytes] | None = None) -> Opened:
    """Open a path or ``-``; with ``tee``, copy the raw bytes read there (a spool)."""
    name = display_name(source)
    try:
        raw: IO[bytes] = sys.stdin.buffer if source == STDIN else open(source, "rb")  # noqa: SIM115
    except IsADirectoryError:
        raise InputError(f"{source} is a folder, not a CSV file") from None
    except OSError as exc:
        raise InputError(f"cannot open {source}: {exc.strerror}") from None
    if tee is not None:
        raw = _Tee(raw, tee)  # type: ignore[assignment]
    stream: io.BufferedReader = io.BufferedReader(raw, buffer_size=PEEK_BYTES)  # type: ignore[arg-type]
    try:
        head = stream.peek(8)
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            stream = io.BufferedReader(_decompress(stream, kind), buffer_size=PEEK_BYTES)
            return Opened(source, name, stream, kind)
    return Opened(source, name, stream, None)


def spool_file() -> IO[bytes]:
    """A temporary file for a copy of a non-seekable input (the caller removes it)."""
    try:
        return tempfile.NamedTemporaryFile(prefix="losscli-input-", delete=False)
    except OSError as exc:
        raise InputError(
            f"standard input must be copied aside for a second pass, but the "
            f"temporary folder is not writable ({exc.strerror})",
            "set TMPDIR to a writable folder, or give the input as a file",
        ) from None


def copy_to_file(opened: Opened) -> str:
    """The decompressed bytes of ``opened`` in a temporary file (for random access)."""
    spool = spool_file()
    try:
        with spool:
            while chunk := opened.stream.read(PEEK_BYTES):
                spool.write(chunk)
    except READ_ERRORS as exc:
        os.unlink(spool.name)
        raise read_error(exc, opened.name) from None
    except BaseException:
        os.unlink(spool.name)
        raise
    opened.close()
    return spool.name
