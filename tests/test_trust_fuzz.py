"""The contract, checked on random CSVs and random option combinations (hypothesis).

For every run of ``compute``, ``train`` and ``predict``:

* no traceback (in process: no exception other than click's exit);
* exit code 0, 1 or 2 (130 and 141 need a signal or a closed pipe:
  tests/test_trust_files.py and test_trust_errors.py);
* on failure, one to three lines on stderr, the first starting ``Error:``;
* with exit 0, the numbers agree with a reference computed here from the
  textbook formula in exact rational arithmetic (``fractions``), and a run
  whose exact result lies beyond float64 must not succeed;
* no file touched unless the run succeeded (a sentinel in the output file
  survives every failure), and a special file is never replaced.

Inputs mix ordinary numbers with the values that broke losscli before:
1e153..1e308, subnormals, zeros, blanks, text, inf, huge weights, CRLF,
BOM, quoted numbers, spaced names.  In-process (CliRunner) for speed,
plus a few subprocess runs through ``python -m losscli``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from losscli.cli import cli

NO_WARNINGS = pytest.mark.filterwarnings("error::RuntimeWarning")

# LOSSCLI_FUZZ=N runs N times the examples from a fresh random seed (exploration);
# by default the suite is reproducible (derandomized) and bounded to a few seconds.
EXPLORE = int(os.environ.get("LOSSCLI_FUZZ", "0"))
FUZZ = settings(
    max_examples=200 * max(1, EXPLORE),
    deadline=None,
    derandomize=not EXPLORE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SENTINEL = "sentinel: must survive a failed run\n"
EPS = sys.float_info.epsilon

# --------------------------------------------------------------------------- strategies

ordinary = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
extreme = st.sampled_from([0.0, 1e153, -1e153, 1e300, -1e300, 1e308, -1e308, 5e-324, 1e-310])
regression_cell = st.one_of(
    ordinary.map(repr),
    extreme.map(repr),
    st.sampled_from(["", "abc", "inf", "-inf", "nan", "1e400", '"2.5"', " 3 "]),
)
probability_cell = st.one_of(
    st.floats(0, 1).map(repr), st.sampled_from(["0", "1", "1.5", "-0.1", "", "x"])
)
label_cell = st.sampled_from(["0", "1", "1", "0", "-1", "2", "", "true"])
weight_cell = st.one_of(
    st.floats(0, 10).map(repr), st.sampled_from(["0", "1e308", "1e-300", "-1", "", "inf"])
)

REGRESSION = {
    "mse": {},
    "mae": {},
    "huber": {"delta": st.sampled_from([0.5, 1.0, 1e300, -1.0, math.nan])},
    "log_cosh": {},
    "quantile": {"quantile": st.sampled_from([0.1, 0.5, 0.9, 1.5])},
}
BINARY = {"bce": {"eps": st.sampled_from([EPS, 1e-7, 1e-17, 0.7])}}


@st.composite
def compute_case(draw: Any) -> dict[str, Any]:
    loss = draw(st.sampled_from([*REGRESSION, *BINARY]))
    binary = loss in BINARY
    n = draw(st.integers(1, 12))
    weighted = draw(st.booleans())
    truth = label_cell if binary else regression_cell
    pred = probability_cell if binary else regression_cell
    rows = [[draw(truth), draw(pred), *([draw(weight_cell)] if weighted else [])] for _ in range(n)]
    header = ["y_true", "y_pred", *(["w"] if weighted else [])]
    if draw(st.booleans()):
        header = [f" {h} " for h in header]  # spaced names are valid
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = ",".join(header) + newline + "".join(",".join(r) + newline for r in rows)
    if draw(st.booleans()):
        text = "\ufeff" + text
    params = {k: draw(v) for k, v in {**REGRESSION, **BINARY}[loss].items() if draw(st.booleans())}
    return {
        "text": text,
        "loss": loss,
        "weighted": weighted,
        "params": params,
        "reduction": draw(st.sampled_from(["mean", "sum", "mean"])),
        "fmt": draw(st.sampled_from(["json", "value", "csv", "tsv"])),
        "grad_out": draw(st.booleans()),
        "dropna": draw(st.booleans()),
    }


# --------------------------------------------------------------------------- the reference


def _cell(text: str) -> float | None:
    """A cell as the contract reads it: a finite float, else None (missing or bad)."""
    try:
        value = float(text.strip().strip('"'))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _row_loss(loss: str, y: float, p: float, params: dict[str, Any]) -> float:
    """ℓ(y, ŷ) from the textbook formula, in float64 (exact sum follows)."""
    with np.errstate(all="ignore"):
        e = np.float64(p) - np.float64(y)
        if loss == "mse":
            return float(e * e)
        if loss == "mae":
            return float(abs(e))
        if loss == "huber":
            d = params.get("delta", 1.0)
            return float(0.5 * e * e if abs(e) < d else d * (abs(e) - 0.5 * d))
        if loss == "log_cosh":  # log cosh e = |e| + log(1 + e^{−2|e|}) − log 2
            a = abs(e)
            return float(a + np.log1p(np.exp(-2 * a)) - np.log(2.0))
        if loss == "quantile":
            q = params.get("quantile", 0.5)
            return float(max(q * (y - p), (q - 1) * (y - p)))
        eps = params.get("eps", EPS)
        pc = min(max(p, eps), 1 - eps)
        yy = (y + 1) / 2 if y == -1 else y
        return float(-(yy * np.log(pc) + (1 - yy) * np.log1p(-pc)))


def reference(case: dict[str, Any]) -> tuple[float | None, list[float]] | None:
    """(reduced loss or None if it overflows float64, per-row losses), or None if the
    input is invalid for the contract (so the run must fail)."""
    text = case["text"].lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    losses, weights = [], []
    # a column of true/false words, alone or mixed with 0 and 1, is binary labels;
    # mixed with other numbers it is text
    words = {r[0].strip().lower() for r in rows} - {""}
    boolean = bool(words & {"true", "false"}) and words <= {"true", "false", "0", "1"}
    for row in rows:
        word = row[0].strip().lower()
        bits = {"true": 1.0, "false": 0.0, "0": 0.0, "1": 1.0}
        y = bits.get(word) if boolean else _cell(row[0])
        p, w = _cell(row[1]), (_cell(row[2]) if case["weighted"] else 1.0)
        bad = y is None or p is None or w is None or w < 0
        if not bad and case["loss"] in BINARY:
            bad = not (0 <= p <= 1) or y not in (0.0, 1.0, -1.0)
        if bad:
            if case["dropna"] and (w is None or y is None or p is None):
                continue  # --dropna skips missing and non-numeric cells only
            return None
        assert y is not None and p is not None and w is not None
        ell = _row_loss(case["loss"], y, p, case["params"])
        if not math.isfinite(ell):
            return None  # a row's loss overflows: an error naming the row
        losses.append(ell)
        weights.append(w)
    if not losses:
        return None
    total = sum(Fraction(w) * Fraction(ell) for w, ell in zip(weights, losses, strict=True))
    if case["reduction"] == "mean":
        den = sum(Fraction(w) for w in weights)
        if den == 0:
            return None
        total /= den
    try:
        return float(total), losses
    except OverflowError:
        return None, losses


def _params_valid(case: dict[str, Any]) -> bool:
    p = case["params"]
    ok = all(not (isinstance(v, float) and math.isnan(v)) for v in p.values())
    ok &= p.get("delta", 1.0) > 0 and 0 < p.get("quantile", 0.5) < 1
    eps = p.get("eps", EPS)
    return ok and 0 < eps < 0.5 and 1 - eps < 1


# --------------------------------------------------------------------------- the contract


def check_failure(result: Any) -> None:
    """No traceback; exit 1 or 2; one to three lines, the first starting 'Error:'."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 3, result.stderr
    assert lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr


