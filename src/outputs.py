"""A run's outputs as one transaction: all new or all old, never mixed.

    with RunOutputs(args.out_dir, "task2") as out:   # checks and locks --out-dir first
        ...train...
        out.add("task2b_binary_train_loss.png", lambda path: plots.save_figure(fig, path))
        out.commit(metrics)                           # every file appears, the JSON last

Until `commit`, every file is written into a staging folder beside the
outputs (`.task2.staging-<pid>/`); an error, Ctrl-C or SIGTERM before it
removes that folder and leaves --out-dir exactly as it was. `commit` writes
the metrics JSON, which lists the SHA-256 of every figure, flushes it all to
the disk, and renames each figure into place and the JSON last, with Ctrl-C,
SIGTERM and SIGHUP held until the last rename. Only SIGKILL or a power cut between
two renames can mix two runs, and `verify_outputs` then finds the figure
whose hash the JSON does not list.

A second run writing the same outputs to the same folder is refused at once
(never waited for): it could not know how long the first will take, and
waiting silently would look like a hang.
"""

import contextlib
import errno
import fcntl
import functools
import json
import math
import os
import re
import reprlib
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from . import stops
from .errors import UserError
from .fileio import fsync_path, part_prefix, remove_stale_parts, sha256_file

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The shape of every metrics file, declared once beside the code that writes it; its $defs
# name each kind of file (task2, task3, task4, metrics) and the parts they share.
SCHEMA = json.loads(Path(__file__).with_name("metrics.schema.json").read_text(encoding="utf-8"))
METRICS_KINDS = ("task2", "task3", "task4", "metrics")
_COMMITTED = []  # metrics files this process committed, for src.cli's message on interruption
_WRITTEN = []  # files written one by one, each atomically, outside a RunOutputs (src.predict --show)


class OutputError(UserError):
    """An output folder that cannot be written, is locked, or holds mixed runs."""


def _advice(err):
    """What to do about an OSError while writing outputs: one clause."""
    return {
        errno.ENAMETOOLONG: "choose a shorter --out-dir",
        errno.EROFS: "choose an --out-dir on a writable disk",
        errno.EACCES: "choose an --out-dir you may write to, or fix its permissions",
        errno.EPERM: "choose an --out-dir you may write to, or fix its permissions",
        errno.ENOSPC: "free some disk space or choose another --out-dir",
        errno.EDQUOT: "free some of your disk quota or choose another --out-dir",
        errno.ENOTDIR: "part of the path is a file; choose another --out-dir",
    }.get(err.errno, "choose another --out-dir")


def _reason(err):
    return err.strerror or str(err)


def _cannot(what, err):
    """One line: what failed, the system's reason, what to do."""
    return f"{what}: {_reason(err)}: {_advice(err)}."


def check_out_dir(out_dir):
    """Make sure `out_dir` is a folder we can write to, before any expensive work; return it as a Path.

    Makes the folder (and its parents) if missing, then proves it writable by
    creating and removing a real file in it. Also removes the temporary
    files of atomic writes that killed runs left there (see
    fileio.remove_stale_parts). Raises a one-line OutputError naming
    --out-dir, the path, the reason and what to do.
    """
    path = Path(out_dir)
    try:
        if is_symlink_loop(path):
            raise OutputError(f"--out-dir {path} is a loop of symbolic links: fix the link or choose another "
                              "--out-dir.")
        if path.is_symlink() and not path.exists():
            raise OutputError(f"--out-dir {path} is a symbolic link to {os.readlink(path)}, which does not "
                              "exist: create that folder or choose another --out-dir.")
        if path.exists() and not path.is_dir():
            raise OutputError(f"--out-dir {path} is a file, not a folder: choose another --out-dir.")
        path.mkdir(parents=True, exist_ok=True)
        write_probe(path)
    except OSError as err:
        raise OutputError(_cannot(f"cannot write to --out-dir {path}", err)) from None
    remove_stale_parts(path)
    return path


