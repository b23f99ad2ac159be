"""The report: figures/README.md, rebuilt from the runs' metrics and figures.

    python -m src.report [--figures-dir figures]

Every number in it is read from task2.json, task3.json and task4.json, and
every sentence that draws a conclusion is chosen by the numbers it states,
so the report cannot drift from the runs that made the figures. A metrics
file that is missing, damaged, of an older version, or that does not list
the figures beside it (outputs of two runs) is refused with one line naming
the file and the command that rewrites it. The main job (`python -m src`)
rebuilds the report after the task scripts.
"""

import argparse
import math
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import cli, plots
from .errors import UserError
from .fileio import write_text_atomic
from .mnist import DATASETS
from .outputs import read_metrics_file, verify_files

# The runs each task writes (task4: one run per lambda, any names).
RUN_NAMES = {"task2": ("no_shuffle", "shuffle"), "task3": ("softmax", "softmax_overfitting"), "task4": None}
# Each curve through training, with the largest value it can take.
SERIES_HIGH = {"train_loss": math.inf, "val_loss": math.inf, "train_accuracy": 1.0, "val_accuracy": 1.0}
FINAL_HIGH = {f"{split}_{kind}": SERIES_HIGH[f"train_{kind}"]
              for split in ("train", "val", "test") for kind in ("loss", "accuracy")}

# When a difference counts. Below these, the report says "about the same".
SAME_SPREAD = 0.10  # 2e: relative change of the validation accuracy's step-to-step spread
OVERFIT_RISE = 0.01  # 3d: validation loss more than 1% above its minimum at the end: overfitting
SAME_ACCURACY = 0.001  # 4d: 0.1 percentage points, two images of a 2,000-image validation set
OVERFIT_GAP = 0.01  # 4d: training accuracy more than 1 point above validation: overfitting
SAME_ROUGHNESS = 0.05  # 4b: relative change of the weight images' roughness


class ReportError(UserError):
    """A metrics file or figure the report cannot use; the message names it and the script to rerun."""


# --- the numbers as the report writes them -------------------------------------------------------

def fmt(x):
    """How every loss and accuracy is written in the report (tests look for it); None: no such images."""
    return "n/a" if x is None else f"{x:.4f}"


def points(x):
    """A fraction as percentage points."""
    return f"{100 * x:.2f}"


def plural(count, noun):
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class Series(NamedTuple):
    """One metric through training: values[i] was measured at global step steps[i] (increasing)."""

    steps: tuple
    values: tuple

    def first(self):
        return self.steps[0], self.values[0]

    def last(self):
        return self.steps[-1], self.values[-1]

    def lowest(self):
        """(step, value) of the smallest value, the earliest if it occurs twice."""
        i = min(range(len(self.values)), key=self.values.__getitem__)
        return self.steps[i], self.values[i]


def series_from_json(obj):
    """A series as write_metrics stores it, {"steps": [...], "values": [...]}, as a Series."""
    return Series(tuple(obj["steps"]), tuple(obj["values"]))


class Dataset(NamedTuple):
    """What the runs classified: the words the report uses for it."""

    title: str  # "MNIST" or "Fashion-MNIST"
    class_names: tuple  # by label
    digits: bool  # MNIST: the classes are digits

    @classmethod
    def named(cls, name, class_names=None):
        info = DATASETS[name]
        return cls(info.title, tuple(class_names or info.class_names), name == "mnist")

    def noun(self, count=1):
        if self.digits:
            return "digit" if count == 1 else "digits"
        return "class" if count == 1 else "classes"

    def side(self, label, target):
        """One side of the binary task: 'digit 2 (target 1)' or 'Pullover (class 2, target 1)'."""
        if self.digits:
            return f"digit {label} (target {target})"
        return f"{self.class_names[label]} (class {label}, target {target})"

    def a(self, label):
        """'a 2', 'an 8', 'a Shirt', 'an Ankle boot'."""
        name = self.class_names[label]
        return f"{'an' if name[0] in 'AEIOUaeiou8' else 'a'} {name}"


# --- reading and checking the metrics --------------------------------------------------------------

