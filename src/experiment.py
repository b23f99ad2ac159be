"""What the training scripts share: data preparation, one training run, metrics JSON.

A run record is a plain dict, ready for JSON and for the plots:
    train_loss, val_loss, train_accuracy, val_accuracy: {step: value}
    final: loss and accuracy of the final weights on train, val and test
    test_accuracy, epochs_run, early_stopped, stop_epoch, stop_step, seconds
"""

import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .data import Split, load_binary_dataset, load_full_mnist, one_hot_encode, pre_process_images
from .fileio import write_text_atomic
from .models import BinaryModel, SoftmaxModel
from .trainer import EarlyStopping, Trainer, evaluate

# Training runs in float32: half the bytes of float64 to stream through
# memory, and the same accuracy (the gradient checks stay in float64).
DTYPE = np.float32


@dataclass
class Settings:
    """One task's hyperparameters, recorded in its JSON."""

    learning_rate: float
    batch_size: int
    max_epochs: int
    shuffle: bool
    early_stopping_patience: int | None  # None: off
    seed: int
    train_size: int
    val_size: int
    dtype: str = np.dtype(DTYPE).name


def _prepare(split, encode_targets):
    """A Split with its images pre-processed ([N, 785]) and targets encoded, all in DTYPE."""
    X_train, X_val, X_test = (pre_process_images(x, DTYPE) for x in split[::2])
    Y_train, Y_val, Y_test = (encode_targets(y) for y in split[1::2])
    return Split(X_train, Y_train, X_val, Y_val, X_test, Y_test)


def binary_dataset(args):
    """Digit 2 (target 1) against digit 3 (target 0), targets [N, 1]."""
    split = load_binary_dataset(2, 3, args.train_size, args.val_size, args.seed, args.data_dir)
    return _prepare(split, lambda y: y.astype(DTYPE))


def softmax_dataset(args):
    """All ten digits, one-hot targets [N, 10]."""
    split = load_full_mnist(args.train_size, args.val_size, args.seed, args.data_dir)
    return _prepare(split, lambda y: one_hot_encode(y, dtype=DTYPE))


def train_run(model, data, settings, verbose=False):
    """Train `model` on `data` with `settings`; returns (run record, model)."""
    stopper = None
    if settings.early_stopping_patience is not None:
        stopper = EarlyStopping(patience=settings.early_stopping_patience)
    trainer = Trainer(model, settings.learning_rate, settings.batch_size, settings.shuffle,
                      data.X_train, data.Y_train, data.X_val, data.Y_val,
                      early_stopping=stopper, seed=settings.seed, verbose=verbose)
    history = trainer.train(settings.max_epochs)
    final = {}
    for split in ("train", "val", "test"):
        loss, acc = evaluate(model, getattr(data, f"X_{split}"), getattr(data, f"Y_{split}"))
        final[f"{split}_loss"], final[f"{split}_accuracy"] = loss, acc
    record = asdict(history)
    record.update(final=final, test_accuracy=final["test_accuracy"])
    return record, model


def weight_roughness(w):
    """How speckled the weight images are: the mean absolute difference between
    neighbouring pixels over the mean absolute weight (scale-free; 0 is flat).

    w: [785, 10]; the bias row is left out.
    """
    images = w[:-1].T.reshape(-1, 28, 28).astype(np.float64)
    neighbours = np.abs(np.diff(images, axis=1)).mean() + np.abs(np.diff(images, axis=2)).mean()
    return float(neighbours / np.abs(images).mean())


def make_model(kind, l2_reg_lambda=0.0):
    return {"binary": BinaryModel, "softmax": SoftmaxModel}[kind](l2_reg_lambda=l2_reg_lambda, dtype=DTYPE)


def verbose_wanted(args):
    """Progress lines unless --quiet, and only when someone watches a terminal."""
    return not args.quiet and sys.stderr.isatty()


def _series(series):
    return {"steps": [int(s) for s in series], "values": [float(v) for v in series.values()]}


def write_metrics(path, settings, runs, **extra):
    """Write {settings, runs, ...} as JSON, atomically. Series become {steps, values}."""
    out = {"settings": {name: asdict(s) for name, s in settings.items()}, "runs": {}}
    for name, run in runs.items():
        out["runs"][name] = {k: _series(v) if isinstance(v, dict) and k != "final" else v
                             for k, v in run.items()}
    out.update(extra)
    text = json.dumps(out, indent=1, allow_nan=False)
    # One line per list of numbers (a series has thousands), not one per number.
    text = re.sub(r"\[\s+([-+.\deE,\s]*?)\s+\]", lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)
    write_text_atomic(path, text + "\n")
    return path


def read_metrics(path):
    """The JSON written by write_metrics, with series back as {step: value}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for run in data["runs"].values():
        for key, value in run.items():
            if isinstance(value, dict) and set(value) == {"steps", "values"}:
                run[key] = dict(zip(value["steps"], value["values"]))
    return data
