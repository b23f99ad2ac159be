"""The report: figures/README.md, rebuilt from the runs' metrics and figures.

    python -m src.report [--figures-dir figures]

Every number in it is read from task2.json, task3.json and task4.json, and
every observation is computed from them, so the report cannot drift from
the code that made the figures. The main job (`python -m src`) rebuilds it
after the task scripts.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from .experiment import read_metrics
from .fileio import write_text_atomic

SOURCES = {"task2.json": "task2.py", "task3.json": "task3.py", "task4.json": "task4.py"}
FIGURES = {
    "task2.py": ["task2b_binary_train_loss.png", "task2c_binary_train_accuracy.png",
                 "task2e_train_loss_with_shuffle.png", "task2e_train_accuracy_shuffle_difference.png"],
    "task3.py": ["task3b_softmax_train_loss.png", "task3c_softmax_train_accuracy.png",
                 "task3d_softmax_train_accuracy_overfitting.png", "task3_confusion_matrix.png",
                 "task3_misclassified.png"],
    "task4.py": ["task4b_softmax_weight.png", "task4c_l2_reg_accuracy.png", "task4e_l2_reg_norms.png"],
}


class ReportError(Exception):
    """Something the report needs is missing; the message names the script to run."""


def fmt(x):
    """How every loss and accuracy is written in the report (tests look for it)."""
    return f"{x:.4f}"


def points(x):
    return f"{100 * x:.2f}"


def _last(series):
    return series[max(series)]


def _best(series):
    step = min(series, key=series.get)
    return step, series[step]


def _epoch_of(step, run):
    """The 1-based epoch in which a global step falls."""
    return step // run["steps_per_epoch"] + 1


def final_table(runs, names):
    rows = ["| run | epochs | early stop (epoch) | train loss | val loss | test loss "
            "| train acc. | val acc. | test acc. |", "|---|---|---|---|---|---|---|---|---|"]
    for label, name in names.items():
        r, f = runs[name], runs[name]["final"]
        stop = str(r["stop_epoch"]) if r["early_stopped"] else "no"
        rows.append(f"| {label} | {r['epochs_run']} | {stop} | {fmt(f['train_loss'])} | {fmt(f['val_loss'])} "
                    f"| {fmt(f['test_loss'])} | {fmt(f['train_accuracy'])} | {fmt(f['val_accuracy'])} "
                    f"| {fmt(f['test_accuracy'])} |")
    return "\n".join(rows)


def step_spread(run):
    """Standard deviation of the change in validation accuracy between consecutive
    checks, after the first epoch (whose climb from chance would dominate it)."""
    values = [v for step, v in run["val_accuracy"].items() if step >= run["steps_per_epoch"]]
    return float(np.std(np.diff(values)))


def load(figures_dir):
    figures_dir = Path(figures_dir)
    data = {}
    for name, script in SOURCES.items():
        path = figures_dir / name
        if not path.is_file():
            raise ReportError(f"{path} is missing: run `python {script} --out-dir {figures_dir}` first.")
        data[name] = read_metrics(path)
    for script, names in FIGURES.items():
        for name in names:
            if not (figures_dir / name).is_file():
                raise ReportError(f"{figures_dir / name} is missing: run `python {script} --out-dir {figures_dir}`.")
    return data


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


def render(data):
    t2, t3, t4 = data["task2.json"], data["task3.json"], data["task4.json"]
    out = ["# Report: linear classifiers on MNIST",
           "",
           "Generated by `python -m src.report` from the metrics (`task2.json`, `task3.json`, "
           "`task4.json`) and figures in this folder; rerun the task scripts, then this, to refresh it. "
           "Losses are cross-entropy; accuracies are fractions. *Validation*: images drawn from the "
           "MNIST test set; *test*: the other test images, never used in training or early stopping.",
           DERIVATIONS]

    # --- task 2 ---
    plain, shuffled = t2["runs"]["no_shuffle"], t2["runs"]["shuffle"]
    s2 = t2["settings"]["no_shuffle"]
    best_step, best_loss = _best(plain["val_loss"])
    out += ["## 2b: logistic regression, training and validation loss",
            "",
            "![2b](task2b_binary_train_loss.png)",
            "",
            f"Digit 2 (target 1) against digit 3 (target 0): {plain['steps_per_epoch']} "
            f"steps an epoch (batch {s2['batch_size']}, learning rate {s2['learning_rate']}, no shuffling). "
            f"The validation loss fell from {fmt(plain['val_loss'][0])} at step 0 to its best, "
            f"{fmt(best_loss)}, at step {best_step}; the final weights give:",
            "",
            final_table(t2["runs"], {"no shuffling": "no_shuffle", "shuffling (2e)": "shuffle"}),
            "",
            "## 2c: logistic regression, accuracy",
            "",
            "![2c](task2c_binary_train_accuracy.png)",
            "",
            f"Final training accuracy {fmt(plain['final']['train_accuracy'])}, validation accuracy "
            f"{fmt(plain['final']['val_accuracy'])}, held-out test accuracy {fmt(plain['test_accuracy'])}.",
            "",
            "## 2d: early stopping",
            ""]
    if plain["early_stopped"]:
        out.append(f"Early stopping (patience {s2['early_stopping_patience']} validation checks) fired in epoch "
                   f"**{plain['stop_epoch']}** of at most {s2['max_epochs']} (step {plain['stop_step']}), "
                   f"{s2['early_stopping_patience']} checks after the best validation loss at step {best_step} "
                   f"(epoch {_epoch_of(best_step, plain)}). The dotted line in 2b and 2c marks it.")
    else:
        out.append(f"Early stopping did not fire within {plain['epochs_run']} epochs.")
    spread_plain, spread_shuffled = step_spread(plain), step_spread(shuffled)
    change = "fell" if spread_shuffled < spread_plain else "rose"
    out += ["",
            "## 2e: shuffling",
            "",
            "![2e loss](task2e_train_loss_with_shuffle.png)",
            "",
            "![2e accuracy](task2e_train_accuracy_shuffle_difference.png)",
            "",
            f"With shuffling the validation accuracy's step-to-step spread (standard deviation of the change "
            f"between consecutive checks after the first epoch) {change} from {points(spread_plain)} to {points(spread_shuffled)} "
            f"percentage points. Early stopping fired in epoch "
            f"{shuffled['stop_epoch'] if shuffled['early_stopped'] else 'none'} with shuffling against "
            f"{plain['stop_epoch'] if plain['early_stopped'] else 'none'} without; the final validation "
            f"accuracy was {fmt(shuffled['final']['val_accuracy'])} against {fmt(plain['final']['val_accuracy'])}. "
            "Without shuffling every epoch shows the batches in the same order, so the same batches "
            "pull the weights the same way at the same point of every epoch.",
            ""]

    # --- task 3 ---
    main, long = t3["runs"]["softmax"], t3["runs"]["softmax_overfitting"]
    s3 = t3["settings"]["softmax"]
    stop = (f"early stopping fired in epoch **{main['stop_epoch']}**" if main["early_stopped"]
            else f"early stopping did not fire in {main['epochs_run']} epochs")
    out += ["## 3b: softmax regression, loss",
            "",
            "![3b](task3b_softmax_train_loss.png)",
            "",
            f"All ten digits, learning rate {s3['learning_rate']}, batch {s3['batch_size']}, up to "
            f"{s3['max_epochs']} epochs with shuffling; {stop}.",
            "",
            final_table(t3["runs"], {f"{s3['max_epochs']} epochs, early stopping": "softmax",
                                     f"{t3['settings']['softmax_overfitting']['max_epochs']} epochs, no early stopping (3d)":
                                     "softmax_overfitting"}),
            "",
            "## 3c: softmax regression, accuracy",
            "",
            "![3c](task3c_softmax_train_accuracy.png)",
            "",
            f"Final validation accuracy {fmt(main['final']['val_accuracy'])}, held-out test accuracy "
            f"{fmt(main['test_accuracy'])}.",
            ""]
    best_step_long, best_loss_long = _best(long["val_loss"])
    gap_end = long["final"]["train_accuracy"] - long["final"]["val_accuracy"]
    rise = _last(long["val_loss"]) - best_loss_long
    out += ["## 3d: training twice as long, without early stopping",
            "",
            "![3d](task3d_softmax_train_accuracy_overfitting.png)",
            "",
            f"Over {long['epochs_run']} epochs the validation loss was lowest, {fmt(best_loss_long)}, at step "
            f"{best_step_long} (epoch {_epoch_of(best_step_long, long)}) and ended at {fmt(_last(long['val_loss']))}; "
            f"the validation accuracy ended at {fmt(_last(long['val_accuracy']))} against "
            f"{fmt(_last(main['val_accuracy']))} for the early-stopped run. At the end the training accuracy "
            f"is {fmt(long['final']['train_accuracy'])} and the validation accuracy "
            f"{fmt(long['final']['val_accuracy'])}: a gap of {points(gap_end)} points "
            f"({'training above validation' if gap_end > 0 else 'validation above training'}). "
            + (f"The validation loss rose {fmt(rise)} ({rise / best_loss_long:.1%}) from its minimum while "
               "training went on: the model has begun to overfit." if rise > 0.01 * best_loss_long else
               f"The validation loss ended within {rise / best_loss_long:.1%} of its minimum: this linear model "
               "barely overfits in this many epochs."
               + (" That the validation accuracy is the higher one is no paradox: the validation images come "
                  "from the MNIST test set, known to be a little easier than the training set."
                  if gap_end < 0 else "")),
            ""]
    matrix = np.array(t3["confusion_matrix"])
    off = [(int(matrix[i, j]), i, j) for i in range(10) for j in range(10) if i != j]
    top = sorted(off, reverse=True)[:3]
    out += ["### Beyond the assignment: where the softmax model errs",
            "",
            "![confusion matrix](task3_confusion_matrix.png)",
            "",
            f"On the {int(matrix.sum())} held-out test images, {int(np.trace(matrix))} are right "
            f"(accuracy {fmt(np.trace(matrix) / matrix.sum())}). The most confused pairs (true -> predicted): "
            + ", ".join(f"{i} -> {j} ({n} images)" for n, i, j in top) + ".",
            "",
            "![most confident mistakes](task3_misclassified.png)",
            "",
            f"The mistakes the model was surest of: the first was a {t3['misclassified'][0]['true']} taken for a "
            f"{t3['misclassified'][0]['predicted']} with probability "
            f"{t3['misclassified'][0]['probability']:.3f}.",
            "",
            DERIVATION_4A]

    # --- task 4 ---
    runs4 = sorted(t4["runs"].values(), key=lambda r: r["l2_reg_lambda"])
    by_lam = {r["l2_reg_lambda"]: r for r in runs4}
    rough0, rough_max = by_lam[0.0]["weight_roughness"], runs4[-1]["weight_roughness"]
    lam_max = runs4[-1]["l2_reg_lambda"]
    out += ["## 4b: the weights as images",
            "",
            "![4b](task4b_softmax_weight.png)",
            "",
            f"Each row shows the ten digits' weights (the bias left out), one row per lambda. Their roughness "
            f"(mean difference between neighbouring pixels over the mean absolute weight) was "
            f"{rough0:.3f} for lambda = 0 and {rough_max:.3f} for lambda = {lam_max:g}: the penalty "
            f"{'smooths' if rough_max < rough0 else 'does not smooth'} the templates, and with large lambda "
            "they look like blurred prototypes of each digit.",
            "",
            "## 4c: validation accuracy for each lambda",
            "",
            "![4c](task4c_l2_reg_accuracy.png)",
            "",
            final_table(t4["runs"], {f"lambda = {r['l2_reg_lambda']:g}": name
                                     for name, r in sorted(t4["runs"].items(), key=lambda kv: kv[1]["l2_reg_lambda"])}),
            "",
            "| lambda | val acc. | test acc. | weight L2 norm |",
            "|---|---|---|---|"]
    for r in runs4:
        out.append(f"| {r['l2_reg_lambda']:g} | {fmt(r['final']['val_accuracy'])} | {fmt(r['test_accuracy'])} "
                   f"| {r['weight_l2_norm']:.4f} |")
    drop = by_lam[0.0]["final"]["val_accuracy"] - by_lam[lam_max]["final"]["val_accuracy"]
    accs = [r["final"]["val_accuracy"] for r in runs4]
    monotone = all(a >= b for a, b in zip(accs, accs[1:]))
    gap0 = by_lam[0.0]["final"]["train_accuracy"] - by_lam[0.0]["final"]["val_accuracy"]
    out += ["",
            "## 4d: why regularisation lowers the validation accuracy here",
            "",
            f"lambda = {lam_max:g} lowered the validation accuracy by {points(drop)} points against lambda = 0 "
            f"({fmt(by_lam[lam_max]['final']['val_accuracy'])} against {fmt(by_lam[0.0]['final']['val_accuracy'])}); "
            f"the validation accuracy {'fell steadily' if monotone else 'did not fall steadily'} as lambda grew. "
            f"Without regularisation the training accuracy is {points(abs(gap0))} points "
            f"{'above' if gap0 > 0 else 'below'} the validation accuracy, so the unregularised model is not "
            "overfitting: there is little variance for the penalty to remove, and its pull towards zero "
            "only adds bias, so the fit to both training and validation images gets worse.",
            "",
            "## 4e: the norm of the weights against lambda",
            "",
            "![4e](task4e_l2_reg_norms.png)",
            ""]
    norms = [r["weight_l2_norm"] for r in runs4]
    falls = all(a > b for a, b in zip(norms, norms[1:]))
    out.append("The L2 norm of the final weights was " + ", ".join(
        f"{r['weight_l2_norm']:.4f} for lambda = {r['l2_reg_lambda']:g}" for r in runs4)
        + f": it {'fell with every increase of lambda' if falls else 'did not fall with every increase of lambda'}, "
        "as the penalty lambda/2 ||w||^2 pulls every weight towards zero at each step.")
    return "\n".join(out) + "\n"


def build_report(figures_dir="figures"):
    """Write figures_dir/README.md from the metrics and figures there; returns its path."""
    path = Path(figures_dir) / "README.md"
    write_text_atomic(path, render(load(figures_dir)))
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--figures-dir", default="figures", help="folder with the metrics and figures (default: figures/)")
    args = p.parse_args(argv)
    try:
        path = build_report(args.figures_dir)
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
