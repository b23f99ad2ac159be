"""Speed never costs correctness: the float32 training path against float64."""

import numpy as np
import pytest

from src.models import BinaryModel, SoftmaxModel
from src.trainer import Trainer, _predict


@pytest.mark.parametrize("K", [1, 10])
def test_row_wise_prediction_equals_argmax_with_ties(K):
    rng = np.random.default_rng(0)
    z_T = rng.integers(-2, 3, (K, 500)).astype(np.float32)  # many ties
    expected = (z_T[0] >= 0).astype(int) if K == 1 else np.argmax(z_T, axis=0)
    assert np.array_equal(_predict(z_T), expected)
    assert np.array_equal(_predict(np.zeros((K, 3), np.float32)), [1 if K == 1 else 0] * 3)


@pytest.mark.parametrize("model_cls", [BinaryModel, SoftmaxModel])
def test_float32_validation_path_matches_float64_predictions(model_cls, mnist_dir):
    """The trainer's fast validation (float32, transposed, padded product) against
    float64 model.predict on the same weights: predictions may differ only where
    the float64 decision margin is within float32 rounding (1e-4 here)."""
    from src.data import load_full_mnist, one_hot_encode, pre_process_images
    split = load_full_mnist(3000, 1000, seed=0, data_dir=mnist_dir)
    X64, Xv64 = pre_process_images(split.X_train), pre_process_images(split.X_val)
    if model_cls is BinaryModel:
        Y64, Yv64 = (split.Y_train % 2).astype(float), (split.Y_val % 2).astype(float)
    else:
        Y64, Yv64 = one_hot_encode(split.Y_train), one_hot_encode(split.Y_val)
    model64 = model_cls()
    Trainer(model64, 0.05, 128, True, X64, Y64, Xv64, Yv64).train(2)  # some realistic weights
    model32 = model_cls(dtype=np.float32)
    model32.w[:] = model64.w
    trainer32 = Trainer(model32, 0.05, 128, True, X64.astype(np.float32), Y64, Xv64.astype(np.float32), Yv64)
    val_loss32, train_acc32, val_acc32 = trainer32.validation_step()

    for X, Y, acc32 in ((X64, Y64, train_acc32), (Xv64, Yv64, val_acc32)):
        z = model64.logits(X)
        if model_cls is BinaryModel:
            margin = np.abs(z[:, 0])
        else:
            top2 = np.sort(z, axis=1)[:, -2:]
            margin = top2[:, 1] - top2[:, 0]
        correct64 = model64.predict(X) == (Y[:, 0] if model_cls is BinaryModel else Y.argmax(axis=1))
        undecided = margin < 1e-4
        assert abs(acc32 - correct64.mean()) <= undecided.mean() + 1e-12
    assert val_loss32 == pytest.approx(model64.loss(Xv64, Yv64), rel=1e-5)
