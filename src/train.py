"""Train one model with any hyperparameters; save its figures, metrics and weights.

    python -m src.train [--model softmax|binary] [--classes 2 3] [--dataset mnist]
                        [--learning-rate 0.01] [--batch-size 128] [--epochs 50] [--l2 0]
                        [--patience 10] [--min-delta 0] [--restore-best] [--shuffle|--no-shuffle]
                        [--seed 0] [--train-size 18000] [--val-size 2000] [--deskew] [--out-dir runs/<time>]

The defaults are task 3's. Writes to --out-dir: train_loss.png,
train_accuracy.png, weights.png, metrics.json (the task scripts' run
schema) and model.npz (for `python -m src.predict`).
"""

import argparse
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path

from . import plots
from .cli import float_in, int_in, parser, run
from .experiment import (
    TASK3,
    from_args,
    load_data,
    make_model,
    metrics,
    summary_line,
    train_run,
    verbose_wanted,
)
from .mnist import class_names
from .modelfile import save_model
from .outputs import RunOutputs

FIGURES = ("train_loss.png", "train_accuracy.png", "weights.png")


def add_training_flags(p):
    """The hyperparameter flags of `src.train`, shared by `src.sweep`."""
    p.add_argument("--model", choices=("softmax", "binary"), default=TASK3.model,
                   help="softmax regression on all ten classes, or logistic regression of two (default: softmax)")
    p.add_argument("--classes", nargs=2, type=int_in(0, 9), metavar=("A", "B"),
                   help="binary model only: class A (target 1) against class B (target 0) (default: 2 3)")
    p.add_argument("--learning-rate", type=float_in(0, 100, low_inclusive=False), default=TASK3.learning_rate,
                   help=f"SGD step size, in (0, 100] (default: {TASK3.learning_rate})")
    p.add_argument("--batch-size", type=int_in(1, 60000), default=TASK3.batch_size,
                   help=f"images per SGD step, at most the training images (default: {TASK3.batch_size})")
    p.add_argument("--l2", type=float_in(0, 1e4), default=0.0,
                   help="L2 regularisation strength lambda, in [0, 1e4] (default: 0)")
    p.add_argument("--patience", type=int_in(0, 10**6), default=TASK3.early_stopping_patience,
                   help="validation checks without a new best before stopping; 0 = no early stopping "
                        f"(default: {TASK3.early_stopping_patience})")
    p.add_argument("--min-delta", type=float_in(0, 1e3), default=0.0,
                   help="how much lower a validation loss must be to count as a new best (default: 0)")
    p.add_argument("--restore-best", action="store_true",
                   help="end with the weights of the best validation check, not the last step "
                        "(with early stopping: --patience 1 or more)")
    p.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=TASK3.shuffle,
                   help="a fresh order of the training images every epoch (default: on)")
    p.add_argument("--deskew", action="store_true",
                   help="shear every image upright by its second moments before pre-processing, in "
                        "training and in src.predict (recommended for your own digits; the model file says so)")


def settings_from_args(args):
    """The run's Settings from the flags; ArgumentTypeError for flags that contradict each other."""
    if args.classes is not None and args.model != "binary":
        raise argparse.ArgumentTypeError(f"argument --classes: only a binary model compares two classes, and "
                                         f"--model is {args.model}: add --model binary or drop --classes")
    classes = args.classes or [2, 3]
    if classes[0] == classes[1]:
        raise argparse.ArgumentTypeError(f"--classes needs two different classes, got {classes[0]} twice")
    if args.restore_best and args.patience == 0:
        raise argparse.ArgumentTypeError("argument --restore-best: the best weights are kept by early stopping, "
                                         "which --patience 0 turns off: give --patience 1 or more, or drop "
                                         "--restore-best")
    return from_args(TASK3, args, model=args.model, classes=tuple(classes) if args.model == "binary" else None,
                     learning_rate=args.learning_rate, batch_size=args.batch_size, l2_reg_lambda=args.l2,
                     early_stopping_patience=args.patience or None, min_delta=args.min_delta,
                     restore_best_weights=args.restore_best, shuffle=args.shuffle, deskew=args.deskew)


def output_names(settings):
    """The model's class names in output order (binary: target 0, then target 1)."""
    names = class_names(settings.dataset)
    if settings.model == "binary":
        first, second = settings.classes
        return (names[second], names[first])
    return tuple(names)


def default_out_dir():
    """runs/<date-time>, with a suffix if a run of the same second already took it."""
    base = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def run_figures(record, w, settings):
    """{file name: figure}: loss, accuracy and the weight images of one run."""
    names = output_names(settings)
    if settings.model == "binary":
        titles = (f"{names[1]} (+) vs {names[0]} (-)",)
    else:
        titles = names
    what = f"{settings.model} regression, lr {settings.learning_rate:g}, batch {settings.batch_size}"
    return dict(zip(FIGURES, [
        plots.loss_figure({"": record}, f"loss: {what}"),
        plots.accuracy_figure({"": record}, f"accuracy: {what}"),
        plots.weight_images_figure({f"lambda = {settings.l2_reg_lambda:g}": w}, "weights (bias left out)", titles),
    ]))


def save_trained_model(path, w, settings, record):
    """model.npz: the weights with everything needed to use them (see src.modelfile)."""
    model = make_model(settings)
    model.w[...] = w
    save_model(path, model, kind=settings.model, dataset=settings.dataset, class_names=output_names(settings),
               hyperparameters=asdict(settings), metrics=record["final"], deskew=settings.deskew)


def main(argv=None):
    p = parser(__doc__.splitlines()[0], training=True, default_epochs=TASK3.max_epochs, jobs=False,
               prog="python -m src.train", out_dir_default="runs/<date-time>/")
    p.set_defaults(out_dir=None)
    add_training_flags(p)
    args = p.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except argparse.ArgumentTypeError as err:
        p.error(str(err))
    out_dir = Path(args.out_dir) if args.out_dir else default_out_dir()
    with RunOutputs(out_dir, "metrics") as out:
        data = load_data(settings, args.data_dir, batch_flag=True)  # every check on the data before the first step
        record, w = train_run(settings, args.data_dir, verbose_wanted(args), data=data)
        print(summary_line("train", settings.model, record))
        for name, fig in run_figures(record, w, settings).items():
            out.add(name, partial(plots.save_figure, fig))
        out.add("model.npz", partial(save_trained_model, w=w, settings=settings, record=record))
        out.commit(metrics({"run": settings}, {"run": record}))
    print(f"wrote {', '.join(FIGURES)}, metrics.json and model.npz to {out_dir}/")


if __name__ == "__main__":
    run(main)
