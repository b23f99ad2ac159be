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
from .errors import UserError
from .losses import cross_entropy_loss
from .metrics import accuracy


class TrainingDivergedError(UserError):
    """The loss became NaN or infinite."""


class EarlyStopping:
    """Stop when `patience` validation checks in a row bring no new best loss.

    A check "brings a new best" when its loss is below the best so far by
    more than min_delta. With restore_best_weights, `best_weights` keeps a
    copy of the weights at the best check, and the trainer puts them back
    when training ends, whether early stopping fired or the last epoch ran.
    """

    def __init__(self, patience=10, min_delta=0.0, restore_best_weights=False):
        check_int("patience", patience, 1, 10**9)
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta}.")
        self.patience, self.min_delta = patience, min_delta
        self.restore_best_weights = restore_best_weights
        self.reset()

    def reset(self):
        """Forget every check: the trainer calls this at the start of each `train()`."""
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

    X_*: pre-processed images [N, 785] of the model's dtype; y_*: integer
    labels [N] (binary: 1 for the first class, 0 for the second).
    early_stopping: an EarlyStopping, or None to always run every epoch.
    """

    def __init__(self, model, learning_rate, batch_size, shuffle_dataset,
                 X_train, y_train, X_val, y_val, early_stopping=None, seed=0,
                 verbose=False, label=""):
        learning_rate = float(learning_rate)
        if not (math.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate}.")
        if len(X_val) == 0:
            raise ValueError("The validation set is empty: validation checks need at least one image.")
        check_int("batch_size", batch_size, 1, len(X_train),
                  f" It cannot exceed the {len(X_train)} training samples.")
        self.model, self.learning_rate, self.batch_size = model, learning_rate, batch_size
        self.shuffle_dataset = shuffle_dataset
        self.X_train, self.y_train = X_train, np.asarray(y_train)
        self.X_val, self.y_val = X_val, np.asarray(y_val)
        # The targets the loss needs, encoded once (one-hot for softmax).
        self.Y_val = model.encode_targets(self.y_val)
        self.early_stopping = early_stopping
        self.loader = BatchLoader(X_train, model.encode_targets(self.y_train), batch_size,
                                  shuffle=shuffle_dataset, seed=seed)
        # Validate five times per epoch; at least every step if an epoch is short.
        self.num_steps_per_val = max(1, len(self.loader) // 5)
        self.verbose, self.label = verbose, label  # progress lines on stderr, prefixed by label

    def train_step(self, X_batch, Y_batch):
        """One SGD step, w -= learning_rate * dJ/dw; returns the batch's cross-entropy before it."""
        model = self.model
        z = model.logits(X_batch)
        model.backward(X_batch, model.activation(z), Y_batch)
        model.w -= self.learning_rate * model.grad
        return cross_entropy_loss(Y_batch, z)

    def validation_step(self):
        """(validation loss, training accuracy, validation accuracy)."""
        z_val = self.model.logits(self.X_val)
        val_loss = cross_entropy_loss(self.Y_val, z_val)
        val_accuracy = float(np.mean(self.model.classify(z_val) == self.y_val))
        return val_loss, accuracy(self.model, self.X_train, self.y_train), val_accuracy

    def train(self, num_epochs):
        """Run up to num_epochs epochs; returns the History."""
        check_int("num_epochs", num_epochs, 1, 10**6)
        if self.early_stopping is not None:
            self.early_stopping.reset()
        start = time.perf_counter()
        # Overflow can only come from a diverging run, which _check_finite
        # reports as one clear error; numpy's warnings would only add noise.
        with np.errstate(over="ignore", invalid="ignore"):
            history = self._train(num_epochs)
        stopper = self.early_stopping
        if stopper is not None and stopper.restore_best_weights and stopper.best_weights is not None:
            self.model.w[...] = stopper.best_weights
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
        line = (f"{self.label}epoch {epoch + 1:4d}  train loss {train_loss:.4f}  "
                f"val loss {history.val_loss[last]:.4f}  val acc {history.val_accuracy[last]:.4f}")
        if history.early_stopped:
            line += f"  early stopping fired at step {history.stop_step}"
        print(line, file=sys.stderr, flush=True)