def is_symlink_loop(path):
    """True if following `path`'s symbolic links never ends (the system gives up: ELOOP)."""
    try:
        os.stat(path)
    except OSError as err:
        return err.errno == errno.ELOOP
    return False


def write_probe(folder, what="out-dir-check"):
    """Create, fill, flush and remove a small file in `folder`: raises the OSError writing would."""
    fd, probe = tempfile.mkstemp(dir=folder, prefix=part_prefix(what), suffix=".part")
    try:
        os.write(fd, b"probe\n")
        os.fsync(fd)
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(probe)


@contextlib.contextmanager
def deferred_signals(signums=HELD_SIGNALS):
    """Hold SIGINT, SIGTERM and SIGHUP inside the block; deliver them on leaving it.

    A held signal goes, after the block, to the handler that was in place
    before (so Ctrl-C still raises KeyboardInterrupt, just later). Signals
    that were ignored stay ignored. Python runs signal handlers only in the
    main thread, so elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending, previous = [], {}

    def hold(signum, frame):
        if signum not in pending:
            pending.append(signum)

    try:
        for signum in signums:
            # Ignored stays ignored; None is a handler set outside Python, which we could not restore.
            if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                previous[signum] = signal.signal(signum, hold)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in pending:
            signal.raise_signal(signum)  # runs the restored handler now


def _check_finite(value, where):
    """ValueError naming the first NaN or infinity in nested dicts and lists (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is {value}: JSON has no NaN or infinity; check the run for divergence "
                         "before committing its metrics.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_finite(item, f"{where}[{i}]")


def dumps_metrics(metrics):
    """The one JSON format of metrics files: indent 1, one line per list of numbers."""
    text = json.dumps(metrics, indent=1, allow_nan=False)
    # One line per list of numbers (a series has thousands), not one per number.
    text = re.sub(r"\[\s+([-+.\deE,\s]*?)\s+\]", lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]",
                  text)
    return text + "\n"


class _LockHeld(Exception):
    def __init__(self, pid):
        super().__init__(pid)
        self.pid = pid


class _Lock:
    """An exclusive flock on `path`, holding our pid; _LockHeld(pid) at once if another open file has it."""

    def __init__(self, path):
        for _ in range(100):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise _LockHeld(pid) from None
            except BaseException:
                os.close(fd)
                raise
            # The last holder unlinks the file before it lets go: if we locked an
            # unlinked file, someone else may lock the new one; try again.
            with contextlib.suppress(FileNotFoundError):
                if os.path.samestat(os.fstat(fd), os.stat(path)):
                    self.path, self.fd = path, fd
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, 0)
                        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                    return
            os.close(fd)
        raise OSError(errno.EAGAIN, "the lock file keeps being replaced", str(path))

    def release(self):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)


_OPEN = []  # RunOutputs entered and not yet cleaned up, for clean_up_abandoned


