"""Early stopping, the SGD trainer, and its checks."""

import math

import numpy as np
import pytest

from src.metrics import accuracy, confusion_matrix, most_confident_mistakes
from src.models import BinaryModel, SoftmaxModel
from src.trainer import EarlyStopping, Trainer, TrainingDivergedError

# --- early stopping on synthetic validation-loss sequences ----------------------------


def first_stop(losses, **kwargs):
    """Index of the check at which EarlyStopping says stop, or None."""
    stopper = EarlyStopping(**kwargs)
    for i, loss in enumerate(losses):
        if stopper.update(loss):
            return i
    return None


def test_fires_at_the_tenth_check_without_a_new_best():
    losses = [5.0, 4.0, 3.0] + [3.5] * 20
    assert first_stop(losses, patience=10) == 2 + 10


def test_does_not_fire_while_improving_or_after_a_late_improvement():
    assert first_stop(list(np.linspace(5, 1, 50)), patience=10) is None
    losses = [3.0] + [3.1] * 9 + [2.9] + [3.0] * 9  # 9 bad, a new best, 9 bad
    assert first_stop(losses, patience=10) is None
    assert first_stop(losses + [3.0], patience=10) == 20


def test_an_equal_loss_is_not_a_new_best():
    assert first_stop([1.0] * 4, patience=3) == 3


def test_patience_and_min_delta_are_configurable():
    assert first_stop([5, 6, 7], patience=2) == 2
    # improvements smaller than min_delta do not count
    assert first_stop([1.0, 0.99, 0.98, 0.97], patience=3, min_delta=0.05) == 3


@pytest.mark.parametrize("kwargs, message", [(dict(patience=0), "patience must be between 1"),
                                             (dict(min_delta=-1.0), "min_delta must be a finite number >= 0")])
def test_impossible_early_stopping_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)


# --- the trainer on synthetic data ----------------------------------------------------


