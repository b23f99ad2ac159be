"""Train one run per value of a hyperparameter, in parallel, and compare them.

    python -m src.sweep --param {learning_rate,batch_size,l2,patience} --values V1 V2 ...
                        [any flag of src.train] [--jobs N] [--out-dir runs/sweep-<time>]

Writes to --out-dir: sweep.png (final validation accuracy and loss against
the value, a log axis where the values span decades), sweep_curves.png (the
validation accuracy of every run through training) and sweep.json (every
run in the task scripts' schema), and prints a table. A value whose training
diverges is reported as such in the table, the figure and the JSON.
"""

import argparse
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from . import plots
from .cli import float_in, int_in, parser, run
from .experiment import TASK3, check_split, expected_work, load_data, metrics, train_run
from .outputs import RunOutputs
from .parallel import run_parallel
from .train import add_training_flags, settings_from_args
from .trainer import TrainingDivergedError

# --param name -> (the Settings field it sets, how a value is read and checked)
PARAMS = {
    "learning_rate": ("learning_rate", float_in(0, 100, low_inclusive=False)),
    "batch_size": ("batch_size", int_in(1, 60000)),
    "l2": ("l2_reg_lambda", float_in(0, 1e4)),
    "patience": ("early_stopping_patience", int_in(0, 10**6)),
}
FIGURES = ("sweep.png", "sweep_curves.png")


def sweep_run(settings, data):
    """One value's run on `data`: (run record, None), or (None, why) when training diverged."""
    try:
        record, _ = train_run(settings, data=data)
        return record, None
    except TrainingDivergedError as err:
        return None, str(err)


def parse_values(param, texts):
    """The --values as numbers, each checked like the train flag it replaces; sorted, no repeats."""
    read = PARAMS[param][1]
    return sorted({read(text) for text in texts})


def value_settings(base, param, value):
    field = PARAMS[param][0]
    if field == "early_stopping_patience":
        value = value or None  # 0 = off, as with --patience
    return replace(base, **{field: value})


def table(param, values, results):
    """The terminal table: one row per value."""
    rows = [f"{param:>14}  {'epochs':>6}  {'val loss':>8}  {'val acc':>7}  {'test acc':>8}"]
    for value, (record, diverged) in zip(values, results):
        if diverged:
            rows.append(f"{value:>14g}  diverged: {diverged.split(':')[0]}")
        else:
            f = record["final"]
            rows.append(f"{value:>14g}  {record['epochs_run']:>6}  {f['val_loss']:>8.4f}  "
                        f"{f['val_accuracy']:>7.4f}  {record['test_accuracy']:>8.4f}")
    return "\n".join(rows)


def main(argv=None):
    p = parser(__doc__.splitlines()[0], training=True, default_epochs=TASK3.max_epochs, prog="python -m src.sweep",
               out_dir_default="runs/sweep-<date-time>/")
    p.set_defaults(out_dir=None)
    add_training_flags(p)
    p.add_argument("--param", required=True, choices=tuple(PARAMS), help="the hyperparameter to vary")
    p.add_argument("--values", required=True, nargs="+", metavar="V", help="its values, one run each")
    args = p.parse_args(argv)
    try:
        base = settings_from_args(args)
    except argparse.ArgumentTypeError as err:
        p.error(str(err))
    try:
        values = parse_values(args.param, args.values)
    except argparse.ArgumentTypeError as err:
        p.error(f"argument --values: {err} (for --param {args.param})")
    if args.restore_best and args.param == "patience" and 0 in values:
        p.error("argument --values: patience 0 turns off early stopping, which --restore-best needs: "
                "give values of 1 or more, or drop --restore-best")
    settings = {f"{args.param}={v:g}": value_settings(base, args.param, v) for v in values}
    out_dir = Path(args.out_dir or Path("runs") / time.strftime("sweep-%Y%m%d-%H%M%S"))
    with RunOutputs(out_dir, "sweep") as out:
        # One split serves every value (no value changes the data); each is checked against it.
        data = load_data(next(iter(settings.values())), args.data_dir, batch_flag=True)
        for s in settings.values():
            check_split(data, s, batch_flag=True)
        calls = [(sweep_run, (s, data), {}) for s in settings.values()]
        results = run_parallel(calls, args.jobs, [expected_work(s) for s in settings.values()])
        print(table(args.param, values, results))
        runs = {name: record for name, (record, _) in zip(settings, results) if record is not None}
        diverged = {name: why for name, (_, why) in zip(settings, results) if why is not None}
        figures = plots.sweep_figures(args.param, values, results)
        for name, fig in zip(FIGURES, figures):
            out.add(name, partial(plots.save_figure, fig))
        out.commit(metrics(settings, runs, param=args.param, values=values, diverged=diverged))
    print(f"wrote {', '.join(FIGURES)} and sweep.json to {out_dir}/")


if __name__ == "__main__":
    run(main)
