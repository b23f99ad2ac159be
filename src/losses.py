"""Activations and the cross-entropy loss, binary and multi-class.

The loss is computed from the logits z, never from probabilities, so that
it is exact where the outputs saturate. Numerical stability, in one place:

- `sigmoid` evaluates exp(-|z|), which never overflows, and picks the form
  of 1 / (1 + e^-z) that suits the sign of z.
- `softmax` subtracts each row's maximum before exp: the result is the same
  (softmax is shift-invariant) and the largest exponent is e^0 = 1.
- `cross_entropy_loss` uses -log sigmoid(z) = log(1 + e^-z) (np.logaddexp)
  and -log softmax(z)_k = logsumexp(z) - z_k, so a sigmoid of 40 or a
  softmax with a logit of 1e4 gives the exact loss, with no log(0), no NaN
  and no warning.
"""

import numpy as np


def sigmoid(z):
    """1 / (1 + e^-z), element-wise, without overflow for any finite z."""
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softmax(z):
    """Row-wise softmax of logits z: [N, K]; each row sums to 1."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logsumexp(z):
    """Row-wise log(sum(exp(z))): [N, K] -> [N], after the max shift."""
    m = z.max(axis=1, keepdims=True)
    return m[:, 0] + np.log(np.exp(z - m).sum(axis=1))


def log_softmax(z):
    """Row-wise log softmax: z - logsumexp(z)."""
    return z - logsumexp(z)[:, None]


def cross_entropy_loss(targets, logits):
    """Mean cross-entropy C over the batch, from the logits z = X w.

    Binary (K = 1): targets y in {0, 1}, [N, 1], and y_hat = sigmoid(z):
        C = -1/N sum_n [ y log y_hat + (1 - y) log(1 - y_hat) ]
          =  1/N sum_n [ y log(1 + e^-z) + (1 - y) log(1 + e^z) ].
    Multi-class (K > 1): one-hot targets [N, K] and y_hat = softmax(z):
        C = -1/N sum_n sum_k y_k log y_hat_k
          =  1/N sum_n sum_k y_k (logsumexp(z_n) - z_k).
    """
    targets, logits = np.asarray(targets), np.asarray(logits)
    if targets.shape != logits.shape or targets.ndim != 2:
        raise ValueError(f"targets and logits must have the same shape [N, K], "
                         f"got {targets.shape} and {logits.shape}.")
    if logits.shape[1] == 1:
        losses = targets * np.logaddexp(0, -logits) + (1 - targets) * np.logaddexp(0, logits)
    else:
        losses = -targets * log_softmax(logits)
    return float(losses.sum() / len(targets))
