"""What the task scripts share on the command line: flags, checks, clean exits."""

import argparse
import sys

from .data import MNIST_TEST_SIZE, MNIST_TRAIN_SIZE
from .mnist import MNISTError
from .trainer import TrainingDivergedError


def int_in(low, high=None, why=""):
    """An argparse type: a whole number in [low, high] (no upper bound if high is None)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            allowed = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"{value} is not {allowed}{why}")
        return value
    return parse


def parser(description, training=False, default_epochs=None):
    """An ArgumentParser with the flags every task script takes.

    training: add the flags of the training scripts (task2/3/4).
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data-dir", help="folder with the four MNIST files (default: $MNIST_DATA_DIR, "
                   "then data/mnist/, downloading there if missing)")
    p.add_argument("--seed", type=int_in(0, 2**63 - 1), default=0,
                   help="seed of the data split and shuffling (default: 0)")
    if training:
        p.add_argument("--out-dir", default="figures", help="where figures and metrics go (default: figures/)")
        p.add_argument("--train-size", type=int_in(1, MNIST_TRAIN_SIZE), default=18000,
                       help="training images drawn from MNIST's 60,000 (default: 18000)")
        p.add_argument("--val-size", type=int_in(1, MNIST_TEST_SIZE - 1, ": the other test images are held out"),
                       default=2000,
                       help="validation images drawn from MNIST's 10,000 test images (default: 2000)")
        p.add_argument("--epochs", type=int_in(1, 10**6), default=default_epochs,
                       help=f"maximum number of epochs (default: {default_epochs})")
        p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def run(main):
    """Call main(); turn the project's expected errors into one line and exit 1."""
    try:
        code = main()
    except (MNISTError, TrainingDivergedError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code or 0)


def report_checks(checks, title):
    """Print one line per (name, passed, detail); return the exit code (1 if any failed)."""
    print(title)
    for name, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""))
    failed = [name for name, ok, _ in checks if not ok]
    if failed:
        print(f"{len(failed)} of {len(checks)} checks failed: {'; '.join(failed)}", flush=True)
        return 1
    print(f"all {len(checks)} checks passed (gradient criterion: |numeric - analytic| <= epsilon^2 = 1e-6)")
    return 0
