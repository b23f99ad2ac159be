"""Task 3: softmax regression on all ten digits.

    python task3.py [--data-dir DIR] [--out-dir figures] [--seed 0] [--epochs 50] [--jobs N] [--quiet]

Mini-batch SGD (lr 0.01, batch 128, 50 epochs, shuffling) with early
stopping (patience 10); then twice the epochs with early stopping off, to
show overfitting (3d). The two runs train in parallel with --jobs 2. Writes
the figures of plots.FIGURES["task3"] (loss, accuracy, 3d, and the confusion
matrix and most confident mistakes on the held-out test images) and
task3.json to --out-dir.
"""

import src  # noqa: F401, I001 (first: from here on a stop signal is one line, see src/stops.py)

from dataclasses import replace
from functools import partial

from src import plots
from src.cli import parser, run
from src.experiment import (
    TASK3,
    from_args,
    load_data,
    make_model,
    metrics,
    summary_line,
    train_all,
    verbose_wanted,
)
from src.metrics import confusion_matrix, most_confident_mistakes
from src.mnist import class_names
from src.outputs import RunOutputs


def test_set_analysis(model, data, names):
    """Confusion matrix and most confident mistakes on the held-out test images:
    ({file name: figure}, the JSON entries)."""
    matrix = confusion_matrix(data.y_test, model.predict(data.X_test))
    idx, predicted, confidence = most_confident_mistakes(model, data.X_test, data.y_test)
    images = data.X_test[idx, :-1].reshape(-1, 28, 28)  # pre-processed pixels, bias left out
    true = data.y_test[idx]
    figures = {
        "task3_confusion_matrix.png": plots.confusion_matrix_figure(
            matrix, f"softmax regression on {len(data.y_test)} held-out test images", names),
        "task3_misclassified.png": plots.misclassified_figure(
            images, true, predicted, confidence, "the most confident mistakes: true -> predicted (p)", names),
    }
    mistakes = [{"test_index": int(i), "true": int(t), "predicted": int(p), "probability": float(c)}
                for i, t, p, c in zip(idx, true, predicted, confidence)]
    return figures, {"confusion_matrix": matrix.tolist(), "misclassified": mistakes}


def main(argv=None):
    args = parser(__doc__.splitlines()[0], training=True, default_epochs=TASK3.max_epochs,
                  epochs_factor=2).parse_args(argv)
    base = from_args(TASK3, args)
    settings = {"softmax": base,
                "softmax_overfitting": replace(base, max_epochs=2 * base.max_epochs, early_stopping_patience=None)}
    with RunOutputs(args.out_dir, "task3") as out:
        data = load_data(base, args.data_dir)  # every check on the data before the first step
        runs, weights = train_all(settings, data, args.jobs, verbose_wanted(args))
        for name, record in runs.items():
            print(summary_line("task 3", name, record))
        main_run, long_run = runs["softmax"], runs["softmax_overfitting"]
        model = make_model(base)
        model.w[...] = weights["softmax"]
        analysis_figures, analysis = test_set_analysis(model, data, class_names(base.dataset))
        figures = {
            "task3b_softmax_train_loss.png": plots.loss_figure(
                {"": main_run}, "3b: softmax regression loss", ylim=(0.15, 0.6)),
            "task3c_softmax_train_accuracy.png": plots.accuracy_figure(
                {"": main_run}, "3c: softmax regression accuracy", ylim=(0.85, 0.95)),
            "task3d_softmax_train_accuracy_overfitting.png": plots.accuracy_figure(
                {f" ({long_run['epochs_run']} epochs, no early stopping)": long_run},
                "3d: twice the epochs, early stopping off", ylim=(0.85, 0.95)),
            **analysis_figures,
        }
        for name in plots.FIGURES["task3"]:
            out.add(name, partial(plots.save_figure, figures[name]))
        out.commit(metrics(settings, runs, **analysis))
    print(f"wrote {len(figures)} figures and task3.json to {args.out_dir}/")


if __name__ == "__main__":
    run(main)
