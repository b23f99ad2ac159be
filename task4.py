"""Task 4: L2 regularisation of softmax regression.

    python task4.py [--data-dir DIR] [--out-dir figures] [--seed 0] [--epochs 50] [--quiet]

Trains task 3's model (lr 0.01, batch 128, 50 epochs, shuffling, early
stopping with patience 10) once per lambda in {0, 2, 0.2, 0.02, 0.002}.
Writes to --out-dir:
    task4b_softmax_weight.png   the ten weight images per lambda
    task4c_l2_reg_accuracy.png  validation accuracy through training, per lambda
    task4e_l2_reg_norms.png     L2 norm of the final weights against lambda
    task4.json
"""

from pathlib import Path

import numpy as np

from src import plots
from src.cli import parser, run
from src.experiment import (Settings, make_model, softmax_dataset, train_run, verbose_wanted,
                            weight_roughness, write_metrics)

LAMBDAS = (0.0, 2.0, 0.2, 0.02, 0.002)


def main(argv=None):
    args = parser(__doc__.splitlines()[0], training=True, default_epochs=50).parse_args(argv)
    out = Path(args.out_dir)
    data = softmax_dataset(args)
    base = Settings(learning_rate=0.01, batch_size=128, max_epochs=args.epochs, shuffle=True,
                    early_stopping_patience=10, seed=args.seed, train_size=args.train_size, val_size=args.val_size)
    runs, weights, settings = {}, {}, {}
    for lam in LAMBDAS:
        name = f"lambda_{lam:g}"
        settings[name] = base
        runs[name], model = train_run(make_model("softmax", lam), data, base, verbose_wanted(args))
        weights[lam] = model.w
        r = runs[name]
        r["l2_reg_lambda"] = lam
        r["weight_l2_norm"] = float(np.linalg.norm(model.w.astype(np.float64)))
        r["weight_roughness"] = weight_roughness(model.w)
        print(f"task 4, lambda = {lam:<5g}: {r['epochs_run']} epochs, val accuracy {r['final']['val_accuracy']:.4f}, "
              f"test accuracy {r['test_accuracy']:.4f}, ||w|| = {r['weight_l2_norm']:.2f} ({r['seconds']:.1f} s)")

    plots.save_figure(plots.weight_images_figure({f"lambda = {lam:g}": weights[lam] for lam in sorted(LAMBDAS)},
                                                 "4b: weights of each digit (bias left out)"),
                      out / "task4b_softmax_weight.png")
    by_lambda = {}
    for lam in sorted(LAMBDAS, reverse=True):
        r = runs[f"lambda_{lam:g}"]
        stop = f", early stop in epoch {r['stop_epoch']}" if r["early_stopped"] else ""
        by_lambda[f", lambda = {lam:g}{stop}"] = r
    plots.save_figure(plots.accuracy_figure(by_lambda, "4c: validation accuracy for each lambda",
                                            ylim=(0.6, 0.95), train=False, mark_stops=False),
                      out / "task4c_l2_reg_accuracy.png")
    plots.save_figure(plots.norms_figure([r["l2_reg_lambda"] for r in runs.values()],
                                         [r["weight_l2_norm"] for r in runs.values()],
                                         "4e: L2 norm of the weights against lambda"),
                      out / "task4e_l2_reg_norms.png")
    write_metrics(out / "task4.json", settings, runs)
    print(f"wrote 3 figures and task4.json to {out}/")


if __name__ == "__main__":
    run(main)
