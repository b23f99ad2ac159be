"""Task 2: logistic regression, digit 2 (target 1) against digit 3 (target 0).

    python task2.py [--data-dir DIR] [--out-dir figures] [--seed 0] [--epochs 500] [--quiet]

Mini-batch SGD (lr 0.05, batch 128, up to 500 epochs) without shuffling, with
early stopping after 10 validation checks without a new best validation loss;
then the same with shuffling (2e). Writes to --out-dir:
    task2b_binary_train_loss.png, task2c_binary_train_accuracy.png,
    task2e_train_loss_with_shuffle.png, task2e_train_accuracy_shuffle_difference.png,
    task2.json
and prints the epoch in which early stopping fired (2d).
"""

from pathlib import Path

from src import plots
from src.cli import parser, run
from src.experiment import Settings, binary_dataset, make_model, train_run, verbose_wanted, write_metrics


def main(argv=None):
    args = parser(__doc__.splitlines()[0], training=True, default_epochs=500).parse_args(argv)
    out = Path(args.out_dir)
    data = binary_dataset(args)
    base = dict(learning_rate=0.05, batch_size=128, max_epochs=args.epochs, early_stopping_patience=10,
                seed=args.seed, train_size=args.train_size, val_size=args.val_size)
    settings = {"no_shuffle": Settings(shuffle=False, **base), "shuffle": Settings(shuffle=True, **base)}
    runs = {}
    for name, s in settings.items():
        runs[name], _ = train_run(make_model("binary"), data, s, verbose_wanted(args))
        r = runs[name]
        when = f"early stopping fired in epoch {r['stop_epoch']}" if r["early_stopped"] else "no early stop"
        print(f"task 2, {name.replace('_', ' ')}: {r['epochs_run']} epochs, {when}; "
              f"val accuracy {r['final']['val_accuracy']:.4f}, test accuracy {r['test_accuracy']:.4f} "
              f"({r['seconds']:.1f} s)")

    plain, shuffled = runs["no_shuffle"], runs["shuffle"]
    plots.save_figure(plots.loss_figure({"": plain}, "2b: logistic regression loss (no shuffling)", ylim=(0, 0.3)),
                      out / "task2b_binary_train_loss.png")
    plots.save_figure(plots.accuracy_figure({"": plain}, "2c: logistic regression accuracy (no shuffling)",
                                            ylim=(0.93, 0.99)), out / "task2c_binary_train_accuracy.png")
    both = {" (no shuffle)": plain, " (shuffle)": shuffled}
    plots.save_figure(plots.loss_figure(both, "2e: loss with and without shuffling", ylim=(0, 0.3)),
                      out / "task2e_train_loss_with_shuffle.png")
    plots.save_figure(plots.accuracy_figure(both, "2e: validation accuracy with and without shuffling",
                                            ylim=(0.93, 0.99), train=False),
                      out / "task2e_train_accuracy_shuffle_difference.png")
    write_metrics(out / "task2.json", settings, runs)
    print(f"wrote 4 figures and task2.json to {out}/")


if __name__ == "__main__":
    run(main)
