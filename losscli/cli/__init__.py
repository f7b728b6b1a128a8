"""The command line: thin click commands over the library.

Each command parses its flags, calls one library function, and renders the
result.  Library errors (:class:`losscli.errors.LossCliError`) become
one-to-three-line messages with exit code 2 (bad input) or 1 (run failure)
at the group boundary; Ctrl-C exits 130 and a closed pipe exits quietly.
Heavy modules load inside the commands, so ``--help`` stays instant.
"""

from losscli.cli import compare, compute, losses, metrics, predict, train  # noqa: F401  (registers the commands)
from losscli.cli.app import cli, main

__all__ = ["cli", "main"]
