"""The one column resolver: which columns of the file each command uses.

Rules, the same for compute, train and predict:

- The file's own header names are the only names (with ``--no-header``,
  the 1-based positions ``1``, ``2``, …).  A blank or repeated name is an
  error as soon as a command uses that column; it is never renamed.
- A request is a comma list of names and globs; an exact name always wins
  over a glob reading (``truth[1]`` is the column of that name if there is
  one), and globs expand in file order.
- Default names: targets :data:`TARGET_NAMES`, predictions
  :data:`PREDICTION_NAMES`, then ``p_<class>`` columns (probabilities), then
  :data:`MORE_PREDICTION_NAMES`, then ``logit_<class>`` / ``y_score`` columns
  (raw scores); a two-column file
  where one name is a known target or prediction name takes the other
  column for the other role (else first = target, second = prediction).
- train: ``--target``, else a default target name, else the last column
  (and the result says so); features: ``--features``, else every other
  column.

Everything is linear in the number of columns (one dict of positions).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from losscli.errors import InputError, name_list

TARGET_NAMES = ("y_true", "y", "target", "label", "actual", "truth")
PREDICTION_NAMES = ("y_pred", "pred", "prediction", "y_hat")
# Taken only when neither a name above nor p_<class> columns are there (a file
# with `score` beside p_a, p_b means the class columns, as it always did).
MORE_PREDICTION_NAMES = ("yhat", "score", "prob", "proba")
CLASS_PREFIX = "p_"
LOGIT_PREFIX = "logit_"
LOGIT_NAMES = ("y_score",)
_GLOB = re.compile(r"[*?\[]")


class Header:
    """The file's column names with a position index built once."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.positions: dict[str, list[int]] = {}
        for i, name in enumerate(self.names):
            self.positions.setdefault(name, []).append(i)

    def __len__(self) -> int:
        return len(self.names)

    def has(self, name: str) -> bool:
        return name in self.positions

    def at(self, name: str) -> int:
        """The one position of a column in use; blank or repeated names are errors."""
        where = self.positions[name]
        if name == "":
            raise InputError(
                f"column {where[0] + 1} has no name in the header",
                "name every column in use (or read it by position with --no-header)",
            )
        if len(where) > 1:
            raise InputError(
                f"the header names column {name!r} {len(where)} times",
                "rename the duplicates so that each column in use has one name",
            )
        return where[0]

    def listing(self) -> str:
        return f"the columns are: {name_list(self.names)}"


def select(spec: str, header: Header, flag: str) -> list[str]:
    """Comma-separated names and globs -> distinct names in request (then file) order."""
    chosen: dict[str, None] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if header.has(part):
            chosen[part] = None
        elif _GLOB.search(part):
            match = re.compile(fnmatch.translate(part)).match
            found = [h for h in header.names if match(h)]
            if not found:
                raise InputError(f"{flag} {part!r} matches no column", header.listing())
            chosen.update(dict.fromkeys(found))
        else:
            raise InputError(f"no column named {part!r} (from {flag})", header.listing())
    if not chosen:
        raise InputError(f"{flag} names no column", "give a column name, a comma list or a glob")
    return list(chosen)


# --------------------------------------------------------------------------- compute


class ColumnRequest(NamedTuple):
    """What the user asked for: comma lists or globs, or None for the defaults."""

    true: str | None = None
    pred: str | None = None
    weight: str | None = None
    var: str | None = None  # gaussian_nll's variance column, read after the prediction
    group: str | None = None  # --by COL (losscli.evaluate): its values come back as Batch.key


@dataclass(frozen=True)
class Columns:
    """Resolved columns (names and positions); ``classes`` names the prediction columns.

    ``logits`` is true when the prediction columns are named as raw scores
    (``logit_<class>``, ``y_score``); ``guessed`` says how a default was chosen.
    """

    true: tuple[str, ...]
    pred: tuple[str, ...]
    weight: str | None
    classes: tuple[str, ...] | None
    true_at: tuple[int, ...] = ()
    pred_at: tuple[int, ...] = ()
    weight_at: int | None = None
    logits: bool = False
    group: str | None = None  # the --by column (it may also be the target column)
    group_at: int | None = None

    @property
    def used_at(self) -> tuple[int, ...]:
        weight = () if self.weight_at is None else (self.weight_at,)
        used = (*self.true_at, *self.pred_at, *weight)
        if self.group_at is None or self.group_at in used:
            return used
        return (*used, self.group_at)

    @property
    def numeric_at(self) -> tuple[int, ...]:
        """The columns that must hold numbers (the group column may hold text)."""
        weight = () if self.weight_at is None else (self.weight_at,)
        return (*self.true_at, *self.pred_at, *weight)

    def describe(self, role: str) -> str:
        """'column 'y_pred'' or 'columns 'p_a', 'p_b'' for messages."""
        names = {"y_true": self.true, "y_pred": self.pred, "weight": (self.weight or "",)}[role]
        quoted = ", ".join(f"'{n}'" for n in names)
        return f"column {quoted}" if len(names) == 1 else f"columns {quoted}"


def _prefixed(header: Header, prefix: str) -> tuple[str, ...]:
    return tuple(h for h in header.names if h.startswith(prefix) and len(h) > len(prefix))


