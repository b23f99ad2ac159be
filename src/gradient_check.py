"""Numerical gradient check by central differences, for any model and loss.

    dJ/dw_i ~ (J(w + eps e_i) - J(w - eps e_i)) / (2 eps)

The error of this estimate is O(eps^2) (plus rounding of order
machine-eps * J / eps), so in float64 it matches a correct analytic gradient
to many digits, and any real mistake (a sign, a missing 1/N, a wrong L2
term) shows up as an error of the size of the gradient itself.

`numerical_gradient` perturbs one weight at a time and calls the loss twice
for each: 15,700 calls for the 7,850 weights of softmax regression. For a
linear model's own loss `gradient_check` computes the same 15,700 losses
at once (`perturbed_losses`): perturbing w_jk moves only column k of the
logits z = X w, by +-eps x_j, so no new product X w is needed.
"""

import math
from typing import NamedTuple

import numpy as np


class GradientCheckResult(NamedTuple):
    """max_abs_error: largest |numeric - analytic| over all weights.
    max_rel_error: max_abs_error divided by the largest |gradient| entry (of
    either), so that it is scale-free and well defined where entries are 0.
    """

    max_abs_error: float
    max_rel_error: float
    numeric: np.ndarray
    analytic: np.ndarray

    def passed(self, abs_tol=None, rel_tol=None):
        ok = True
        if abs_tol is not None:
            ok &= self.max_abs_error <= abs_tol
        if rel_tol is not None:
            ok &= self.max_rel_error <= rel_tol
        return bool(ok)


def numerical_gradient(f, w, epsilon=1e-5):
    """Central-difference gradient of the scalar function f() with respect to w.

    f: takes no arguments and reads w, which is perturbed in place one entry
       at a time (and always restored, even if f raises).
    """
    grad = np.zeros_like(w)
    flat_w, flat_grad = w.reshape(-1), grad.reshape(-1)  # views into w and grad
    for i in range(flat_w.size):
        original = flat_w[i]
        try:
            flat_w[i] = original + epsilon
            f_plus = f()
            flat_w[i] = original - epsilon
            f_minus = f()
        finally:
            flat_w[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * epsilon)
    return grad


def gradient_check(model, X, targets, epsilon=1e-5, loss_fn=None):
    """Compare model.backward's gradient with central differences of the loss.

    model:   has .w, .forward(X), .backward(X, outputs, targets) and .grad.
    loss_fn: loss_fn(model, X, targets) -> scalar J, by default model.loss,
             which includes the L2 term. Checks every weight.
    With the default loss, a linear model (BinaryModel, SoftmaxModel) takes
    the fast path, `perturbed_losses`, once its losses are shown to equal
    model.loss at a few perturbed weights; any other model or loss (or a
    model.loss the fast path does not reproduce) takes the one-weight-at-a-
    time loop of `numerical_gradient`. Both give the same numbers.
    """
    if model.w.dtype != np.float64:
        raise ValueError(f"Gradient checks need float64 weights, got {model.w.dtype}.")
    analytic = np.array(model.backward(X, model.forward(X), targets), copy=True)
    numeric = linear_model_gradient(model, X, targets, epsilon) if loss_fn is None else None
    if numeric is None:
        loss_fn = loss_fn or (lambda m, X_, Y_: m.loss(X_, Y_))
        numeric = numerical_gradient(lambda: loss_fn(model, X, targets), model.w, epsilon)
    abs_error = float(np.max(np.abs(numeric - analytic)))
    scale = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(numeric))), np.finfo(float).tiny)
    return GradientCheckResult(abs_error, abs_error / scale, numeric, analytic)


