"""A run's outputs are all new or all old: --out-dir checks, the lock, staging, commit, damage found later."""

import contextlib
import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from src import fileio, outputs
from src.outputs import (
    OutputError,
    RunOutputs,
    check_out_dir,
    deferred_signals,
    dumps_metrics,
    read_metrics_file,
    verify_outputs,
)

ROOT = Path(__file__).resolve().parent.parent
FIGURES = [f"figure{i}.png" for i in range(6)]


def commit_run(folder, version, size=1000, name="fake"):
    """A fake run: six files holding `version` repeated, metrics naming it."""
    with RunOutputs(folder, name) as out:
        for figure in FIGURES:
            out.add(figure, lambda path: path.write_bytes(version.encode() * size))
        out.commit({"version": version, "series": [0.5, 0.25]})


def snapshot(folder):
    """{name: bytes} of everything in `folder`, hidden files included."""
    return {p.name: p.read_bytes() if p.is_file() else "<dir>" for p in Path(folder).iterdir()}


def hidden(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith("."))


def one_line(text):
    return "\n" not in str(text).strip()


def start_child(code, *args):
    """A Python process running `code` from the repository root, talking through pipes."""
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@contextlib.contextmanager
def tmpfs(folder, options):
    """A real tmpfs mounted on `folder` (we run as root in CI), or None where mounting is not allowed."""
    folder.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                 capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        mounted = False
    try:
        yield folder if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=10)


# --- check_out_dir -----------------------------------------------------------------------------


def test_check_out_dir_makes_a_missing_folder_and_its_parents(tmp_path):
    assert check_out_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir() and list((tmp_path / "a" / "b").iterdir()) == []


def test_a_file_given_as_out_dir_is_one_line_naming_it(tmp_path):
    (tmp_path / "figures").write_text("not a folder")
    with pytest.raises(OutputError, match="--out-dir .*figures is a file, not a folder") as err:
        check_out_dir(tmp_path / "figures")
    assert one_line(err.value)


def test_a_folder_below_a_file_says_not_a_directory(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="Not a directory: part of the path is a file; choose another"):
        check_out_dir(tmp_path / "file" / "figures")


def test_a_dangling_symlink_is_named_with_its_missing_target(tmp_path):
    (tmp_path / "figures").symlink_to(tmp_path / "gone")
    with pytest.raises(OutputError, match=f"symbolic link to {tmp_path / 'gone'}, which does not exist"):
        check_out_dir(tmp_path / "figures")


def test_a_300_character_name_is_too_long(tmp_path):
    with pytest.raises(OutputError, match="File name too long: choose a shorter --out-dir") as err:
        check_out_dir(tmp_path / ("x" * 300))
    assert one_line(err.value) and str(tmp_path) in str(err.value)


def test_a_read_only_file_system_is_found_by_writing_a_real_file(tmp_path, monkeypatch):
    with tmpfs(tmp_path / "ro", "ro,size=64k") as mount:
        if mount is None:  # no mounting here: the same error, raised where the probe writes
            monkeypatch.setattr(outputs.tempfile, "mkstemp", _raise(errno.EROFS))
            mount = tmp_path / "ro"
        with pytest.raises(OutputError, match="Read-only file system: choose an --out-dir on a writable"):
            check_out_dir(mount)


def _raise(code):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return fail


def test_permission_denied_says_choose_another_out_dir(tmp_path, monkeypatch):
    # Tests run as root, whom chmod does not stop: the probe's file creation fails instead.
    monkeypatch.setattr(outputs.tempfile, "mkstemp", _raise(errno.EACCES))
    with pytest.raises(OutputError, match=f"cannot write to --out-dir {tmp_path}: Permission denied: "
                                          "choose an --out-dir you may write to"):
        check_out_dir(tmp_path)


def test_a_full_disk_is_found_before_any_work(tmp_path, monkeypatch):
    with tmpfs(tmp_path / "small", "size=64k") as mount:
        if mount is None:
            monkeypatch.setattr(outputs.os, "fsync", _raise(errno.ENOSPC))
            mount = tmp_path / "small"
        else:
            with contextlib.suppress(OSError), open(mount / "filler", "wb") as f:
                f.write(b"x" * (1 << 20))
                f.flush()
        with pytest.raises(OutputError, match="No space left on device: free some disk space"):
            check_out_dir(mount)
        assert hidden(mount) == []