def _values(stdout: str, fmt: str) -> float:
    if fmt == "json":
        return float(json.loads(stdout)["results"][0]["value"])
    if fmt == "value":
        return float(stdout)
    sep = "," if fmt == "csv" else "\t"
    return float(stdout.splitlines()[1].split(sep)[2])


def close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b)) or abs(a - b) < 1e-300


@NO_WARNINGS
@FUZZ
@given(case=compute_case())
def test_compute_contract(tmp_path_factory, case):
    folder = tmp_path_factory.mktemp("compute")
    data = folder / "in.csv"
    data.write_bytes(case["text"].encode())
    out = folder / "g.csv"
    out.write_text(SENTINEL)
    args = ["compute", "-l", case["loss"], "--reduction", case["reduction"], "-f", case["fmt"]]
    for name, value in case["params"].items():
        args += [f"--{name}", repr(value)]
    if case["weighted"]:
        args += ["--weight", "w"]
    if case["dropna"]:
        args.append("--dropna")
    if case["grad_out"]:
        args += ["--grad-out", str(out)]
    result = CliRunner().invoke(cli, [*args, str(data)])
    event(f"compute exit {result.exit_code}")
    expected = reference(case) if _params_valid(case) else None
    if result.exit_code != 0:
        check_failure(result)
        assert out.read_text() == SENTINEL  # a failed run leaves the file untouched
        if expected is not None and expected[0] is not None and not case["dropna"]:
            # a valid input whose result fits float64 may only fail on a per-row overflow
            # of the gradient (sum of huge weights) — never silently
            assert result.exit_code in (1, 2)
        return
    assert result.exception is None
    assert expected is not None, f"exit 0 on input the contract refuses: {result.output}"
    value, rows = expected
    assert value is not None, "exit 0 although the exact result overflows float64"
    got = _values(result.stdout, case["fmt"])
    assert close(got, value), (got, value)
    if case["grad_out"]:
        lines = out.read_text().splitlines()
        assert lines[0] == f"row,{case['loss'].replace('quantile', 'quantile')},{case['loss']}_grad"
        assert len(lines) == 1 + len(rows)
        for line, ell in zip(lines[1:], rows, strict=True):
            if not case["weighted"]:
                assert close(float(line.split(",")[1]), ell)


