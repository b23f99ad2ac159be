"""Logistic and softmax regression: forward and backward side by side.

Both models are one matrix product z = X w followed by an activation, and
with cross-entropy both have the same gradient (tasks 1a and 1b):

    binary:   dC/dw_i  = -(y - y_hat) x_i
    softmax:  dC/dw_kj = -x_j (y_k - y_hat_k)

i.e. over a batch of N images, dC/dw = -X^T (Y - Y_hat) / N. With L2
regularisation J = C + lambda R, R = 1/2 sum w^2, and dR/dw = w element by
element (task 4a), so the gradient gains lambda * w.
"""

import numpy as np

from .data import NUM_CLASSES, one_hot_encode
from .losses import cross_entropy_loss, sigmoid, softmax

NUM_FEATURES = 785  # 28 * 28 pixels + the bias trick's constant 1


class LinearModel:
    """z = X w, y_hat = activation(z); weights start at zero.

    w:    [num_features, num_outputs] of `dtype` (float32 or float64).
    grad: dJ/dw of the last `backward`, the same shape.
    The model computes in the dtype of its weights; inputs of another dtype
    are refused rather than silently converted.
    """

    num_outputs = None  # set by the subclasses

    def __init__(self, l2_reg_lambda=0.0, num_features=NUM_FEATURES, dtype=np.float64):
        l2_reg_lambda = float(l2_reg_lambda)
        if not (np.isfinite(l2_reg_lambda) and l2_reg_lambda >= 0):
            raise ValueError(f"l2_reg_lambda must be a finite number >= 0, got {l2_reg_lambda}.")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
        self.l2_reg_lambda = l2_reg_lambda
        self.w = np.zeros((num_features, self.num_outputs), dtype=dtype)
        self.grad = np.zeros_like(self.w)

    def _check(self, name, array, shape):
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {array.shape}.")
        if array.dtype != self.w.dtype:
            raise ValueError(
                f"{name} is {array.dtype} but the model's weights are {self.w.dtype}: "
                f"convert it with .astype(np.{self.w.dtype})."
            )

    def logits(self, X):
        """X: [N, num_features] -> z = X w: [N, num_outputs]."""
        if X.ndim != 2:
            raise ValueError(f"X must be [N, {self.w.shape[0]}], got shape {X.shape}.")
        self._check("X", X, (len(X), self.w.shape[0]))
        return X @ self.w

    def forward(self, X):
        """X: [N, num_features] in [-1, 1] -> probabilities y_hat: [N, num_outputs]."""
        return self.activation(self.logits(X))

    def backward(self, X, outputs, targets):
        """dJ/dw = -X^T (Y - Y_hat) / N + lambda w, the batch mean; also stored in self.grad.

        X: [N, num_features]; outputs: y_hat from `forward(X)`; targets: Y
        from `encode_targets`, both [N, num_outputs].
        """
        self._check("outputs", outputs, (len(X), self.num_outputs))
        self._check("targets", targets, outputs.shape)
        self.grad = -(X.T @ (targets - outputs)) / len(X)
        self.grad += self.l2_reg_lambda * self.w  # dR/dw = w, element-wise
        return self.grad

    def zero_grad(self):
        self.grad = np.zeros_like(self.w)

    def loss(self, X, targets):
        """J = C + lambda * 1/2 * sum(w^2), the quantity `backward` differentiates."""
        return cross_entropy_loss(targets, self.logits(X)) + self.l2_reg_lambda * 0.5 * float(np.sum(self.w**2))

    def predict(self, X):
        """Predicted class per image: [N] integers."""
        return self.classify(self.logits(X))

    def activation(self, z):
        raise NotImplementedError

    def classify(self, z):
        """Logits [N, num_outputs] -> predicted class per row: [N] integers."""
        raise NotImplementedError

    def encode_targets(self, labels):
        """Integer labels [N] -> the targets Y this model's loss compares y_hat with."""
        raise NotImplementedError


class BinaryModel(LinearModel):
    """Logistic regression: y_hat = sigmoid(X w), w: [785, 1]. Target 1 vs 0."""

    num_outputs = 1

    def activation(self, z):
        return sigmoid(z)

    def classify(self, z):
        # sigmoid(z) >= 0.5 exactly when z >= 0: no need to compute the sigmoid.
        return (z[:, 0] >= 0).astype(np.int64)

    def encode_targets(self, labels):
        """Labels [N] in {0, 1} -> targets [N, 1] of the model's dtype."""
        labels = np.asarray(labels)
        if labels.ndim != 1 or (labels.size and not np.isin(labels, (0, 1)).all()):
            raise ValueError(f"Binary labels must be [N] values in {{0, 1}}, got shape {labels.shape}.")
        return labels.astype(self.w.dtype)[:, None]


class SoftmaxModel(LinearModel):
    """Softmax regression: y_hat = softmax(X w), w: [785, 10], one column per class."""

    num_outputs = NUM_CLASSES

    def activation(self, z):
        return softmax(z)

    def classify(self, z):
        return np.argmax(z, axis=1)

    def encode_targets(self, labels):
        """Labels [N] in 0..9 -> one-hot targets [N, 10] of the model's dtype."""
        return one_hot_encode(labels, self.num_outputs, dtype=self.w.dtype)
