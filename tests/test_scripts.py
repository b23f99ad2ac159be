"""The task scripts end to end, with small sizes, into tmp_path."""

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

import task2
import task2a
import task3
import task3a
import task4
from src.cli import report_checks, run
from src.report import FIGURES as REPORT_FIGURES
from tests.conftest import SMALL_RUN as SMALL

ROOT = Path(__file__).resolve().parent.parent
SERIES = {"train_loss", "val_loss", "train_accuracy", "val_accuracy"}
RUN_KEYS = SERIES | {"test_accuracy", "epochs_run", "early_stopped", "stop_epoch", "seconds", "final"}
# What the report expects each script to write: the one list of figure names.
FIGURES = {module: REPORT_FIGURES[f"{module.__name__}.py"] for module in (task2, task3, task4)}


def exit_code(module, argv):
    """Run a script's main as the shell would (through src.cli.run); its exit code."""
    with pytest.raises(SystemExit) as exit_info:
        run(lambda: module.main(argv))
    return exit_info.value.code


def run_script(module, out_dir, mnist_dir, *extra):
    return exit_code(module, ["--data-dir", str(mnist_dir), "--out-dir", str(out_dir), *SMALL, *extra])


def without_seconds(data):
    for record in data["runs"].values():
        record.pop("seconds")
    return data


@pytest.mark.parametrize("module", [task2, task3, task4], ids=lambda m: m.__name__)
def test_script_writes_valid_figures_and_metrics(module, small_outputs):
    tmp_path = small_outputs
    for name in FIGURES[module]:
        image = matplotlib.image.imread(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
    data = json.loads((tmp_path / f"{module.__name__}.json").read_text())
    assert set(data) >= {"settings", "runs"}
    for name, record in data["runs"].items():
        assert RUN_KEYS <= set(record), name
        for key in SERIES:
            assert len(record[key]["steps"]) == len(record[key]["values"]) > 0
        assert 0 <= record["test_accuracy"] <= 1 and record["epochs_run"] <= 4
        assert isinstance(record["early_stopped"], bool)
        assert record["stop_epoch"] is None or record["stop_epoch"] <= record["epochs_run"]
        settings = data["settings"][name]
        assert settings["seed"] == 0 and settings["train_size"] == 1500 and settings["batch_size"] == 128
        if module is task4:
            assert record["weight_l2_norm"] > 0 and record["l2_reg_lambda"] in task4.LAMBDAS
    if module is task3:
        assert sum(map(sum, data["confusion_matrix"])) == 10000 - 300
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_same_seed_gives_identical_metrics(mnist_dir, tmp_path):
    for out in ("a", "b"):
        assert run_script(task3, tmp_path / out, mnist_dir, "--seed", "5") == 0
    a, b = (without_seconds(json.loads((tmp_path / out / "task3.json").read_text())) for out in ("a", "b"))
    assert a == b  # wall-clock seconds aside, bit for bit


@pytest.mark.parametrize("flags", [["--epochs", "0"], ["--train-size", "ten"], ["--seed", "-1"],
                                   ["--no-such-flag"], ["--val-size", "1.5"], ["--val-size", "10000"],
                                   ["--train-size", "60001"]])
def test_bad_flags_exit_2_with_one_clear_line(flags, tmp_path):
    result = subprocess.run([sys.executable, "task3.py", "--out-dir", str(tmp_path), *flags],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("task3.py: error:")
    assert list(tmp_path.iterdir()) == []


def test_sizes_too_small_for_the_task_exit_1_with_the_reason(mnist_dir, tmp_path, capsys):
    # Valid flags, but 3 training images hold no 2s or 3s for seed 0.
    code = exit_code(task2, ["--data-dir", str(mnist_dir), "--out-dir", str(tmp_path), "--train-size", "3",
                             "--val-size", "3", "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: No images of digits 2 or 3") and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_missing_data_exits_1_naming_where_it_looked(tmp_path, monkeypatch, capsys):
    from src import mnist
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)
    monkeypatch.setattr(mnist, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(mnist, "MIRRORS", ("http://127.0.0.1:9/",))  # no real internet in tests
    assert exit_code(task2a, ["--data-dir", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: MNIST files not found")
    assert str(tmp_path / "none") in err and "http://127.0.0.1:9/train-images-idx3-ubyte.gz" in err


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
    import stat
    umask = os.umask(0)
    os.umask(umask)
    for path in small_outputs.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name