# --------------------------------------------------------------------------- classification

CLASSIFICATION = {
    "cross_entropy": {"eps": st.sampled_from([EPS, 1e-7])},
    "focal": {
        "alpha": st.sampled_from([0.25, 0.5, 1.0, 0.0]),
        "gamma": st.sampled_from([0.0, 0.5, 2.0, 3.0]),
        "eps": st.sampled_from([EPS, 1e-7]),
    },
}


def _rarely(common: st.SearchStrategy[str], rare: list[str], one_in: int = 25) -> Any:
    """Mostly ``common``; one draw in ``one_in`` a value from ``rare`` (a bad cell)."""
    return st.integers(1, one_in).flatmap(lambda i: st.sampled_from(rare) if i == 1 else common)


logit_cell = _rarely(
    st.one_of(
        ordinary.map(repr),
        ordinary.map(repr),
        st.sampled_from(["1e4", "-1e4", "745.2", "-745.2", "1e300", "-1e300", "5e-324"]),
    ),
    ["", "x", "inf", "nan"],
)


class_weight = _rarely(st.floats(0, 10).map(repr), ["0", "1e308", "-1", "", "inf"], 8)


@st.composite
def class_case(draw: Any) -> dict[str, Any]:
    """cross_entropy and focal: K = 1 (binary, one column) or 2..4 classes with class-index
    targets; probabilities (p_<class>, rows that sum to 1 or do not) or logits
    (logit_<class> columns, or p_<class> with --logits)."""
    loss = draw(st.sampled_from(list(CLASSIFICATION)))
    k = draw(st.sampled_from([1, 2, 3, 4]))
    space = draw(st.sampled_from(["probability", "logit"]))
    n = draw(st.integers(1, 10))
    weighted = draw(st.booleans())
    names = ["a", "b", "c", "d"][:k]
    labels = ["0", "1"] if k == 1 else [str(c) for c in range(k)]
    y_cell = _rarely(st.sampled_from(labels), ["", "-1", str(max(k, 2)), "1.5"])
    flag = space == "logit" and draw(st.booleans())  # --logits, or columns named logit_…
    if k == 1:
        pred_names = ["y_pred"]
        flag = space == "logit"
    else:
        prefix = "logit_" if space == "logit" and not flag else "p_"
        pred_names = [prefix + c for c in names]

    def prediction_row() -> list[str]:
        if space == "logit":
            return [draw(logit_cell) for _ in range(k)]
        if k == 1:
            return [draw(_rarely(st.floats(0, 1).map(repr), ["1.5", "-0.1", "", "x"]))]
        if draw(st.integers(0, 25)) == 0:  # a bad row: a blank, text, or not summing to 1
            return [draw(st.sampled_from(["", "x", "-0.1", "1.5", "0.9"])) for _ in range(k)]
        counts = draw(st.lists(st.integers(0, 9), min_size=k, max_size=k).filter(any))
        return [repr(c / sum(counts)) for c in counts]

    rows = [
        [
            draw(y_cell),
            *prediction_row(),
            *([draw(class_weight)] if weighted else []),
        ]
        for _ in range(n)
    ]
    header = ["y_true", *pred_names, *(["w"] if weighted else [])]
    text = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    spec = CLASSIFICATION[loss]
    params = {name: draw(v) for name, v in spec.items() if draw(st.booleans())}
    return {
        "text": text,
        "loss": loss,
        "k": k,
        "space": space,
        "logits_flag": flag,
        "weighted": weighted,
        "params": params,
        "reduction": draw(st.sampled_from(["mean", "sum"])),
        "fmt": draw(st.sampled_from(["json", "value", "csv", "tsv"])),
        "grad_out": draw(st.booleans()),
        "dropna": draw(st.booleans()),
    }


