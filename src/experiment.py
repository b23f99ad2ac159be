"""One training run from its settings, and what every training command shares.

    Settings -> load_data (pre-processed, checked) -> train_run -> run record

A run record is a plain dict, ready for JSON and for the plots:
    train_loss, val_loss, train_accuracy, val_accuracy: {step: value}
    final: loss and accuracy of the final weights on train, val and test
    test_accuracy, epochs_run, early_stopped, stop_epoch, stop_step, seconds (not
    written to the JSON: see `metrics`), l2_reg_lambda, weight_l2_norm, weight_roughness
"""

import math
import os
import sys
from dataclasses import asdict, dataclass, replace

import numpy as np

from .data import Split, deskew, load_binary_dataset, load_full_mnist, pre_process_images
from .errors import UserError
from .metrics import evaluate, weight_l2_norm, weight_roughness
from .models import BinaryModel, SoftmaxModel
from .parallel import run_parallel
from .trainer import EarlyStopping, Trainer

# Training runs in float32: half the bytes of float64 to stream through
# memory, and the same accuracy (the gradient checks stay in float64).
DTYPE = np.float32


@dataclass(frozen=True)
class Settings:
    """Everything that decides one training run; recorded in its JSON.

    The defaults are task 3's: softmax regression on all ten classes.
    model:   "softmax", or "binary" for classes[0] (target 1) against classes[1] (target 0).
    early_stopping_patience: validation checks without a new best before stopping; None: off.
    deskew:  shear every image upright (`src.data.deskew`) before pre-processing; the
             assignment's tasks do not.
    """

    model: str = "softmax"
    classes: tuple | None = None  # binary only: (class of target 1, class of target 0)
    learning_rate: float = 0.01
    batch_size: int = 128
    max_epochs: int = 50
    shuffle: bool = True
    early_stopping_patience: int | None = 10
    min_delta: float = 0.0
    restore_best_weights: bool = False
    l2_reg_lambda: float = 0.0
    seed: int = 0
    train_size: int = 18_000
    val_size: int = 2_000
    dataset: str = "mnist"
    dtype: str = np.dtype(DTYPE).name
    deskew: bool = False


TASK3 = Settings()
TASK2 = replace(TASK3, model="binary", classes=(2, 3), learning_rate=0.05, max_epochs=500, shuffle=False)


def from_args(base, args, **changes):
    """`base` with the data flags every training script takes (--seed, --train-size,
    --val-size, --dataset, --epochs) and `changes` applied."""
    return replace(base, seed=args.seed, train_size=args.train_size, val_size=args.val_size,
                   dataset=args.dataset, max_epochs=args.epochs, **changes)


def load_data(settings, data_dir=None, batch_flag=False):
    """The split `settings` asks for: images pre-processed to [N, 785] in DTYPE, integer labels.

    Raises UserError, naming the flag to change, when a set is empty or holds
    fewer images than one batch (batch_flag: the command has a --batch-size flag to suggest).
    """
    s = settings
    if s.model == "binary":
        split = load_binary_dataset(*s.classes, s.train_size, s.val_size, s.seed, data_dir, s.dataset)
    else:
        split = load_full_mnist(s.train_size, s.val_size, s.seed, data_dir, s.dataset)
    check_split(split, settings, batch_flag)
    images = [deskew(X) if s.deskew else X for X in split[::2]]
    X_train, X_val, X_test = (pre_process_images(X, DTYPE) for X in images)
    return Split(X_train, split.y_train, X_val, split.y_val, X_test, split.y_test)


def check_split(split, settings, batch_flag=False):
    """Every set non-empty and the training set at least one batch, else one line naming the flag."""
    s = settings
    what = f"images of classes {s.classes[0]} and {s.classes[1]}" if s.model == "binary" else "images"
    sizes = {"training": (len(split.X_train), "--train-size", s.train_size),
             "validation": (len(split.X_val), "--val-size", s.val_size),
             "held-out test": (len(split.X_test), "--val-size", s.val_size)}
    for name, (n, flag, value) in sizes.items():
        if n == 0:
            fix = "use a smaller --val-size" if name == "held-out test" else f"use a larger {flag}"
            raise UserError(f"{flag} {value} leaves no {name} {what}: {fix}.")
    n_train = sizes["training"][0]
    if n_train < s.batch_size:
        fix = "use a larger --train-size" + (" or a smaller --batch-size" if batch_flag else "")
        raise UserError(f"--train-size {s.train_size} leaves {n_train} training {what}, fewer than one "
                        f"batch of {s.batch_size}: {fix}.")


def make_model(settings):
    cls = BinaryModel if settings.model == "binary" else SoftmaxModel
    return cls(l2_reg_lambda=settings.l2_reg_lambda, dtype=settings.dtype)


