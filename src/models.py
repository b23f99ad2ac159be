"""Logistic and softmax regression: forward and backward side by side.

Both models are one matrix product z = X w followed by an activation, and
with cross-entropy both have the same gradient (tasks 1a and 1b):

    binary:   dC/dw_i  = -(y - y_hat) x_i
    softmax:  dC/dw_jk = -x_j (y_k - y_hat_k)

i.e. over a batch of N images, dC/dw = -X^T (Y - Y_hat) / N. With L2
regularisation J = C + lambda R, R = 1/2 sum w^2, and dR/dw = w element by
element (task 4a), so the gradient gains lambda * w.
"""

import numpy as np

from .losses import cross_entropy_loss_from_logits, sigmoid, softmax

NUM_FEATURES = 785  # 28 * 28 pixels + the bias trick's constant 1


class LinearModel:
    """z = X w, y_hat = activation(z); weights start at zero.

    w:    [num_features, num_outputs] of `dtype`.
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

    def activation(self, z):
        raise NotImplementedError

    def _check(self, name, array, shape):
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {array.shape}.")
        if array.dtype != self.w.dtype:
            raise ValueError(
                f"{name} is {array.dtype} but the model's weights are {self.w.dtype}: "
                f"convert it with .astype(np.{self.w.dtype}) or make the model with dtype=np.{array.dtype}."
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

    def forward_with_loss(self, X, targets):
        """(y_hat, C): a training step's outputs and cross-entropy from one product X w."""
        z = self.logits(X)
        return self.activation(z), cross_entropy_loss_from_logits(targets, z)

    def backward(self, X, outputs, targets):
        """Store dJ/dw, the batch mean, in self.grad.

        X: [N, num_features]; outputs: y_hat from `forward(X)`; targets: y,
        both [N, num_outputs] (targets are converted to the model's dtype).
        """
        self._check("outputs", outputs, (len(X), self.num_outputs))
        if targets.shape != outputs.shape:
            raise ValueError(f"targets must have shape {outputs.shape}, got {targets.shape}.")
        error = targets.astype(outputs.dtype, copy=False) - outputs  # y - y_hat
        self.grad = X.T @ error
        self.grad *= -1 / len(X)
        if self.l2_reg_lambda:
            self.grad += self.l2_reg_lambda * self.w  # dR/dw = w, element-wise
        return self.grad

    def zero_grad(self):
        self.grad = np.zeros_like(self.w)

    def loss(self, X, targets):
        """J = C + lambda * 1/2 * sum(w^2), the quantity `backward` differentiates."""
        C = cross_entropy_loss_from_logits(targets, self.logits(X))
        w = self.w.ravel()
        return C + self.l2_reg_lambda * 0.5 * float(w @ w)

    def predict(self, X):
        """Predicted class per image: [N] integers."""
        raise NotImplementedError


class BinaryModel(LinearModel):
    """Logistic regression: y_hat = sigmoid(X w), w: [785, 1]. Target 1 vs 0."""

    num_outputs = 1

    def activation(self, z):
        return sigmoid(z)

    def predict(self, X):
        # sigmoid(z) >= 0.5 exactly when z >= 0: no need to compute the sigmoid.
        return (self.logits(X)[:, 0] >= 0).astype(np.int64)


class SoftmaxModel(LinearModel):
    """Softmax regression: y_hat = softmax(X w), w: [785, 10], one column per digit."""

    num_outputs = 10

    def activation(self, z):
        return softmax(z)

    def forward_with_loss(self, X, targets):
        # One exp serves both: with z shifted by its row maximum and
        # s = sum_k e^z_k, softmax is e^z / s and the cross-entropy is
        # mean_n sum_k y_k (log s - z_k). Same values as forward() and
        # cross_entropy_loss_from_logits(), half the passes over the batch.
        z = self.logits(X)
        if targets.shape != z.shape:
            raise ValueError(f"targets must have shape {z.shape}, got {targets.shape}.")
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.vdot(targets, np.log(s) - z)) / len(X)
        e /= s
        return e, loss

    def predict(self, X):
        return np.argmax(self.logits(X), axis=1)