def _log_softmax_true(z: list[float], t: int) -> float:
    """log softmax(z)[t] = (z_t − m) − log1p(Σ_{c ≠ top} e^{z꜀ − m}), m the largest logit:
    the sum exact (fsum) and its log taken as log1p, so −log p keeps its digits at p ≈ 1."""
    top = max(range(len(z)), key=z.__getitem__)
    rest = math.fsum(math.exp(v - z[top]) for c, v in enumerate(z) if c != top)
    return (z[t] - z[top]) - math.log1p(rest)


def _class_row_loss(case: dict[str, Any], t: int, z: list[float]) -> float:
    """The textbook ℓ for true class t, from scratch (no losscli kernel).

    Probabilities are clipped to [eps, 1 − eps] elementwise (sklearn log_loss);
    one column is the binary case p = P(y = 1) (focal: torchvision's α_t·(1 − p_t)^γ·ce,
    α_t = α for y = 1, 1 − α for y = 0); K columns are the softmax form
    −α·(1 − p_t)^γ·log p_t with one α for every class.
    """
    p = case["params"]
    eps, alpha, gamma = p.get("eps", EPS), p.get("alpha", 0.25), p.get("gamma", 2.0)
    focal = case["loss"] == "focal"
    if case["k"] == 1:
        x = z[0]
        if case["space"] == "logit":  # ce = softplus(∓x), 1 − p_t = σ(±x), both stable
            s = x if t == 0 else -x  # log(1 + e^s)
            ce = max(s, 0.0) + math.log1p(math.exp(-abs(s)))
            m = 1.0 / (1.0 + math.exp(-s)) if s >= 0 else math.exp(s) / (1.0 + math.exp(s))
        else:
            q = min(max(x, eps), 1 - eps)
            ce = -math.log(q) if t == 1 else -math.log(min(max(1 - x, eps), 1 - eps))
            m = 1 - q if t == 1 else q
        if not focal:
            return ce
        a_t = alpha if t == 1 else 1 - alpha
        return a_t * m**gamma * ce
    if case["space"] == "logit":
        logp = _log_softmax_true(z, t)
        m = -math.expm1(logp)
    else:
        q = min(max(z[t], eps), 1 - eps)
        logp, m = math.log(q), 1 - q
    if not focal:
        return -logp
    return -alpha * m**gamma * logp