class _Check:
    """Checks one task's metrics file; every problem is one ReportError naming the
    file, the key (a dotted path such as runs.shuffle.final.val_accuracy) and the
    command that rewrites the file."""

    def __init__(self, folder, task):
        self.folder, self.task, self.path = Path(folder), task, Path(folder) / f"{task}.json"
        self.script = f"{task}.py --out-dir {folder}"  # as src.outputs names it: `python {script}`
        self.command = f"`python {self.script}`"

    def fail(self, key, problem):
        raise ReportError(f"{self.path}: {key} {problem}; rerun {self.command}.")

    def reraise(self, err):
        """Turn another module's UserError about this file into a ReportError naming the command."""
        message = str(err)
        if self.command.strip("`") not in message:
            message = f"{message.rstrip('.')} ({self.command})."
        raise ReportError(message) from err

    def number(self, value, key, low=0.0, high=math.inf):
        """A finite number in [low, high]."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"is {value!r}, not a number")
        if not math.isfinite(value):
            self.fail(key, f"is {value!r}, not a finite number")
        if not low <= value <= high:
            self.fail(key, f"is {value!r}, outside [{low:g}, {high:g}]")
        return float(value)

    def integer(self, value, key, low=0, high=None):
        """A whole number in [low, high] (no upper bound if high is None)."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"is {value!r}, not a whole number")
        if value < low or (high is not None and value > high):
            self.fail(key, f"is {value}, outside [{low}, {'inf' if high is None else high}]")
        return value

    def series(self, value, key, high):
        """A non-empty {steps, values} of one length: steps increasing, values in [0, high]."""
        obj = _Object(self, value, key)
        steps, values = obj.get("steps"), obj.get("values")
        if not isinstance(steps, list) or not isinstance(values, list) or len(steps) != len(values):
            self.fail(key, "has steps and values that are not two lists of one length")
        if not steps:
            self.fail(key, "is an empty series")
        for i, (step, v) in enumerate(zip(steps, values)):
            self.integer(step, f"{key}.steps[{i}]", low=steps[i - 1] + 1 if i else 0)
            self.number(v, f"{key}.values[{i}]", high=high)
        return series_from_json(value)


class _Object:
    """A JSON object inside a metrics file, read key by key through its _Check."""

    def __init__(self, check, value, key):
        if not isinstance(value, dict):
            check.fail(key, f"is a JSON {type(value).__name__}, not an object")
        self.check, self.value, self.key = check, value, key

    def key_of(self, name):
        return f"{self.key}.{name}" if self.key else name

    def get(self, name):
        if name not in self.value:
            self.check.fail(self.key_of(name), "is missing")
        return self.value[name]

    def object(self, name):
        return _Object(self.check, self.get(name), self.key_of(name))

    def number(self, name, low=0.0, high=math.inf):
        return self.check.number(self.get(name), self.key_of(name), low, high)

    def integer(self, name, low=0, high=None):
        return self.check.integer(self.get(name), self.key_of(name), low, high)

    def flag(self, name):
        value = self.get(name)
        if not isinstance(value, bool):
            self.check.fail(self.key_of(name), f"is {value!r}, not true or false")
        return value

    def series(self, name, high):
        return self.check.series(self.get(name), self.key_of(name), high)


def check_settings(settings):
    """The hyperparameters the report states, with the dataset and the binary task's classes."""
    out = {"learning_rate": settings.number("learning_rate"), "batch_size": settings.integer("batch_size", 1),
           "max_epochs": settings.integer("max_epochs", 1), "shuffle": settings.flag("shuffle"),
           "early_stopping_patience": None}
    if settings.get("early_stopping_patience") is not None:
        out["early_stopping_patience"] = settings.integer("early_stopping_patience", 1)
    out["dataset"] = settings.value.get("dataset", "mnist")
    if out["dataset"] not in DATASETS:
        settings.check.fail(settings.key_of("dataset"),
                            f"is {out['dataset']!r}, not one of {', '.join(DATASETS)}")
    names = settings.value.get("class_names")
    if names is not None and not (isinstance(names, list) and len(names) == 10
                                  and all(isinstance(n, str) and n for n in names)):
        settings.check.fail(settings.key_of("class_names"), "is not a list of ten names")
    out["class_names"] = tuple(names) if names else None
    classes = settings.value.get("classes") or [2, 3]  # the binary task's classes: target 1, target 0
    if not (isinstance(classes, list) and len(classes) == 2):
        settings.check.fail(settings.key_of("classes"), f"is {classes!r}, not two classes")
    out["classes"] = tuple(settings.check.integer(label, settings.key_of(f"classes[{i}]"), 0, 9)
                           for i, label in enumerate(classes))
    return out


def check_stop(run, epochs_run, steps_per_epoch, settings):
    """early_stopped, stop_epoch and stop_step agree with each other and with the settings."""
    stopped, epoch, step = run.flag("early_stopped"), run.get("stop_epoch"), run.get("stop_step")
    if not stopped:
        if epoch is not None or step is not None:
            run.check.fail(run.key_of("stop_epoch"), "is set although early_stopped is false")
        return stopped, None, None
    if settings["early_stopping_patience"] is None:
        run.check.fail(run.key_of("early_stopped"), "is true although early stopping was off")
    if run.integer("stop_epoch", 1) != epochs_run:
        run.check.fail(run.key_of("stop_epoch"), f"is {epoch}, not the last epoch run ({epochs_run})")
    if run.integer("stop_step") // steps_per_epoch + 1 != epoch:
        run.check.fail(run.key_of("stop_step"), f"is {step}, not a step of epoch {epoch}")
    return stopped, epoch, step