def train_run(settings, data_dir=None, verbose=False, label="", data=None):
    """Train one model as `settings` say; returns (run record, final weights w).

    data: the split from `load_data(settings, data_dir)`, loaded here if None.
    A top-level function of plain arguments, so a process pool can run it.
    """
    data = load_data(settings, data_dir) if data is None else data
    model = make_model(settings)
    stopper = None
    if settings.early_stopping_patience is not None:
        stopper = EarlyStopping(settings.early_stopping_patience, settings.min_delta,
                                settings.restore_best_weights)
    trainer = Trainer(model, settings.learning_rate, settings.batch_size, settings.shuffle,
                      data.X_train, data.y_train, data.X_val, data.y_val,
                      early_stopping=stopper, seed=settings.seed, verbose=verbose, label=label)
    record = asdict(trainer.train(settings.max_epochs))
    final = {}
    for split in ("train", "val", "test"):
        loss, acc = evaluate(model, getattr(data, f"X_{split}"), getattr(data, f"y_{split}"))
        final[f"{split}_loss"], final[f"{split}_accuracy"] = loss, acc
    if not all(math.isfinite(v) for v in final.values()):
        raise UserError(f"The final weights give a non-finite loss ({final}): training diverged; "
                        f"lower --learning-rate (it is {settings.learning_rate:g}).")
    record.update(final=final, test_accuracy=final["test_accuracy"], l2_reg_lambda=settings.l2_reg_lambda,
                  weight_l2_norm=weight_l2_norm(model.w), weight_roughness=weight_roughness(model.w))
    return record, model.w


def train_all(settings_by_name, data, jobs=1, verbose=False):
    """Train every run of a task on `data` (from `load_data`), up to `jobs` at once,
    each with one BLAS thread. The pool's forked workers inherit `data`: no copy.

    Returns ({name: run record}, {name: weights}) in the order of settings_by_name;
    the results are the same whatever `jobs` is.
    """
    names = list(settings_by_name)
    calls = [(train_run, (settings_by_name[name], None, verbose, f"{name}: "), {"data": data}) for name in names]
    costs = [expected_work(s) for s in settings_by_name.values()]
    results = run_parallel(calls, jobs, costs)
    return {n: r for n, (r, _) in zip(names, results)}, {n: w for n, (_, w) in zip(names, results)}


def expected_work(settings):
    """A guess of a run's length, to start the longest first: its epochs times its images,
    less with larger batches (fewer steps, each a little longer) and with stronger L2, which
    lets early stopping fire sooner (task 4 at its defaults: lambda = 2 stops in epoch 5,
    lambda = 0 in epoch 49)."""
    s = settings
    return s.max_epochs * s.train_size / s.batch_size**0.5 / (1 + s.l2_reg_lambda)


def summary_line(task, name, record):
    """One line per run: epochs, the early stop, accuracies, the weights' norm, time."""
    when = (f"early stopping fired in epoch {record['stop_epoch']}" if record["early_stopped"]
            else "no early stop")
    return (f"{task}, {name}: {record['epochs_run']} epochs, {when}; val accuracy "
            f"{record['final']['val_accuracy']:.4f}, test accuracy {record['test_accuracy']:.4f}, "
            f"||w|| = {record['weight_l2_norm']:.2f} ({record['seconds']:.1f} s)")


# Set by the main job for its scripts when it writes to a terminal: their
# stderr is then a pipe to the job, but someone is watching.
PROGRESS_ENV = "LINEAR_CLASSIFIERS_PROGRESS"


def verbose_wanted(args):
    """Progress lines unless --quiet, and only when someone watches a terminal."""
    return not args.quiet and (sys.stderr.isatty() or os.environ.get(PROGRESS_ENV) == "1")


def _series(series):
    return {"steps": [int(s) for s in series], "values": [float(v) for v in series.values()]}


def settings_record(settings):
    """The settings as JSON; `deskew` only when on, so the assignment's records read as they always have."""
    record = asdict(settings)
    if not settings.deskew:
        del record["deskew"]
    return record


def metrics(settings_by_name, runs, **extra):
    """The JSON document of a task: {settings, runs, **extra}, series as {steps, values}.

    A run's time ("seconds") is left out: it differs from run to run, and the same
    settings must write the same bytes (the committed figures/ reproduce exactly);
    summary_line prints it.
    """
    out = {"settings": {name: settings_record(s) for name, s in settings_by_name.items()}, "runs": {}}
    for name, run in runs.items():
        out["runs"][name] = {k: _series(v) if isinstance(v, dict) and k != "final" else v
                             for k, v in run.items() if k != "seconds"}
    out.update(extra)
    return out