def class_reference(case: dict[str, Any]) -> tuple[float | None, list[float]] | None:
    """Like :func:`reference`, for :func:`class_case`: class indices 0…K−1 (±1 for one
    column), probabilities in [0, 1] whose rows sum to 1 (±1e-4), finite logits."""
    k = case["k"]
    rows = list(csv.reader(io.StringIO(case["text"])))[1:]
    width = max(k, 1)
    parsed = []
    for row in rows:
        y = _cell(row[0])
        z = [_cell(c) for c in row[1 : 1 + width]]
        w = _cell(row[1 + width]) if case["weighted"] else 1.0
        parsed.append((row[0].strip(), y, z, w))
    ys = [y for _, y, _, _ in parsed if y is not None]
    if any(text not in ("",) and y is None for text, y, _, _ in parsed):
        return None
    plus_minus = k == 1 and bool(ys) and all(y in (-1.0, 1.0) for y in ys)
    losses, weights = [], []
    for _, y, z, w in parsed:
        missing = y is None or any(v is None for v in z) or w is None
        if missing:
            if case["dropna"]:
                continue
            return None
        assert y is not None and w is not None
        zz = [float(v) for v in z if v is not None]
        if w < 0:
            return None
        if plus_minus:
            y = (y + 1) / 2
        if y != int(y) or not 0 <= y < max(k, 2):
            return None
        if case["space"] == "probability":
            if any(not 0 <= v <= 1 for v in zz):
                return None
            if k > 1 and abs(math.fsum(zz) - 1) > 1e-4:
                return None
        ell = _class_row_loss(case, int(y), zz)
        if not math.isfinite(ell):
            return None
        losses.append(ell)
        weights.append(w)
    if not losses:
        return None
    total = sum(Fraction(w) * Fraction(ell) for w, ell in zip(weights, losses, strict=True))
    if case["reduction"] == "mean":
        den = sum(Fraction(w) for w in weights)
        if den == 0:
            return None
        total /= den
    try:
        return float(total), losses
    except OverflowError:
        return None, losses


@NO_WARNINGS
@settings(FUZZ, max_examples=150 * max(1, EXPLORE))
@given(case=class_case())
def test_classification_contract(tmp_path_factory, case):
    """cross_entropy and focal against a reference built here from log-sum-exp and the
    clipped probabilities, never from losscli's kernels."""
    folder = tmp_path_factory.mktemp("classes")
    data = folder / "in.csv"
    data.write_text(case["text"])
    out = folder / "g.csv"
    out.write_text(SENTINEL)
    args = ["compute", "-l", case["loss"], "--reduction", case["reduction"], "-f", case["fmt"]]
    for name, value in case["params"].items():
        args += [f"--{name}", repr(value)]
    if case["logits_flag"]:
        args.append("--logits")
    if case["weighted"]:
        args += ["--weight", "w"]
    if case["dropna"]:
        args.append("--dropna")
    if case["grad_out"]:
        args += ["--grad-out", str(out)]
    result = CliRunner().invoke(cli, [*args, str(data)])
    event(f"{case['loss']} k={case['k']} {case['space']} exit {result.exit_code}")
    expected = class_reference(case)
    if result.exit_code != 0:
        check_failure(result)
        assert out.read_text() == SENTINEL
        return
    assert result.exception is None
    assert expected is not None, f"exit 0 on input the contract refuses: {result.output}"
    value, rows = expected
    assert value is not None, "exit 0 although the exact result overflows float64"
    got = _values(result.stdout, case["fmt"])
    assert close(got, value), (got, value)
    if case["grad_out"]:
        lines = out.read_text().splitlines()
        assert lines[0].startswith(f"row,{case['loss']},")
        assert len(lines) == 1 + len(rows)
        if not case["weighted"]:
            for line, ell in zip(lines[1:], rows, strict=True):
                assert close(float(line.split(",")[1]), ell), (line, ell)


