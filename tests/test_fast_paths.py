"""Fast paths in the kernels give the general path's numbers, bit for bit.

``CrossEntropy`` on probabilities with class-index targets gathers p[i, yᵢ]
instead of forming (n, K) one-hot products; ``_probabilities`` skips the
clip when nothing needs clipping; row sums are checked by a product with
ones.  Each is compared here with the general formula it replaces.
"""

from __future__ import annotations

import numpy as np
import pytest

from losscli.errors import InputError
from losscli.losses import CrossEntropy, base, multiclass
from losscli.losses.multiclass import _LogProb


def _general(loss: CrossEntropy, y_true, y_pred, strict=True):
    return _LogProb._pointwise(loss, y_true, y_pred, logits=False, strict=strict)


def _bits(a):
    return None if a is None else (a.shape, a.tobytes())


def _probabilities(rng, n, k, *, zeros=False, rounded=False):
    z = rng.normal(size=(n, k)) * 3
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if zeros:
        p[rng.integers(0, n, 10), rng.integers(0, k, 10)] = 0.0
        p[0] = 0.0
        p[0, 1] = 1.0
    return np.round(p, 4) if rounded else p


@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize(
    "params", [{}, {"class_weights": "random"}, {"class_weights": "zero-first"}]
)
@pytest.mark.parametrize("variant", ["plain", "clipped", "rounded"])
def test_cross_entropy_index_path_is_bit_identical(k, params, variant):
    rng = np.random.default_rng(k)
    if params.get("class_weights") == "random":
        params = {"class_weights": tuple(rng.uniform(0, 2, k))}
    elif params:
        params = {"class_weights": (0.0,) + (1.0,) * (k - 1)}
    loss = CrossEntropy(**params)
    p = _probabilities(rng, 500, k, zeros=variant == "clipped", rounded=variant == "rounded")
    y = rng.integers(0, k, 500).astype(float)
    for strict in (True, False):
        try:
            fast = loss._pointwise(y, p, logits=False, strict=strict)
        except InputError as exc:
            with pytest.raises(InputError, match=str(exc).split("(")[0][:30]):
                _general(loss, y, p, strict)
            continue
        slow = _general(loss, y, p, strict)
        assert _bits(fast.loss) == _bits(slow.loss)
        assert _bits(fast.grad) == _bits(slow.grad)
        assert _bits(fast.norm) == _bits(slow.norm)
        assert fast.clipped == slow.clipped


def test_cross_entropy_index_path_reports_the_same_errors():
    loss = CrossEntropy()
    p = np.array([[0.2, 0.8], [0.5, 0.5]])
    for y, q in (
        (np.array([0.0, 2.0]), p),  # not a class index
        (np.array([0.0, 1.0]), p * 1.1),  # rows do not sum to 1
        (np.array([0.0, 1.0]), p - 0.3),  # outside [0, 1]
    ):
        with pytest.raises(InputError) as fast:
            loss._pointwise(y, q)
        with pytest.raises(InputError) as slow:
            _general(loss, y, q)
        assert str(fast.value) == str(slow.value)
    with pytest.raises(InputError, match="class-weights has 3 values"):
        CrossEntropy(class_weights=(1.0, 1.0, 1.0))._pointwise(np.array([0.0, 1.0]), p)


def test_probabilities_skip_the_clip_only_when_nothing_clips():
    eps = base.MACHINE_EPS
    inside = np.array([eps, 0.5, 1.0 - eps])
    same, count = base._probabilities(inside, eps)
    assert (same is inside, count) == (True, 0)
    edge = np.array([0.0, 0.5, 1.0])
    clipped, count = base._probabilities(edge, eps)
    assert count == 2
    assert clipped.tolist() == [eps, 0.5, 1.0 - eps]


def test_row_sum_check_agrees_with_the_exact_one_at_the_limit():
    tol = base.ROW_SUM_TOL
    ok = np.array([[0.5, 0.5], [0.25, 0.75 + tol / 2]])
    assert multiclass._rows_sum_to_one(ok)
    edge = np.array([[0.5, 0.5 + tol]])  # at the limit: the exact check decides
    assert not multiclass._rows_sum_to_one(edge)
    multiclass._class_probabilities(edge, base.MACHINE_EPS, strict=True)  # within ± tol: accepted
    with pytest.raises(InputError, match="do not sum to 1"):
        multiclass._class_probabilities(edge * 1.01, base.MACHINE_EPS, strict=True)