class RunOutputs:
    """The outputs of one run of a script: figures plus `<name>.json`, committed together.

        with RunOutputs(out_dir, "task2") as out:
            out.add("figure.png", lambda path: plots.save_figure(fig, path))
            out.commit(metrics)

    Entering checks --out-dir (check_out_dir), locks (out_dir, name) against
    a second run, removes staging folders that killed runs left, and makes
    this run's staging folder. Leaving the block by an exception of any kind
    (an error, KeyboardInterrupt, SystemExit), or without `commit`, removes
    the staging folder and the lock and leaves out_dir as it was.
    """

    def __init__(self, out_dir, name):
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            raise ValueError(f"name must be letters, digits, '_' or '-' (it names files), got {name!r}.")
        self.out_dir, self.name = Path(out_dir), name
        self.metrics_path = self.out_dir / f"{name}.json"
        self.committed = False
        self._lock = self._staging = None
        self._files = {}  # {file name: sha256}, in the order added

    def __enter__(self):
        _OPEN.append(self)
        try:
            with deferred_signals():  # a signal held here is raised on leaving it: clean up then too
                self._open()
        except BaseException:
            with deferred_signals():
                self._clean_up()
            raise
        return self

    def _open(self):
        stops.raise_if_requested()  # a stop swallowed by a callback: no new transaction
        check_out_dir(self.out_dir)
        try:
            self._lock = _Lock(self.out_dir / f".{self.name}.lock")
        except _LockHeld as held:
            raise OutputError(f"another run (pid {held.pid}) is writing {self.name} outputs to "
                              f"{self.out_dir}: wait for it to finish or choose another --out-dir.") from None
        except OSError as err:
            raise OutputError(_cannot(f"cannot lock --out-dir {self.out_dir}", err)) from None
        try:
            self._remove_stale_staging()  # safe: a live run of this name would hold the lock
            self._staging = self.out_dir / f".{self.name}.staging-{os.getpid()}"
            self._staging.mkdir()
        except OSError as err:
            raise OutputError(_cannot(f"cannot write to --out-dir {self.out_dir}", err)) from None

    def __exit__(self, exc_type, exc, tb):
        with deferred_signals():
            self._clean_up()
        return False

    def _remove_stale_staging(self):
        prefix = f".{self.name}.staging-"
        with os.scandir(self.out_dir) as entries:
            stale = [Path(e.path) for e in entries if e.name.startswith(prefix)]
        for path in stale:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()

    def _clean_up(self):
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self in _OPEN:
            _OPEN.remove(self)

    def _check_open(self):
        if self._staging is None or self.committed:
            raise ValueError("add and commit work once, inside `with RunOutputs(...)` and before commit.")

    def add(self, filename, write):
        """Stage one output file: write(path) must create `path`; returns where it will land.

        filename: a plain name such as "task2b_binary_train_loss.png".
        An OSError while writing (a full disk, an I/O error) becomes one OutputError line.
        """
        self._check_open()
        stops.raise_if_requested()  # a stop swallowed by a callback: abandon now, not after the run
        if "/" in filename or filename.startswith(".") or filename in self._files \
                or filename == self.metrics_path.name:
            raise ValueError(f"{filename!r}: a file name must be plain, new in this run and not "
                             f"{self.metrics_path.name}.")
        path = self._staging / filename
        try:
            write(path)
            if not path.is_file():
                raise ValueError(f"{write!r} did not create {path}.")
            self._files[filename] = sha256_file(path)
        except OSError as err:
            raise OutputError(_cannot(f"could not write {self.out_dir / filename}", err)) from None
        return self.out_dir / filename

    def commit(self, metrics):
        """Write `metrics` + "files": {name: sha256} as <name>.json; move all into out_dir, the JSON last.

        metrics: a JSON-able dict without NaN or infinity (ValueError naming
        the key otherwise) and without a "files" key. Returns the JSON's path.
        """
        self._check_open()
        if "files" in metrics:
            raise ValueError('metrics must not have a "files" key: commit adds it.')
        _check_finite(metrics, "metrics")
        staged_json = self._staging / self.metrics_path.name
        try:
            staged_json.write_text(dumps_metrics({**metrics, "files": dict(self._files)}), encoding="utf-8")
            for name in (*self._files, staged_json.name):
                fsync_path(self._staging / name)  # the bytes are on the disk before any rename
        except OSError as err:
            raise OutputError(_cannot(f"could not write {self.metrics_path}", err)) from None
        with deferred_signals():
            # A stop that a callback swallowed (src.stops) abandons the run: the old outputs stay.
            stops.raise_if_requested()
            self._move_into_place((*self._files, staged_json.name))
            self.committed = True
            _COMMITTED.append(self.metrics_path)
            shutil.rmtree(self._staging, ignore_errors=True)
        return self.metrics_path

    def _move_into_place(self, names):
        for name in names:
            try:
                os.replace(self._staging / name, self.out_dir / name)
            except OSError as err:
                raise OutputError(f"could not move {name} into {self.out_dir}: {_reason(err)}; the "
                                  f"folder may now mix two runs: {_advice(err)} and rerun.") from None
        with contextlib.suppress(OSError):  # some file systems cannot flush a folder; the renames are done
            fsync_path(self.out_dir)


