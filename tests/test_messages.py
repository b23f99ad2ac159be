"""Flags that contradict each other are refused, and messages give the right reason and command."""

import pytest

from src import sweep, train
from src.cli import run

SMALL = ["--train-size", "500", "--val-size", "100", "--epochs", "3", "--quiet"]


def refusal(main, argv, capsys):
    """(exit code, last line of stderr) of a command refused by its flags."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code, capsys.readouterr().err.strip().splitlines()[-1]


def test_restore_best_without_early_stopping_is_refused_not_ignored(tmp_path, capsys):
    code, line = refusal(train.main, ["--out-dir", str(tmp_path / "x"), "--restore-best", "--patience", "0"], capsys)
    assert code == 2 and line == ("python -m src.train: error: argument --restore-best: the best weights are kept "
                                  "by early stopping, which --patience 0 turns off: give --patience 1 or more, or "
                                  "drop --restore-best")
    assert not (tmp_path / "x").exists()


def test_a_sweep_of_patience_through_0_with_restore_best_is_refused(tmp_path, capsys):
    argv = ["--out-dir", str(tmp_path / "x"), "--restore-best", "--param", "patience", "--values", "0", "5"]
    code, line = refusal(sweep.main, argv, capsys)
    assert code == 2 and "argument --values: patience 0 turns off early stopping, which --restore-best needs" in line


def test_classes_without_a_binary_model_is_refused(tmp_path, capsys):
    code, line = refusal(train.main, ["--out-dir", str(tmp_path / "x"), "--classes", "4", "9"], capsys)
    assert code == 2 and line == ("python -m src.train: error: argument --classes: only a binary model compares two "
                                  "classes, and --model is softmax: add --model binary or drop --classes")


def test_softmax_settings_record_no_classes_and_binary_the_default_pair():
    p = train.parser("x", training=True, jobs=False)
    train.add_training_flags(p)
    assert train.settings_from_args(p.parse_args([])).classes is None
    assert train.settings_from_args(p.parse_args(["--model", "binary"])).classes == (2, 3)


@pytest.mark.parametrize("module, command, out_dir", [(train, "python -m src.train", "runs/<date-time>/"),
                                                      (sweep, "python -m src.sweep", "runs/sweep-<date-time>/")])
def test_help_names_the_command_as_typed_and_the_real_out_dir_default(module, command, out_dir, capsys,
                                                                      monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")
    with pytest.raises(SystemExit):
        module.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith(f"usage: {command} ")
    assert f"where figures and metrics go (default: {out_dir})" in text and "(default: figures/)" not in text


def test_a_sweep_where_every_value_diverges_prints_no_warning(mnist_dir, tmp_path, capsys):
    # lambda 1e4 with learning rates of 50 and 100: the weights grow by 1e6 a step, to infinity.
    argv = ["--data-dir", str(mnist_dir), "--out-dir", str(tmp_path), *SMALL, "--l2", "10000", "--jobs", "1",
            "--param", "learning_rate", "--values", "50", "100"]
    with pytest.raises(SystemExit) as exit_info:  # pytest turns any warning into an error here
        run(lambda: sweep.main(argv))
    out, err = capsys.readouterr()
    assert exit_info.value.code == 0 and err == ""
    assert [line.split()[1] for line in out.splitlines()[1:3]] == ["diverged:", "diverged:"]
