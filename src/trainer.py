"""Mini-batch SGD with validation checks and early stopping -> History.

One trainer serves both models: for each mini-batch, forward, backward,
w -= learning_rate * grad. Every num_batches_per_epoch // 5 steps (counting
from step 0) it measures the validation loss, the accuracy on the whole
training set and the accuracy on the validation set.

The losses recorded are the cross-entropy C (the data term), so runs with
different L2 strengths are comparable; the gradient followed is that of
J = C + lambda R.
"""

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .data import BatchLoader, check_int
from .losses import cross_entropy_loss_from_logits


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite."""


def _labels(targets):
    """Class per row: targets [N, 1] in {0, 1} (binary) or one-hot [N, K]."""
    return targets[:, 0].astype(np.int64) if targets.shape[1] == 1 else np.argmax(targets, axis=1)


def _predict(z_T):
    """Class per column of transposed logits z^T [K, N]: z >= 0 (sigmoid >= 0.5) or argmax.

    The argmax is taken as K whole-row comparisons, the first maximum
    winning as in np.argmax: on a C-ordered [K, N] array that is several
    times faster than np.argmax(axis=0), a strided walk down each column.
    """
    if len(z_T) == 1:
        return (z_T[0] >= 0).astype(np.int64)
    best = z_T.max(axis=0)
    predicted = np.full(z_T.shape[1], len(z_T) - 1)
    for k in range(len(z_T) - 2, -1, -1):
        predicted[z_T[k] == best] = k
    return predicted


def accuracy(model, X, targets):
    """Fraction of images classified right.

    Binary: targets [N, 1] in {0, 1}, prediction sigmoid(z) >= 0.5.
    Softmax: one-hot targets [N, K], prediction argmax.
    """
    return float(np.mean(model.predict(X) == _labels(targets)))


def confusion_matrix(true, predicted, num_classes=10):
    """Counts [num_classes, num_classes]: row = true class, column = predicted class."""
    true, predicted = np.asarray(true, np.int64), np.asarray(predicted, np.int64)
    counts = np.bincount(true * num_classes + predicted, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def most_confident_mistakes(model, X, labels, count=24):
    """Indices of the wrongly classified images with the highest predicted probability.

    Returns (indices, predicted classes, their probabilities), most confident first.
    """
    probabilities = model.forward(X)
    predicted = np.argmax(probabilities, axis=1)
    confidence = probabilities[np.arange(len(X)), predicted]
    wrong = np.flatnonzero(predicted != labels)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    return order, predicted[order], confidence[order]


def evaluate(model, X, targets):
    """(cross-entropy loss, accuracy) in one pass over X."""
    z = model.logits(X)
    loss = cross_entropy_loss_from_logits(targets, z)
    return loss, float(np.mean(_predict(z.T) == _labels(targets)))


class EarlyStopping:
    """Stop when `patience` validation checks in a row bring no new best loss.

    A check "brings a new best" when its loss is below the best so far by
    more than min_delta. With restore_best_weights, `best_weights` keeps a
    copy of the weights at the best check for the trainer to put back.
    """

    def __init__(self, patience=10, min_delta=0.0, restore_best_weights=False):
        check_int("patience", patience, 1, 10**9)
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta}.")
        self.patience, self.min_delta = patience, min_delta
        self.restore_best_weights = restore_best_weights
        self.best_loss = math.inf
        self.best_weights = None
        self.checks_without_improvement = 0
        self.stopped = False

    def update(self, val_loss, weights=None):
        """Record one validation check; True when training should stop."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = val_loss
            self.checks_without_improvement = 0
            if self.restore_best_weights and weights is not None:
                self.best_weights = weights.copy()
        else:
            self.checks_without_improvement += 1
        self.stopped = self.checks_without_improvement >= self.patience
        return self.stopped


@dataclass
class History:
    """What a training run recorded, each metric keyed by global step."""

    train_loss: dict = field(default_factory=dict)  # every step: the batch's loss
    val_loss: dict = field(default_factory=dict)  # every validation check
    train_accuracy: dict = field(default_factory=dict)  # whole training set
    val_accuracy: dict = field(default_factory=dict)
    steps_per_epoch: int = 0
    epochs_run: int = 0
    early_stopped: bool = False
    stop_epoch: int | None = None  # 1-based epoch in which early stopping fired
    stop_step: int | None = None
    seconds: float = 0.0


