"""The learners' workbench: src.train (any hyperparameters, a saved model) and src.sweep."""

import json
from dataclasses import replace

import numpy as np
import pytest

from src import plots, sweep, train
from src.cli import run
from src.experiment import TASK3, load_data
from src.modelfile import load_model
from src.outputs import verify_outputs

SMALL = ["--train-size", "1500", "--val-size", "300", "--epochs", "2", "--quiet"]


def exit_code(main, argv):
    with pytest.raises(SystemExit) as exit_info:
        run(lambda: main(argv))
    return exit_info.value.code


def test_train_writes_figures_metrics_and_a_model_that_predicts_like_the_run(mnist_dir, tmp_path):
    out = tmp_path / "run"
    argv = ["--data-dir", str(mnist_dir), "--out-dir", str(out), *SMALL, "--learning-rate", "0.05",
            "--batch-size", "32", "--l2", "0.01", "--no-shuffle", "--patience", "0"]
    assert exit_code(train.main, argv) == 0
    data = verify_outputs(out, "metrics", "python -m src.train")
    assert sorted(data["files"]) == sorted([*train.FIGURES, "model.npz"])
    settings, record = data["settings"]["run"], data["runs"]["run"]
    assert (settings["learning_rate"], settings["batch_size"], settings["l2_reg_lambda"]) == (0.05, 32, 0.01)
    assert settings["shuffle"] is False and settings["early_stopping_patience"] is None
    assert record["epochs_run"] == 2 and len(record["train_loss"]["steps"]) == 2 * (1500 // 32)

    saved = load_model(out / "model.npz")
    assert saved.kind == "softmax" and saved.class_names == tuple("0123456789")
    assert saved.hyperparameters["learning_rate"] == 0.05 and saved.model.l2_reg_lambda == 0.01
    test = load_data(replace(TASK3, train_size=1500, val_size=300), mnist_dir)
    accuracy = float(np.mean(saved.model.predict(test.X_test) == test.y_test))
    assert accuracy == pytest.approx(record["test_accuracy"], abs=1e-12)  # the very weights of the run


def test_train_binary_names_its_two_classes_in_output_order(mnist_dir, tmp_path):
    out = tmp_path / "binary"
    assert exit_code(train.main, ["--data-dir", str(mnist_dir), "--out-dir", str(out), *SMALL,
                                  "--model", "binary", "--classes", "4", "9"]) == 0
    saved = load_model(out / "model.npz")
    assert saved.kind == "binary" and saved.class_names == ("9", "4")  # target 0, then target 1
    assert json.loads((out / "metrics.json").read_text())["settings"]["run"]["classes"] == [4, 9]


@pytest.mark.parametrize("flags, message", [
    (["--learning-rate", "0"], "argument --learning-rate: 0"),
    (["--learning-rate", "nan"], "argument --learning-rate: "),
    (["--batch-size", "0"], "argument --batch-size: 0 is not between 1 and 60000"),
    (["--l2", "-1"], "argument --l2: -1"),
    (["--patience", "-1"], "argument --patience: -1 is not between 0"),
    (["--min-delta", "inf"], "argument --min-delta: "),
    (["--classes", "3", "3", "--model", "binary"], "--classes needs two different classes, got 3 twice"),
    (["--classes", "2", "10"], "argument --classes: 10 is not between 0 and 9"),
    (["--model", "mlp"], "argument --model: invalid choice: 'mlp'"),
])
def test_every_train_flag_checks_its_range_up_front(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--out-dir", str(tmp_path / "x"), *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp_path / "x").exists()


def test_batch_larger_than_the_training_set_names_both_flags(mnist_dir, tmp_path, capsys):
    code = exit_code(train.main, ["--data-dir", str(mnist_dir), "--out-dir", str(tmp_path), *SMALL,
                                  "--batch-size", "5000"])
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "error: --train-size 1500 leaves 1500 training images, fewer than one batch of 5000: "
        "use a larger --train-size or a smaller --batch-size.")


def test_sweep_runs_one_training_per_value_in_parallel(mnist_dir, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert exit_code(sweep.main, ["--data-dir", str(mnist_dir), "--out-dir", str(out), *SMALL,
                                  "--param", "batch_size", "--values", "256", "64", "64", "--jobs", "2"]) == 0
    data = verify_outputs(out, "sweep", "python -m src.sweep")
    assert data["param"] == "batch_size" and data["values"] == [64, 256]  # sorted, repeats dropped
    assert sorted(data["files"]) == sorted(sweep.FIGURES) and data["diverged"] == {}
    for value in (64, 256):
        record = data["runs"][f"batch_size={value}"]
        assert data["settings"][f"batch_size={value}"]["batch_size"] == value
        assert len(record["train_loss"]["steps"]) == 2 * (1500 // value)
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["batch_size", "epochs", "val", "loss", "val", "acc", "test", "acc"]
    assert [row.split()[0] for row in table[1:3]] == ["64", "256"]


def test_sweep_values_are_checked_like_the_train_flag(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        sweep.main(["--out-dir", str(tmp_path / "x"), "--param", "learning_rate", "--values", "0.1", "-1"])
    assert exit_info.value.code == 2
    assert "argument --values: -1" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_a_diverging_value_is_reported_not_a_crash(mnist_dir):
    settings = replace(TASK3, train_size=1500, val_size=300, max_epochs=2, learning_rate=1e38)
    data = load_data(settings, mnist_dir)
    record, why = sweep.sweep_run(settings, data)
    assert record is None and why.startswith("Training diverged at step")
    ok, _ = sweep.sweep_run(replace(settings, learning_rate=0.01), data)
    table = sweep.table("learning_rate", [0.01, 1e38], [(ok, None), (None, why)])
    assert table.splitlines()[2].split()[:2] == ["1e+38", "diverged:"]
    figure, _ = plots.sweep_figures("learning_rate", [0.01, 1e38], [(ok, None), (None, why)])
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert "diverged" in labels


def test_a_model_from_src_train_classifies_photos_with_src_predict(mnist_dir, tmp_path, capsys):
    """train -> model.npz -> predict, as the README's Try it yourself runs them."""
    from src.mnist import load_mnist
    from src.predict import main as predict
    from tests.test_predict import photograph
    out = tmp_path / "run"
    assert exit_code(train.main, ["--data-dir", str(mnist_dir), "--out-dir", str(out), *SMALL]) == 0
    capsys.readouterr()
    digits = load_mnist(mnist_dir)[2][-20:]  # the last test images
    photos = [str(photograph(digit, tmp_path / f"{k}.png")) for k, digit in enumerate(digits)]
    assert predict([str(out / "model.npz"), *photos, "--json"]) == 0
    predicted = [int(r["prediction"]) for r in json.loads(capsys.readouterr().out)]
    from src.data import pre_process_images
    saved = load_model(out / "model.npz")
    on_originals = saved.model.predict(pre_process_images(digits, np.float32))
    assert np.mean(np.array(predicted) == on_originals) >= 0.8  # measured: 20 of 20


def test_train_has_no_jobs_flag_to_ignore(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.main(["--out-dir", str(tmp_path / "x"), "--jobs", "2"])
    assert "unrecognized arguments: --jobs 2" in capsys.readouterr().err