def linear_model_gradient(model, X, targets, epsilon=1e-5):
    """Central differences of model.loss on every weight of a linear model, all at once.

    The same estimate as numerical_gradient(lambda: model.loss(X, targets),
    model.w, epsilon), from the losses of `perturbed_losses`. Returns None
    (use the loop) unless the model has .logits and .l2_reg_lambda, w is
    [F, K], targets are [N, K], and model.loss agrees with those losses at
    four perturbed weights to 1e-12 relative (rounding is about 1e-15).
    """
    w = model.w
    if not (hasattr(model, "logits") and hasattr(model, "l2_reg_lambda") and w.ndim == 2 and X.ndim == 2
            and X.shape[1] == w.shape[0] and np.shape(targets) == (len(X), w.shape[1])):
        return None
    targets = np.asarray(targets, dtype=np.float64)
    J_plus = perturbed_losses(X, w, targets, model.l2_reg_lambda, epsilon)
    J_minus = perturbed_losses(X, w, targets, model.l2_reg_lambda, -epsilon)
    numeric = (J_plus - J_minus) / (2 * epsilon)
    # The losses above are this module's formula; they must be the model's own.
    for flat_index in {0, w.size // 2, w.size - 1, int(np.argmax(np.abs(numeric)))}:
        index = np.unravel_index(flat_index, w.shape)
        for delta, J in ((epsilon, J_plus[index]), (-epsilon, J_minus[index])):
            original = w[index]
            try:
                w[index] = original + delta
                model_J = float(model.loss(X, targets))
            finally:
                w[index] = original
            if not math.isclose(model_J, J, rel_tol=1e-12, abs_tol=1e-12):
                return None
    return numeric


def perturbed_losses(X, w, targets, l2_reg_lambda, delta):
    """J(w + delta e_jk) for every weight w_jk of a linear model: [F, K] float64.

    X: [N, F]; w: [F, K]; targets: [N, K]. J = C(z) + lambda/2 sum w^2 with
    z = X w and the cross-entropy C of models.py: K = 1 binary (sigmoid),
    K > 1 softmax. Moving w_jk by delta moves only column k of z:
        z_nk -> z_nk + delta x_nj      (every other z_nk' is unchanged)
        sum w^2 -> sum w^2 + 2 delta w_jk + delta^2.
    """
    N, F = X.shape
    K = w.shape[1]
    z = X @ w
    R = 0.5 * (float(np.sum(w**2)) + 2 * delta * w + delta**2)  # [F, K]
    if K == 1:
        # C = 1/N sum_n [ y log(1 + e^-z) + (1 - y) log(1 + e^z) ], z_n -> z_n + delta x_nj for each j.
        z_new = z + delta * X  # [N, F]
        C = (targets * np.logaddexp(0, -z_new) + (1 - targets) * np.logaddexp(0, z_new)).sum(axis=0) / N
        return C[:, None] + l2_reg_lambda * R
    # C = 1/N sum_n [ (sum_k' y_nk') logsumexp(z_n) - sum_k' y_nk' z_nk' ]. With only
    # column k moved, logsumexp(z_n) = log(others_nk + e^(z_nk + delta x_nj)), where
    # others_nk = sum over k' != k of e^z_nk', summed directly (no cancellation);
    # everything is shifted by the row maximum m_n, and by the moved logit if it is larger.
    m = z.max(axis=1, keepdims=True)
    others = np.exp(z - m) @ (1 - np.eye(K))  # [N, K]
    y_sum = targets.sum(axis=1)
    C = np.empty((F, K))
    chunk = max(1, 2**16 // (N * K))  # features per pass: [N, chunk, K] arrays of 512 KB, which stay in cache
    for start in range(0, F, chunk):
        j = slice(start, start + chunk)
        z_moved = z[:, None, :] + delta * X[:, j, None]  # [N, f, K]: column k of z, moved for w_jk
        shift = np.maximum(m[:, :, None], z_moved)
        logsumexp = shift + np.log(others[:, None, :] * np.exp(m[:, :, None] - shift)
                                   + np.exp(z_moved - shift))
        linear = np.vdot(targets, z) + delta * (X[:, j].T @ targets)  # sum_n sum_k' y_nk' z_nk', moved
        C[j] = ((y_sum @ logsumexp.reshape(N, -1)).reshape(-1, K) - linear) / N
    return C + l2_reg_lambda * R


def assignment_checks(model_cls, X, targets, l2_reg_lambda=None, epsilon=1e-3, seed=0):
    """The assignment's checks of tasks 2a and 3a, each on every weight.

    Zero-mean small random weights N(0, 0.01^2), then standard normal
    weights, and if l2_reg_lambda is given, standard normal weights once more
    with that L2 strength. Passing means the assignment's criterion
    |numeric - analytic| <= epsilon^2 for every weight.
    Yields (description, GradientCheckResult, passed).
    """
    rng = np.random.default_rng(seed)
    setups = [("small random weights N(0, 0.01^2)", 0.01, 0.0), ("standard normal weights", 1.0, 0.0)]
    if l2_reg_lambda is not None:
        setups.append((f"standard normal weights, L2 lambda = {l2_reg_lambda:g}", 1.0, l2_reg_lambda))
    for label, scale, l2 in setups:
        model = model_cls(l2_reg_lambda=l2)
        model.w = rng.normal(0, scale, model.w.shape)
        result = gradient_check(model, X, targets, epsilon)
        yield label, result, result.max_abs_error <= epsilon**2