# --------------------------------------------------------------------------- train


@st.composite
def train_case(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(3, 30))
    binary = draw(st.booleans())
    kinds = draw(st.sampled_from(["plain", "plain", "extreme", "holes"]))
    rows = []
    for _ in range(n):

        def cell() -> str:
            if kinds == "extreme" and draw(st.integers(0, 3)) == 0:
                return repr(draw(extreme))
            if kinds == "holes" and draw(st.integers(0, 5)) == 0:
                return ""
            return repr(draw(ordinary))

        y = draw(st.sampled_from(["0", "1"])) if binary else cell()
        rows.append([cell(), cell(), y])
    text = "a,b,y\n" + "".join(",".join(r) + "\n" for r in rows)
    losses = ["bce", "hinge"] if binary else ["mse", "mae", "huber"]
    options: list[str] = ["-l", draw(st.sampled_from(losses))]
    options += ["--optimizer", draw(st.sampled_from(["gd", "sgd", "adam"]))]
    options += ["--epochs", str(draw(st.integers(1, 40)))]
    good = {
        "--lr": ["0.01", "0.1", "1e-4"],
        "--l2": ["0.1", "0", "1e-3"],
        "--tol": ["1e-6", "0"],
        "--seed": ["3", "0"],
        "--val-split": ["0.3"],
    }
    bad = {
        "--lr": ["1000", "-1", "nan", "1e-300"],
        "--l2": ["-1", "inf"],
        "--tol": ["1e308", "inf", "nan"],
        "--seed": ["-1"],
        "--val-split": ["1.5", "0"],
    }
    wrong = draw(st.sampled_from([None, None, None, *bad]))  # mostly valid options
    for flag in good:
        if flag == wrong:
            options += [flag, draw(st.sampled_from(bad[flag]))]
        elif draw(st.booleans()):
            options += [flag, draw(st.sampled_from(good[flag]))]
    if draw(st.booleans()):
        options.append("--dropna")
    if draw(st.booleans()):
        options.append("--no-standardize")
    return {"text": text, "options": options, "binary": binary}


# No RuntimeWarning even in process (the command line mutes them, a library caller
# would see them): an overflow the fit expects and checks is guarded where it happens.
@NO_WARNINGS
@settings(FUZZ, max_examples=60 * max(1, EXPLORE))
@given(case=train_case())
def test_train_contract(tmp_path_factory, case):
    folder = tmp_path_factory.mktemp("train")
    data = folder / "in.csv"
    data.write_text(case["text"])
    model, history = folder / "m.json", folder / "h.csv"
    model.write_text(SENTINEL)
    history.write_text(SENTINEL)
    files = ["--save", str(model), "--history", str(history)]
    result = CliRunner().invoke(cli, ["train", "-f", "json", *case["options"], *files, str(data)])
    event(f"train exit {result.exit_code}")
    if result.exit_code != 0:
        check_failure(result)
        assert model.read_text() == SENTINEL and history.read_text() == SENTINEL
        return
    assert result.exception is None
    report = json.loads(result.stdout)  # strict JSON: no NaN or Infinity
    saved = json.loads(model.read_text())
    assert saved["coef"] == report["coef"]
    coef = np.array(report["coef"], dtype=float)
    assert np.isfinite(coef).all() and math.isfinite(report["intercept"])
    # reference: the reported train MSE is that of the reported coefficients (linear)
    if not case["binary"] and "--val-split" not in case["options"]:
        frame = [r for r in csv.reader(io.StringIO(case["text"]))][1:]
        x = np.array(
            [
                [_cell(r[0]) or 0.0, _cell(r[1]) or 0.0]
                for r in frame
                if all(_cell(c) is not None for c in r)
            ]
        )
        y = np.array([_cell(r[2]) for r in frame if all(_cell(c) is not None for c in r)])
        with np.errstate(all="ignore"):
            residual = x @ coef + report["intercept"] - y
            mse = float(np.mean(residual * residual))
        reported = report["metrics"]["train"]["mse"]
        if reported is None:
            assert not math.isfinite(mse)
        else:
            assert close(reported, mse) or abs(reported - mse) <= 1e-9 * max(1.0, abs(mse))