def _default_pred(header: Header) -> tuple[tuple[str, ...], bool] | None:
    """(prediction columns, are they logits) by the default names, or None."""
    if found := next((c for c in PREDICTION_NAMES if header.has(c)), None):
        return (found,), False
    if prefixed := _prefixed(header, CLASS_PREFIX):
        return prefixed, False
    if found := next((c for c in MORE_PREDICTION_NAMES if header.has(c)), None):
        return (found,), False
    if logits := _prefixed(header, LOGIT_PREFIX):
        return logits, True
    if found := next((c for c in LOGIT_NAMES if header.has(c)), None):
        return (found,), True
    return None


def resolve_columns(header_names: Sequence[str], request: ColumnRequest) -> Columns:
    """compute's target, prediction and weight columns (see the module's rules)."""
    header = Header(header_names)
    for flag, value in (("--true", request.true), ("--pred", request.pred)):
        if value is not None and not value.strip(" ,"):
            raise InputError(f"{flag} is empty", "name a column, or leave the flag out")
    names = header.names
    two = len(names) == 2
    true_default = next((c for c in TARGET_NAMES if header.has(c)), None)
    logits = False
    if request.pred:
        pred = tuple(select(request.pred, header, "--pred"))
        logits = all(p.startswith(LOGIT_PREFIX) for p in pred) or pred in [
            (n,) for n in LOGIT_NAMES
        ]
    elif (found := _default_pred(header)) is not None:
        pred, logits = found
    elif two and true_default is not None:
        pred = (names[1] if names[0] == true_default else names[0],)
    elif two:
        pred = (names[1],)
    else:
        raise InputError(
            f"no prediction column found (looked for {', '.join(PREDICTION_NAMES)}, p_<class>)",
            f"name it with --pred; {header.listing()}",
        )
    if request.true:
        true = tuple(select(request.true, header, "--true"))
    elif true_default is not None:
        true = (true_default,)
    elif two:
        other = [n for n in names if n not in pred]
        true = (other[0] if other else names[0],)
    else:
        raise InputError(
            f"no target column found (looked for {', '.join(TARGET_NAMES)})",
            f"name it with --true; {header.listing()}",
        )
    weight = select(request.weight, header, "--weight")[0] if request.weight else None
    if request.var:  # hook: a second prediction column, the predicted variance
        pred = (*pred, *select(request.var, header, "--var"))
    true_at = tuple(header.at(c) for c in true)
    pred_at = tuple(header.at(c) for c in pred)
    weight_at = header.at(weight) if weight else None
    overlap = set(true) & set(pred) or ({weight} & {*true, *pred} if weight else set())
    if overlap:
        raise InputError(
            f"column {sorted(overlap)[0]!r} is used for two roles",
            "name the target with --true and the predictions with --pred",
        )
    classes: tuple[str, ...] | None = None
    if len(pred) > 1 and not request.var:
        for prefix in (CLASS_PREFIX, LOGIT_PREFIX):
            if all(p.startswith(prefix) for p in pred):
                classes = tuple(p[len(prefix) :] for p in pred)
                break
        else:
            classes = pred
    group = select(request.group, header, "--by")[0] if request.group else None
    group_at = header.at(group) if group else None
    return Columns(
        true, pred, weight, classes, true_at, pred_at, weight_at, logits, group, group_at
    )


# --------------------------------------------------------------------------- train, predict


@dataclass(frozen=True)
class TrainColumns:
    """train's target and feature columns; ``note`` says when the target was guessed."""

    target: str
    target_at: int
    features: tuple[str, ...]
    features_at: tuple[int, ...]
    one_hot: frozenset[str]
    note: str | None


def resolve_train(
    header_names: Sequence[str], target: str | None, features: str | None, one_hot: str | None
) -> TrainColumns:
    """--target (default names, else the last column) and --features/--one-hot."""
    header = Header(header_names)
    note = None
    if target is not None and not target.strip():
        raise InputError("--target is empty", "name a column, or leave the flag out")
    if target:
        if not header.has(target):
            raise InputError(f"no column named {target!r} (from --target)", header.listing())
        chosen = target
    elif found := next((c for c in TARGET_NAMES if header.has(c)), None):
        chosen = found
    else:
        chosen = header.names[-1]
        note = (
            f"target: the last column {chosen!r} (no column is named "
            f"{', '.join(TARGET_NAMES)}; choose another with --target)"
        )
    target_at = header.at(chosen)
    others = Header([n for i, n in enumerate(header.names) if i != target_at])
    encode = select(one_hot, others, "--one-hot") if one_hot else []
    picked = select(features, others, "--features") if features else list(others.names)
    picked += [c for c in encode if c not in set(picked)]
    if chosen in picked:
        raise InputError(f"the target {chosen!r} cannot also be a feature")
    if not picked:
        raise InputError("no feature columns", "the input needs columns besides the target")
    features_at = tuple(header.at(c) for c in picked)
    return TrainColumns(chosen, target_at, tuple(picked), features_at, frozenset(encode), note)


def feature_positions(header_names: Sequence[str], wanted: Sequence[str]) -> tuple[int, ...]:
    """predict: the model's feature columns in this input (repeated names refused)."""
    header = Header(header_names)
    missing = [c for c in wanted if not header.has(c)]
    if missing:
        raise InputError(
            f"the input lacks feature column(s) {', '.join(repr(m) for m in missing[:20])}",
            "give a CSV with the columns the model was trained on",
        )
    return tuple(header.at(c) for c in wanted)