def clean_up_abandoned():
    """Remove the lock and staging folder of every RunOutputs still open.

    A stop signal can be handled at the very first instruction of __exit__,
    before it holds signals, and so skip its clean-up; src.cli.run calls this
    once main() has ended, so such a run leaves nothing behind either.
    """
    while _OPEN:
        _OPEN[-1]._clean_up()


def committed_outputs():
    """The metrics files this process has committed so far (oldest first)."""
    return list(_COMMITTED)


def note_written(path):
    """Record a file written on its own (atomically, outside any RunOutputs), for the stop line."""
    _WRITTEN.append(Path(path))


def written_files():
    """The files note_written has recorded so far (oldest first)."""
    return list(_WRITTEN)


def _refuse_constant(name):
    raise ValueError(name)


def _number(text):
    """A JSON number as a float; one too large for a float (1e999) stays its text, so that
    the schema names where it is ("is not of type 'number'") rather than reading infinity."""
    value = float(text)
    return value if math.isfinite(value) else text


def read_metrics_file(path, script):
    """A metrics JSON file as a dict; one OutputError line (naming it and `script`) for any damage.

    Missing, unreadable, empty, truncated, not UTF-8, not JSON, NaN or
    Infinity in it, or not a JSON object: each says to rerun `python script`.
    Its keys are checked by check_metrics (verify_outputs calls both).
    """
    path = Path(path)
    rerun = f"rerun `python {script}`"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise OutputError(f"{path} is missing: {rerun} to write it.") from None
    except OSError as err:
        raise OutputError(f"cannot read {path}: {_reason(err)}: {rerun}.") from None
    if not raw.strip():
        raise OutputError(f"{path} is empty (its run was cut short): {rerun}.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise OutputError(f"{path} is not UTF-8 text (byte {err.start}): {rerun}.") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_number)
    except json.JSONDecodeError as err:
        if err.pos >= len(text.rstrip()):
            raise OutputError(f"{path} is truncated (it ends inside the JSON, line {err.lineno}): "
                              f"{rerun}.") from None
        raise OutputError(f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}): "
                          f"{rerun}.") from None
    except ValueError as err:  # from _refuse_constant
        raise OutputError(f"{path} holds {err}, which a metrics file never does: {rerun}.") from None
    except RecursionError:
        raise OutputError(f"{path} is not a metrics file (nested too deeply): {rerun}.") from None
    if not isinstance(data, dict):
        raise OutputError(f"{path} holds a JSON {type(data).__name__}, not an object: {rerun}.")
    return data


@functools.cache
def _validator(kind):
    # Imported here: jsonschema takes 75 ms to import, which the writers of metrics need not pay.
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": SCHEMA["$defs"]})


