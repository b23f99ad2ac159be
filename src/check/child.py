"""The child process: import the learner's modules, run the checks, write one JSON line per result.

    python -m src.check.child REQUEST.json

The parent (`src.check.runner`) starts it in a temporary working folder
with limits. The learner's folder goes first on sys.path and the project's
root leaves it (the project has task2a.py and task3a.py of its own, which
must never stand in for a missing file of theirs). Each check gets a time
limit of its own (an alarm raising `CheckTimeout`, which `except
Exception` in their code cannot swallow); their prints are counted and
dropped.
"""

import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

import numpy as np

from .checks import Context, Fail, Missing, selected, their_line
from .mistakes import MISTAKES, describe

ROOT = str(Path(__file__).resolve().parents[2])
MEMORY_LIMIT = 2 * 1024**3  # bytes of address space
FILE_SIZE_LIMIT = 64 * 1024**2  # bytes written into any one file (their prints to the real stdout included)


class CheckTimeout(BaseException):
    """A check ran out of time (their code loops, or is far too slow)."""


class Dropped:
    """A stdout/stderr that counts what is printed and keeps nothing (prints can be huge)."""

    def __init__(self):
        self.chars = 0

    def write(self, text):
        self.chars += len(text)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


class Lazy(dict):
    """The arrays of an .npz file, each read on first use (a check of one part needs few of them)."""

    def __init__(self, npz):
        super().__init__()
        self.npz = npz

    def __missing__(self, key):
        self[key] = self.npz[key]
        return self[key]


def run_one(check, ctx, limit):
    def alarm(signum, frame):
        raise CheckTimeout
    signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        with np.errstate(all="ignore"):
            message = check.run(ctx)
        note = message.startswith("NOTE: ")
        return {"status": "NOTE" if note else "PASS", "message": message.removeprefix("NOTE: ")}
    except Fail as fail:
        result = {"status": "FAIL", "expected": fail.expected, "actual": fail.actual}
        if fail.mistake in MISTAKES:
            result["mistake"], result["fix"] = fail.mistake, describe(fail.mistake)
        return result
    except Missing as missing:
        return {"status": "FAIL", "actual": str(missing), "missing": True}
    except CheckTimeout:
        return {"status": "FAIL", "actual": f"did not finish within {limit:g} s (an endless loop?)"}
    except SystemExit as stop:
        return {"status": "FAIL", "actual": f"called sys.exit({stop.code!r}): a function must return, not end the program"}
    except RecursionError:
        return {"status": "FAIL", "actual": "raised RecursionError (a function that calls itself)"}
    except Exception as err:  # noqa: BLE001 - whatever their code raises is one FAIL line
        return {"status": "FAIL", "actual": their_line(err, ctx.folder)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def limit_resources():
    """Memory and file size, and SIGXFSZ ignored: a file past the limit is an error in their code, not a kill."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def main(request_path):
    limit_resources()
    request = json.loads(Path(request_path).read_text())
    folder = Path(request["folder"]).resolve()
    data = Lazy(np.load(request["data"]))
    out = open(request["results"], "a", buffering=1)  # noqa: SIM115 - left open until os._exit
    here = os.getcwd()
    sys.path[:] = [str(folder)] + [p for p in sys.path if p not in (ROOT, here, "")]
    sys.argv = [str(folder / "task2a.py")]
    ctx = Context(folder, data)
    stdout = sys.stdout = sys.stderr = Dropped()
    failed = set()
    for check in selected(request["parts"]):
        record = {"part": check.part, "name": check.name}
        blocked = [n for n in check.needs if n in failed]
        if blocked:
            failed.add(check.name)
            out.write(json.dumps({**record, "status": "SKIP", "needs": blocked[0]}) + "\n")
            continue
        out.write(json.dumps({**record, "status": "START"}) + "\n")
        start = time.perf_counter()
        np.random.seed(0)
        result = run_one(check, ctx, request["check_timeout"])
        if result["status"] == "FAIL":
            failed.add(check.name)
        result["seconds"] = round(time.perf_counter() - start, 3)
        out.write(json.dumps({**record, **result}) + "\n")
    out.write(json.dumps({"status": "DONE", "printed_chars": stdout.chars}) + "\n")
    out.close()
    os._exit(0)  # skip their atexit handlers and the interpreter's teardown


if __name__ == "__main__":
    main(sys.argv[1])
