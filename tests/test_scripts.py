"""The task scripts end to end, with small sizes, into tmp_path."""

import dataclasses
import json
import os
import shutil
import stat

import matplotlib.image
import pytest

import task2
import task2a
import task3
import task3a
import task4
from src import plots
from src.cli import report_checks, run
from src.outputs import verify_outputs
from src.plots import FIGURES
from src.report import build_report
from tests.conftest import SMALL_RUN as SMALL

SERIES = {"train_loss", "val_loss", "train_accuracy", "val_accuracy"}
RUN_KEYS = SERIES | {"test_accuracy", "epochs_run", "early_stopped", "stop_epoch", "final",
                     "l2_reg_lambda", "weight_l2_norm", "weight_roughness"}


def exit_code(module, argv):
    """Run a script's main as the shell would (through src.cli.run); its exit code."""
    with pytest.raises(SystemExit) as exit_info:
        run(lambda: module.main(argv))
    return exit_info.value.code


def run_script(module, out_dir, mnist_dir, *extra):
    return exit_code(module, ["--data-dir", str(mnist_dir), "--out-dir", str(out_dir), *SMALL, *extra])


@pytest.mark.parametrize("module", [task2, task3, task4], ids=lambda m: m.__name__)
def test_script_writes_valid_figures_and_metrics(module, small_outputs):
    folder, name = small_outputs, module.__name__
    for figure in FIGURES[name]:
        image = matplotlib.image.imread(folder / figure)
        assert (folder / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
    data = verify_outputs(folder, name, f"{name}.py")  # every figure listed with its SHA-256, and matching
    assert sorted(data["files"]) == sorted(FIGURES[name])
    for run_name, record in data["runs"].items():
        assert RUN_KEYS <= set(record), run_name
        for key in SERIES:
            assert len(record[key]["steps"]) == len(record[key]["values"]) > 0
        assert 0 <= record["test_accuracy"] <= 1 and record["epochs_run"] <= 4
        assert isinstance(record["early_stopped"], bool)
        assert record["stop_epoch"] is None or record["stop_epoch"] <= record["epochs_run"]
        settings = data["settings"][run_name]
        assert settings["seed"] == 0 and settings["train_size"] == 1500 and settings["batch_size"] == 128
        assert settings["dataset"] == "mnist" and settings["l2_reg_lambda"] == record["l2_reg_lambda"]
        assert record["weight_l2_norm"] > 0
    if module is task4:
        assert sorted(r["l2_reg_lambda"] for r in data["runs"].values()) == sorted(task4.LAMBDAS)
    if module is task3:
        assert sum(map(sum, data["confusion_matrix"])) == 10000 - 300
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]


@pytest.mark.parametrize("module", [task2, task3], ids=lambda m: m.__name__)
def test_a_two_epoch_run_draws_every_point_inside_the_axes(module, mnist_dir, tmp_path, monkeypatch):
    """The assignment's y-limits hold few of a 2-epoch run's points: each curve figure widens to them."""
    drawn = {}

    def keep(fig, path):  # the axes as drawn; an empty file in place of the PNG (encoding it takes time)
        drawn[path.name] = [(ax.get_ylim(), plots._curves(ax)) for ax in fig.axes]
        plots.plt.close(fig)
        path.write_bytes(b"")
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    assert run_script(module, tmp_path, mnist_dir) == 0  # SMALL: --epochs 2
    curve_figures = [name for name in FIGURES[module.__name__]
                     if "confusion" not in name and "misclassified" not in name]
    for name in curve_figures:
        for (low, high), curves in drawn[name]:
            assert curves and all(low <= y.min() and y.max() <= high for y in curves), name


def test_the_report_builds_from_the_scripts_outputs(small_outputs, tmp_path):
    folder = tmp_path / "figures"
    shutil.copytree(small_outputs, folder)
    text = build_report(folder).read_text()
    assert "## 4e:" in text


def test_results_are_identical_whatever_the_number_of_jobs(mnist_dir, tmp_path):
    """One BLAS thread per run: the same numbers in one process or in a pool of two."""
    for jobs in ("1", "2"):
        assert run_script(task3, tmp_path / jobs, mnist_dir, "--seed", "5", "--jobs", jobs) == 0
    a, b = ((tmp_path / jobs / "task3.json").read_bytes() for jobs in ("1", "2"))
    assert a == b  # no timings in it, and it lists the figures' SHA-256: they are byte-identical too
    assert "seconds" not in json.loads(a)["runs"]["softmax"]