def check_run(run, settings):
    """One run record: its curves, final numbers and the fields of its early stop."""
    out = {name: run.series(name, high) for name, high in SERIES_HIGH.items()}
    final = run.object("final")
    out["final"] = {}
    for name, high in FINAL_HIGH.items():
        # An empty held-out test set has no test loss or accuracy (null).
        empty_test = name.startswith("test_") and final.get(name) is None
        out["final"][name] = None if empty_test else final.number(name, high=high)
    if (out["final"]["test_loss"] is None) != (out["final"]["test_accuracy"] is None):
        run.check.fail(final.key_of("test_loss"), "and test_accuracy are not both null or both numbers")
    out["steps_per_epoch"] = run.integer("steps_per_epoch", 1)
    out["epochs_run"] = run.integer("epochs_run", 1, settings["max_epochs"])
    out["early_stopped"], out["stop_epoch"], out["stop_step"] = check_stop(
        run, out["epochs_run"], out["steps_per_epoch"], settings)
    return out


def check_test_analysis(metrics):
    """task3's confusion matrix (10 x 10 counts) and its most confident mistakes."""
    check, matrix = metrics.check, metrics.get("confusion_matrix")
    if not (isinstance(matrix, list) and len(matrix) == 10
            and all(isinstance(row, list) and len(row) == 10 for row in matrix)):
        check.fail("confusion_matrix", "is not a 10 x 10 list of lists")
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            check.integer(count, f"confusion_matrix[{i}][{j}]")
    matrix = np.array(matrix, dtype=np.int64)
    mistakes = metrics.get("misclassified")
    if not isinstance(mistakes, list):
        check.fail("misclassified", "is not a list")
    for i, value in enumerate(mistakes):
        mistake = _Object(check, value, f"misclassified[{i}]")
        if mistake.integer("predicted", 0, 9) == mistake.integer("true", 0, 9):
            check.fail(mistake.key_of("predicted"), "equals its true class: not a mistake")
        mistake.number("probability", high=1.0)
    if len(mistakes) > matrix.sum() - np.trace(matrix):
        check.fail("misclassified", "lists more mistakes than the confusion matrix counts")
    return {"confusion_matrix": matrix, "misclassified": mistakes}


def check_lambdas(runs_json, runs):
    """task4's runs: l2_reg_lambda (distinct, 0 among them, one above 0), norm and roughness."""
    for name, run in runs.items():
        for field in ("l2_reg_lambda", "weight_l2_norm", "weight_roughness"):
            run[field] = runs_json.object(name).number(field)
    lambdas = sorted(run["l2_reg_lambda"] for run in runs.values())
    labels = [f"{lam:g}" for lam in lambdas]  # as the tables write them: one row each
    if len(set(labels)) != len(labels):
        runs_json.check.fail("runs", f"has two runs with one lambda ({', '.join(labels)})")
    if lambdas[0] != 0 or len(lambdas) < 2:
        runs_json.check.fail("runs", "must hold a run with lambda = 0 and one with lambda > 0 to compare")


def check_figures(metrics):
    """The figures the report links are the ones this run wrote: listed in "files", with their digests."""
    check = metrics.check
    if "files" not in metrics.value:
        raise ReportError(f"{check.path} lists no figures (\"files\"): the folder was written by an older "
                          f"version of {check.task}.py; rerun {check.command}.")
    files = metrics.object("files").value
    for name, digest in files.items():
        if "/" in name or not isinstance(digest, str):
            check.fail(f"files.{name}", "is not a figure's name with its SHA-256 digest")
    for name in plots.FIGURES[check.task]:
        if name not in files:
            raise ReportError(f"{check.folder / name} is not listed in {check.path} (\"files\"): it is "
                              f"not an output of that run; rerun {check.command}.")
    try:
        verify_files(check.folder, files, check.path, check.script)
    except UserError as err:
        check.reraise(err)


def read_task(folder, task):
    """task's metrics, checked: {settings, runs, (task3) confusion_matrix, misclassified}.

    Series become Series; raises ReportError on the first problem.
    """
    check = _Check(folder, task)
    try:
        metrics = _Object(check, read_metrics_file(check.path, check.script), "")
    except UserError as err:
        check.reraise(err)
    check_figures(metrics)
    settings_json, runs_json = metrics.object("settings"), metrics.object("runs")
    names = RUN_NAMES[task] or tuple(runs_json.value)
    if not names:
        check.fail("runs", "is empty")
    out = {"settings": {}, "runs": {}}
    for name in names:
        settings = out["settings"][name] = check_settings(settings_json.object(name))
        out["runs"][name] = check_run(runs_json.object(name), settings)
    if task == "task3":
        out.update(check_test_analysis(metrics))
    if task == "task4":
        check_lambdas(runs_json, out["runs"])
    return out


