"""losscli: loss values, gradients and gradient-descent models from CSV.

The package is a library first (``losscli.losses``, ``losscli.train``, ...) and a
command line second (``losscli.cli``); nothing outside ``cli.py`` imports click.
Importing the package is cheap on purpose: NumPy and pandas load on first use so
that ``losscli --help`` and ``losscli losses`` start instantly.
"""

__version__ = "0.1.0"
