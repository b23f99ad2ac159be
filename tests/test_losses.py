"""Cross-entropy and the activations: hand-computed values, closed forms, stability."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from src.losses import cross_entropy_loss, log_softmax, sigmoid, softmax

logit_arrays = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
    elements=st.floats(-1e4, 1e4),
)


def logit(p):
    return np.log(p / (1 - p))


def test_binary_loss_hand_computed():
    # sigmoid(logit(p)) = p: the loss of outputs 0.8 (target 1) and 0.4 (target 0).
    targets = np.array([[1.0], [0.0]])
    expected = -(math.log(0.8) + math.log(0.6)) / 2
    assert cross_entropy_loss(targets, logit(np.array([[0.8], [0.4]]))) == pytest.approx(expected, rel=1e-14)


def test_multiclass_loss_hand_computed():
    # softmax(log p) = p when p sums to 1.
    targets = np.array([[0, 1, 0], [1, 0, 0]], dtype=float)
    outputs = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    expected = -(math.log(0.7) + math.log(0.5)) / 2
    assert cross_entropy_loss(targets, np.log(outputs)) == pytest.approx(expected, rel=1e-14)


def test_zero_logits_give_ln2_and_ln10():
    y_binary = np.array([[1.0], [0.0], [1.0]])
    assert cross_entropy_loss(y_binary, np.zeros((3, 1))) == pytest.approx(math.log(2), rel=1e-15)
    y = np.eye(10)[[3, 1, 4, 1, 5]]
    assert cross_entropy_loss(y, np.zeros((5, 10))) == pytest.approx(math.log(10), rel=1e-15)


def test_loss_is_minus_mean_log_probability_of_the_target():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (50, 10))
    labels = rng.integers(0, 10, 50)
    expected = -np.mean(np.log(softmax(z)[np.arange(50), labels]))
    assert cross_entropy_loss(np.eye(10)[labels], z) == pytest.approx(expected, rel=1e-13)
    zb, yb = z[:, :1], (z[:, 1:2] > 0).astype(float)
    p = sigmoid(zb)
    expected_binary = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
    assert cross_entropy_loss(yb, zb) == pytest.approx(expected_binary, rel=1e-13)


def test_saturated_outputs_stay_finite_and_exact_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # sigmoid(40) rounds to 1.0: the wrong class costs exactly 40 (+ e^-40).
        assert cross_entropy_loss(np.array([[0.0]]), np.array([[40.0]])) == pytest.approx(40, rel=1e-15)
        assert cross_entropy_loss(np.array([[1.0]]), np.array([[40.0]])) == pytest.approx(math.exp(-40), rel=1e-12)
        # one huge logit: softmax is one-hot, the loss of another class is the gap.
        z = np.array([[1e4, 0.0, 0.0]])
        assert np.array_equal(softmax(z), [[1.0, 0.0, 0.0]])
        assert cross_entropy_loss(np.array([[0.0, 1.0, 0.0]]), z) == pytest.approx(1e4, rel=1e-15)


def test_sigmoid_values_and_no_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1e308, -800.0, 0.0, 2.0, 800.0, 1e308]))
    assert s[0] == 0 and s[2] == 0.5 and s[-1] == 1
    assert s[3] == pytest.approx(1 / (1 + math.exp(-2)), rel=1e-15)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"same shape \[N, K\], got \(2, 1\) and \(2, 10\)"):
        cross_entropy_loss(np.zeros((2, 1)), np.zeros((2, 10)))


@settings(max_examples=150, deadline=None)
@given(z=logit_arrays, shift=st.floats(-100, 100))
def test_softmax_rows_sum_to_one_and_ignore_row_shifts(z, shift):
    p = softmax(z)
    assert np.all(p >= 0)
    assert np.allclose(p.sum(axis=1), 1, rtol=0, atol=1e-12)
    assert np.allclose(softmax(z + shift), p, rtol=0, atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(z=logit_arrays, data=st.data())
def test_losses_finite_and_non_negative_for_large_logits(z, data):
    n, k = z.shape
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, max(k - 1, 1))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if k == 1:
            y = (labels % 2).reshape(n, 1).astype(float)
        else:
            y = np.eye(k)[labels % k]
        loss = cross_entropy_loss(y, z)
    assert math.isfinite(loss) and loss >= 0


@settings(max_examples=100, deadline=None)
@given(z=hnp.arrays(np.float64, (3, 4), elements=st.floats(-20, 20)), data=st.data())
def test_log_softmax_gradient_matches_finite_differences(z, data):
    """dC/dz = (softmax(z) - y) / N, the chain-rule core of task 1b."""
    y = np.eye(4)[data.draw(hnp.arrays(np.int64, 3, elements=st.integers(0, 3)))]
    analytic = (softmax(z) - y) / 3
    eps = 1e-6
    numeric = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += eps
        zm[idx] -= eps
        numeric[idx] = (cross_entropy_loss(y, zp) - cross_entropy_loss(y, zm)) / (2 * eps)
    assert np.max(np.abs(numeric - analytic)) <= 1e-8  # |error| on entries of size <= 1/3
    assert np.allclose(log_softmax(z), np.log(softmax(z)), rtol=0, atol=1e-9)