def dataset_of(folder, tasks):
    """The one Dataset every run was trained on (with the first class names a run
    records); ReportError if two runs were trained on different datasets."""
    seen, names = {}, None
    for task, metrics in tasks.items():
        for name, settings in metrics["settings"].items():
            seen.setdefault(settings["dataset"], (task, name))
            names = names or settings["class_names"]
    if len(seen) > 1:
        (first, (task1, run1)), (second, (task2, run2)) = list(seen.items())[:2]
        raise ReportError(f"{Path(folder) / f'{task2}.json'}: run {run2} was trained on {second} but "
                          f"{task1}.json's run {run1} on {first}; rerun every task script with one "
                          f"--dataset and --out-dir {folder}.")
    return Dataset.named(next(iter(seen)), names)


class Results(NamedTuple):
    task2: dict
    task3: dict
    task4: dict
    data: Dataset


def load(figures_dir):
    """Every task's checked metrics and the dataset they describe."""
    tasks = {task: read_task(figures_dir, task) for task in plots.FIGURES}
    return Results(**tasks, data=dataset_of(figures_dir, tasks))


# --- pieces shared by the sections ---------------------------------------------------------------

def epoch_of(step, run):
    """The 1-based epoch in which a global step falls."""
    return step // run["steps_per_epoch"] + 1


def test_accuracy_text(final):
    if final["test_accuracy"] is None:
        return "no held-out test images"
    return f"held-out test accuracy {fmt(final['test_accuracy'])}"


def final_table(runs, labels):
    """One row per run: epochs, early stop and the final weights' losses and accuracies.

    labels: {row label: run name}.
    """
    rows = ["| run | epochs | early stop (epoch) | train loss | val loss | test loss "
            "| train acc. | val acc. | test acc. |", "|---|---|---|---|---|---|---|---|---|"]
    for label, name in labels.items():
        run, final = runs[name], runs[name]["final"]
        stop = str(run["stop_epoch"]) if run["early_stopped"] else "no"
        numbers = " | ".join(fmt(final[f"{split}_{kind}"]) for kind in ("loss", "accuracy")
                             for split in ("train", "val", "test"))
        rows.append(f"| {label} | {run['epochs_run']} | {stop} | {numbers} |")
    return "\n".join(rows)


def stop_text(run, settings, bold=False):
    """'fired in epoch 33' (bold: the epoch in bold), 'did not fire in 50 epochs' or 'was off'."""
    if run["early_stopped"]:
        return f"fired in epoch **{run['stop_epoch']}**" if bold else f"fired in epoch {run['stop_epoch']}"
    if settings["early_stopping_patience"] is None:
        return "was off"
    return f"did not fire in {run['epochs_run']} epochs"


def runs_by_lambda(task4):
    """task4's runs, lambda = 0 first."""
    return sorted(task4["runs"].values(), key=lambda run: run["l2_reg_lambda"])


# --- the sections, in the order of the assignment ------------------------------------------------

def intro(data):
    return [f"# Report: linear classifiers on {data.title}",
            "",
            "Generated by `python -m src.report` from the metrics (`task2.json`, `task3.json`, "
            "`task4.json`) and figures in this folder; rerun the task scripts, then this, to refresh it. "
            "Losses are cross-entropy; accuracies are fractions. *Validation*: images drawn from the "
            f"{data.title} test set; *test*: the other test images, never used in training or early "
            "stopping.",
            DERIVATIONS]


DERIVATIONS = r"""
## 1a: the gradient of logistic regression

With $\hat y = \sigma(z)$, $z = w^\top x$ and $\sigma'(z) = \sigma(z)(1 - \sigma(z))$,
the cross-entropy of one image is $C = -\big(y \ln \hat y + (1 - y) \ln(1 - \hat y)\big)$, so

$$
\frac{\partial C}{\partial w_i}
= -\left(\frac{y}{\hat y} - \frac{1 - y}{1 - \hat y}\right) \hat y (1 - \hat y)\, x_i
= -\big(y (1 - \hat y) - (1 - y) \hat y\big)\, x_i
= -(y - \hat y)\, x_i .
$$

Over a batch of $N$ images the gradient is the mean, $-\frac1N X^\top (y - \hat y)$:
`BinaryModel.backward` in `src/models.py`.

## 1b: the gradient of softmax regression

With $z_k = \sum_j w_{kj} x_j$, $\hat y_k = e^{z_k} / \sum_{k'} e^{z_{k'}}$ and one-hot targets
($\sum_k y_k = 1$), the cross-entropy is

$$
C = -\sum_k y_k \ln \hat y_k = -\sum_k y_k z_k + \ln \sum_{k'} e^{z_{k'}},
\qquad
\frac{\partial C}{\partial z_k} = -y_k + \hat y_k ,
$$

and since $\partial z_k / \partial w_{kj} = x_j$,

$$
\frac{\partial C}{\partial w_{kj}} = -x_j \,(y_k - \hat y_k).
$$

The same shape as 1a, so both models share one `backward`: $-\frac1N X^\top (Y - \hat Y)$
(the code stores $w$ as [785, 10], i.e. $w_{kj}$ at `w[j, k]`). `task2a.py` and `task3a.py`
check both against central differences on every weight.
"""


