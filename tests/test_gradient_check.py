"""The gradient checker's fast path for linear models: the loop's numbers, on real images.

Tolerance: the fast path and the loop evaluate the same 2 x 7,850 losses in a
different order of float64 operations, so each loss differs by rounding (about
1e-15 relative, 1e-13 absolute for J ~ 100) and each central difference by
that over 2 eps: measured at most 1e-10 of the largest gradient entry with
eps = 1e-3. We allow 1e-9 of it. A planted mistake is off by far more than
the assignment's criterion eps^2 = 1e-6.
"""

import numpy as np
import pytest

from src import gradient_check as gc
from src.mnist import load_mnist
from src.models import BinaryModel, SoftmaxModel

EPSILON = 1e-3  # the assignment's


@pytest.fixture(scope="module")
def images(mnist_dir):
    """100 real training images as the tasks use them: pixels in [-1, 1] and the bias column 1."""
    X_train, Y_train, _, _ = load_mnist(mnist_dir, download_missing=False)
    X = np.hstack([X_train[:100].reshape(100, -1) / 127.5 - 1, np.ones((100, 1))])
    return X, Y_train[:100].astype(np.int64)


def targets_for(model_cls, labels):
    return np.eye(10)[labels] if model_cls is SoftmaxModel else (labels == 2).astype(np.float64)[:, None]


def model_with_weights(model_cls, scale, l2_reg_lambda, seed=0):
    model = model_cls(l2_reg_lambda=l2_reg_lambda)
    model.w = np.random.default_rng(seed).normal(0, scale, model.w.shape)
    return model


@pytest.fixture
def no_loop(monkeypatch):
    """Make the one-weight-at-a-time loop fail, to show that the fast path was taken."""
    def loop_called(*args, **kwargs):
        raise AssertionError("the loop ran, not the fast path")
    monkeypatch.setattr(gc, "numerical_gradient", loop_called)


@pytest.mark.parametrize("model_cls", [BinaryModel, SoftmaxModel])
@pytest.mark.parametrize("scale, l2", [(0.01, 0.0), (1.0, 0.0), (1.0, 0.5)])
def test_fast_path_gives_the_loops_central_differences(images, model_cls, scale, l2):
    X, labels = images
    Y = targets_for(model_cls, labels)
    model = model_with_weights(model_cls, scale, l2)
    fast = gc.linear_model_gradient(model, X, Y, EPSILON)
    # The loop on two blocks of rows (1,000 weights of central pixels; the last rows and the bias), for speed.
    for rows in (slice(300, 400), slice(775, 785)):
        loop = gc.numerical_gradient(lambda: model.loss(X, Y), model.w[rows], EPSILON)
        np.testing.assert_allclose(fast[rows], loop, rtol=0, atol=1e-9 * np.abs(fast).max())


@pytest.mark.parametrize("model_cls", [BinaryModel, SoftmaxModel])
def test_assignment_checks_pass_on_the_fast_path(images, model_cls, no_loop):
    X, labels = images
    results = list(gc.assignment_checks(model_cls, X, targets_for(model_cls, labels), l2_reg_lambda=0.5))
    assert len(results) == 3 and all(passed for _, _, passed in results)


class SignFlip(SoftmaxModel):
    def backward(self, X, outputs, targets):
        self.grad = X.T @ (targets - outputs) / len(X) + self.l2_reg_lambda * self.w
        return self.grad


class MissingMean(SoftmaxModel):
    def backward(self, X, outputs, targets):
        self.grad = -X.T @ (targets - outputs) + self.l2_reg_lambda * self.w  # the sum, not the mean
        return self.grad


class LambdaSumOfW(SoftmaxModel):
    def backward(self, X, outputs, targets):
        self.grad = -X.T @ (targets - outputs) / len(X) + self.l2_reg_lambda * np.sum(self.w)
        return self.grad


@pytest.mark.parametrize("wrong_cls", [SignFlip, MissingMean, LambdaSumOfW])
def test_a_wrong_gradient_fails_on_the_fast_path(images, wrong_cls, no_loop):
    X, labels = images
    result = gc.gradient_check(model_with_weights(wrong_cls, 1.0, 0.5), X, np.eye(10)[labels], EPSILON)
    assert result.max_abs_error > 1e-2  # the criterion is eps^2 = 1e-6


class SquaredNormWithoutHalf(BinaryModel):
    """A model with its own loss, J = C + lambda sum w^2, and the gradient to match."""

    def loss(self, X, targets):
        return super().loss(X, targets) + 0.5 * self.l2_reg_lambda * float(np.sum(self.w**2))

    def backward(self, X, outputs, targets):
        self.grad = super().backward(X, outputs, targets) + self.l2_reg_lambda * self.w
        return self.grad


def test_a_model_with_its_own_loss_is_checked_by_the_loop_on_that_loss(images):
    X, labels = images
    Y = targets_for(BinaryModel, labels)
    model = model_with_weights(SquaredNormWithoutHalf, 1.0, 0.5)
    assert gc.linear_model_gradient(model, X, Y, EPSILON) is None  # the fast path sees the difference
    result = gc.gradient_check(model, X, Y, EPSILON)
    assert np.array_equal(result.numeric, gc.numerical_gradient(lambda: model.loss(X, Y), model.w, EPSILON))
    assert result.max_abs_error <= EPSILON**2


def test_a_loss_fn_given_is_checked_by_the_loop(images, monkeypatch):
    X, labels = images
    Y = targets_for(BinaryModel, labels)
    model = model_with_weights(BinaryModel, 1.0, 0.0)
    monkeypatch.setattr(gc, "linear_model_gradient", lambda *args: pytest.fail("fast path taken"))
    result = gc.gradient_check(model, X, Y, EPSILON, loss_fn=lambda m, X_, Y_: m.loss(X_, Y_))
    assert result.max_abs_error <= EPSILON**2


@pytest.mark.parametrize("model_cls", [BinaryModel, SoftmaxModel])
def test_the_fast_path_leaves_the_weights_as_they_were(images, model_cls):
    X, labels = images
    model = model_with_weights(model_cls, 1.0, 0.5)
    before = model.w.copy()
    gc.gradient_check(model, X, targets_for(model_cls, labels), EPSILON)
    assert np.array_equal(model.w, before)


def test_float32_weights_are_refused():
    with pytest.raises(ValueError, match="Gradient checks need float64 weights"):
        gc.gradient_check(SoftmaxModel(dtype=np.float32), np.ones((2, 785), np.float32), np.eye(10)[[0, 1]])
