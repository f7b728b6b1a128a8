"""The one column resolver and the one label normaliser (losscli.io.columns, .labels)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from losscli.errors import InputError
from losscli.io.columns import (
    TARGET_NAMES,
    ColumnRequest,
    feature_positions,
    resolve_columns,
    resolve_train,
)
from losscli.io.labels import MAX_CLASSES, encode_classes, known_classes


def cols(header, true=None, pred=None, weight=None):
    return resolve_columns(header, ColumnRequest(true, pred, weight))


def test_exact_name_wins_over_a_glob_reading():
    c = cols(["truth[1]", "score[1]", "truth1", "score1"], "truth[1]", "score[1]")
    assert (c.true, c.pred, c.true_at, c.pred_at) == (("truth[1]",), ("score[1]",), (0,), (1,))
    c = cols(["truth[1]", "score[1]", "truth1", "score1"], "truth[1]", "score[12]")
    assert c.pred == ("score1",)  # no column of that name: the glob


def test_globs_keep_file_order_and_distinct_names():
    c = cols(["y", "p_b", "p_a", "p_c"], pred="p_*,p_a")
    assert c.pred == ("p_b", "p_a", "p_c") and c.classes == ("b", "a", "c")


@pytest.mark.parametrize(
    ("header", "true", "pred"),
    [
        (["score", "label"], "label", "score"),
        (["prediction", "actual"], "actual", "prediction"),
        (["yhat", "y"], "y", "yhat"),
        (["label", "whatever"], "label", "whatever"),
        (["whatever", "prob"], "whatever", "prob"),
        (["a", "b"], "a", "b"),
        (["truth", "proba", "w"], "truth", "proba"),
    ],
)
def test_default_names_and_the_two_column_rule(header, true, pred):
    c = cols(header)
    assert (c.true, c.pred) == ((true,), (pred,))


def test_logit_columns_read_as_logits():
    c = cols(["y_true", "logit_a", "logit_b"])
    assert c.pred == ("logit_a", "logit_b") and c.classes == ("a", "b") and c.logits
    assert cols(["y", "y_score"]).logits
    assert not cols(["y", "p_a", "p_b"]).logits


@pytest.mark.parametrize(
    ("header", "request_", "message"),
    [
        (["", "Unnamed: 0", "y_true"], ("y_true", ""), "column 1 has no name"),
        (["a", "a", "y_true"], ("y_true", "a"), "the header names column 'a' 2 times"),
        (["a", "b", "c"], (None, None), "no prediction column found"),
        (["y", "p"], ("y", "y"), "column 'y' is used for two roles"),
        (["y", "p"], ("y", " , "), "--pred is empty"),
        (["y", "p"], ("y", "q*"), "--pred 'q*' matches no column"),
    ],
)
def test_resolver_errors(header, request_, message):
    true, pred = request_
    if pred == "":
        pred = "*"  # a glob that reaches the blank name
    with pytest.raises(InputError) as err:
        cols(header, true, pred)
    assert message in str(err.value)


def test_generated_names_never_shadow_real_ones():
    """pandas would rename the blank to 'Unnamed: 0'; here that name is the real column."""
    c = cols(["", "Unnamed: 0", "y_true"], pred="Unnamed: 0")
    assert (c.pred, c.pred_at, c.true_at) == (("Unnamed: 0",), (1,), (2,))


def test_train_defaults_are_the_same_target_names():
    for name in TARGET_NAMES:
        t = resolve_train(["a", name, "b"], None, None, None)
        assert (t.target, t.features, t.note) == (name, ("a", "b"), None)
    t = resolve_train(["a", "b", "c"], None, None, None)
    assert t.target == "c" and t.note is not None and "last column 'c'" in t.note
    with pytest.raises(InputError, match="the header names column 'x' 2 times"):
        resolve_train(["x", "x", "y"], None, None, None)
    with pytest.raises(InputError, match="the header names column 'x' 2 times"):
        feature_positions(["x", "x", "y"], ["x"])


def test_wide_headers_resolve_in_linear_time():
    header = [f"c{i}" for i in range(1_000_000)] + ["y_true", "y_pred"]
    started = time.perf_counter()
    c = cols(header)
    assert c.true_at == (1_000_000,)
    wide = [f"c{i}" for i in range(40_000)] + ["y"]
    c = cols(wide, "y", "c*")
    assert len(c.pred) == 40_000
    resolve_train(header, "y_true", None, None)
    # seconds, not the minutes of a quadratic resolver (generous for a loaded machine)
    assert time.perf_counter() - started < 30


# --------------------------------------------------------------------------- labels


def test_labels_sort_as_sklearn():
    labels = encode_classes([np.array([3.0, -1.0, 3.0, 10.0])], "y")
    assert labels.classes == ("-1", "3", "10") and list(labels.y) == [1, 0, 1, 2]
    text = encode_classes([np.array(["b", "a", "c", "a"], dtype=object)], "y")
    assert text.classes == ("a", "b", "c") and list(text.y) == [1, 0, 2, 0]
    words = encode_classes([np.array(["True", "false", "TRUE"], dtype=object)], "y")
    assert words.classes == ("false", "true") and list(words.y) == [1, 0, 1]
    mixed = encode_classes([np.array([1.0, 2.0]), np.array(["cat"], dtype=object)], "y")
    assert mixed.classes == ("1", "2", "cat")


def test_too_many_classes_are_refused_before_fitting():
    with pytest.raises(InputError) as err:
        encode_classes([np.arange(MAX_CLASSES + 1, dtype=np.float64)], "price")
    assert f"{MAX_CLASSES + 1:,} distinct values" in str(err.value)
    assert "regression loss" in str(err.value)


def test_predict_passes_binary_labels_as_indices():
    import pandas as pd

    out = known_classes(pd.Series(["no", "yes", "maybe"]), ("no", "yes"), binary=True)
    assert list(out) == ["0", "1", "maybe"]
    out = known_classes(pd.Series(["TRUE", "false"]), ("false", "true"), binary=True)
    assert list(out) == ["1", "0"]
    out = known_classes(np.array([2.0, 1.0]), ("1", "2", "3"), binary=False)
    assert list(out) == ["2", "1"]


def test_class_columns_win_over_the_newer_default_names():
    c = cols(["y", "score", "p_a", "p_b"])
    assert c.pred == ("p_a", "p_b")
    assert cols(["y", "score", "w"]).pred == ("score",)