def section_2b(task2, data):
    plain, settings = task2["runs"]["no_shuffle"], task2["settings"]["no_shuffle"]
    first_step, first_loss = plain["val_loss"].first()
    best_step, best_loss = plain["val_loss"].lowest()
    if best_loss < first_loss:
        course = (f"The validation loss fell from {fmt(first_loss)} at step {first_step} to its lowest, "
                  f"{fmt(best_loss)}, at step {best_step}")
    else:
        course = (f"The validation loss never fell below its first value, {fmt(first_loss)} at step "
                  f"{first_step}")
    positive, negative = settings["classes"]
    task = f"{data.side(positive, 1)} against {data.side(negative, 0)}"
    return ["## 2b: logistic regression, training and validation loss",
            "",
            "![2b](task2b_binary_train_loss.png)",
            "",
            f"{task[0].upper()}{task[1:]}: {plain['steps_per_epoch']} steps an epoch (batch "
            f"{settings['batch_size']}, learning rate {settings['learning_rate']:g}, "
            f"{'shuffling' if settings['shuffle'] else 'no shuffling'}). {course}; the final weights give:",
            "",
            final_table(task2["runs"], {"no shuffling": "no_shuffle", "shuffling (2e)": "shuffle"}),
            ""]


def section_2c(task2):
    final = task2["runs"]["no_shuffle"]["final"]
    return ["## 2c: logistic regression, accuracy",
            "",
            "![2c](task2c_binary_train_accuracy.png)",
            "",
            f"Final training accuracy {fmt(final['train_accuracy'])}, validation accuracy "
            f"{fmt(final['val_accuracy'])}, {test_accuracy_text(final)}.",
            ""]


def section_2d(task2):
    plain, settings = task2["runs"]["no_shuffle"], task2["settings"]["no_shuffle"]
    patience = settings["early_stopping_patience"]
    if plain["early_stopped"]:
        best_step, _ = plain["val_loss"].lowest()
        checks_after = sum(best_step < step <= plain["stop_step"] for step in plain["val_loss"].steps)
        text = (f"Early stopping (patience {patience} validation checks) fired in epoch "
                f"**{plain['stop_epoch']}** of at most {settings['max_epochs']} (step {plain['stop_step']}), "
                f"{plural(checks_after, 'check')} after the lowest validation loss at step {best_step} "
                f"(epoch {epoch_of(best_step, plain)}). The dotted line in 2b and 2c marks it.")
    elif patience is None:
        text = f"Early stopping was off; the run trained for all {plain['epochs_run']} epochs."
    else:
        text = (f"Early stopping (patience {patience} validation checks) did not fire within "
                f"{plain['epochs_run']} epochs.")
    return ["## 2d: early stopping", "", text, ""]


def step_spread(run):
    """Standard deviation of the change in validation accuracy between consecutive
    checks after the first epoch (whose climb from chance would dominate it);
    None with fewer than three such checks."""
    values = [v for step, v in zip(*run["val_accuracy"]) if step >= run["steps_per_epoch"]]
    return float(np.std(np.diff(values))) if len(values) >= 3 else None


def shuffling_verdict(spread_plain, spread_shuffled):
    """What the spread of the validation accuracy says about shuffling."""
    measure = ("the validation accuracy's step-to-step spread (standard deviation of the change between "
               "consecutive checks after the first epoch)")
    if spread_plain is None or spread_shuffled is None:
        return f"There are too few validation checks after the first epoch to compare {measure}."
    change = f"from {points(spread_plain)} to {points(spread_shuffled)} percentage points"
    if spread_shuffled < (1 - SAME_SPREAD) * spread_plain:
        return (f"With shuffling {measure} fell {change}: shuffling made training steadier. Without "
                "shuffling every epoch shows the batches in the same order, so the same batches pull the "
                "weights the same way at the same point of every epoch.")
    if spread_shuffled > (1 + SAME_SPREAD) * spread_plain:
        return (f"With shuffling {measure} rose {change}: by this measure shuffling did not make training "
                "steadier in this run; the pull of the same batches at the same point of every epoch, "
                "without shuffling, is no larger here than the noise of freshly shuffled batches.")
    return (f"With shuffling {measure} stayed about the same ({change}): shuffling made little difference "
            "to the steadiness of training in this run.")


