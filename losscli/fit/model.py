"""The fitted model, and its versioned JSON file.

A model file is data: JSON parsed and validated field by field (format,
version, kind, shapes, finite numbers); nothing in it is ever executed, and
a pickle or anything else is refused.  Coefficients are stored on the
original feature scale, so the file is usable without losscli:
score = Σ coef·x + intercept, then the inverse link.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from losscli import __version__
from losscli._types import ModelKind
from losscli.errors import InputError
from losscli.io.atomic import atomic_output
from losscli.io.design import Design
from losscli.losses.links import IDENTITY, LINKS, Link

if TYPE_CHECKING:
    from losscli._types import Array
FORMAT = "losscli-model"
VERSION = 1


@dataclass(frozen=True)
class Model:
    """A linear, logistic or softmax model on the original feature scale.

    ``coef`` is (p,) for one output or (p, K) for softmax; ``intercept`` has
    one entry per output.
    """

    kind: ModelKind
    link: Link
    design: Design
    target: str
    classes: tuple[str, ...] | None
    coef: Array
    intercept: Array
    loss: str
    loss_params: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.design.names

    def scores(self, x: Array) -> Array:
        """Raw scores Xw + b: logits, log-rates or values."""
        out: Array = x @ self.coef + (self.intercept if self.coef.ndim == 2 else self.intercept[0])
        return out

    def predict(self, x: Any, *, logits: bool = False) -> Array:
        """Predictions through the inverse link (raw scores with ``logits``).

        ``x`` is the design matrix, one column per feature in ``features``
        order (a list of rows, or an array), or a pandas DataFrame holding the
        input columns by name (categories one-hot encoded as in training).
        """
        raw = self.scores(self._matrix(x))
        return raw if logits or self.link is IDENTITY else self.link.inverse(raw)

    def _matrix(self, x: Any) -> Array:
        if hasattr(x, "columns"):  # a DataFrame: its columns by name, one-hot as in training
            return self._design_matrix(x)
        if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.ndim == 2:
            matrix = x
        else:
            matrix = np.asarray(x, dtype=np.float64)
            if matrix.ndim == 1 and len(self.features) == 1:
                matrix = matrix[:, None]
        p = len(self.features)
        if matrix.ndim != 2 or matrix.shape[1] != p:
            raise InputError(
                f"X has shape {matrix.shape}; the model takes {p} feature column(s): "
                + ", ".join(self.features[:5])
                + (", …" if p > 5 else ""),
                "pass one row per sample with the features in that order",
            )
        return matrix

    def _design_matrix(self, frame: Any) -> Array:
        """X for a DataFrame through the input layer, the rules ``predict`` applies to a file."""
        from losscli.io.design import predict_blocks
        from losscli.io.formats import InputOptions, open_any

        table = open_any(frame, InputOptions())
        try:
            parts = [x for x, _, _ in predict_blocks(table, self.design, self.target)]
        finally:
            table.close()
        return np.concatenate(parts) if parts else np.zeros((0, len(self.features)))

    def save(self, path: str) -> None:
        """Write the model as versioned JSON, atomically (:func:`load` reads it back)."""
        save(self, path)

    # -- JSON ---------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        coef: Any = self.coef.T.tolist() if self.coef.ndim == 2 else self.coef.tolist()
        intercept: Any = (
            self.intercept.tolist() if self.kind is ModelKind.SOFTMAX else float(self.intercept[0])
        )
        return {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind.value,
            "link": self.link.name,
            "target": self.target,
            "features": self.features,
            "inputs": {
                "columns": list(self.design.columns),
                "one_hot": {k: list(v) for k, v in self.design.one_hot.items()},
            },
            "classes": list(self.classes) if self.classes is not None else None,
            "coef": coef,
            "intercept": intercept,
            "loss": {"name": self.loss, "params": self.loss_params},
            "options": self.options,
            "metrics": self.metrics,
            "created_by": f"losscli {__version__}",
        }


def save(model: Model, path: str) -> None:
    """Write the model as JSON, atomically."""
    with atomic_output(path) as handle:
        json.dump(model.to_json(), handle, indent=2, allow_nan=False)
        handle.write("\n")


# --------------------------------------------------------------------------- loading


class _Invalid(Exception):
    pass


def _no_constants(token: str) -> float:
    raise _Invalid(f"non-finite number {token} in the file")


MAX_MODEL_BYTES = 64 << 20  # far above any real model; a bound on what is parsed
MAX_INT_DIGITS = 30  # an integer in a model (a version, a count) is small


def _parse_int(token: str) -> int | float:
    """JSON integers: short ones only (a 5,001-digit version or 10**400 is refused)."""
    digits = len(token.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _Invalid(f"an integer with {digits} digits")
    return int(token)


def load(path: str) -> Model:
    """Read and validate a model file; anything malformed is an InputError."""
    if os.path.isdir(path):
        raise InputError(f"{path} is a folder, not a model file", "give the JSON file --save wrote")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_MODEL_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read model {path}: {exc.strerror}") from None
    if len(raw) > MAX_MODEL_BYTES:
        raise InputError(
            f"{path} is over {MAX_MODEL_BYTES >> 20} MiB, too large for a losscli model",
            "give the JSON file --save wrote",
        )
    if raw[:1] == b"\x80" or raw[:2] in (b"(d", b"(l", b"cc"):
        raise InputError(
            f"{path} looks like a pickle; losscli models are JSON and pickles are never loaded",
            "retrain and save with losscli train --save FILE",
        )
    try:
        obj = json.loads(
            raw.decode("utf-8-sig"), parse_constant=_no_constants, parse_int=_parse_int
        )
        return _from_json(obj)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            f"{path} is not a losscli model (not JSON)", "give the JSON file --save wrote"
        ) from None
    except RecursionError:
        raise InputError(
            f"{path} is not a losscli model: its JSON is nested too deeply",
            "give the JSON file --save wrote",
        ) from None
    except _Invalid as exc:
        raise InputError(f"{path} is not a valid losscli model: {exc}") from None


def _field(obj: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in obj:
        raise _Invalid(f"missing field {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _Invalid(f"field {key!r} has the wrong type")
    return value


def _numbers(value: Any, length: int, what: str) -> Array:
    if not isinstance(value, list) or len(value) != length:
        raise _Invalid(f"{what} must be a list of {length} numbers")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise _Invalid(f"{what} must hold numbers only")
    try:
        out = np.array(value, dtype=np.float64)
    except OverflowError:  # an integer past float64 (short ones only reach here)
        raise _Invalid(f"{what} has a number beyond float64") from None
    if not np.isfinite(out).all():
        raise _Invalid(f"{what} has a non-finite number")
    return out


def _strings(value: Any, what: str) -> list[str]:
    """A list of distinct strings: a duplicated class or feature would silently
    lose a column of the output (one name, two meanings)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"{what} must be a list of strings")
    seen: set[str] = set()
    for v in value:
        if v in seen:
            raise _Invalid(f"{what} names {v[:60]!r} twice")
        seen.add(v)
    return value


