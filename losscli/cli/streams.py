"""The standard streams as the command line finds them: closed, full, or not UTF-8.

Three mechanisms, set up once in :func:`losscli.cli.app.main`:

* A closed stream (``>&-``, ``<&-``, ``2>&-``) is ``None`` in Python.  A closed
  stdout becomes :class:`ClosedOutput`, whose writes fail with EBADF, so the
  one error path for a failed write (:func:`write_failure`) reports it; a
  closed stderr becomes /dev/null (there is nobody to tell).  A closed stdin is
  an input error where it is read (``options.require_input``).
* A write that fails (``> /dev/full``: ENOSPC; a closed descriptor: EBADF)
  surfaces as ``OSError`` wherever it happens — in a command, in click's help,
  or at the final flush.  :func:`write_failure` turns it into a one-line error;
  a closed pipe (EPIPE) is quiet instead (:func:`quiet_pipe`, exit 141).
* An encoding that cannot show the tables' symbols (``PYTHONIOENCODING=latin-1``,
  a Latin-1 locale) gets the ``losscli-ascii`` error handler: ∂ → d, — → -,
  box drawing → ``+-|``, anything else → its NFKD base letter or ``?``.  Numbers
  are ASCII already, so machine output is unchanged.
"""

from __future__ import annotations

import codecs
import errno
import os
import signal
import sys
import unicodedata
from typing import NoReturn

ASCII_HANDLER = "losscli-ascii"
_ASCII = {
    "∂": "d",
    "—": "-",
    "–": "-",
    "−": "-",
    "·": ".",
    "…": "...",
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "→": "->",
    "←": "<-",
    "×": "x",
    "²": "^2",
    "³": "^3",
    "⁴": "^4",
    "‖": "||",
    "λ": "lambda",
    "σ": "sigma",
    "μ": "mu",
    "ℓ": "l",
    "Σ": "sum",
    "√": "sqrt",
    "β": "beta",
    "γ": "gamma",
    "α": "alpha",
    "ε": "eps",
    "δ": "delta",
    "θ": "theta",
    "∞": "inf",
    "±": "+/-",
    "│": "|",
    "┃": "|",
    "─": "-",
    "━": "-",
    "└": "+",
    "┘": "+",
    "┌": "+",
    "┐": "+",
    "├": "+",
    "┤": "+",
    "┬": "+",
    "┴": "+",
    "┼": "+",
    "•": "*",
    "█": "#",
}
_BLOCKS = " ▁▂▃▄▅▆▇"  # the loss curve's eighth blocks


def _ascii_char(ch: str) -> str:
    if ch in _ASCII:
        return _ASCII[ch]
    if ch in _BLOCKS:
        return " .,-~=*"[min(_BLOCKS.index(ch), 6)]
    base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
    return base or "?"


def _ascii_errors(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(_ascii_char(ch) for ch in text), exc.end


codecs.register_error(ASCII_HANDLER, _ascii_errors)


class ClosedOutput:
    """Stands in for a closed stdout: every write fails as the descriptor would."""

    encoding = "utf-8"
    errors = "strict"

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def prepare_streams() -> None:
    """Closed streams and narrow encodings, fixed before anything is printed."""
    if sys.stdout is None:
        sys.stdout = ClosedOutput()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (lives as long as the process)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and not encoding.startswith("utf"):
            try:
                reconfigure(errors=ASCII_HANDLER)
            except (ValueError, OSError):
                continue


def write_failure(exc: OSError) -> str:
    """The one-line message for a failed read or write that reached the top."""
    reason = exc.strerror or str(exc)
    if exc.filename:
        return f"cannot use {exc.filename}: {reason}"
    if isinstance(sys.stdout, ClosedOutput) or exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write to standard output: {reason}"
    return f"input/output error: {reason}"


def quiet_pipe() -> NoReturn:
    """The reader went away (``| head``): stop without a traceback, like cat does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(128 + signal.SIGPIPE)


def flush_stdout() -> str | None:
    """Flush stdout; a failure's message (None when all went out, or the pipe closed)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_pipe()
    except OSError as exc:
        _discard_stdout()
        return write_failure(exc)
    return None


def _discard_stdout() -> None:
    """After a failed write, point fd 1 at /dev/null so exit's own flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        sys.stdout = ClosedOutput()
        return
    # what the buffer still holds goes to /dev/null at exit