def section_2e(task2):
    plain, shuffled = task2["runs"]["no_shuffle"], task2["runs"]["shuffle"]
    settings = task2["settings"]
    without = stop_text(plain, settings["no_shuffle"])
    if shuffled["early_stopped"] and plain["early_stopped"]:
        without = without.removeprefix("fired ")  # "fired in epoch 24 with shuffling and in epoch 33 without"
    return ["## 2e: shuffling",
            "",
            "![2e loss](task2e_train_loss_with_shuffle.png)",
            "",
            "![2e accuracy](task2e_train_accuracy_shuffle_difference.png)",
            "",
            f"{shuffling_verdict(step_spread(plain), step_spread(shuffled))} Early stopping "
            f"{stop_text(shuffled, settings['shuffle'])} with shuffling and {without}"
            " without; the final validation accuracy was "
            f"{fmt(shuffled['final']['val_accuracy'])} with shuffling against "
            f"{fmt(plain['final']['val_accuracy'])} without.",
            ""]


def section_3b(task3, data):
    settings, main = task3["settings"], task3["settings"]["softmax"]
    labels = {}
    for name, suffix in (("softmax", ""), ("softmax_overfitting", " (3d)")):
        stopping = "early stopping" if settings[name]["early_stopping_patience"] else "no early stopping"
        labels[f"{settings[name]['max_epochs']} epochs, {stopping}{suffix}"] = name
    return ["## 3b: softmax regression, loss",
            "",
            "![3b](task3b_softmax_train_loss.png)",
            "",
            f"All ten {data.noun(10)}, learning rate {main['learning_rate']:g}, batch {main['batch_size']}, "
            f"up to {main['max_epochs']} epochs {'with' if main['shuffle'] else 'without'} shuffling; early "
            f"stopping {stop_text(task3['runs']['softmax'], main, bold=True)}.",
            "",
            final_table(task3["runs"], labels),
            ""]


def section_3c(task3):
    final = task3["runs"]["softmax"]["final"]
    return ["## 3c: softmax regression, accuracy",
            "",
            "![3c](task3c_softmax_train_accuracy.png)",
            "",
            f"Final validation accuracy {fmt(final['val_accuracy'])}, {test_accuracy_text(final)}.",
            ""]


def overfitting_verdict(val_loss, gap, data):
    """Whether training on without early stopping overfits, from the validation loss's
    rise from its minimum; gap: final training minus validation accuracy."""
    (best_step, best), (last_step, last) = val_loss.lowest(), val_loss.last()
    rise = last - best
    share = f" ({rise / best:.1%})" if best > 0 else ""
    if best_step == last_step:
        return ("The validation loss was still at its lowest at the last check: no sign of overfitting "
                "in this many epochs.")
    if rise > OVERFIT_RISE * best:
        return (f"The validation loss rose {fmt(rise)}{share} from its minimum while training went on: "
                "the model has begun to overfit.")
    text = (f"The validation loss ended {fmt(rise)}{share} above its minimum: this linear model barely "
            "overfits in this many epochs.")
    if gap < 0:
        easier = (", known to be a little easier than the training set" if data.digits else
                  ", not from the training set")
        text += (" That the validation accuracy is the higher one is no paradox: the validation images "
                 f"come from the {data.title} test set{easier}.")
    return text


def section_3d(task3, data):
    main, long = task3["runs"]["softmax"], task3["runs"]["softmax_overfitting"]
    best_step, best = long["val_loss"].lowest()
    _, last = long["val_loss"].last()
    gap = long["final"]["train_accuracy"] - long["final"]["val_accuracy"]
    return ["## 3d: training twice as long, without early stopping",
            "",
            "![3d](task3d_softmax_train_accuracy_overfitting.png)",
            "",
            f"Over {long['epochs_run']} epochs the validation loss was lowest, {fmt(best)}, at step "
            f"{best_step} (epoch {epoch_of(best_step, long)}) and ended at {fmt(last)}; "
            f"the validation accuracy ended at {fmt(long['val_accuracy'].last()[1])} against "
            f"{fmt(main['val_accuracy'].last()[1])} for the run of 3b. At the end the training accuracy is "
            f"{fmt(long['final']['train_accuracy'])} and the validation accuracy "
            f"{fmt(long['final']['val_accuracy'])}: a gap of {points(gap)} points "
            f"({'training above validation' if gap > 0 else 'validation above training'}). "
            + overfitting_verdict(long["val_loss"], gap, data),
            ""]


