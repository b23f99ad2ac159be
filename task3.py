"""Task 3: softmax regression on all ten digits.

    python task3.py [--data-dir DIR] [--out-dir figures] [--seed 0] [--epochs 50] [--quiet]

Mini-batch SGD (lr 0.01, batch 128, 50 epochs, shuffling) with early
stopping (patience 10); then twice the epochs with early stopping off, to
show overfitting (3d). Writes to --out-dir:
    task3b_softmax_train_loss.png, task3c_softmax_train_accuracy.png,
    task3d_softmax_train_accuracy_overfitting.png,
    task3_confusion_matrix.png, task3_misclassified.png (on the held-out test images),
    task3.json
"""

from dataclasses import replace
from pathlib import Path

from src import plots
from src.cli import parser, run
from src.experiment import Settings, make_model, softmax_dataset, train_run, verbose_wanted, write_metrics
from src.trainer import confusion_matrix, most_confident_mistakes


def main(argv=None):
    args = parser(__doc__.splitlines()[0], training=True, default_epochs=50).parse_args(argv)
    out = Path(args.out_dir)
    data = softmax_dataset(args)
    main_settings = Settings(learning_rate=0.01, batch_size=128, max_epochs=args.epochs, shuffle=True,
                             early_stopping_patience=10, seed=args.seed,
                             train_size=args.train_size, val_size=args.val_size)
    settings = {"softmax": main_settings,
                "softmax_overfitting": replace(main_settings, max_epochs=2 * args.epochs,
                                               early_stopping_patience=None)}
    runs, models = {}, {}
    for name, s in settings.items():
        runs[name], models[name] = train_run(make_model("softmax"), data, s, verbose_wanted(args))
        r = runs[name]
        when = f"early stopping fired in epoch {r['stop_epoch']}" if r["early_stopped"] else "no early stop"
        print(f"task 3, {name}: {r['epochs_run']} epochs, {when}; val accuracy "
              f"{r['final']['val_accuracy']:.4f}, test accuracy {r['test_accuracy']:.4f} ({r['seconds']:.1f} s)")

    main_run, long_run = runs["softmax"], runs["softmax_overfitting"]
    plots.save_figure(plots.loss_figure({"": main_run}, "3b: softmax regression loss", ylim=(0.15, 0.6)),
                      out / "task3b_softmax_train_loss.png")
    plots.save_figure(plots.accuracy_figure({"": main_run}, "3c: softmax regression accuracy", ylim=(0.85, 0.95)),
                      out / "task3c_softmax_train_accuracy.png")
    plots.save_figure(plots.accuracy_figure({f" ({long_run['epochs_run']} epochs, no early stopping)": long_run},
                                            "3d: twice the epochs, early stopping off",
                                            ylim=(0.85, 0.95)),
                      out / "task3d_softmax_train_accuracy_overfitting.png")

    model, labels = models["softmax"], data.Y_test.argmax(axis=1)
    matrix = confusion_matrix(labels, model.predict(data.X_test))
    plots.save_figure(plots.confusion_matrix_figure(matrix, f"softmax regression on {len(labels)} held-out test images"),
                      out / "task3_confusion_matrix.png")
    idx, predicted, confidence = most_confident_mistakes(model, data.X_test, labels)
    images = data.X_test[idx, :-1].reshape(-1, 28, 28)  # pre-processed pixels, bias left out
    plots.save_figure(plots.misclassified_figure(images, labels[idx], predicted,
                                                 confidence, "the most confident mistakes: true -> predicted (p)"),
                      out / "task3_misclassified.png")
    write_metrics(out / "task3.json", settings, runs, confusion_matrix=matrix.tolist(),
                  misclassified=[{"test_index": int(i), "true": int(labels[i]), "predicted": int(p),
                                  "probability": float(c)} for i, p, c in zip(idx, predicted, confidence)])
    print(f"wrote 5 figures and task3.json to {out}/")


if __name__ == "__main__":
    run(main)
