"""The command line every script shares: flags and their ranges, one-line failures, clean exits."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from src.cli import float_in, parser, run
from src.errors import UserError
from src.outputs import RunOutputs
from src.parallel import available_cores

ROOT = Path(__file__).resolve().parent.parent


def exit_of(main, capsys):
    """(exit code, stderr) of run(main), in this process."""
    with pytest.raises(SystemExit) as exit_info:
        run(main)
    return exit_info.value.code, capsys.readouterr().err


# --- flags --------------------------------------------------------------------------------------


def test_every_script_takes_dataset_and_the_training_scripts_jobs_with_their_defaults():
    assert parser("x").parse_args([]).dataset == "mnist"
    assert not hasattr(parser("x").parse_args([]), "jobs")  # the gradient checks: nothing to spread
    args = parser("x", training=True, default_epochs=5).parse_args([])
    assert args.dataset == "mnist" and args.jobs == available_cores() >= 1
    args = parser("x", training=True).parse_args(["--dataset", "fashion-mnist", "--jobs", "1"])
    assert args.dataset == "fashion-mnist" and args.jobs == 1


def test_help_names_the_cache_folders_and_what_jobs_means(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line per flag: no word broken at a hyphen
    with pytest.raises(SystemExit):
        parser("x", training=True).parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "data/mnist/" in text and "data/fashion-mnist/" in text
    assert "one BLAS thread each; 1 = all in this process, in order" in text


@pytest.mark.parametrize("flags, message", [(["--dataset", "cifar"], "invalid choice: 'cifar'"),
                                            (["--jobs", "0"], "0 is not at least 1"),
                                            (["--jobs", "two"], "'two' is not a whole number")])
def test_a_bad_dataset_or_jobs_exits_2_naming_the_flag(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parser("x", training=True).parse_args(flags)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and f"argument {flags[0]}: {message}" in err


def test_epochs_leave_room_for_a_run_of_twice_as_many(capsys):
    assert parser("x", training=True, epochs_factor=2).parse_args(["--epochs", "500000"]).epochs == 500000
    with pytest.raises(SystemExit):
        parser("x", training=True, epochs_factor=2).parse_args(["--epochs", "500001"])
    assert ("500001 is not between 1 and 500000: the script also trains 2 times that many epochs"
            in capsys.readouterr().err)


def test_float_in_takes_the_bounds_it_includes_and_no_others():
    import argparse
    rate = float_in(0, 1, low_inclusive=False)
    assert rate("1") == 1.0 and rate("1e-3") == 0.001
    for text, message in [("0", "0 is not greater than 0 and at most 1"), ("1.5", "is not greater than 0"),
                          ("nan", "'nan' is not a finite number"), ("-inf", "'-inf' is not a finite number"),
                          ("fast", "'fast' is not a number")]:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            rate(text)
    assert float_in(0)("0") == 0.0 and float_in(high=2, high_inclusive=False)("-5") == -5.0
    with pytest.raises(argparse.ArgumentTypeError, match="-1 is not at least 0: lambda is a penalty"):
        float_in(0, why=": lambda is a penalty")("-1")


# --- run: one line per failure ------------------------------------------------------------------


def test_a_user_error_is_one_line_and_exit_1(capsys):
    def main():
        raise UserError("no images of digits 2 or 3 in the split: use a larger --train-size")
    code, err = exit_of(main, capsys)
    assert code == 1
    assert err == "error: no images of digits 2 or 3 in the split: use a larger --train-size\n"


def test_a_programming_error_keeps_its_traceback():
    def main():
        raise ValueError("X must have shape [N, 785]")
    with pytest.raises(ValueError, match="785"):
        run(main)


def test_main_return_value_is_the_exit_code(capsys):
    assert exit_of(lambda: None, capsys) == (0, "")
    assert exit_of(lambda: 3, capsys) == (3, "")


def test_ctrl_c_is_exit_130_and_one_line_saying_no_outputs_changed(capsys):
    def main():
        raise KeyboardInterrupt
    assert exit_of(main, capsys) == (130, "interrupted (Ctrl-C): no outputs were changed.\n")


def test_sigterm_in_the_middle_of_a_run_is_exit_143_and_the_folder_untouched(tmp_path, capsys):
    previous = signal.getsignal(signal.SIGTERM)

    def main():
        with RunOutputs(tmp_path, "task2") as out:
            out.add("a.png", lambda path: path.write_bytes(b"new"))
            os.kill(os.getpid(), signal.SIGTERM)
            out.commit({})
    code, err = exit_of(main, capsys)
    assert (code, err) == (143, "stopped by SIGTERM: no outputs were changed.\n")
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is previous  # run leaves the handlers as it found them


def test_an_interruption_after_a_commit_says_what_was_written(tmp_path, capsys):
    def main():
        with RunOutputs(tmp_path, "task2") as out:
            out.commit({})
        raise KeyboardInterrupt
    code, err = exit_of(main, capsys)
    assert code == 130
    assert err == (f"interrupted (Ctrl-C) after writing {tmp_path / 'task2.json'} and its figures, "
                   "complete; nothing else was changed.\n")


READER_GOES_AWAY = """
import sys
from pathlib import Path
from src.cli import run

def main():
    print("first line", flush=True)
    sys.stdin.readline()  # by now the reader has closed the pipe, as `| head -1` does
    for i in range(int(sys.argv[2])):
        print(f"progress line {i}", flush=sys.argv[3] == "flush")
    Path(sys.argv[1]).write_text("the run's outputs")
    print("done")
    return 3

run(main)
"""


@pytest.mark.parametrize("lines, flush, unbuffered",
                         [(5000, "flush", ""), (3, "at exit", ""), (100, "no", "1")],
                         ids=["flushed lines", "flushed at exit", "PYTHONUNBUFFERED"])
def test_a_closed_stdout_loses_no_outputs_and_prints_no_traceback(tmp_path, lines, flush, unbuffered):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | {"PYTHONUNBUFFERED": unbuffered}
    argv = [sys.executable, "-c", READER_GOES_AWAY, str(tmp_path / "out.txt"), str(lines), flush]
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdout.readline() == b"first line\n"
    child.stdout.close()
    _, err = child.communicate(b"\n", timeout=20)
    assert err == b""
    assert child.returncode == 3  # the run's own exit code
    assert (tmp_path / "out.txt").read_text() == "the run's outputs"


def test_a_run_whose_exit_a_signal_skipped_is_cleaned_up_by_run(tmp_path, capsys):
    """A stop signal handled at the first instruction of RunOutputs.__exit__ skips its
    clean-up; run() removes the lock and the staging folder all the same."""
    def main():
        out = RunOutputs(tmp_path, "task2")
        out.__enter__()  # and never __exit__: as if Ctrl-C came as it was called
        assert sorted(p.name for p in tmp_path.iterdir()) == [".task2.lock", f".task2.staging-{os.getpid()}"]
        raise KeyboardInterrupt
    code, err = exit_of(main, capsys)
    assert code == 130 and err == "interrupted (Ctrl-C): no outputs were changed.\n"
    assert list(tmp_path.iterdir()) == []