def _from_json(obj: Any) -> Model:
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise _Invalid('no "format": "losscli-model" field')
    version = _field(obj, "version", int)
    if version != VERSION:
        raise _Invalid(
            f"file version {version}, this losscli {__version__} reads version {VERSION}"
        )
    kind_name = _field(obj, "kind", str)
    if kind_name not in {k.value for k in ModelKind}:
        raise _Invalid(f"unknown kind {kind_name!r}")
    kind = ModelKind(kind_name)
    link_name = _field(obj, "link", str)
    link = LINKS.get(link_name)
    if link not in kind.links:
        raise _Invalid(f"link {link_name!r} does not fit a {kind} model")
    assert link is not None
    features = _strings(_field(obj, "features", list), "features")
    inputs = _field(obj, "inputs", dict)
    columns = _strings(inputs.get("columns"), "inputs.columns")
    one_hot_raw = inputs.get("one_hot", {})
    if not isinstance(one_hot_raw, dict):
        raise _Invalid("inputs.one_hot must be an object")
    one_hot = {k: tuple(_strings(v, f"categories of {k!r}")) for k, v in one_hot_raw.items()}
    design = Design(tuple(columns), one_hot)
    if design.names != features or not features:
        raise _Invalid("features do not match inputs")
    classes_raw = obj.get("classes")
    classes = None if classes_raw is None else tuple(_strings(classes_raw, "classes"))
    p = len(features)
    if kind is ModelKind.SOFTMAX:
        if classes is None or len(classes) < 3:
            raise _Invalid("a softmax model needs three or more classes")
        rows = _field(obj, "coef", list)
        if len(rows) != len(classes):
            raise _Invalid("coef needs one list per class")
        coef = np.stack([_numbers(r, p, "coef") for r in rows], axis=1)
        intercept = _numbers(_field(obj, "intercept", list), len(classes), "intercept")
    else:
        if kind is ModelKind.LOGISTIC and (classes is None or len(classes) != 2):
            raise _Invalid("a logistic model needs two classes")
        coef = _numbers(_field(obj, "coef", list), p, "coef")
        value = _field(obj, "intercept", (int, float))
        intercept = _numbers([value], 1, "intercept")
    loss = _field(obj, "loss", dict)
    name = _field(loss, "name", str)
    params = loss.get("params", {})
    if not isinstance(params, dict):
        raise _Invalid("loss.params must be an object")
    target = _field(obj, "target", str)
    options = obj.get("options", {})
    metrics = obj.get("metrics", {})
    if not isinstance(options, dict) or not isinstance(metrics, dict):
        raise _Invalid("options and metrics must be objects")
    if not all(math.isfinite(float(c)) for c in coef.ravel()):
        raise _Invalid("coef has a non-finite number")
    return Model(
        kind, link, design, target, classes, coef, intercept, name, params, options, metrics
    )