def blobs(n=600, seed=0, dtype=np.float32):
    """Two separable classes in 785 features (last one the bias 1), labels [N] in {0, 1}."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(0, 0.3, (n, 785))
    X[:, :10] += np.where(y[:, None] == 1, 0.5, -0.5)
    X[:, -1] = 1
    return X.astype(dtype), y


def make_trainer(model=None, lr=0.1, batch_size=50, shuffle=False, early_stopping=None, seed=0, n=600):
    X, Y = blobs(n)
    model = model or BinaryModel(dtype=np.float32)
    return Trainer(model, lr, batch_size, shuffle, X[:500], Y[:500], X[500:], Y[500:],
                   early_stopping=early_stopping, seed=seed)


def test_validation_every_fifth_of_an_epoch_from_step_0():
    trainer = make_trainer(batch_size=50)  # 10 batches an epoch -> validate every 2 steps
    history = trainer.train(3)
    assert list(history.train_loss) == list(range(30))
    assert list(history.val_loss) == list(range(0, 30, 2))
    assert history.val_loss.keys() == history.train_accuracy.keys() == history.val_accuracy.keys()
    assert history.epochs_run == 3 and not history.early_stopped and history.stop_epoch is None


def test_short_epochs_validate_every_step():
    history = make_trainer(batch_size=200).train(2)  # 2 batches an epoch: 2 // 5 = 0 -> every step
    assert list(history.val_loss) == [0, 1, 2, 3]


def test_training_learns_and_records_the_loss_falling():
    trainer = make_trainer()
    history = trainer.train(5)
    assert history.val_accuracy[max(history.val_accuracy)] > 0.95
    assert history.val_loss[max(history.val_loss)] < 0.5 * math.log(2)


def test_accuracy_thresholds_binary_at_one_half_and_takes_argmax_for_softmax():
    binary = BinaryModel(num_features=2)
    binary.w[:] = [[1.0], [0.0]]
    X = np.array([[2.0, 1.0], [-2.0, 1.0], [0.0, 1.0]])  # sigmoid: 0.88, 0.12, exactly 0.5
    assert accuracy(binary, X, np.array([1, 0, 1])) == 1.0
    assert accuracy(binary, X, np.array([0, 0, 0])) == pytest.approx(1 / 3)
    softmax = SoftmaxModel(num_features=2)
    softmax.w[0, 3] = 1.0
    X = np.array([[1.0, 1.0], [1.0, 1.0]])
    assert accuracy(softmax, X, np.array([3, 4])) == 0.5


def test_early_stopping_stops_and_records_where():
    # A learning rate so large that the validation loss only jumps around.
    trainer = make_trainer(lr=50.0, early_stopping=EarlyStopping(patience=3))
    history = trainer.train(200)
    assert history.early_stopped and history.epochs_run < 200
    assert history.stop_step == max(history.val_loss)
    assert history.stop_epoch == history.epochs_run == history.stop_step // 10 + 1


def test_early_stopping_off_means_every_epoch():
    history = make_trainer(lr=50.0, early_stopping=None).train(20)
    assert history.epochs_run == 20 and not history.early_stopped
    assert len(history.train_loss) == 200


def test_restore_best_weights_puts_back_the_best_check():
    stopper = EarlyStopping(patience=3, restore_best_weights=True)
    trainer = make_trainer(lr=50.0, early_stopping=stopper)
    history = trainer.train(200)
    assert history.early_stopped
    best = min(history.val_loss.values())
    assert trainer.model.loss(trainer.X_val, trainer.Y_val) == pytest.approx(best, rel=1e-6)


def test_restore_best_weights_also_when_the_last_epoch_ends_training():
    # 20% of the labels flipped and a huge step: the validation loss jumps around, but
    # patience is never exhausted, so training ends by its epoch count.
    X, y = blobs(600)
    y = np.where(np.random.default_rng(1).random(600) < 0.2, 1 - y, y)
    stopper = EarlyStopping(patience=10**6, restore_best_weights=True)
    trainer = Trainer(BinaryModel(dtype=np.float32), 50.0, 50, True, X[:500], y[:500], X[500:], y[500:],
                      early_stopping=stopper)
    history = trainer.train(5)
    assert not history.early_stopped
    last, best = history.val_loss[max(history.val_loss)], min(history.val_loss.values())
    assert best < last  # otherwise the test would prove nothing
    assert trainer.model.loss(trainer.X_val, trainer.Y_val) == pytest.approx(best, rel=1e-6)


def test_early_stopping_starts_afresh_with_each_train_call():
    stopper = EarlyStopping(patience=3)
    first = make_trainer(lr=50.0, early_stopping=stopper).train(200)
    second = make_trainer(lr=50.0, early_stopping=stopper).train(200)  # same object, same data
    assert first.early_stopped and second.early_stopped
    assert second.stop_step == first.stop_step  # not stopped at once by the first run's best loss


def test_same_seed_same_history_bit_for_bit():
    a = make_trainer(shuffle=True, seed=3).train(3)
    b = make_trainer(shuffle=True, seed=3).train(3)
    c = make_trainer(shuffle=True, seed=4).train(3)
    assert a.train_loss == b.train_loss and a.val_accuracy == b.val_accuracy
    assert a.train_loss != c.train_loss


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0.0), "learning_rate must be a finite number > 0, got 0.0"),
    (dict(lr=-1.0), "learning_rate must be a finite number > 0"),
    (dict(lr=math.nan), "learning_rate must be a finite number > 0, got nan"),
    (dict(batch_size=0), "batch_size must be between 1 and 500, got 0"),
    (dict(batch_size=501), "batch_size must be between 1 and 500, got 501. It cannot exceed the 500"),
])
def test_impossible_hyperparameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_trainer(**kwargs)


def test_impossible_epoch_count_is_named():
    with pytest.raises(ValueError, match="num_epochs must be between 1 .* got 0"):
        make_trainer().train(0)


def test_divergence_stops_with_step_and_learning_rate():
    # Cross-entropy gradients are bounded, so only an absurd step overflows float32.
    X, _ = blobs(600)
    y = np.arange(600) % 10
    trainer = Trainer(SoftmaxModel(dtype=np.float32), 1e38, 50, False, X[:500], y[:500], X[500:], y[500:])
    with pytest.raises(TrainingDivergedError, match=r"diverged at step \d+ \(epoch 1\).*Lower the learning rate \(it is 1e\+38\)"):
        trainer.train(5)


def test_softmax_trainer_on_real_mnist_beats_chance_clearly(mnist_dir):
    from src.data import load_full_mnist, pre_process_images
    s = load_full_mnist(2000, 500, seed=0, data_dir=mnist_dir)
    X, Xv = pre_process_images(s.X_train, np.float32), pre_process_images(s.X_val, np.float32)
    history = Trainer(SoftmaxModel(dtype=np.float32), 0.01, 128, True, X, s.y_train, Xv, s.y_val).train(5)
    assert history.val_accuracy[max(history.val_accuracy)] > 0.7  # chance is 0.1; measured ~0.8


def test_progress_line_per_epoch_when_verbose(capsys):
    trainer = make_trainer()
    trainer.verbose = True
    trainer.train(2)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("epoch    2  train loss ") and "val loss" in lines[1] and "val acc" in lines[1]


def test_silent_unless_verbose(capsys):
    make_trainer().train(2)
    assert capsys.readouterr().err == ""


def test_progress_only_on_a_terminal_and_never_with_quiet(monkeypatch):
    import argparse
    import sys

    from src.experiment import verbose_wanted
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert verbose_wanted(argparse.Namespace(quiet=False))
    assert not verbose_wanted(argparse.Namespace(quiet=True))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not verbose_wanted(argparse.Namespace(quiet=False))
    # Under the main job, stderr is a pipe to it; it says when someone watches.
    monkeypatch.setenv("LINEAR_CLASSIFIERS_PROGRESS", "1")
    assert verbose_wanted(argparse.Namespace(quiet=False))
    assert not verbose_wanted(argparse.Namespace(quiet=True))


def test_empty_validation_set_is_named_not_taken_for_divergence():
    X, y = blobs(600)
    with pytest.raises(ValueError, match="The validation set is empty"):
        Trainer(BinaryModel(dtype=np.float32), 0.1, 50, False, X, y, X[:0], y[:0])


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), num_classes=3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_confusion_matrix_refuses_arrays_of_different_lengths_or_classes():
    with pytest.raises(ValueError, match=r"one length, got shapes \(3,\) and \(2,\)"):
        confusion_matrix(np.array([0, 1, 2]), np.array([0, 1]), num_classes=3)
    with pytest.raises(ValueError, match=r"predicted labels must be in 0..2, got 0..3"):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), num_classes=3)


def test_most_confident_mistakes_are_wrong_and_sorted_by_confidence():
    model = SoftmaxModel(num_features=2)
    model.w[0, :3] = [0.0, 1.0, 2.0]  # logits grow with x for classes 1 and 2
    X = np.array([[0.5, 1.0], [3.0, 1.0], [1.0, 1.0], [-2.0, 1.0]])
    labels = np.array([2, 1, 2, 1])  # predicted 2, 2, 2, 0: images 1 and 3 are wrong
    idx, predicted, confidence = most_confident_mistakes(model, X, labels, count=5)
    probabilities = model.forward(X)
    assert set(idx) == {1, 3} == {i for i in range(4) if probabilities[i].argmax() != labels[i]}
    assert list(confidence) == sorted(confidence, reverse=True)
    assert np.array_equal(predicted, probabilities[idx].argmax(axis=1))
    assert np.allclose(confidence, probabilities[idx].max(axis=1))