def section_mistakes(task3, data):
    """Beyond the assignment: the confusion matrix and the surest mistakes on the held-out test images."""
    matrix, mistakes = task3["confusion_matrix"], task3["misclassified"]
    total, right = int(matrix.sum()), int(np.trace(matrix))
    if total == 0:
        counts = "There are no held-out test images, so there is no confusion matrix to read."
    else:
        confused = sorted(((int(matrix[i, j]), i, j) for i in range(10) for j in range(10)
                           if i != j and matrix[i, j] > 0), reverse=True)[:3]
        pairs = ", ".join(f"{data.class_names[i]} -> {data.class_names[j]} ({plural(n, 'image')})"
                          for n, i, j in confused)
        counts = (f"On the {total} held-out test images, {right} are right (accuracy {fmt(right / total)}). "
                  + (f"The most confused pairs (true -> predicted): {pairs}." if confused else
                     "None is misclassified."))
    if mistakes:
        first = mistakes[0]
        surest = (f"The mistakes the model was surest of: the first was {data.a(first['true'])} taken for "
                  f"{data.a(first['predicted'])} with probability {first['probability']:.3f}.")
    else:
        surest = "The model misclassified no held-out test image, so there is no mistake to show."
    return ["### Beyond the assignment: where the softmax model errs",
            "",
            "![confusion matrix](task3_confusion_matrix.png)",
            "",
            counts,
            "",
            "![most confident mistakes](task3_misclassified.png)",
            "",
            surest,
            ""]


DERIVATION_4A = r"""
## 4a: L2 regularisation

$J = C + \lambda R$ with $R = \frac12 \sum_{k,j} w_{kj}^2$. Each weight appears in $R$
once, so the derivative is element-wise, not a sum over the weights:

$$
\frac{\partial R}{\partial w_{kj}} = w_{kj},
\qquad
\frac{\partial J}{\partial w} = \frac{\partial C}{\partial w} + \lambda w,
\qquad
w \leftarrow w - \eta\left(\frac{\partial C}{\partial w} + \lambda w\right).
$$

The update adds $\lambda w$ (weight decay); `task3a.py` and the tests check it numerically,
and a test shows that $\lambda \sum w$ in its place fails the check.
"""


def section_4b(task4, data):
    runs = runs_by_lambda(task4)
    rough_zero, rough_largest = runs[0]["weight_roughness"], runs[-1]["weight_roughness"]
    if rough_largest < (1 - SAME_ROUGHNESS) * rough_zero:
        verdict = (f"the penalty smooths the templates, and with large lambda they look like blurred "
                   f"prototypes of each {data.noun()}.")
    elif rough_largest > (1 + SAME_ROUGHNESS) * rough_zero:
        verdict = "the penalty did not smooth the templates: they are rougher with the largest lambda."
    else:
        verdict = "the penalty barely changed how smooth the templates are."
    return ["## 4b: the weights as images",
            "",
            "![4b](task4b_softmax_weight.png)",
            "",
            f"Each row shows the ten {data.noun(10)}' weights (the bias left out), one row per lambda. Their "
            "roughness (mean difference between neighbouring pixels over the mean absolute weight) was "
            f"{rough_zero:.3f} for lambda = 0 and {rough_largest:.3f} for lambda = "
            f"{runs[-1]['l2_reg_lambda']:g}: {verdict}",
            ""]


def section_4c(task4):
    ordered = sorted(task4["runs"].items(), key=lambda item: item[1]["l2_reg_lambda"])
    rows = [f"| {run['l2_reg_lambda']:g} | {fmt(run['final']['val_accuracy'])} | "
            f"{fmt(run['final']['test_accuracy'])} | {run['weight_l2_norm']:.4f} |" for _, run in ordered]
    return ["## 4c: validation accuracy for each lambda",
            "",
            "![4c](task4c_l2_reg_accuracy.png)",
            "",
            final_table(task4["runs"], {f"lambda = {run['l2_reg_lambda']:g}": name for name, run in ordered}),
            "",
            "| lambda | val acc. | test acc. | weight L2 norm |",
            "|---|---|---|---|",
            *rows,
            ""]


def accuracy_change(run, reference):
    """'raised it by 0.50 points', 'lowered it by 11.25 points' or 'left it about the same'."""
    change = run["final"]["val_accuracy"] - reference["final"]["val_accuracy"]
    if abs(change) <= SAME_ACCURACY:
        return "left it about the same"
    return f"{'raised' if change > 0 else 'lowered'} it by {points(abs(change))} points"


def regularisation_verdict(raised_at, lowered, gap_zero):
    """Why regularisation did what it did, from whether the unregularised model overfits
    (gap_zero: its training minus validation accuracy) and whether some lambda helped."""
    overfits = gap_zero > OVERFIT_GAP
    if raised_at is not None and overfits:
        return (f"the unregularised model overfits, and at lambda = {raised_at:g} the penalty removed more "
                "of that variance than the bias it added.")
    if raised_at is not None:
        return (f"the unregularised model barely overfits; still, at lambda = {raised_at:g} the penalty "
                "removed more variance than the bias it added.")
    if overfits:
        return ("the unregularised model overfits, yet no lambda tried raised the validation accuracy: at "
                "these lambdas the bias the penalty adds outweighs the variance it removes.")
    if lowered:
        return ("the unregularised model is not overfitting: there is little variance for the penalty to "
                "remove, and its pull towards zero only adds bias, so the fit to both training and "
                "validation images gets worse.")
    return ("the unregularised model is not overfitting, and at these lambdas the penalty, with little "
            "variance to remove, barely changed the fit.")


