"""Task 4: L2 regularisation of softmax regression.

    python task4.py [--data-dir DIR] [--out-dir figures] [--seed 0] [--epochs 50] [--jobs N] [--quiet]

Trains task 3's model (lr 0.01, batch 128, 50 epochs, shuffling, early
stopping with patience 10) once per lambda in {0, 2, 0.2, 0.02, 0.002},
up to --jobs runs at once. Writes to --out-dir:
    task4b_softmax_weight.png   the ten weight images per lambda
    task4c_l2_reg_accuracy.png  validation accuracy through training, per lambda
    task4e_l2_reg_norms.png     L2 norm of the final weights against lambda
    task4.json
"""

import src  # noqa: F401, I001 (first: from here on a stop signal is one line, see src/stops.py)

from functools import partial

from src import plots
from src.cli import parser, run
from src.experiment import TASK3, from_args, load_data, metrics, summary_line, train_all, verbose_wanted
from src.mnist import class_names
from src.outputs import RunOutputs

LAMBDAS = (0.0, 2.0, 0.2, 0.02, 0.002)


def figures(runs, weights, names):
    """{file name: figure} for 4b, 4c and 4e; runs and weights keyed by lambda."""
    by_lambda = {}
    for lam in sorted(LAMBDAS, reverse=True):
        stop = f", early stop in epoch {runs[lam]['stop_epoch']}" if runs[lam]["early_stopped"] else ""
        by_lambda[f", lambda = {lam:g}{stop}"] = runs[lam]
    return dict(zip(plots.FIGURES["task4"], [
        plots.weight_images_figure({f"lambda = {lam:g}": weights[lam] for lam in sorted(LAMBDAS)},
                                   "4b: weights of each class (bias left out)", names),
        plots.accuracy_figure(by_lambda, "4c: validation accuracy for each lambda", ylim=(0.6, 0.95),
                              train=False, mark_stops=False),
        plots.norms_figure(list(runs), [runs[lam]["weight_l2_norm"] for lam in runs],
                           "4e: L2 norm of the weights against lambda"),
    ]))


def main(argv=None):
    args = parser(__doc__.splitlines()[0], training=True, default_epochs=TASK3.max_epochs).parse_args(argv)
    settings = {f"lambda_{lam:g}": from_args(TASK3, args, l2_reg_lambda=lam) for lam in LAMBDAS}
    with RunOutputs(args.out_dir, "task4") as out:
        data = load_data(settings["lambda_0"], args.data_dir)  # every check on the data before the first step
        runs, weights = train_all(settings, data, args.jobs, verbose_wanted(args))
        for name, record in runs.items():
            print(summary_line("task 4", f"lambda = {record['l2_reg_lambda']:g}", record))
        by_lambda = {r["l2_reg_lambda"]: r for r in runs.values()}
        weights_by_lambda = {runs[name]["l2_reg_lambda"]: w for name, w in weights.items()}
        for name, fig in figures(by_lambda, weights_by_lambda, class_names(args.dataset)).items():
            out.add(name, partial(plots.save_figure, fig))
        out.commit(metrics(settings, runs))
    print(f"wrote {len(plots.FIGURES['task4'])} figures and task4.json to {args.out_dir}/")


if __name__ == "__main__":
    run(main)
