"""Activations and the cross-entropy loss, binary and multi-class.

Numerical stability, in one place:
- `sigmoid` evaluates exp(-|z|), which never overflows, and picks the form
  of 1 / (1 + e^-z) that suits the sign of z.
- `softmax` subtracts each row's maximum before exp: the result is the same
  (softmax is shift-invariant) and the largest exponent is e^0 = 1.
- `cross_entropy_loss_from_logits` never takes log of a probability: it uses
  log sigmoid(z) = -log(1 + e^-z) (np.logaddexp) and the log-sum-exp form of
  log softmax, so a sigmoid of 40 or a softmax with a logit of 1e4 gives the
  exact loss, with no log(0), no NaN and no warning.
- `cross_entropy_loss` (the assignment's form, from probabilities) floors
  each probability at the smallest normal float before the log, so it stays
  finite (at most about 708) where a probability has rounded to 0 or 1.
"""

import numpy as np


def sigmoid(z):
    """1 / (1 + e^-z), element-wise, without overflow for any finite z."""
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softmax(z):
    """Row-wise softmax of logits z: [N, K]; each row sums to 1."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


def logsumexp(z):
    """Row-wise log(sum(exp(z))): [N, K] -> [N], after the max shift."""
    m = z.max(axis=1, keepdims=True)
    return m[:, 0] + np.log(np.exp(z - m).sum(axis=1))


def log_softmax(z):
    """Row-wise log softmax: z - logsumexp(z)."""
    return z - logsumexp(z)[:, None]


def _check_pair(targets, other, other_name):
    if targets.shape != other.shape or targets.ndim != 2:
        raise ValueError(
            f"targets and {other_name} must have the same shape [N, K], "
            f"got {targets.shape} and {other.shape}."
        )


def cross_entropy_loss(targets, outputs):
    """Mean cross-entropy over the batch, from probabilities.

    Binary (K = 1): targets y in {0, 1} and outputs y_hat = sigmoid(z), both
        [N, 1]:  C = -1/N sum_n [ y log y_hat + (1 - y) log(1 - y_hat) ].
    Multi-class (K > 1): one-hot targets and softmax outputs, both [N, K]:
        C = -1/N sum_n sum_k y_k log y_hat_k.
    """
    targets, outputs = np.asarray(targets), np.asarray(outputs)
    _check_pair(targets, outputs, "outputs")
    tiny = np.finfo(np.result_type(outputs, np.float32)).tiny
    if outputs.shape[1] == 1:
        log_p = np.log(np.maximum(outputs, tiny))
        log_not_p = np.log(np.maximum(1 - outputs, tiny))
        return float(-np.mean(targets * log_p + (1 - targets) * log_not_p))
    return float(-np.sum(targets * np.log(np.maximum(outputs, tiny))) / len(targets))


def cross_entropy_loss_from_logits(targets, logits):
    """The same mean cross-entropy, from logits z: exact even where outputs saturate.

    Binary: -log sigmoid(z) = log(1 + e^-z) and -log(1 - sigmoid(z)) = log(1 + e^z).
    Multi-class: -log softmax(z)_k = logsumexp(z) - z_k, so
        C = 1/N sum_n [ (sum_k y_nk) logsumexp(z_n) - sum_k y_nk z_nk ].
    """
    targets, logits = np.asarray(targets), np.asarray(logits)
    _check_pair(targets, logits, "logits")
    if logits.shape[1] == 1:
        losses = targets * np.logaddexp(0, -logits) + (1 - targets) * np.logaddexp(0, logits)
        return float(np.mean(losses))
    total = targets.sum(axis=1) @ logsumexp(logits) - np.vdot(targets, logits)
    return float(total / len(targets))
