"""The assignment's data: seeded splits, pre-processing, one-hot targets, mini-batches.

uint8 arrays (from `src.mnist`) -> split/subset -> pre-process (+bias) -> batches.
"""

from typing import NamedTuple

import numpy as np

from .mnist import load_mnist

NUM_CLASSES = 10
NUM_PIXELS = 28 * 28
MNIST_TRAIN_SIZE = 60_000
MNIST_TEST_SIZE = 10_000


class Split(NamedTuple):
    """The three sets of a task: images X [N, 784] (uint8 as loaded, or
    pre-processed [N, 785]) and integer labels y [N].

    X_test/y_test are the test-set images not drawn for validation: a final,
    untouched estimate of accuracy.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def check_int(name, value, low, high, hint=""):
    """Raise ValueError unless `value` is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}.{hint}")


def load_full_mnist(train_size=18_000, val_size=2_000, seed=0, data_dir=None, dataset="mnist"):
    """All ten classes: a seeded sample of the training and test sets.

    train_size: images drawn (without replacement) from the 60,000 training images.
    val_size:   images drawn from the 10,000 test images for validation; the
                other 10,000 - val_size test images are the held-out test set.
    dataset:    "mnist" (digits) or "fashion-mnist" (the same layout, clothing).
    Returns a `Split` of uint8 images [N, 784] and int64 labels 0..9 [N].
    """
    check_int("train_size", train_size, 1, MNIST_TRAIN_SIZE)
    check_int("val_size", val_size, 1, MNIST_TEST_SIZE - 1,
              " At least one test image must stay held out for the final accuracy.")
    check_int("seed", seed, 0, 2**63 - 1)
    train_images, train_labels, test_images, test_labels = load_mnist(data_dir, dataset=dataset)
    rng = np.random.default_rng(seed)
    train_idx = rng.permutation(len(train_images))[:train_size]
    test_perm = rng.permutation(len(test_images))
    val_idx, test_idx = test_perm[:val_size], test_perm[val_size:]

    def take(images, labels, idx):
        return images[idx].reshape(len(idx), NUM_PIXELS), labels[idx].astype(np.int64)

    return Split(*take(train_images, train_labels, train_idx),
                 *take(test_images, test_labels, val_idx),
                 *take(test_images, test_labels, test_idx))


def load_binary_dataset(class1=2, class2=3, train_size=18_000, val_size=2_000, seed=0, data_dir=None,
                        dataset="mnist"):
    """Only the classes class1 and class2 of `load_full_mnist`'s split.

    Labels are [N] int64: 1 for class1, 0 for class2. The sizes count
    images before filtering, so the binary sets hold about a fifth of them.
    """
    check_int("class1", class1, 0, 9)
    check_int("class2", class2, 0, 9)
    if class1 == class2:
        raise ValueError(f"class1 and class2 must be different digits, both are {class1}.")
    full = load_full_mnist(train_size, val_size, seed, data_dir, dataset)
    parts = []
    for X, Y in zip(full[::2], full[1::2]):
        keep = (Y == class1) | (Y == class2)
        parts += [X[keep], (Y[keep] == class1).astype(np.int64)]
    return Split(*parts)


def pre_process_images(X, dtype=np.float64):
    """Pixels to [-1, 1] plus the bias trick's constant-1 column.

    X: [N, 784] (or [N, 28, 28]) pixel values in 0..255.
    Returns [N, 785] of `dtype`: the last column is 1, so the last weight
    acts as the bias and the model is a single matrix product.
    """
    X = np.asarray(X)
    if X.ndim == 3 and X.shape[1:] == (28, 28):
        X = X.reshape(len(X), NUM_PIXELS)
    if X.ndim != 2 or X.shape[1] != NUM_PIXELS:
        raise ValueError(f"X must be [N, {NUM_PIXELS}] or [N, 28, 28] pixels, got shape {X.shape}.")
    if X.dtype != np.uint8 and X.size and (X.min() < 0 or X.max() > 255):
        raise ValueError(f"Pixel values must be in 0..255, got {X.min()}..{X.max()}. Pass raw images.")
    out = np.empty((len(X), NUM_PIXELS + 1), dtype=dtype)
    # x / 127.5 - 1 maps 0 -> -1 and 255 -> 1.
    np.multiply(X, 1 / 127.5, out=out[:, :-1], casting="unsafe")
    out[:, :-1] -= 1
    out[:, -1] = 1
    return out


def one_hot_encode(Y, num_classes=NUM_CLASSES, dtype=np.float64):
    """Labels [N] (or [N, 1], the course starter's shape) in 0..num_classes-1 -> one-hot [N, num_classes].

    The result has `dtype`.
    """
    Y = np.asarray(Y)
    if Y.ndim == 2 and Y.shape[1] == 1:
        Y = Y[:, 0]
    if Y.ndim != 1:
        raise ValueError(f"Y must be labels shaped [N] or [N, 1], got shape {Y.shape}.")
    if not np.issubdtype(Y.dtype, np.integer):
        raise ValueError(f"Labels must be integers, got dtype {Y.dtype}.")
    if Y.size and (Y.min() < 0 or Y.max() >= num_classes):
        raise ValueError(f"Labels must be in 0..{num_classes - 1}, got {Y.min()}..{Y.max()}.")
    out = np.zeros((len(Y), num_classes), dtype=dtype)
    out[np.arange(len(Y)), Y] = 1
    return out


class BatchLoader:
    """Mini-batches of (X, Y); one pass over it is one epoch.

    shuffle:   draw a fresh permutation from the seeded generator at the start
               of every epoch, so every sample appears exactly once per epoch
               and the order differs between epochs, reproducibly.
    drop_last: leave out the last batch if it is smaller than batch_size (as
               in training, so every step sees the same number of samples).
    """

    def __init__(self, X, Y, batch_size, shuffle=False, drop_last=True, seed=0):
        if len(X) != len(Y):
            raise ValueError(f"X and Y hold different numbers of samples: {len(X)} and {len(Y)}.")
        check_int("batch_size", batch_size, 1, max(len(X), 1),
                  " It cannot exceed the number of samples.")
        self.X, self.Y, self.batch_size = X, Y, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        order = self.rng.permutation(len(self.X)) if self.shuffle else None
        for i in range(len(self)):
            lo, hi = i * self.batch_size, (i + 1) * self.batch_size
            if order is None:
                yield self.X[lo:hi], self.Y[lo:hi]  # views, no copy
            else:
                idx = order[lo:hi]
                yield self.X[idx], self.Y[idx]