def section_4d(task4):
    runs = runs_by_lambda(task4)
    zero, smallest, largest = runs[0], runs[1], runs[-1]
    val_zero = zero["final"]["val_accuracy"]
    best = max(runs[1:], key=lambda run: run["final"]["val_accuracy"])
    raised_at = best["l2_reg_lambda"] if best["final"]["val_accuracy"] - val_zero > SAME_ACCURACY else None
    lowered = any(val_zero - run["final"]["val_accuracy"] > SAME_ACCURACY for run in runs[1:])
    effect = "raises" if raised_at is not None else "lowers" if lowered else "barely changes"
    accuracies = [run["final"]["val_accuracy"] for run in runs]
    steadily = all(a >= b for a, b in zip(accuracies, accuracies[1:]))
    gap_zero = zero["final"]["train_accuracy"] - val_zero
    compared = [f"lambda = {largest['l2_reg_lambda']:g} {accuracy_change(largest, zero)} "
                f"({fmt(largest['final']['val_accuracy'])})"]
    if smallest is not largest:
        compared.append(f"the smallest, lambda = {smallest['l2_reg_lambda']:g}, "
                        f"{accuracy_change(smallest, zero)} ({fmt(smallest['final']['val_accuracy'])})")
    return [f"## 4d: why regularisation {effect} the validation accuracy here",
            "",
            f"Against the validation accuracy of lambda = 0, {fmt(val_zero)}: {' and '.join(compared)}; "
            f"it {'fell steadily' if steadily else 'did not fall steadily'} as lambda grew"
            + (f", and was highest at lambda = {raised_at:g} ({fmt(best['final']['val_accuracy'])})"
               if raised_at is not None else "")
            + f". Without regularisation the training accuracy is {points(abs(gap_zero))} points "
            f"{'above' if gap_zero > 0 else 'below'} the validation accuracy, so "
            + regularisation_verdict(raised_at, lowered, gap_zero),
            ""]


def section_4e(task4):
    runs = runs_by_lambda(task4)
    listing = ", ".join(f"{run['weight_l2_norm']:.4f} for lambda = {run['l2_reg_lambda']:g}" for run in runs)
    grew = [(a, b) for a, b in zip(runs, runs[1:]) if b["weight_l2_norm"] >= a["weight_l2_norm"]]
    if not grew:
        verdict = ("it fell with every increase of lambda, as the penalty lambda/2 ||w||^2 pulls every "
                   "weight towards zero at each step.")
    else:
        a, b = grew[0]
        verdict = (f"it did not fall with every increase of lambda (lambda = {b['l2_reg_lambda']:g} left it "
                   f"at {b['weight_l2_norm']:.4f} against {a['weight_l2_norm']:.4f} for lambda = "
                   f"{a['l2_reg_lambda']:g}), although the penalty pulls every weight towards zero at each "
                   "step")
        if b["epochs_run"] > a["epochs_run"]:
            verdict += (f"; that run trained for {b['epochs_run']} epochs against {a['epochs_run']}, so its "
                        "weights had longer to grow")
        verdict += "."
    return ["## 4e: the norm of the weights against lambda",
            "",
            "![4e](task4e_l2_reg_norms.png)",
            "",
            f"The L2 norm of the final weights was {listing}: {verdict}"]


def render(results):
    """The report's Markdown, section by section in the order of the assignment."""
    task2, task3, task4, data = results
    lines = [*intro(data),
             *section_2b(task2, data), *section_2c(task2), *section_2d(task2), *section_2e(task2),
             *section_3b(task3, data), *section_3c(task3), *section_3d(task3, data),
             *section_mistakes(task3, data), DERIVATION_4A,
             *section_4b(task4, data), *section_4c(task4), *section_4d(task4), *section_4e(task4)]
    return "\n".join(lines) + "\n"


def build_report(figures_dir="figures"):
    """Write figures_dir/README.md from the metrics and figures there; returns its path.

    Raises ReportError (one line: the file, the problem, the script to rerun).
    """
    text = render(load(figures_dir))
    path = Path(figures_dir) / "README.md"
    try:
        write_text_atomic(path, text)
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}; check that the folder is "
                          "writable.") from err
    return path


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m src.report", description=__doc__.splitlines()[0])
    p.add_argument("--figures-dir", default="figures",
                   help="folder with the metrics and figures (default: figures/)")
    args = p.parse_args(argv)
    try:
        path = build_report(args.figures_dir)
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    cli.run(main)  # Ctrl-C or SIGTERM: one line and its exit code