def test_stale_part_files_of_dead_writers_are_removed_and_live_or_recent_ones_kept(tmp_path):
    old = time.time() - 2 * fileio.STALE_AFTER_SECONDS
    names = {"dead_old": ".a.png.999999999-abcd1234.part", "no_pid_old": ".b.json.abcd1234.part",
             "mine_old": f".c.png.{os.getpid()}-abcd1234.part",
             "dead_recent": ".d.png.999999999-zzzz0000.part",
             "not_ours": ".notes.part"}
    for key, name in names.items():
        (tmp_path / name).write_text("half")
        if key.endswith("old") or key == "not_ours":
            os.utime(tmp_path / name, (old, old))
    check_out_dir(tmp_path)
    assert hidden(tmp_path) == sorted([names["mine_old"], names["dead_recent"], names["not_ours"]])


def test_atomic_writes_name_their_writer_so_stale_ones_can_be_found(tmp_path):
    with fileio.atomic_path(tmp_path / "README.md") as tmp:
        match = fileio.PART_NAME.fullmatch(tmp.name)
        tmp.write_text("x")
    assert match and match["pid"] == str(os.getpid()) and match["name"] == "README.md"
    assert os.listdir(tmp_path) == ["README.md"]


# --- RunOutputs: commit and rollback --------------------------------------------------------------


def test_commit_puts_every_file_in_place_listed_with_its_sha256(tmp_path):
    commit_run(tmp_path, "A")
    data = verify_outputs(tmp_path, "fake", "fake.py")
    assert data["version"] == "A" and data["series"] == [0.5, 0.25]
    assert list(data["files"]) == FIGURES
    assert all(data["files"][f] == fileio.sha256_file(tmp_path / f) for f in FIGURES)
    assert hidden(tmp_path) == [] and sorted(os.listdir(tmp_path)) == sorted([*FIGURES, "fake.json"])


class Boom(Exception):
    pass


@pytest.mark.parametrize("stop", [Boom, KeyboardInterrupt, SystemExit, "nan metrics"])
def test_leaving_the_block_by_any_exception_leaves_old_outputs_byte_identical(tmp_path, stop):
    commit_run(tmp_path, "A")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError if stop == "nan metrics" else stop):
        with RunOutputs(tmp_path, "fake") as out:
            for figure in FIGURES[:3]:
                out.add(figure, lambda path: path.write_bytes(b"B" * 1000))
            if stop == "nan metrics":
                out.commit({"version": "B", "series": [0.5, float("nan")]})
            raise stop()
    assert snapshot(tmp_path) == before  # no staging folder, lock or .part file either


def test_leaving_the_block_without_commit_changes_nothing(tmp_path):
    commit_run(tmp_path, "A")
    before = snapshot(tmp_path)
    with RunOutputs(tmp_path, "fake") as out:
        out.add(FIGURES[0], lambda path: path.write_bytes(b"B"))
    assert snapshot(tmp_path) == before


def test_nan_in_metrics_is_a_valueerror_naming_its_key(tmp_path):
    with RunOutputs(tmp_path, "fake") as out, pytest.raises(ValueError) as err:
        out.commit({"runs": {"shuffle": {"val_loss": {"values": [0.3, float("inf")]}}}})
    assert "metrics['runs']['shuffle']['val_loss']['values'][1] is inf" in str(err.value)


def test_misuse_of_add_and_commit_is_a_valueerror(tmp_path):
    out = RunOutputs(tmp_path, "fake")
    with pytest.raises(ValueError, match="inside `with RunOutputs"):
        out.add("a.png", lambda path: path.write_bytes(b""))
    with RunOutputs(tmp_path, "fake") as out:
        out.add("a.png", lambda path: path.write_bytes(b""))
        for bad in ("a.png", "../a.png", ".hidden", "fake.json"):
            with pytest.raises(ValueError):
                out.add(bad, lambda path: path.write_bytes(b""))
        with pytest.raises(ValueError, match="did not create"):
            out.add("b.png", lambda path: None)
        with pytest.raises(ValueError, match='"files" key'):
            out.commit({"files": {}})
        out.commit({})
        with pytest.raises(ValueError):
            out.add("c.png", lambda path: path.write_bytes(b""))