@pytest.mark.parametrize("module, flags, message", [
    (task3, ["--epochs", "0"], "argument --epochs: 0 is not between 1 and 500000"),
    (task3, ["--epochs", "600000"], "argument --epochs: 600000 is not between 1 and 500000"),
    (task2, ["--train-size", "ten"], "argument --train-size: 'ten' is not a whole number"),
    (task3, ["--seed", "-1"], "argument --seed: -1 is not between 0"),
    (task3, ["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (task4, ["--val-size", "1.5"], "argument --val-size: '1.5' is not a whole number"),
    (task3, ["--val-size", "10000"], "argument --val-size: 10000 is not between 1 and 9999"),
    (task3, ["--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
    (task4, ["--jobs", "0"], "argument --jobs: 0 is not"),
])
def test_bad_flags_exit_2_with_one_clear_line(module, flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--out-dir", str(tmp_path / "out"), *flags])
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("usage:") is False and message in last
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("module, flags, message", [
    # 3 training images hold no 2s or 3s for seed 0.
    (task2, ["--train-size", "3"], "error: --train-size 3 leaves no training images of classes 2 and 3: "
                                   "use a larger --train-size."),
    # 500 images hold 106 2s and 3s: fewer than one batch (and task2.py has no batch flag to blame).
    (task2, ["--train-size", "500"], "error: --train-size 500 leaves 106 training images of classes 2 and 3, "
                                     "fewer than one batch of 128: use a larger --train-size.\n"),
    (task3, ["--train-size", "100"], "error: --train-size 100 leaves 100 training images, fewer than one batch"),
    (task2, ["--val-size", "9999"], "error: --val-size 9999 leaves no held-out test images of classes 2 and 3: "
                                    "use a smaller --val-size."),
])
def test_sizes_that_do_not_fit_the_task_exit_1_naming_the_flag(module, flags, message, mnist_dir, tmp_path,
                                                                 capsys):
    assert exit_code(module, ["--data-dir", str(mnist_dir), "--out-dir", str(tmp_path), "--quiet", *flags]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_an_out_dir_that_is_a_file_stops_before_any_data_is_read(tmp_path, capsys, monkeypatch):
    import src.experiment
    monkeypatch.setattr(src.experiment, "load_data", lambda *a: pytest.fail("data loaded before the check"))
    (tmp_path / "taken").write_text("a file")
    assert exit_code(task4, ["--out-dir", str(tmp_path / "taken")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out-dir" in err[0] and "taken" in err[0]


def test_missing_data_exits_1_naming_where_it_looked(tmp_path, monkeypatch, capsys):
    from src import mnist
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setitem(mnist.DATASETS, "mnist", dataclasses.replace(
        mnist.DATASETS["mnist"], cache_dir=tmp_path / "cache", mirrors=("http://127.0.0.1:9/",)))  # no internet
    (tmp_path / "empty").mkdir()
    assert exit_code(task2a, ["--data-dir", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: MNIST files not found")
    assert str(tmp_path / "empty") in err and "http://127.0.0.1:9/train-images-idx3-ubyte.gz" in err


def test_a_data_dir_that_does_not_exist_is_named_not_passed_over(tmp_path, capsys):
    assert exit_code(task3a, ["--data-dir", str(tmp_path / "typo")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --data-dir {tmp_path / 'typo'}: no such folder.")


def test_gradient_check_scripts_pass_on_real_images(mnist_dir, capsys):
    assert task2a.main(["--data-dir", str(mnist_dir)]) == 0
    assert task3a.main(["--data-dir", str(mnist_dir)]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.count("PASS") == 5 + 6
    assert "all 6 checks passed" in out


def test_a_failing_check_is_named_and_exits_1(capsys):
    assert report_checks([("a", True, ""), ("gradient of w", False, "error 1")], "title") == 1
    assert "1 of 2 checks failed: gradient of w" in capsys.readouterr().out


def test_outputs_get_ordinary_file_permissions(small_outputs):
    umask = os.umask(0)
    os.umask(umask)
    for path in small_outputs.iterdir():
        if not path.name.startswith("."):
            assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name


def test_task3_trains_on_fashion_mnist_with_class_names(fashion_mnist_dir, tmp_path):
    assert run_script(task3, tmp_path, fashion_mnist_dir, "--dataset", "fashion-mnist") == 0
    data = verify_outputs(tmp_path, "task3", "task3.py")
    assert data["settings"]["softmax"]["dataset"] == "fashion-mnist"
    assert 0.5 < data["runs"]["softmax"]["test_accuracy"] < 0.95  # two epochs; chance is 0.1


def test_figures_label_the_classes_by_name():
    import matplotlib.pyplot as plt
    import numpy as np

    from src import plots
    from src.mnist import class_names
    names = class_names("fashion-mnist")
    fig = plots.confusion_matrix_figure(np.eye(10, dtype=int), "title", names)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(names)
    assert fig.axes[0].get_xlabel() == "predicted class"
    plt.close(fig)


def test_mnist_files_offered_as_fashion_mnist_stop_in_one_line_writing_nothing(mnist_dir, tmp_path, capsys):
    assert run_script(task3, tmp_path, mnist_dir, "--dataset", "fashion-mnist") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds the MNIST digits, not Fashion-MNIST" in err[0]
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
