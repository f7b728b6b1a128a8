"""losscli: loss values, gradients and gradient-descent models from tables.

The package is a library first and a command line second (``losscli.cli``,
the only part that imports click).  The public API, loaded on first use::

    import losscli
    f = losscli.loss("focal", gamma=2)
    f.value(y_true, y_pred, logits=True)
    report = losscli.compute("preds.csv", losses=["mse", "mae"])
    model = losscli.train("data.csv", loss="huber", delta=2, l2=0.01)
    model.predict(X); model.save("m.json"); losscli.load_model("m.json")

Importing the package is cheap on purpose: NumPy and pandas load on first use
so that ``losscli --help`` and ``losscli losses`` start instantly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # what type checkers see; _LAZY below is what runs
    from losscli.api import LossCliWarning as LossCliWarning
    from losscli.api import LossFunction as LossFunction
    from losscli.api import load_model as load_model
    from losscli.api import loss as loss
    from losscli.api import samples as samples
    from losscli.evaluate import EvaluateOptions as EvaluateOptions
    from losscli.losses import ALIASES as ALIASES
    from losscli.losses import LOSSES as LOSSES

# name -> module that defines it; loaded by __getattr__ on first use (PEP 562)
_LAZY = {
    "LossCliWarning": "losscli.api",
    "LossFunction": "losscli.api",
    "load_model": "losscli.api",
    "loss": "losscli.api",
    "samples": "losscli.api",
    "EvaluateOptions": "losscli.evaluate",
    "LOSSES": "losscli.losses",
    "ALIASES": "losscli.losses",
}
# Submodules that are part of the API; compute, train and predict are also callable
# (losscli.compute("preds.csv") runs losscli.api.compute, see _lazy.callable_module).
_SUBMODULES = ("compute", "errors", "predict", "train")

__all__ = [*_LAZY, *_SUBMODULES, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"losscli.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'losscli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
