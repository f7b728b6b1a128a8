"""Kinds as types: the Task of every loss, Link objects, model kinds."""

from __future__ import annotations

import numpy as np
import pytest

from losscli._types import ModelKind, Task
from losscli.errors import InputError
from losscli.losses import LOSSES, make_loss
from losscli.losses.links import IDENTITY, LINKS, LOG, LOGIT, SOFTMAX
from losscli.train import choose_model


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_declares_a_task(name):
    task = LOSSES[name].task
    assert isinstance(task, Task)
    assert not (task.regression and task.classification)
    assert task.trainable == (task.regression or task.classification)
    assert not (task.multiclass and task.regression)


@pytest.mark.parametrize("name", list(LOSSES))
def test_the_task_routes_every_loss_to_a_model(name):
    loss = make_loss(name)
    if not loss.task.trainable:
        with pytest.raises(Exception, match="train has no model for"):
            choose_model(loss, "auto", None)
        return
    if loss.task.regression:
        kind, link = choose_model(loss, "auto", None)
        assert kind is ModelKind.LINEAR
        assert link is (LOG if loss.task.log_link else IDENTITY)
        return
    assert choose_model(loss, "auto", 2) == (ModelKind.LOGISTIC, LOGIT)
    if loss.task.multiclass:
        assert choose_model(loss, "auto", 3) == (ModelKind.SOFTMAX, SOFTMAX)
    else:
        with pytest.raises(InputError, match="binary loss but the target has 3 classes"):
            choose_model(loss, "auto", 3)


def test_task_values_are_the_catalogue_words():
    assert [t.value for t in Task] == [
        "regression", "positive regression", "counts", "regression with variance", "binary",
        "multi-class", "binary or multi-class", "distributions", "vectors",
    ]  # fmt: skip
    assert f"{Task.COUNTS}" == "counts" and str(ModelKind.SOFTMAX) == "softmax"


@pytest.mark.parametrize(
    ("link", "prediction"),
    [
        (IDENTITY, np.array([-3.0, 0.0, 2.5])),
        (LOG, np.array([1e-300, 0.5, 40.0])),
        (LOGIT, np.array([1e-12, 0.3, 1 - 1e-12])),
        (SOFTMAX, np.array([[0.2, 0.3, 0.5], [1e-9, 0.5, 0.5 - 1e-9]])),
    ],
    ids=str,
)
def test_inverse_undoes_link(link, prediction):
    np.testing.assert_allclose(link.inverse(link.link(prediction)), prediction, rtol=1e-9)


# The best constant: at the intercept-only score, the mean loss's gradient with
# respect to the (shared) score vanishes.  Each link with the loss it serves.
CASES = [
    (IDENTITY, "mse", np.array([1.0, 4.0, 10.0, -2.0]), 1),
    (LOG, "poisson", np.array([0.0, 3.0, 1.0, 7.0]), 1),
    (LOGIT, "bce", np.array([0.0, 1.0, 1.0, 1.0, 0.0]), 1),
    (SOFTMAX, "cross_entropy", np.array([0.0, 2.0, 2.0, 1.0, 2.0, 0.0]), 3),
]


@pytest.mark.parametrize(("link", "loss", "y", "outputs"), CASES, ids=lambda c: str(c)[:12])
def test_intercept_only_is_the_best_constant(link, loss, y, outputs):
    b = link.intercept_only(y, outputs)
    assert b.shape == (outputs,)
    scores = np.tile(b, (len(y), 1)) if outputs > 1 else np.full(len(y), b[0])
    result = make_loss(loss).evaluate(y, scores, logits=link is not IDENTITY)
    total = result.gradient.sum(axis=0)  # d/db of the mean loss
    np.testing.assert_allclose(total, 0.0, atol=1e-12)


def test_model_kinds_name_their_links():
    assert ModelKind.LINEAR.links == (IDENTITY, LOG)
    assert ModelKind.LOGISTIC.links == (LOGIT,)
    assert ModelKind.SOFTMAX.links == (SOFTMAX,)
    assert set(LINKS.values()) == {link for kind in ModelKind for link in kind.links}