def test_a_full_disk_while_writing_is_one_line_and_the_old_run_stays(tmp_path, monkeypatch):
    with tmpfs(tmp_path / "small", "size=256k") as mount:
        folder = mount or tmp_path / "small"
        commit_run(folder, "A", size=8000)
        before = snapshot(folder)
        big = b"B" * (1 << 20) if mount else None
        with pytest.raises(OutputError) as err, RunOutputs(folder, "fake") as out:
            out.add(FIGURES[0], lambda path: path.write_bytes(b"B" * 8000))
            out.add(FIGURES[1], (lambda path: path.write_bytes(big)) if mount else _raise(errno.ENOSPC))
        assert str(err.value) == (f"could not write {folder / FIGURES[1]}: No space left on device: "
                                  "free some disk space or choose another --out-dir.")
        assert snapshot(folder) == before


def test_an_io_error_while_flushing_before_the_renames_leaves_the_old_run(tmp_path, monkeypatch):
    commit_run(tmp_path, "A")
    before = snapshot(tmp_path)
    monkeypatch.setattr(outputs, "fsync_path", _raise(errno.EIO))
    with pytest.raises(OutputError, match=f"could not write {tmp_path / 'fake.json'}: Input/output error"):
        commit_run(tmp_path, "B")
    assert snapshot(tmp_path) == before


def test_a_folder_mixing_two_runs_is_found_by_the_hashes(tmp_path):
    # What SIGKILL or a power cut between two renames would leave.
    commit_run(tmp_path, "A")
    (tmp_path / FIGURES[2]).write_bytes(b"B" * 1000)
    with pytest.raises(OutputError, match=f"{FIGURES[2]} does not belong to the run in .*fake.json .*"
                                          r"rerun `python fake.py`") as err:
        verify_outputs(tmp_path, "fake", "fake.py")
    assert one_line(err.value)


def test_a_metrics_file_without_files_is_one_line_saying_rerun(tmp_path):
    (tmp_path / "task2.json").write_text('{"runs": {}}')
    with pytest.raises(OutputError, match=r'no "files" object .*rerun `python task2.py`'):
        verify_outputs(tmp_path, "task2", "task2.py")


# --- the lock -----------------------------------------------------------------------------------


def test_a_second_run_on_the_same_outputs_is_refused_at_once_naming_the_pid(tmp_path):
    with RunOutputs(tmp_path, "fake"):
        with pytest.raises(OutputError) as err, RunOutputs(tmp_path, "fake"):
            pass
        with RunOutputs(tmp_path, "other") as other:  # another script's outputs: no conflict
            other.commit({})
    assert str(err.value) == (f"another run (pid {os.getpid()}) is writing fake outputs to {tmp_path}: "
                              "wait for it to finish or choose another --out-dir.")
    assert hidden(tmp_path) == []


HOLD_LOCK = """
import sys
from src.outputs import RunOutputs
with RunOutputs(sys.argv[1], "fake") as out:
    out.add("figure0.png", lambda path: path.write_bytes(b"half a run"))
    print("staged", flush=True)
    sys.stdin.readline()
"""


def test_a_run_in_another_process_holds_the_lock_until_it_ends(tmp_path):
    child = start_child(HOLD_LOCK, tmp_path)
    assert child.stdout.readline() == "staged\n"
    with pytest.raises(OutputError, match=f"another run \\(pid {child.pid}\\)"):
        commit_run(tmp_path, "A")
    child.communicate("\n", timeout=10)
    commit_run(tmp_path, "A")
    assert hidden(tmp_path) == []


def test_what_a_killed_run_left_is_removed_by_the_next_run(tmp_path):
    commit_run(tmp_path, "A")
    child = start_child(HOLD_LOCK, tmp_path)
    assert child.stdout.readline() == "staged\n"
    child.kill()  # SIGKILL: no clean-up runs
    child.communicate(timeout=10)
    assert hidden(tmp_path) == [".fake.lock", f".fake.staging-{child.pid}"]
    assert verify_outputs(tmp_path, "fake", "fake.py")["version"] == "A"  # out_dir itself untouched
    commit_run(tmp_path, "B")
    assert hidden(tmp_path) == [] and verify_outputs(tmp_path, "fake", "fake.py")["version"] == "B"


# --- signals ------------------------------------------------------------------------------------


def test_signals_inside_deferred_signals_arrive_on_leaving_it():
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        with pytest.raises(KeyboardInterrupt):
            with deferred_signals():
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)  # any pending handler would have run by now
                assert received == []
        assert received == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_deferred_signals_outside_the_main_thread_does_nothing():
    errors = []

    def body():
        try:
            with deferred_signals():
                pass
        except Exception as err:  # signal.signal would raise ValueError here
            errors.append(err)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert errors == []


FAKE_RUNS = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if the test runner ignores Ctrl-C
from src.cli import run
from src.outputs import RunOutputs