def _key(path):
    """A path into the JSON as the messages write it: runs.shuffle.val_loss.values[3]."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def schema_problem(data, kind):
    """What is wrong with `data` (a metrics file's dict) by the schema of `kind`; None if nothing."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(kind).iter_errors(data))
    if error is None:
        return None
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        return f"{_key([*error.absolute_path, missing])} is missing"
    # The message starts with the value's repr, which for a series is thousands of numbers.
    message = error.message.replace(repr(error.instance), reprlib.repr(error.instance), 1)
    return f"{_key(error.absolute_path) or 'the file'}: {message}"


def run_problem(name, run, settings):
    """What the schema cannot say about one run record: its series' steps and values of
    one length with the steps increasing, and its early stop agreeing with itself; None if all hold."""
    where = f"runs.{name}"
    for series in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        steps, values = run[series]["steps"], run[series]["values"]
        if len(steps) != len(values):
            return f"{where}.{series} has {len(steps)} steps but {len(values)} values"
        if any(b <= a for a, b in zip(steps, steps[1:])):
            return f"{where}.{series}.steps do not increase"
    if run["epochs_run"] > settings["max_epochs"]:
        return f"{where}.epochs_run is {run['epochs_run']}, more than settings.{name}.max_epochs"
    if (run["final"]["test_loss"] is None) != (run["final"]["test_accuracy"] is None):
        return f"{where}.final.test_loss and test_accuracy are not both null or both numbers"
    epoch, step = run["stop_epoch"], run["stop_step"]
    if not run["early_stopped"]:
        if epoch is None and step is None:
            return None
        return f"{where}.stop_epoch is set although early_stopped is false"
    if settings["early_stopping_patience"] is None:
        return f"{where}.early_stopped is true although early stopping was off"
    if epoch != run["epochs_run"]:
        return f"{where}.stop_epoch is {epoch}, not the last epoch run ({run['epochs_run']})"
    if step is None or step // run["steps_per_epoch"] + 1 != epoch:
        return f"{where}.stop_step is {step}, not a step of epoch {epoch}"
    return None


def mistakes_problem(data):
    """task3's mistakes: each a mistake, and no more than the confusion matrix counts; None if so."""
    matrix = data["confusion_matrix"]
    for i, mistake in enumerate(data["misclassified"]):
        if mistake["predicted"] == mistake["true"]:
            return f"misclassified[{i}].predicted equals its true class: not a mistake"
    if len(data["misclassified"]) > sum(map(sum, matrix)) - sum(matrix[i][i] for i in range(10)):
        return "misclassified lists more mistakes than the confusion matrix counts"
    return None


def check_metrics(data, kind, path, script):
    """Check a metrics file's dict by the schema of its kind (METRICS_KINDS), then the rules
    across fields; an OutputError line naming `path`, the failing key and `python script`."""
    problem = schema_problem(data, kind)
    if problem is None and set(data["runs"]) != set(data["settings"]):
        problem = f"runs ({', '.join(data['runs'])}) and settings ({', '.join(data['settings'])}) differ"
    for name, run in data["runs"].items() if problem is None else ():
        problem = problem or run_problem(name, run, data["settings"][name])
    if problem is None and kind == "task3":
        problem = mistakes_problem(data)
    if problem is not None:
        raise OutputError(f"{path}: {problem}; rerun `python {script}`.")
    return data


def verify_files(folder, files, source, script=None):
    """Check that every file in `files` ({name: sha256}) exists in `folder` with that digest.

    source: the metrics file that lists them, for the message; script: the
    script that writes it (else the message says "the script that wrote source").
    Raises OutputError naming the first figure that is missing or does not match.
    """
    folder = Path(folder)
    rerun = f"rerun `python {script}`" if script else f"rerun the script that wrote {source}"
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise OutputError(f"{path} is missing but {source} lists it: {rerun}.")
        if sha256_file(path) != digest:
            raise OutputError(f"{path} does not belong to the run in {source} (its SHA-256 differs): "
                              f"the folder holds outputs of two runs; {rerun}.")


def verify_outputs(out_dir, name, script):
    """Read out_dir/<name>.json (read_metrics_file), check it (check_metrics, if the schema
    describes that name) and check the files it lists; return its dict."""
    path = Path(out_dir) / f"{name}.json"
    data = read_metrics_file(path, script)
    files = data.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and "/" not in k and isinstance(v, str) for k, v in files.items()):
        raise OutputError(f'{path} has no "files" object listing its figures (an older or hand-made file): '
                          f"rerun `python {script}`.")
    if name in METRICS_KINDS:
        check_metrics(data, name, path, script)
    verify_files(out_dir, files, path, script)
    return data
