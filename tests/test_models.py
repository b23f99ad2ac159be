"""The models' forward/backward and the gradient checker, in float64.

Tolerance: the checks compare against central differences with eps = 1e-3,
whose error is O(eps^2) times the loss's third derivative; in float64 a
correct gradient agrees to a relative error below 1e-6 (measured: ~1e-9),
while each planted mistake below is off by the size of the gradient itself.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.gradient_check import gradient_check, numerical_gradient
from src.models import BinaryModel, SoftmaxModel

REL_TOL = 1e-6


def problem(model_cls, n=20, features=30, seed=0, weight_scale=1.0, l2=0.0):
    """A small random problem: inputs in [-1, 1] with a bias column, random weights."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, features))
    X[:, -1] = 1
    model = model_cls(l2_reg_lambda=l2, num_features=features)
    model.w = rng.normal(0, weight_scale, model.w.shape)
    if model_cls is BinaryModel:
        Y = rng.integers(0, 2, (n, 1)).astype(float)
    else:
        Y = np.eye(10)[rng.integers(0, 10, n)]
    return model, X, Y


@pytest.mark.parametrize("model_cls", [BinaryModel, SoftmaxModel])
@pytest.mark.parametrize("l2", [0.0, 0.5])
@pytest.mark.parametrize("weight_scale", [0.01, 1.0])
def test_gradient_check_passes(model_cls, l2, weight_scale):
    model, X, Y = problem(model_cls, weight_scale=weight_scale, l2=l2)
    result = gradient_check(model, X, Y, epsilon=1e-3)
    assert result.max_rel_error < REL_TOL, result.max_rel_error
    assert result.max_abs_error < 1e-6


# --- the check is able to fail ------------------------------------------------------


class SignFlip(SoftmaxModel):
    def backward(self, X, outputs, targets):
        self.grad = -super().backward(X, outputs, targets)
        return self.grad


class MissingMean(BinaryModel):
    def backward(self, X, outputs, targets):
        self.grad = super().backward(X, outputs, targets) * len(X)  # sum, not mean
        return self.grad


class SumInsteadOfLambdaW(SoftmaxModel):
    """The classic slip in 4a: lambda * sum(w) added to every entry instead of lambda * w."""

    def backward(self, X, outputs, targets):
        self.grad = -(X.T @ (targets - outputs)) / len(X) + self.l2_reg_lambda * np.sum(self.w)
        return self.grad


@pytest.mark.parametrize("wrong_cls, base", [(SignFlip, SoftmaxModel), (MissingMean, BinaryModel),
                                             (SumInsteadOfLambdaW, SoftmaxModel)])
def test_a_wrong_gradient_fails_the_check(wrong_cls, base):
    model, X, Y = problem(base, l2=0.5)
    wrong = wrong_cls(l2_reg_lambda=0.5, num_features=X.shape[1])
    wrong.w = model.w.copy()
    result = gradient_check(wrong, X, Y)
    assert result.max_rel_error > 0.05
    assert not result.passed(rel_tol=REL_TOL)


# --- forward/backward behaviour -------------------------------------------------------


def test_zero_weights_give_one_half_and_one_tenth():
    X = np.random.default_rng(0).uniform(-1, 1, (4, 785))
    assert np.array_equal(BinaryModel().forward(X), np.full((4, 1), 0.5))
    assert np.allclose(SoftmaxModel().forward(X), 0.1, rtol=0, atol=1e-16)


def test_backward_is_the_derived_formula_entry_by_entry():
    model, X, Y = problem(SoftmaxModel, n=5, features=4, l2=0.3)
    out = model.forward(X)
    grad = model.backward(X, out, Y)
    for j in range(4):
        for k in range(10):  # dJ/dw_jk = mean_n -x_j (y_k - y_hat_k) + lambda w_jk
            expected = np.mean(-X[:, j] * (Y[:, k] - out[:, k])) + 0.3 * model.w[j, k]
            assert grad[j, k] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    model.zero_grad()
    assert np.all(model.grad == 0)


def test_loss_includes_half_lambda_sum_of_squares():
    model, X, Y = problem(BinaryModel, l2=2.0)
    plain = BinaryModel(num_features=X.shape[1])
    plain.w = model.w
    assert model.loss(X, Y) - plain.loss(X, Y) == pytest.approx(0.5 * 2.0 * np.sum(model.w**2), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_models_compute_in_their_dtype(dtype):
    model = SoftmaxModel(dtype=dtype)
    X = np.ones((3, 785), dtype=dtype)
    out = model.forward(X)
    targets = model.encode_targets(np.array([0, 3, 9]))
    assert out.dtype == dtype and targets.dtype == dtype and model.backward(X, out, targets).dtype == dtype


def test_other_dtype_is_refused_not_converted():
    with pytest.raises(ValueError, match="X is float32 but the model's weights are float64"):
        BinaryModel().forward(np.ones((2, 785), dtype=np.float32))


def test_shape_mismatch_gives_both_shapes():
    with pytest.raises(ValueError, match=r"X must have shape \(2, 785\), got \(2, 784\)"):
        SoftmaxModel().forward(np.ones((2, 784)))
    model = SoftmaxModel()
    X = np.ones((2, 785))
    with pytest.raises(ValueError, match=r"targets must have shape \(2, 10\), got \(2, 1\)"):
        model.backward(X, model.forward(X), np.ones((2, 1)))


@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf])
def test_impossible_lambda_is_refused(value):
    with pytest.raises(ValueError, match="l2_reg_lambda must be a finite number >= 0"):
        SoftmaxModel(l2_reg_lambda=value)


def test_numerical_gradient_restores_weights_and_matches_a_quadratic():
    w = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: float(np.sum(w**2)), w, 1e-3)
    assert np.allclose(grad, 2 * np.array([1.0, -2.0, 3.0]), rtol=1e-12)
    assert w.tolist() == [1.0, -2.0, 3.0]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), features=st.integers(2, 8), seed=st.integers(0, 2**32 - 1),
       scale=st.floats(0.01, 3), l2=st.floats(0, 2), binary=st.booleans())
def test_property_analytic_gradient_matches_finite_differences(n, features, seed, scale, l2, binary):
    model, X, Y = problem(BinaryModel if binary else SoftmaxModel, n, features, seed, scale, l2)
    assert gradient_check(model, X, Y, epsilon=1e-4).max_abs_error < 1e-7


def test_targets_are_encoded_as_each_model_expects():
    labels = np.array([1, 0, 1])
    assert np.array_equal(BinaryModel().encode_targets(labels), [[1.0], [0.0], [1.0]])
    assert np.array_equal(SoftmaxModel().encode_targets(np.array([2, 0])), np.eye(10)[[2, 0]])
    with pytest.raises(ValueError, match=r"Binary labels must be \[N\] values in \{0, 1\}"):
        BinaryModel().encode_targets(np.array([0, 2]))


def test_prediction_thresholds_binary_at_one_half_and_takes_argmax_for_softmax():
    X = np.eye(785)[:3]  # row i picks weight row i
    binary = BinaryModel()
    binary.w[:3, 0] = [-0.1, 0.0, 2.0]  # sigmoid < 0.5, = 0.5, > 0.5
    assert binary.predict(X).tolist() == [0, 1, 1]
    softmax = SoftmaxModel()
    softmax.w[:3] = np.eye(10)[[7, 2, 9]]
    assert softmax.predict(X).tolist() == [7, 2, 9]
