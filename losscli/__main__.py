"""``python -m losscli`` runs the command line."""

from losscli.cli import main

main()
