"""Task 2: logistic regression, digit 2 (target 1) against digit 3 (target 0).

    python task2.py [--data-dir DIR] [--out-dir figures] [--seed 0] [--epochs 500] [--jobs N] [--quiet]

Mini-batch SGD (lr 0.05, batch 128, up to 500 epochs) without shuffling, with
early stopping after 10 validation checks without a new best validation loss;
then the same with shuffling (2e). The two runs train in parallel with
--jobs 2. Writes the figures of plots.FIGURES["task2"] and task2.json to
--out-dir, and prints the epoch in which early stopping fired (2d).
"""

import src  # noqa: F401, I001 (first: from here on a stop signal is one line, see src/stops.py)

from dataclasses import replace
from functools import partial

from src import plots
from src.cli import parser, run
from src.experiment import TASK2, from_args, load_data, metrics, summary_line, train_all, verbose_wanted
from src.outputs import RunOutputs


def figures(plain, shuffled):
    """{file name: figure} for 2b, 2c and 2e."""
    both = {" (no shuffle)": plain, " (shuffle)": shuffled}
    return dict(zip(plots.FIGURES["task2"], [
        plots.loss_figure({"": plain}, "2b: logistic regression loss (no shuffling)", ylim=(0, 0.3)),
        plots.accuracy_figure({"": plain}, "2c: logistic regression accuracy (no shuffling)", ylim=(0.93, 0.99)),
        plots.loss_figure(both, "2e: loss with and without shuffling", ylim=(0, 0.3)),
        plots.accuracy_figure(both, "2e: validation accuracy with and without shuffling", ylim=(0.93, 0.99),
                              train=False),
    ]))


def main(argv=None):
    args = parser(__doc__.splitlines()[0], training=True, default_epochs=TASK2.max_epochs).parse_args(argv)
    base = from_args(TASK2, args)
    settings = {"no_shuffle": base, "shuffle": replace(base, shuffle=True)}
    with RunOutputs(args.out_dir, "task2") as out:
        data = load_data(base, args.data_dir)  # every check on the data before the first step
        runs, _ = train_all(settings, data, args.jobs, verbose_wanted(args))
        for name, record in runs.items():
            print(summary_line("task 2", name.replace("_", " "), record))
        for name, fig in figures(runs["no_shuffle"], runs["shuffle"]).items():
            out.add(name, partial(plots.save_figure, fig))
        out.commit(metrics(settings, runs))
    print(f"wrote {len(plots.FIGURES['task2'])} figures and task2.json to {args.out_dir}/")


if __name__ == "__main__":
    run(main)
