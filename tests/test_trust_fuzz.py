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
    # a column of true/false words is boolean labels; mixed with numbers, it is text
    words = {r[0].strip().lower() for r in rows} - {""}
    boolean = bool(words) and words <= {"true", "false"}
    for row in rows:
        word = row[0].strip().lower()
        y = {"true": 1.0, "false": 0.0}.get(word) if boolean else _cell(row[0])
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


# Training's own sums may warn in the library (the fit detects what overflowed);
# the command line mutes them: test_compute_contract_in_a_process checks stderr.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
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