def main():
    n = 0
    print("ready", flush=True)
    while True:
        version = "BA"[n % 2]  # the folder starts with A
        with RunOutputs(sys.argv[1], "fake") as out:
            for i in range(6):
                out.add(f"figure{i}.png", lambda path: path.write_bytes(version.encode() * 200_000))
            out.commit({"version": version, "commit": n})
        n += 1

run(main)
"""


def test_sigterm_or_ctrl_c_at_any_moment_leaves_one_whole_run(tmp_path):
    # A commit of six 200 KB files takes ~7 ms here: delays of 0-40 ms land
    # before, inside and between commits. Four runs at a time, 20 in all.
    rng = random.Random(20240611)
    versions = set()
    for batch in range(5):
        trials = []
        for i in range(4):
            folder = tmp_path / f"{batch}-{i}"
            commit_run(folder, "A", size=200_000)
            trials.append((rng.uniform(0, 0.04), (signal.SIGTERM, signal.SIGINT)[i % 2], folder,
                           start_child(FAKE_RUNS, folder)))
        assert all(child.stdout.readline() == "ready\n" for *_, child in trials)
        start = time.perf_counter()
        for delay, signum, _, child in sorted(trials, key=lambda t: t[0]):
            time.sleep(max(0.0, start + delay - time.perf_counter()))
            child.send_signal(signum)
        for _, signum, folder, child in trials:
            _, err = child.communicate(timeout=10)
            assert child.returncode == 128 + signum
            assert len(err.splitlines()) == 1 and "Traceback" not in err, err
            said = "stopped by SIGTERM" if signum == signal.SIGTERM else "interrupted (Ctrl-C)"
            assert err.startswith(said)
            data = verify_outputs(folder, "fake", "fake.py")
            assert all((folder / f).read_bytes() == data["version"].encode() * 200_000 for f in FIGURES)
            assert hidden(folder) == []
            versions.add(data["version"])
    assert versions == {"A", "B"}  # some signals came after commits, some before


# --- read_metrics_file --------------------------------------------------------------------------


DAMAGED = {
    "missing": (None, "is missing"),
    "empty": (b"", "is empty"),
    "blank": (b"  \n", "is empty"),
    "truncated": (b'{"runs": {"a": [1, 2', "is truncated"),
    "not utf-8": (b'{"a": "\xff"}', "is not UTF-8 text"),
    "not json": (b"figures\n", "is not valid JSON"),
    "trailing junk": (b'{"a": 1}}', "is not valid JSON"),
    "a list": (b"[1, 2]", "holds a JSON list, not an object"),
    "NaN": (b'{"a": NaN}', "holds NaN"),
    "Infinity": (b'{"a": [1, -Infinity]}', "holds -Infinity"),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_metrics_file_is_one_line_naming_it_and_the_script(tmp_path, case):
    content, what = DAMAGED[case]
    path = tmp_path / "task3.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(OutputError) as err:
        read_metrics_file(path, "task3.py")
    message = str(err.value)
    assert message.startswith(f"{path} {what}") and "rerun `python task3.py`" in message and one_line(message)


def test_an_unreadable_metrics_file_gives_the_reason(tmp_path):
    (tmp_path / "task3.json").mkdir()
    with pytest.raises(OutputError, match=r"cannot read .*task3.json: Is a directory: rerun `python task3"):
        read_metrics_file(tmp_path / "task3.json", "task3.py")


def test_metrics_json_puts_each_list_of_numbers_on_one_line():
    text = dumps_metrics({"steps": [1, 2, 3], "values": [0.5, -1e-05], "matrix": [[1, 2], [3, 4]]})
    assert '"steps": [1, 2, 3],' in text and '"values": [0.5, -1e-05],' in text and "  [3, 4]\n" in text
    assert json.loads(text)["matrix"] == [[1, 2], [3, 4]]
    with pytest.raises(ValueError):
        dumps_metrics({"a": float("nan")})


# --- the schema of the metrics files -------------------------------------------------------------


def test_the_metrics_schema_is_valid_and_states_what_the_writer_writes():
    from dataclasses import asdict

    from jsonschema import Draft202012Validator

    from src.experiment import Settings
    from src.mnist import DATASET_NAMES

    Draft202012Validator.check_schema(outputs.SCHEMA)
    settings = outputs.SCHEMA["$defs"]["settings"]
    assert set(settings["required"]) <= set(asdict(Settings()))
    assert settings["properties"]["dataset"]["enum"] == list(DATASET_NAMES)
