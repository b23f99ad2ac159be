"""Figures from histories and weights, saved as PNG atomically.

Matplotlib's non-interactive Agg backend is selected before pyplot is
imported, so no script ever opens or waits for a window.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .fileio import atomic_path  # noqa: E402

DIGITS = tuple(str(d) for d in range(10))

# The figures each task script writes: the one list, read by the scripts,
# the report and the tests.
FIGURES = {
    "task2": ("task2b_binary_train_loss.png", "task2c_binary_train_accuracy.png",
              "task2e_train_loss_with_shuffle.png", "task2e_train_accuracy_shuffle_difference.png"),
    "task3": ("task3b_softmax_train_loss.png", "task3c_softmax_train_accuracy.png",
              "task3d_softmax_train_accuracy_overfitting.png", "task3_confusion_matrix.png",
              "task3_misclassified.png"),
    "task4": ("task4b_softmax_weight.png", "task4c_l2_reg_accuracy.png", "task4e_l2_reg_norms.png"),
}


def save_figure(fig, path):
    """Write `fig` to `path` as PNG (atomically) and close it."""
    try:
        with atomic_path(path) as tmp:
            # The figures are made with layout="constrained", which fits labels
            # in one drawing; bbox_inches="tight" would draw every figure twice.
            fig.savefig(tmp, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path


def _xy(series):
    steps = np.fromiter(series.keys(), dtype=float, count=len(series))
    values = np.fromiter(series.values(), dtype=float, count=len(series))
    return steps, values


def plot_smoothed(ax, series, label, points_to_average=10, color=None):
    """Mean of every `points_to_average` consecutive steps, with a +-1 std band."""
    steps, values = _xy(series)
    n = len(values) // points_to_average * points_to_average
    if n == 0:  # too short to average: plot it as it is
        ax.plot(steps, values, label=label, color=color)
        return
    windows = values[:n].reshape(-1, points_to_average)
    centre = steps[:n].reshape(-1, points_to_average).mean(axis=1)
    mean, std = windows.mean(axis=1), windows.std(axis=1)
    (line,) = ax.plot(centre, mean, label=f"{label} (mean of {points_to_average} steps)", color=color)
    ax.fill_between(centre, mean - std, mean + std, alpha=0.25, color=line.get_color(), lw=0,
                    label=f"{label} ±1 std")


def plot_series(ax, series, label, **kwargs):
    ax.plot(*_xy(series), label=label, **kwargs)


# The assignment's y-limits zoom in on where training settles and leave out its first climb
# from chance: a few of a long run's points. They are kept while they hold this share of
# every curve's points; otherwise (a short run, another dataset) the axis spans the data.
KEEP_YLIM_SHARE = 0.95


def _curves(ax):
    """The y-values of each curve drawn in data coordinates (not the early-stop mark's axvline)."""
    return [np.asarray(line.get_ydata(), float) for line in ax.get_lines()
            if line.get_transform() is ax.transData]


def _set_ylim(ax, ylim):
    """ylim if it holds KEEP_YLIM_SHARE of every curve's points, else Matplotlib's fit to all the data."""
    low, high = ylim
    shares = [np.mean((y >= low) & (y <= high)) for y in _curves(ax) if len(y)]
    if shares and min(shares) >= KEEP_YLIM_SHARE:
        ax.set_ylim(low, high)


def _finish(ax, title, xlabel, ylabel, ylim=None):
    """Titles, labels, grid and legend; ylim: the assignment's y-limits, kept where they show the data."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim:
        _set_ylim(ax, ylim)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # nothing labelled (every sweep value diverged): no empty legend
        ax.legend(fontsize=8)


def _mark_stop(ax, run):
    if run.get("stop_step") is not None:
        ax.axvline(run["stop_step"], color="grey", ls=":", lw=1)
        ax.annotate(f"early stop, epoch {run['stop_epoch']}", (run["stop_step"], 1), xycoords=("data", "axes fraction"),
                    xytext=(-4, -12), textcoords="offset points", ha="right", fontsize=8, color="grey")


def loss_figure(runs, title, ylim=None, smooth=True):
    """Training loss (smoothed, with band) and validation loss of each run.

    runs: {label: run record with 'train_loss' and 'val_loss' step -> value}.
    """
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for i, (label, run) in enumerate(runs.items()):
        color = f"C{2 * i}"
        if smooth:
            plot_smoothed(ax, run["train_loss"], f"training loss{label}", color=color)
        else:
            plot_series(ax, run["train_loss"], f"training loss{label}", color=color, lw=0.6, alpha=0.8)
        plot_series(ax, run["val_loss"], f"validation loss{label}", color=f"C{2 * i + 1}")
        _mark_stop(ax, run)
    _finish(ax, title, "training step", "cross-entropy loss", ylim)
    return fig


def accuracy_figure(runs, title, ylim=None, train=True, mark_stops=True):
    """Accuracy on the training and validation sets of each run, against step."""
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for i, (label, run) in enumerate(runs.items()):
        if train:
            plot_series(ax, run["train_accuracy"], f"training accuracy{label}", color=f"C{2 * i}")
        plot_series(ax, run["val_accuracy"], f"validation accuracy{label}", color=f"C{2 * i + 1 if train else i}")
        if mark_stops:
            _mark_stop(ax, run)
    _finish(ax, title, "training step", "accuracy", ylim)
    return fig


def weight_images_figure(weights_by_label, title, class_names=DIGITS):
    """One row of 28x28 weight images per entry, one image per output (the bias row left out).

    weights_by_label: {row label: w [785, K]}. Each row shares one symmetric
    colour scale, so grey is 0 and the rows' contrast can be compared.
    class_names: the column titles, K of them.
    """
    rows, columns = len(weights_by_label), len(class_names)
    height = 1.15 * rows + 0.7
    # Fixed margins rather than a layout engine: 10 x rows axes make
    # constrained layout slow, and this grid needs no fitting.
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns if columns > 1 else 3.2, height),
                             squeeze=False,
                             gridspec_kw=dict(left=0.12 if columns > 1 else 0.35, right=0.99, bottom=0.01,
                                              top=1 - 0.75 / height, wspace=0.08, hspace=0.08))
    for r, (label, w) in enumerate(weights_by_label.items()):
        images = w[:-1].T.reshape(columns, 28, 28)
        scale = float(np.abs(images).max()) or 1.0
        for k, ax in enumerate(axes[r]):
            ax.imshow(images[k], cmap="gray", vmin=-scale, vmax=scale)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(class_names[k], fontsize=9 if len(class_names[k]) > 2 else None)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title, fontsize=None if columns > 1 else 9)
    return fig


def norms_figure(lambdas, norms, title):
    """L2 norm of the final weights against lambda, log x-axis (lambda > 0)."""
    lambdas, norms = np.asarray(lambdas, float), np.asarray(norms, float)
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    positive = lambdas > 0
    order = np.argsort(lambdas[positive])
    ax.plot(lambdas[positive][order], norms[positive][order], "o-", label="lambda > 0")
    if (~positive).any():
        ax.axhline(norms[~positive][0], color="C1", ls="--", label=f"lambda = 0: {norms[~positive][0]:.1f}")
    ax.set_xscale("log")
    for lam, norm in zip(lambdas[positive], norms[positive]):
        ax.annotate(f"{norm:.1f}", (lam, norm), xytext=(4, 4), textcoords="offset points", fontsize=8)
    _finish(ax, title, "L2 regularisation strength lambda (log scale)", "||w||_2 of the final weights")
    return fig


def confusion_matrix_figure(matrix, title, class_names=DIGITS):
    """Counts of true class (rows) against predicted class (columns)."""
    fig, ax = plt.subplots(figsize=(6.2, 5.6), layout="constrained")
    ax.imshow(matrix, cmap="Blues")
    threshold = matrix.max() / 2
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                color="white" if count > threshold else "black")
    words = any(len(name) > 2 for name in class_names)
    ax.set_xticks(range(10), class_names, rotation=45 if words else 0, ha="right" if words else "center")
    ax.set_yticks(range(10), class_names)
    ax.set_xlabel("predicted class" if words else "predicted digit")
    ax.set_ylabel("true class" if words else "true digit")
    ax.set_title(title)
    return fig


def misclassified_figure(images, true, predicted, confidence, title, class_names=DIGITS, columns=8):
    """A grid of images [M, 28, 28], each titled 'true -> predicted (p)' (class names)."""
    rows = max(1, -(-len(images) // columns))
    # Fixed margins rather than a layout engine (fast for many axes).
    fig, axes = plt.subplots(rows, columns, figsize=(1.45 * columns, 1.65 * rows + 0.6), squeeze=False,
                             gridspec_kw=dict(left=0.01, right=0.99, bottom=0.01, top=1 - 0.7 / (1.65 * rows + 0.6),
                                              hspace=0.35, wspace=0.1))
    for ax in axes.flat:
        ax.axis("off")
    size = 8 if max(map(len, class_names)) <= 2 else 6.5  # names of clothes are longer than digits
    for ax, image, t, p, c in zip(axes.flat, images, true, predicted, confidence):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(f"{class_names[t]} -> {class_names[p]} ({c:.2f})", fontsize=size)
    fig.suptitle(title)
    return fig


def sweep_figures(param, values, results):
    """(final validation accuracy and loss against the value, every run's validation accuracy).

    results: per value, (run record, None) or (None, why it diverged). The
    value axis is logarithmic where the values span two decades or more;
    diverged values are marked with a red x at the bottom of each panel.
    """
    ok = [(v, r) for v, (r, why) in zip(values, results) if why is None]
    bad = [v for v, (_, why) in zip(values, results) if why is not None]
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, key, label in ((acc_ax, "val_accuracy", "final validation accuracy"),
                           (loss_ax, "val_loss", "final validation loss")):
        ax.plot([v for v, _ in ok], [r["final"][key] for _, r in ok], "o-", label=label)
        if bad:
            ax.plot(bad, [0] * len(bad), "x", color="red", ms=10, clip_on=False, transform=ax.get_xaxis_transform(),
                    label="diverged")
        positive = [v for v in values if v > 0]
        if len(positive) == len(values) and max(values) / min(values) >= 100:
            ax.set_xscale("log")
        _finish(ax, f"{label} against {param}", param, label)
    curves, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for v, r in ok:
        plot_series(ax, r["val_accuracy"], f"{param} = {v:g}")
    if not ok:
        ax.text(0.5, 0.5, "every value diverged: no curve to draw", transform=ax.transAxes, ha="center")
    _finish(ax, f"validation accuracy through training, one run per {param}", "training step", "accuracy")
    return fig, curves


def prediction_figure(image, template, template_title, title):
    """A 28x28 input as the model saw it, beside a 28x28 weight template (grey is weight 0)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(6, 3.4), layout="constrained")
    left.imshow(image, cmap="gray", vmin=0, vmax=255)
    left.set_title("what the model saw (28x28)", fontsize=9)
    scale = float(np.abs(template).max()) or 1.0  # symmetric: grey is weight 0
    right.imshow(template, cmap="gray", vmin=-scale, vmax=scale)
    right.set_title(template_title, fontsize=9)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    return fig
