"""A stop signal is never lost: inside a callback that swallows exceptions, and while a command starts."""

import gc
import os
import signal
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from src.cli import run
from src.outputs import RunOutputs

ROOT = Path(__file__).resolve().parent.parent


def exit_of(main, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run(main)
    return exit_info.value.code, capsys.readouterr().err


class _Thing:
    pass


def _stop_inside_a_weakref_callback(signum):
    """Deliver `signum` inside a weakref callback, where Python cannot propagate an exception
    (it prints "Exception ignored in ..."), as when it lands in one of Matplotlib's."""
    thing = _Thing()
    ref = weakref.ref(thing, lambda _: signal.raise_signal(signum))  # raise_signal runs the handler there
    del thing
    return ref


def _stop_inside_a_gc_callback(signum):
    def callback(phase, info):
        gc.callbacks.remove(callback)
        signal.raise_signal(signum)
    gc.callbacks.append(callback)
    gc.collect()


@pytest.mark.parametrize("deliver", [_stop_inside_a_weakref_callback, _stop_inside_a_gc_callback],
                         ids=["weakref callback", "gc callback"])
@pytest.mark.parametrize("signum, code, line", [(signal.SIGTERM, 143, "stopped by SIGTERM"),
                                                (signal.SIGINT, 130, "interrupted (Ctrl-C)")])
def test_a_stop_swallowed_by_a_callback_still_stops_the_run_and_keeps_the_old_outputs(
        tmp_path, capsys, deliver, signum, code, line):
    def write_run(content, stop=False):
        with RunOutputs(tmp_path, "task2") as out:
            out.add("a.png", lambda path: path.write_bytes(content))
            if stop:
                deliver(signum)
            out.commit({"run": content.decode()})

    assert exit_of(lambda: write_run(b"old"), capsys) == (0, "")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert exit_of(lambda: write_run(b"new", stop=True), capsys) == (code, f"{line}: no outputs were changed.\n")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # byte for byte, nothing else


def test_a_stop_swallowed_after_the_last_commit_still_ends_with_its_code(tmp_path, capsys):
    def main():
        with RunOutputs(tmp_path, "task2") as out:
            out.commit({})
        _stop_inside_a_weakref_callback(signal.SIGTERM)
        return 0
    code, err = exit_of(main, capsys)
    assert code == 143
    assert err == (f"stopped by SIGTERM after writing {tmp_path / 'task2.json'} and its figures, complete; "
                   "nothing else was changed.\n")


# --- while a command starts ---------------------------------------------------------------------

# Shadows NumPy, the first heavy import of every command: it says it has started and then
# waits for ever, so the signal is sure to arrive during the imports (no timing involved).
BLOCKING_NUMPY = """
import os
os.write(1, b"importing numpy\\n")
os.read(0, 1)  # stdin is a pipe nobody writes to
"""
COMMANDS = [["-m", "src"], ["-m", "src.train"], ["-m", "src.predict"], ["-m", "src.sweep"], ["-m", "src.report"],
            ["task2.py"], ["task2a.py"], ["task3.py"], ["task3a.py"], ["task4.py"]]
STOPS = [(signal.SIGINT, 130, "interrupted (Ctrl-C)"), (signal.SIGTERM, 143, "stopped by SIGTERM"),
         (signal.SIGHUP, 129, "stopped by SIGHUP")]


def test_a_stop_while_any_command_imports_is_one_line_and_its_exit_code(tmp_path):
    (tmp_path / "numpy.py").write_text(BLOCKING_NUMPY)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    cases = [(command, STOPS[i % len(STOPS)]) for i, command in enumerate(COMMANDS)]  # each signal 3+ times
    children = [subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for command, _ in cases]
    try:
        for child, (_, (signum, _, _)) in zip(children, cases):
            assert child.stdout.readline() == b"importing numpy\n"
            child.send_signal(signum)
        for child, (command, (_, code, line)) in zip(children, cases):
            _, err = child.communicate(timeout=10)
            assert (command, child.returncode, err.decode()) == (
                command, code, f"{line} while starting: no outputs were changed.\n")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


# --- the main job, ended early --------------------------------------------------------------------

def _script(name, code, cost):
    from src.__main__ import Script
    return Script(name, [sys.executable, "-c", code], cost)


def _writes(folder, name):
    return f"from pathlib import Path; Path({str(folder / name)!r}).write_text('{{}}')"


STOPS_THE_JOB = "import os, signal, time; os.kill(os.getppid(), signal.SIGTERM); time.sleep(10)"


@pytest.mark.parametrize("ending, code", [("import sys; sys.exit(4)", 4), (STOPS_THE_JOB, 143)],
                         ids=["a script fails", "SIGTERM"])
def test_a_main_job_ended_early_names_the_scripts_that_replaced_their_outputs(tmp_path, monkeypatch, capsys,
                                                                              ending, code):
    from src import __main__ as job
    (tmp_path / "README.md").write_text("the report of the runs before")
    scripts = [_script("task3.py", _writes(tmp_path, "task3.json"), 3),
               _script("task4.py", _writes(tmp_path, "task4.json"), 2), _script("last.py", ending, 1)]
    monkeypatch.setattr(job, "script_commands", lambda args: scripts)
    assert job.main(["--out-dir", str(tmp_path), "--jobs", "1"]) == code  # one at a time, longest first
    line = capsys.readouterr().err.splitlines()[-1]
    assert line.endswith(f"; task3.py and task4.py had finished and replaced their outputs in {tmp_path}, so "
                         f"{tmp_path / 'README.md'} describes the runs before them: rerun `python -m src`, or "
                         f"`python -m src.report --figures-dir {tmp_path}` to describe what is there"), line
    assert (tmp_path / "README.md").read_text() == "the report of the runs before"
