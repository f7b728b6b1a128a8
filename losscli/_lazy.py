"""Deferred imports of heavy modules (NumPy, pandas).

``losscli --help``, ``--version`` and ``losscli losses`` read the loss registry
but compute nothing, so they must not pay NumPy's ~80 ms or pandas' ~300 ms
import.  A module that needs NumPy only inside functions writes::

    if TYPE_CHECKING:
        import numpy as np
    else:
        np = lazy_module("numpy", globals(), "np")

The stand-in imports the real module on first attribute access and then
rebinds the importer's global name to it, so later calls cost nothing extra.
"""

from __future__ import annotations

import importlib
from typing import Any


class _LazyModule:
    """Placeholder that swaps itself for the real module on first use."""

    def __init__(self, name: str, namespace: dict[str, Any], alias: str) -> None:
        self._lazy_name = name
        self._lazy_namespace = namespace
        self._lazy_alias = alias

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickled (a closure sent to a Dask worker) as the module itself, imported there."""
        return importlib.import_module, (self._lazy_name,)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_lazy_"):  # not set yet (while unpickling): no recursion
            raise AttributeError(attr)
        module = importlib.import_module(self._lazy_name)
        self._lazy_namespace[self._lazy_alias] = module
        return getattr(module, attr)


def lazy_module(name: str, namespace: dict[str, Any], alias: str) -> Any:
    """Return a stand-in for module ``name`` bound as ``alias`` in ``namespace``."""
    return _LazyModule(name, namespace, alias)


def callable_module(module_name: str, api_name: str) -> None:
    """Make module ``module_name`` callable as ``losscli.api.<api_name>``.

    ``losscli.compute`` and ``losscli.train`` are both the library modules
    (``losscli.compute.run_compute``) and, for the public API, functions
    (``losscli.compute("preds.csv")``).  A module cannot be shadowed by a
    function of the same name in its package (the import system rebinds the
    name to the module), so the module itself is made callable; the call
    loads ``losscli.api`` only then.
    """
    import sys
    import types

    class _CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            api = importlib.import_module("losscli.api")
            return getattr(api, api_name)(*args, **kwargs)

    _CallableModule.__call__.__doc__ = f"losscli.api.{api_name}: the public API."
    sys.modules[module_name].__class__ = _CallableModule
