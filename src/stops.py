"""Ctrl-C, SIGTERM and SIGHUP: a stop is never lost, wherever it lands.

Python runs a signal handler between two bytecodes of the main thread,
which may be inside a weakref or garbage-collector callback (Matplotlib has
many). An exception raised there cannot propagate: Python prints "Exception
ignored in ..." and carries on. So the handlers of a run (src.cli.run)
first record the stop, then raise it; RunOutputs checks the record at the
edges of its transaction (raise_if_requested) and abandons rather than
commits, and cli.run ends with the stop's line and exit code even if main()
returned.

While a command starts (imports take about half a second) there is nothing
to clean up yet: `src/__init__.py` calls own_while_starting() as its first
instruction, whose handler prints one line and exits at once
(130 / 143 / 129). Only the standard library is imported here, so this
module loads in a few milliseconds, before anything heavy.
"""

import os
import signal
import sys
import threading
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
ROOT = Path(__file__).resolve().parent.parent  # the repository: the task scripts live here
_requested = None  # the first stop signal received since clear(), if any
_run_ended = False  # for the start-up handler's line: starting, or exiting after cli.run


class Terminated(BaseException):
    """SIGTERM or SIGHUP as an exception, like KeyboardInterrupt for Ctrl-C.

    Raised where the program is, so every `with` block on the way out
    (RunOutputs above all) cleans up before the process exits.
    """

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum
        self.signal_name = signal.Signals(signum).name


def stop_exception(signum):
    """The exception a stop signal becomes: KeyboardInterrupt for SIGINT, else Terminated."""
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def record_and_raise(signum, frame):
    """The handler of a run: remember the stop (so it cannot be swallowed), then raise it here."""
    global _requested
    if _requested is None:
        _requested = signum
    raise stop_exception(signum)


def requested():
    """The stop signal recorded since clear(), or None."""
    return _requested


def raise_if_requested():
    """Raise the recorded stop again, if there is one: where a transaction must not go on."""
    if _requested is not None:
        raise stop_exception(_requested)


def clear():
    global _requested
    _requested = None


def silence_recorded_stops(unraisable):
    """A sys.unraisablehook: a stop raised where it could not propagate is already recorded
    and will be raised at the next edge; print nothing for it. Anything else as Python does."""
    if isinstance(unraisable.exc_value, (KeyboardInterrupt, Terminated)) and _requested is not None:
        return
    sys.__unraisablehook__(unraisable)


def install(signums, handler):
    """Set `handler` for each signal not ignored (nohup) and settable here; return the previous ones."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    settable = [s for s in signums if signal.getsignal(s) not in (signal.SIG_IGN, None)]
    return {s: signal.signal(s, handler) for s in settable}


def stop_name(signum):
    """How a stop is named at the start of its line: "interrupted (Ctrl-C)" or "stopped by SIGTERM"."""
    return "interrupted (Ctrl-C)" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"


def _exit_at_once(signum, frame):
    # os.write and os._exit: nothing here can be interrupted half-way or swallowed.
    what = ("while exiting, after the run had ended (its line above says what it wrote)" if _run_ended
            else "while starting: no outputs were changed")
    try:
        os.write(2, f"{stop_name(signum)} {what}.\n".encode())
    except OSError:  # no stderr (closed, or its reader gone): the exit code alone says it
        pass
    os._exit(128 + signum)


def _is_a_command():
    """True in `python -m src[.x]` and `python <repository>/<script>.py`, not when a test,
    a notebook or another program imports src (their Ctrl-C stays theirs)."""
    if sys.argv and sys.argv[0] == "-m":  # while `python -m` imports the package (Python's -m docs)
        return True
    if not sys.argv or not sys.argv[0].endswith(".py"):
        return False
    main = Path(sys.argv[0]).resolve()
    return main.parent == ROOT


def own_while_starting():
    """In a command, from here on until cli.run takes over, a stop signal exits at once with its
    one line and code. Elsewhere (a test importing src) nothing changes."""
    if _is_a_command():
        install(STOP_SIGNALS, _exit_at_once)


def ended():
    """The run is over (its line printed): a stop from now on says so, not "while starting"."""
    global _run_ended
    _run_ended = True
