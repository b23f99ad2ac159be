"""The main job: every task script, up to --jobs at once, then the report.

    python -m src [--data-dir DIR] [--out-dir figures] [--seed 0] [--dataset mnist] [--jobs N]

Each script runs in its own process, exactly as a student would run it
from the shell, with one BLAS thread. Up to --jobs scripts (by default the
cores this process may use) run at once, longest first, and each gets
`--jobs 1`: the job's parallelism is the scripts themselves, so there are
never more busy processes than --jobs, and every script computes the same
numbers whatever --jobs is. Their output comes line by line, each line
whole and prefixed with the script's name. The first script that fails
stops the others and the job with its exit code; Ctrl-C or SIGTERM is
passed on to the running scripts (they clean up their own outputs), and
the job exits 130 or 143 once they have stopped (a second Ctrl-C kills them).
A job that ends early does not build the report; its last line names the
scripts that had already replaced their outputs, beside a report of the
runs before them.
"""

import argparse
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

from . import stops
from .cli import int_in, run
from .experiment import PROGRESS_ENV
from .mnist import DATASET_NAMES
from .parallel import available_cores
from .stops import Terminated

ROOT = Path(__file__).resolve().parent.parent

# Seconds each script takes at its defaults, alone, with one BLAS thread (measured
# on the project's 2-core machine; only their order matters): the longest start
# first, so that the short ones fill in at the end instead of a long one running
# alone. Side by side, task3.py and task4.py take about 20 s each.
COSTS = {"task4.py": 17.0, "task3.py": 16.9, "task2.py": 1.4, "task3a.py": 0.6, "task2a.py": 0.4}
TRAINING_SCRIPTS = ("task2.py", "task3.py", "task4.py")  # they also take --out-dir
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# One BLAS thread per process (as src.parallel pins each run), set before NumPy
# loads; unbuffered output so that progress lines arrive as they are printed.
CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "PYTHONUNBUFFERED": "1"}


class Script(NamedTuple):
    """name: shown before each of its lines; argv: the command; cost: seconds, for the order."""

    name: str
    argv: list
    cost: float


def script_commands(args):
    """The five task scripts as a student runs them (in the repository's folder), with the job's flags.

    The training scripts also get --out-dir and --jobs 1: the job runs the
    scripts side by side, so each trains its runs one after the other.
    """
    common = ["--seed", str(args.seed), "--dataset", args.dataset]
    if args.data_dir:
        common += ["--data-dir", args.data_dir]
    training = ["--jobs", "1", "--out-dir", args.out_dir]
    return [Script(name, [sys.executable, name, *common, *(training if name in TRAINING_SCRIPTS else [])], cost)
            for name, cost in COSTS.items()]


def run_scripts(scripts, jobs, cwd=ROOT, out=None, after_stop=str):
    """Run `scripts` (a list of Script), up to `jobs` at once, longest first.

    Returns 0 when all succeed; else the exit code of the first that failed
    (128 + N if a signal N killed it), the others stopped; or 128 + N after
    signal N (Ctrl-C: 130, SIGTERM: 143) was passed on to the running ones.
    after_stop(): text added to the line that says the job ended early.
    """
    return _Job(scripts, jobs, cwd, out or sys.stdout, after_stop).run()


def metrics_files(out_dir):
    """{training script: (inode, mtime, size) of its metrics file in out_dir, or None if absent}."""
    found = {}
    for name in TRAINING_SCRIPTS:
        try:
            info = (Path(out_dir) / f"{Path(name).stem}.json").stat()
            found[name] = (info.st_ino, info.st_mtime_ns, info.st_size)
        except OSError:
            found[name] = None
    return found


def replaced_since(before, out_dir):
    """What to add to the early-stop line: which scripts replaced their outputs since `before`
    (metrics_files), and that the report beside them describes the runs before."""
    now = metrics_files(out_dir)
    replaced = [name for name in TRAINING_SCRIPTS if now[name] is not None and now[name] != before[name]]
    if not replaced:
        return "; no outputs were replaced"
    names = replaced[0] if len(replaced) == 1 else f"{', '.join(replaced[:-1])} and {replaced[-1]}"
    report = Path(out_dir) / "README.md"
    stale = (f"{report} describes the runs before them" if report.exists() else "no report was built")
    return (f"; {names} had finished and replaced {'their' if len(replaced) > 1 else 'its'} outputs in "
            f"{out_dir}, so {stale}: rerun `python -m src`, or `python -m src.report --figures-dir {out_dir}` "
            "to describe what is there")


