"""Numerical gradient check by central differences, for any model and loss.

    dJ/dw_i ~ (J(w + eps e_i) - J(w - eps e_i)) / (2 eps)

The error of this estimate is O(eps^2) (plus rounding of order
machine-eps * J / eps), so in float64 it matches a correct analytic gradient
to many digits, and any real mistake (a sign, a missing 1/N, a wrong L2
term) shows up as an error of the size of the gradient itself.
"""

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
    """
    if model.w.dtype != np.float64:
        raise ValueError(f"Gradient checks need float64 weights, got {model.w.dtype}.")
    loss_fn = loss_fn or (lambda m, X_, Y_: m.loss(X_, Y_))
    analytic = np.array(model.backward(X, model.forward(X), targets), copy=True)
    numeric = numerical_gradient(lambda: loss_fn(model, X, targets), model.w, epsilon)
    abs_error = float(np.max(np.abs(numeric - analytic)))
    scale = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(numeric))), np.finfo(float).tiny)
    return GradientCheckResult(abs_error, abs_error / scale, numeric, analytic)


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
