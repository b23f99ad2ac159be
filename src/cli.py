"""What the task scripts share on the command line: flags, checks, clean exits."""

import argparse
import contextlib
import math
import os
import signal
import sys

from . import stops
from .data import MNIST_TEST_SIZE, MNIST_TRAIN_SIZE
from .errors import UserError, printable
from .mnist import DATASET_NAMES
from .outputs import clean_up_abandoned, committed_outputs, written_files
from .parallel import available_cores
from .stops import Terminated


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


def float_in(low=None, high=None, low_inclusive=True, high_inclusive=True, why=""):
    """An argparse type: a finite real number between low and high (None: no bound on that side).

    Each bound is allowed unless its *_inclusive is False, e.g. a learning
    rate: float_in(0, None, low_inclusive=False). NaN and infinity are refused.
    """
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        too_low = low is not None and (value < low if low_inclusive else value <= low)
        too_high = high is not None and (value > high if high_inclusive else value >= high)
        if too_low or too_high:
            bounds = []
            if low is not None:
                bounds.append(f"{'at least' if low_inclusive else 'greater than'} {low:g}")
            if high is not None:
                bounds.append(f"{'at most' if high_inclusive else 'less than'} {high:g}")
            raise argparse.ArgumentTypeError(f"{text} is not {' and '.join(bounds)}{why}")
        return value
    return parse


MAX_EPOCHS = 10**6  # the trainer's own bound


def parser(description, training=False, default_epochs=None, epochs_factor=1, jobs=None, prog=None,
           out_dir_default="figures/"):
    """An ArgumentParser with the flags every task script takes.

    training: add the flags of the training scripts (task2/3/4).
    jobs: add --jobs (default: when training; src.train has one run, nothing to spread).
    epochs_factor: the script also trains this many times --epochs (task 3's
        overfitting run: 2), so --epochs is bounded by MAX_EPOCHS // epochs_factor.
    prog: the command as typed, for the usage line (e.g. "python -m src.train";
        default: the script's file name, right for `python task3.py`).
    out_dir_default: --out-dir's default as its help states it (a caller with
        another default sets it with set_defaults).
    """
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--dataset", choices=DATASET_NAMES, default="mnist",
                   help="mnist (handwritten digits, cached in data/mnist/) or fashion-mnist (clothing, "
                        "cached in data/fashion-mnist/), both 60,000 + 10,000 images of 28x28 "
                        "(default: mnist)")
    p.add_argument("--data-dir", help="folder with the data set's four IDX files (default: $MNIST_DATA_DIR "
                   "or $FASHION_MNIST_DATA_DIR, then the data set's folder in data/, downloading there "
                   "if missing)")
    p.add_argument("--seed", type=int_in(0, 2**63 - 1), default=0,
                   help="seed of the data split and shuffling (default: 0)")
    if (training if jobs is None else jobs):
        # Not on the gradient-check scripts: their checks take half a second in one
        # process, less than a pool of processes would cost.
        p.add_argument("--jobs", type=int_in(1), default=available_cores(),
                       help="independent runs in parallel processes, one BLAS thread each; 1 = all in this "
                            "process, in order (default: the CPUs this process may use, here %(default)s)")
    if training:
        p.add_argument("--out-dir", default="figures",
                       help=f"where figures and metrics go (default: {out_dir_default})")
        p.add_argument("--train-size", type=int_in(1, MNIST_TRAIN_SIZE), default=18000,
                       help="training images drawn from the 60,000 training images (default: 18000)")
        held_out = ": the other test images are held out"
        p.add_argument("--val-size", type=int_in(1, MNIST_TEST_SIZE - 1, held_out), default=2000,
                       help="validation images drawn from the 10,000 test images (default: 2000)")
        why = f": the script also trains {epochs_factor} times that many epochs" if epochs_factor > 1 else ""
        p.add_argument("--epochs", type=int_in(1, MAX_EPOCHS // epochs_factor, why), default=default_epochs,
                       help=f"maximum number of epochs (default: {default_epochs})")
        p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


@contextlib.contextmanager
def _stop_signals_ignored():
    """SIGINT, SIGTERM and SIGHUP ignored inside the block (main thread only), then restored."""
    previous = stops.install(stops.STOP_SIGNALS, signal.SIG_IGN)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _QuietWhenClosed:
    """A text stream that falls silent when its reader has gone (`python task3.py | head -1`).

    A BrokenPipeError on write or flush points the file descriptor at
    /dev/null (so the interpreter's own flush at exit succeeds too) and the
    run goes on to write its outputs, with its exit code unchanged.
    """

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self):
        try:
            self.stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self.stream.fileno())
        except (OSError, ValueError):  # no file descriptor: drop the stream instead
            self.stream = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
        finally:
            os.close(devnull)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _guard_streams():
    saved = (sys.stdout, sys.stderr)
    sys.stdout, sys.stderr = (s if s is None else _QuietWhenClosed(s) for s in saved)
    return saved


def _unguard_streams(saved):
    for guarded in (sys.stdout, sys.stderr):
        if isinstance(guarded, _QuietWhenClosed):
            guarded.flush()
    sys.stdout, sys.stderr = saved


def _stopped(what, before):
    """The line for an interrupted run, true to RunOutputs' guarantee.

    before: (committed outputs, files written) counts when the run began.
    """
    committed = dict.fromkeys(committed_outputs()[before[0]:])  # each file once, in order
    files = written_files()[before[1]:]
    done = []
    if committed:
        done.append(f"{', '.join(str(path) for path in committed)} and its figures, complete")
    if files:
        folders = ", ".join(f"{printable(str(folder))}/" for folder in dict.fromkeys(p.parent for p in files))
        done.append(f"{len(files)} file{'s' if len(files) > 1 else ''} to {folders}, each complete")
    if not done:
        return f"{what}: no outputs were changed."
    return f"{what} after writing {' and '.join(done)}; nothing else was changed."


def run(main):
    """Call main() and exit with its code (None -> 0); every expected failure is one line on stderr.

    UserError: "error: <message>", exit 1. Ctrl-C: exit 130; SIGTERM: 143;
    SIGHUP: 129 (128 + the signal's number, as the shell reports a killed
    process); each one line saying what happened to the outputs. A stop
    wins wherever it lands: one that a callback swallowed (see src.stops)
    still ends the run here, and RunOutputs never commits after it. Any
    other exception (a ValueError from a wrong shape, say) is a bug and
    keeps its traceback. A closed stdout or stderr never stops the run.
    """
    saved_streams = _guard_streams()
    message, before = None, (len(committed_outputs()), len(written_files()))
    stops.clear()
    saved_hook, sys.unraisablehook = sys.unraisablehook, stops.silence_recorded_stops
    try:
        handlers = stops.install(stops.STOP_SIGNALS, stops.record_and_raise)
        try:
            code = main()
            stops.raise_if_requested()  # a stop swallowed after the last commit
        except UserError as err:
            message, code = f"error: {err}", 1
        except (KeyboardInterrupt, Terminated) as stop:
            signum = getattr(stop, "signum", signal.SIGINT)
            message, code = _stopped(stops.stop_name(signum), before), 128 + signum
        finally:
            with _stop_signals_ignored():  # one stop is enough: finish cleaning up
                clean_up_abandoned()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            stops.clear()
            sys.unraisablehook = saved_hook
        if message:
            # One line, except where the message itself lists several places
            # (the offline error: every folder looked in, every URL tried).
            print(message, file=sys.stderr, flush=True)
    finally:
        _unguard_streams(saved_streams)
        stops.ended()
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