class _Job:
    def __init__(self, scripts, jobs, cwd, out, after_stop=str):
        self.waiting = sorted(scripts, key=lambda script: -script.cost)  # stable: ties keep their order
        self.jobs, self.cwd, self.out = jobs, cwd, out
        self.width = max((len(script.name) for script in scripts), default=0)
        self.lock = threading.Lock()  # one line at a time on `out`
        self.finished = queue.Queue()  # (script, process, seconds) as each ends
        self.running = {}  # name -> Popen
        self.signum = None  # the signal that stopped the job
        self.failure = None  # (name, exit code) of the first script that failed
        self.after_stop = after_stop

    def say(self, name, text):
        with self.lock:
            print(f"{name:<{self.width}} | {text}", file=self.out, flush=True)

    def run(self):
        previous = {signum: signal.signal(signum, self.on_signal) for signum in STOP_SIGNALS
                    if signal.getsignal(signum) is not signal.SIG_IGN}
        try:
            while self.waiting or self.running:
                while self.waiting and len(self.running) < self.jobs and not (self.signum or self.failure):
                    self.start(self.waiting.pop(0))
                if not self.running:
                    break
                self.ended(*self.finished.get())
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if self.signum:
            print(f"stopped by {signal.Signals(self.signum).name}: every script that was running has "
                  f"stopped{self.after_stop()}", file=sys.stderr, flush=True)
            return 128 + self.signum
        if self.failure:
            name, code = self.failure
            print(f"{name} failed with exit code {code}; the other scripts were stopped{self.after_stop()}",
                  file=sys.stderr, flush=True)
            return code
        return 0

    def start(self, script):
        self.say(script.name, "$ python " + shlex.join(script.argv[1:]).replace("\n", "\\n"))  # one line
        # Its own session: a Ctrl-C in the terminal reaches only this job, which
        # passes it on once, instead of every script getting it twice.
        env = {**os.environ, **CHILD_ENV}
        if self.out.isatty():  # someone watches: the scripts' progress lines too
            env[PROGRESS_ENV] = "1"
        process = subprocess.Popen(script.argv, cwd=self.cwd, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace", start_new_session=True)
        self.running[script.name] = process
        if self.signum:  # the signal came while the process was being started
            process.send_signal(self.signum)
        threading.Thread(target=self.relay, args=(script, process, time.monotonic()), daemon=True).start()

    def relay(self, script, process, started):
        """Print the script's output line by line, then report its end (in a thread)."""
        with process.stdout:
            for line in process.stdout:
                self.say(script.name, line.rstrip("\n"))
        process.wait()
        self.finished.put((script, process, time.monotonic() - started))

    def ended(self, script, process, seconds):
        del self.running[script.name]
        code = process.returncode if process.returncode >= 0 else 128 - process.returncode
        if code == 0:
            self.say(script.name, f"done in {seconds:.1f} s (exit code 0)")
        elif self.signum or self.failure:
            self.say(script.name, f"stopped after {seconds:.1f} s (exit code {code})")
        else:
            self.say(script.name, f"failed after {seconds:.1f} s with exit code {code}")
            self.failure = (script.name, code)
            self.signal_running(signal.SIGTERM)

    def on_signal(self, signum, frame):
        """Pass the first stop signal on to the running scripts; a second one kills them."""
        if self.signum is None:
            self.signum = signum
            self.signal_running(signum)
        else:
            self.signal_running(signal.SIGKILL)

    def signal_running(self, signum):
        for process in list(self.running.values()):
            process.send_signal(signum)  # not if it has been waited for: its pid may be reused


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m src", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="folder with the data set's four IDX files (default: each script's)")
    p.add_argument("--out-dir", default="figures", help="where figures and metrics go (default: figures/)")
    p.add_argument("--seed", type=int_in(0, 2**63 - 1), default=0, help="seed of every script (default: 0)")
    p.add_argument("--dataset", choices=DATASET_NAMES, default="mnist",
                   help="data set of every script (default: mnist)")
    p.add_argument("--jobs", type=int_in(1), default=available_cores(),
                   help="scripts at once, each with one BLAS thread; 1 = one after the other "
                        "(default: the cores this process may use, here %(default)s)")
    args = p.parse_args(argv)
    # The scripts run in the repository's folder: paths given here are taken from here.
    args.out_dir = str(Path(args.out_dir).resolve())
    args.data_dir = args.data_dir and str(Path(args.data_dir).resolve())
    start = time.monotonic()
    before = metrics_files(args.out_dir)
    code = run_scripts(script_commands(args), args.jobs, after_stop=lambda: replaced_since(before, args.out_dir))
    if code:
        return code
    from .report import build_report  # after the scripts: it reads what they wrote

    try:
        report = build_report(args.out_dir)  # a UserError: one line from cli.run, exit 1
    except (KeyboardInterrupt, Terminated) as stop:  # every script's outputs stand; the report is the old one
        signum = getattr(stop, "signum", signal.SIGINT)
        stops.clear()  # handled here, with the line that says what happened
        print(f"{stops.stop_name(signum)} while building the report{replaced_since(before, args.out_dir)}",
              file=sys.stderr, flush=True)
        return 128 + signum
    print(f"all task scripts done in {time.monotonic() - start:.1f} s; figures in {args.out_dir}/, "
          f"report in {report}")
    return 0


if __name__ == "__main__":
    run(main)  # a Ctrl-C before or after the scripts: one line, exit 130