# --------------------------------------------------------------------------- predict


@pytest.fixture(scope="module")
def linear_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    data = folder / "train.csv"
    data.write_text("a,b,y\n1,2,3\n2,1,4\n3,5,9\n4,2,7\n5,5,11\n")
    model = folder / "m.json"
    assert CliRunner().invoke(cli, ["train", "-q", "--save", str(model), str(data)]).exit_code == 0
    return model


@st.composite
def predict_case(draw: Any) -> str:
    cell = st.one_of(ordinary.map(repr), extreme.map(repr), st.sampled_from(["", "x", '"1"']))
    header = draw(st.sampled_from(["a,b", "b,a", "a,b,y", "a,a", "a"]))
    width = len(header.split(","))
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=8))
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


@NO_WARNINGS
@settings(FUZZ, max_examples=60 * max(1, EXPLORE))
@given(text=predict_case())
def test_predict_contract(tmp_path_factory, linear_model, text):
    folder = tmp_path_factory.mktemp("predict")
    data = folder / "in.csv"
    data.write_text(text)
    result = CliRunner().invoke(cli, ["predict", "-m", str(linear_model), str(data)])
    event(f"predict exit {result.exit_code}")
    if result.exit_code != 0:
        check_failure(result)
        return
    assert result.exception is None
    model = json.loads(linear_model.read_text())
    coef, intercept = np.array(model["coef"]), model["intercept"]
    rows = list(csv.DictReader(io.StringIO(text)))
    out = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(out) == len(rows)
    assert len(set(text.splitlines()[0].split(","))) == len(text.splitlines()[0].split(","))
    for row, got in zip(rows, out, strict=True):
        x = np.array([_cell(row["a"]), _cell(row["b"])], dtype=float)
        assert np.isfinite(x).all()
        expected = float(x @ coef + intercept)
        assert math.isfinite(expected)
        assert close(float(got["y_pred"]), expected)


# --------------------------------------------------------------------------- subprocess


@pytest.mark.skipif(os.geteuid() != 0, reason="a private device node needs root")
@settings(FUZZ, max_examples=4)
@given(case=compute_case())
def test_compute_contract_in_a_process_with_a_device_target(tmp_path_factory, case):
    """The installed entry point: no traceback, no warning, and the device node stays."""
    folder = tmp_path_factory.mktemp("proc")
    data = folder / "in.csv"
    data.write_bytes(case["text"].encode())
    node = folder / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    args = ["compute", "-l", case["loss"], "-f", case["fmt"], "--grad-out", str(node)]
    if case["weighted"]:
        args += ["--weight", "w"]
    proc = subprocess.run(
        [sys.executable, "-m", "losscli", *args, str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode in (0, 1, 2)
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr
    if proc.returncode:
        assert 1 <= len(proc.stderr.splitlines()) <= 3
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert sorted(p.name for p in folder.iterdir()) == ["in.csv", "null"]