class Trainer:
    """Mini-batch SGD for a BinaryModel or SoftmaxModel.

    X_*: pre-processed images [N, 785]; Y_*: targets [N, K] as the model
    expects them (binary {0, 1} or one-hot), both of the model's dtype.
    early_stopping: an EarlyStopping, or None to always run every epoch.
    """

    def __init__(self, model, learning_rate, batch_size, shuffle_dataset,
                 X_train, Y_train, X_val, Y_val, early_stopping=None, seed=0,
                 verbose=False):
        learning_rate = float(learning_rate)
        if not (math.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate}.")
        check_int("batch_size", batch_size, 1, len(X_train),
                  f" It cannot exceed the {len(X_train)} training samples.")
        self.model, self.learning_rate, self.batch_size = model, learning_rate, batch_size
        self.shuffle_dataset = shuffle_dataset
        self.X_train, self.Y_train = X_train, Y_train.astype(model.w.dtype, copy=False)
        self.X_val, self.Y_val = X_val, Y_val.astype(model.w.dtype, copy=False)
        self.early_stopping = early_stopping
        self.loader = BatchLoader(X_train, self.Y_train, batch_size, shuffle=shuffle_dataset, seed=seed)
        # Validate five times per epoch; at least every step if an epoch is short.
        self.num_steps_per_val = max(1, len(self.loader) // 5)
        self.verbose = verbose
        # The validation checks stream the whole training set 5 times per
        # epoch: most of the schedule's memory traffic. A transposed,
        # contiguous copy makes that product w^T X^T, and w^T is padded with
        # zero rows to a multiple of 8, the row blocking of BLAS's float
        # kernels: together ~1.7x faster than X w with 10 columns. The class
        # labels are taken out of the targets once, not every check.
        self._X_train_T = np.ascontiguousarray(X_train.T)
        self._X_val_T = np.ascontiguousarray(X_val.T)
        k = model.w.shape[1]
        self._w_T = np.zeros((k if k == 1 else -(-k // 8) * 8, model.w.shape[0]), dtype=model.w.dtype)
        self._train_labels = _labels(self.Y_train)
        self._val_labels = _labels(self.Y_val)

    def train_step(self, X_batch, Y_batch):
        """One SGD step; returns the batch's cross-entropy before the update."""
        model = self.model
        outputs, loss = model.forward_with_loss(X_batch, Y_batch)
        model.backward(X_batch, outputs, Y_batch)
        model.w -= self.learning_rate * model.grad
        return loss

    def validation_step(self):
        """(validation loss, training accuracy, validation accuracy)."""
        k = self.model.w.shape[1]
        self._w_T[:k] = self.model.w.T
        z_val_T = (self._w_T @ self._X_val_T)[:k]
        val_loss = cross_entropy_loss_from_logits(self.Y_val, z_val_T.T)
        val_accuracy = float(np.mean(_predict(z_val_T) == self._val_labels))
        z_train_T = (self._w_T @ self._X_train_T)[:k]
        train_accuracy = float(np.mean(_predict(z_train_T) == self._train_labels))
        return val_loss, train_accuracy, val_accuracy

    def train(self, num_epochs):
        """Run up to num_epochs epochs; returns the History."""
        check_int("num_epochs", num_epochs, 1, 10**6)
        start = time.perf_counter()
        # Overflow can only come from a diverging run, which _check_finite
        # reports as one clear error; numpy's warnings would only add noise.
        with np.errstate(over="ignore", invalid="ignore"):
            history = self._train(num_epochs)
        if history.early_stopped and self.early_stopping.restore_best_weights:
            self.model.w[...] = self.early_stopping.best_weights
        history.seconds = time.perf_counter() - start
        return history

    def _train(self, num_epochs):
        history, stopper, global_step = History(steps_per_epoch=len(self.loader)), self.early_stopping, 0
        for epoch in range(num_epochs):
            history.epochs_run = epoch + 1
            for X_batch, Y_batch in self.loader:
                loss = self.train_step(X_batch, Y_batch)
                self._check_finite(loss, "training", global_step, epoch)
                history.train_loss[global_step] = loss
                if global_step % self.num_steps_per_val == 0:
                    val_loss, train_acc, val_acc = self.validation_step()
                    self._check_finite(val_loss, "validation", global_step, epoch)
                    history.val_loss[global_step] = val_loss
                    history.train_accuracy[global_step] = train_acc
                    history.val_accuracy[global_step] = val_acc
                    if stopper is not None and stopper.update(val_loss, self.model.w):
                        history.early_stopped = True
                        history.stop_epoch, history.stop_step = epoch + 1, global_step
                        break
                global_step += 1
            if self.verbose:
                self._report(history, epoch)
            if history.early_stopped:
                break
        return history

    def _check_finite(self, loss, which, step, epoch):
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"Training diverged at step {step} (epoch {epoch + 1}): the {which} loss became {loss}. "
                f"Lower the learning rate (it is {self.learning_rate:g})."
            )

    def _report(self, history, epoch):
        steps = list(history.train_loss)[-len(self.loader):]
        train_loss = np.mean([history.train_loss[s] for s in steps])
        last = next(reversed(history.val_loss))
        line = (f"epoch {epoch + 1:4d}  train loss {train_loss:.4f}  "
                f"val loss {history.val_loss[last]:.4f}  val acc {history.val_accuracy[last]:.4f}")
        if history.early_stopped:
            line += f"  early stopping fired at step {history.stop_step}"
        print(line, file=sys.stderr, flush=True)
