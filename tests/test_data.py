"""Splits, pre-processing, one-hot targets and the batch loader."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.data import (
    BatchLoader,
    deskew,
    load_binary_dataset,
    load_full_mnist,
    one_hot_encode,
    pre_process_images,
)

# --- splits of real MNIST -------------------------------------------------------


def test_full_split_sizes_and_label_shapes(mnist_dir):
    s = load_full_mnist(18000, 2000, seed=0, data_dir=mnist_dir)
    assert s.X_train.shape == (18000, 784) and s.y_train.shape == (18000,)
    assert s.X_val.shape == (2000, 784) and s.y_val.shape == (2000,)
    assert s.X_test.shape == (8000, 784) and s.y_test.shape == (8000,)
    assert set(np.unique(s.y_train)) == set(range(10)) and s.y_train.dtype == np.int64


def test_same_seed_same_split_other_seed_other_split(mnist_dir):
    a, b = load_full_mnist(500, 100, seed=7, data_dir=mnist_dir), load_full_mnist(500, 100, seed=7, data_dir=mnist_dir)
    c = load_full_mnist(500, 100, seed=8, data_dir=mnist_dir)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a.X_train, c.X_train)


def test_validation_and_held_out_test_images_are_disjoint_and_cover_the_test_set(mnist_dir):
    from src.mnist import load_mnist
    test_images = load_mnist(mnist_dir)[2].reshape(10000, -1)
    s = load_full_mnist(1000, 2000, seed=3, data_dir=mnist_dir)
    # Identify each image by its bytes: val and test must not share one.
    val = {x.tobytes() for x in s.X_val}
    test = {x.tobytes() for x in s.X_test}
    assert not val & test
    assert val | test == {x.tobytes() for x in test_images}


def test_binary_dataset_keeps_two_digits_with_targets_1_and_0(mnist_dir):
    full = load_full_mnist(18000, 2000, seed=0, data_dir=mnist_dir)
    b = load_binary_dataset(2, 3, 18000, 2000, seed=0, data_dir=mnist_dir)
    for X, Y, X_full, Y_full in zip(b[::2], b[1::2], full[::2], full[1::2]):
        assert Y.shape == (len(X),) and set(np.unique(Y)) == {0, 1}
        assert (Y == 1).sum() == (Y_full == 2).sum() and (Y == 0).sum() == (Y_full == 3).sum()
        assert np.array_equal(X, X_full[np.isin(Y_full, (2, 3))])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(train_size=0), "train_size must be between 1 and 60000, got 0"),
        (dict(train_size=60001), "train_size must be between 1 and 60000"),
        (dict(val_size=10000), "val_size must be between 1 and 9999.*held out"),
        (dict(train_size=10.5), "train_size must be an integer"),
        (dict(seed=-1), "seed must be between 0"),
    ],
)
def test_impossible_split_sizes_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_full_mnist(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(class1=3, class2=3), "must be different digits, both are 3"),
        (dict(class1=10), "class1 must be between 0 and 9, got 10"),
        (dict(class2=-1), "class2 must be between 0 and 9"),
    ],
)
def test_impossible_binary_requests_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_binary_dataset(**kwargs)


# --- pre-processing and one-hot -----------------------------------------------


def test_pre_process_maps_0_to_minus_1_and_255_to_1_and_adds_bias():
    X = np.array([[0] * 392 + [255] * 392, list(range(256)) * 3 + [0] * 16], dtype=np.uint8)
    out = pre_process_images(X)
    assert out.shape == (2, 785) and out.dtype == np.float64
    assert out[0, 0] == -1 and out[0, 783] == 1 and np.all(out[:, -1] == 1)
    assert np.allclose(out[1, :256], np.arange(256) / 127.5 - 1, rtol=0, atol=1e-15)
    assert pre_process_images(X, dtype=np.float32).dtype == np.float32


def test_pre_process_real_images_range(mnist_dir):
    out = pre_process_images(load_full_mnist(1000, 10, data_dir=mnist_dir).X_train)
    assert out.shape == (1000, 785) and out.min() == -1 and out.max() == 1


@pytest.mark.parametrize(
    "X, message",
    [(np.zeros((2, 785)), r"must be \[N, 784\]"), (np.full((1, 784), 256.0), "in 0..255"),
     (np.full((1, 784), -1), "in 0..255")],
)
def test_pre_process_refuses_bad_input(X, message):
    with pytest.raises(ValueError, match=message):
        pre_process_images(X)


def test_one_hot_encode():
    Y = np.array([3, 0, 9])
    expected = np.zeros((3, 10))
    expected[[0, 1, 2], [3, 0, 9]] = 1
    assert np.array_equal(one_hot_encode(Y, 10), expected)


def test_one_hot_encode_accepts_the_starters_labels_shaped_n_by_1():
    Y = np.array([[3], [0], [9]])
    assert np.array_equal(one_hot_encode(Y, 10), one_hot_encode(Y[:, 0], 10))


@pytest.mark.parametrize("Y, message", [([10], r"in 0..9"), ([0.5], "integers"), (np.zeros((2, 2), int), "shaped")])
def test_one_hot_refuses_bad_labels(Y, message):
    with pytest.raises(ValueError, match=message):
        one_hot_encode(np.array(Y))


# --- batch loader -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 60), drop_last=st.booleans(), shuffle=st.booleans())
def test_every_sample_once_per_epoch(n, batch_size, drop_last, shuffle):
    batch_size = min(batch_size, n)
    X, Y = np.arange(n)[:, None], np.arange(n)[:, None] * 10
    loader = BatchLoader(X, Y, batch_size, shuffle=shuffle, drop_last=drop_last, seed=1)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        seen = np.concatenate([x[:, 0] for x, _ in batches])
        assert all(np.array_equal(y, x * 10) for x, y in batches)  # pairs stay together
        if drop_last:
            assert all(len(x) == batch_size for x, _ in batches) and len(seen) == n - n % batch_size
        else:
            assert len(seen) == n
        assert len(set(seen.tolist())) == len(seen)  # nothing twice
        if not shuffle:
            assert seen.tolist() == list(range(len(seen)))


def test_shuffle_draws_a_fresh_seeded_permutation_each_epoch():
    X = np.arange(100)[:, None]
    epochs = [np.concatenate([x for x, _ in BatchLoader(X, X, 10, shuffle=True, seed=5)]) for _ in range(2)]
    assert np.array_equal(epochs[0], epochs[1])  # same seed, same first epoch
    loader = BatchLoader(X, X, 10, shuffle=True, seed=5)
    first, second = (np.concatenate([x for x, _ in loader]) for _ in range(2))
    assert not np.array_equal(first, second)  # a new order in the next epoch
    assert sorted(first[:, 0]) == sorted(second[:, 0]) == list(range(100))


def test_batch_loader_refuses_impossible_sizes():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="batch_size must be between 1 and 5, got 6"):
        BatchLoader(X, X, 6)
    with pytest.raises(ValueError, match="different numbers of samples: 5 and 4"):
        BatchLoader(X, X[:4], 2)


def test_deskew_makes_a_hand_made_slanted_stroke_upright():
    # A 3-px-wide stroke leaning right by half a column per row (like an italic 1), brushed by hand.
    image = np.zeros((28, 28), dtype=np.uint8)
    for r in range(4, 24):
        c = round(14 + 0.5 * (14 - r))
        image[r, c - 1:c + 2] = 255
    upright = deskew(image)
    rows, cols = np.nonzero(upright > 127)
    slope = np.polyfit(rows, cols, 1)[0]
    assert abs(slope) < 0.05, slope  # columns per row, from 0.5 before (measured: 0.011)
    assert abs(cols.mean() - 14) < 0.5  # the centre of mass on column 14, as MNIST has it
    assert deskew(np.zeros((3, 784), dtype=np.uint8)).shape == (3, 784)  # empty images stay empty
    assert not deskew(np.zeros((3, 784), dtype=np.uint8)).any()


def test_deskew_leaves_an_upright_centred_stroke_alone_and_centres_an_upright_one():
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 4:24, 13:16] = 200  # centre of mass on column 14
    np.testing.assert_array_equal(deskew(image), image)
    moved = np.roll(image, -3, axis=2)
    np.testing.assert_array_equal(deskew(moved), image)
