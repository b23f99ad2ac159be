"""python -m src.check on starter-shaped folders: the stubs, a correct solution, one folder per known mistake.

Every mistake folder is tests/check_fixtures/correct/ with one small textual
change (MUTATIONS). All folders are checked in a few runs of the checker
(one per group of parts, folders side by side), shared by the tests.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from src.check.mistakes import MISTAKES

FIXTURES = Path(__file__).parent / "check_fixtures"
ROOT = Path(__file__).resolve().parents[1]

SOFTMAX_GRAD = "        self.grad = -X.T @ (targets - outputs) / X.shape[0]\n        self.grad = self.grad + "
EARLY_STOP = """                    if val_loss < best:
                        best, since_best = val_loss, 0
                    else:
                        since_best += 1
                    if since_best >= self.patience:
                        return train_history, val_history
                global_step += 1
"""
PERMUTATION = "order = np.random.permutation(len(X))"

# name: (parts checked, file, old text, new text, the check that must fail, the mistake it must name)
MUTATIONS = {
    "l2-sum": ("3a 4a", "task3a.py", "self.l2_reg_lambda * self.w", "self.l2_reg_lambda * np.sum(self.w)",
               "L2 gradient, small weights", "l2-sum"),
    "no-batch-mean": ("3a 4a", "task3a.py", SOFTMAX_GRAD, SOFTMAX_GRAD.replace(" / X.shape[0]", ""),
                      "SoftmaxModel.backward, small weights", "no-batch-mean"),
    "no-batch-mean-binary": ("2a", "task2a.py", " / X.shape[0]", "",
                             "BinaryModel.backward, small weights", "no-batch-mean"),
    "no-max-shift": ("3a 4a", "task3a.py", "        z = z - z.max(axis=1, keepdims=True)\n", "",
                     "SoftmaxModel.forward at large logits", "no-max-shift"),
    "loss-nan": ("2a", "task2a.py", "p = np.clip(outputs, 1e-12, 1 - 1e-12)", "p = outputs",
                 "cross_entropy_loss (binary) at outputs 0 and 1", "loss-nan-at-0-1"),
    "loss-sum": ("2a", "task2a.py", "float(-np.mean(", "float(-np.sum(", "cross_entropy_loss (binary)",
                 "loss-sum"),
    "loss-array": ("2a", "task2a.py", "return float(-np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)))",
                   "return -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p), axis=0)",
                   "cross_entropy_loss (binary)", "loss-not-scalar"),
    "one-hot-off-by-one": ("3a 4a", "task3a.py", "Y[:, 0]] = 1", "Y[:, 0] - 1] = 1", "one_hot_encode",
                           "one-hot-off-by-one"),
    "bias-first": ("2a", "task2a.py", "[scaled, np.ones((len(X), 1))]", "[np.ones((len(X), 1)), scaled]",
                   "pre_process_images", "bias-column-first"),
    "min-max": ("2a", "task2a.py", "scaled = X / 127.5 - 1", "scaled = (X - X.min()) / (X.max() - X.min()) * 2 - 1",
                "pre_process_images", "per-batch-min-max"),
    "l2-divided-by-batch": ("3a 4a", "task3a.py", SOFTMAX_GRAD + "self.l2_reg_lambda * self.w",
                            "        self.grad = (-X.T @ (targets - outputs) + self.l2_reg_lambda * self.w)"
                            " / X.shape[0]", "L2 gradient, small weights", "l2-divided-by-batch"),
    "no-l2": ("3a 4a", "task3a.py", "        self.grad = self.grad + self.l2_reg_lambda * self.w\n", "",
              "L2 gradient, small weights", "no-l2-in-gradient"),
    "changes-inputs": ("3a 4a", "task3a.py", SOFTMAX_GRAD,
                       "        outputs -= targets\n        self.grad = X.T @ outputs / X.shape[0]\n"
                       "        self.grad = self.grad + ", "SoftmaxModel.backward, small weights", "changes-inputs"),
    "patience-9": ("2b-2e", "trainer.py", "self.patience = 10", "self.patience = 9", "early stopping",
                   "patience-9"),
    "patience-in-epochs": ("2b-2e", "trainer.py", EARLY_STOP, """                    if val_loss < best:
                        best, since_best = val_loss, 0
                global_step += 1
            since_best += 1
            if since_best >= self.patience:
                return train_history, val_history
""", "early stopping", "patience-in-epochs"),
    "shuffle-separates": ("2b-2e", "utils.py", PERMUTATION, PERMUTATION + "\n        Y = Y[np.random.permutation(len(Y))]",
                          "shuffling keeps images and labels together", "shuffle-separates"),
    "shuffle-unseeded": ("2b-2e", "utils.py", PERMUTATION, "order = np.random.default_rng().permutation(len(X))",
                         "shuffling", "shuffle-unseeded"),
    "reseeds": ("2b-2e", "utils.py", PERMUTATION, "np.random.seed(42)\n        " + PERMUTATION, "shuffling",
                "shuffle-repeats"),
}

# Folders that must pass what they are checked on, with what the check must say.
PASSING = {
    "r-squared": ("3a 4a", "task3a.py", "self.l2_reg_lambda * self.w", "2 * self.l2_reg_lambda * self.w",
                  "L2 gradient, small weights", "R = ||w||^2"),
    "keeps-best": ("2b-2e", "trainer.py", EARLY_STOP, EARLY_STOP.replace(
        "best, since_best = val_loss, 0", "best, since_best = val_loss, 0\n                        best_w = self.model.w.copy()"
    ).replace("                        return train_history", "                        self.model.w = best_w\n"
              "                        return train_history"), "keeps the best weights", "it keeps the best"),
    "reads-globals": ("2b-2e", "task2.py", "calculate_accuracy(self.X_train, self.Y_train",
                      "calculate_accuracy(X_train, Y_train", "a short training run (logistic)", "validation accuracy"),
    "prints-a-lot": ("2a 2b-2e", "task2.py", "np.random.seed(0)\n",
                     "np.random.seed(0)\nimport os\nos.write(1, b'y' * 10_000_000)\nopen('side-effect.txt', 'w')\n"
                     "for _ in range(50_000):\n    print('imported', flush=True)\n",
                     "a short training run (logistic)", "validation accuracy"),
}

# Folders whose code misbehaves: (parts, file, old, new, the check that must fail, what its line must say).
BROKEN = {
    "hangs": ("3a 4a", "task3a.py", '    """[N, 1] labels -> [N, num_classes]."""\n',
              '    """[N, 1] labels -> [N, num_classes]."""\n    while True:\n        pass\n',
              "one_hot_encode", "did not finish within 1 s"),
    "crashes": ("3a 4a", "task3a.py", "        z = X @ self.w\n", "        import os\n        os.abort()\n",
                "SoftmaxModel.forward", "killed by SIGABRT"),
    "eats-memory": ("2a", "task2a.py", "        z = X @ self.w\n", "        z = X @ self.w + np.ones((40_000, 10_000))[:1, :1]\n",
                    "BinaryModel.forward", "Unable to allocate 2.98 GiB"),
    "raises": ("2a", "task2a.py", "        z = X @ self.w\n", "        z = X @ self.w.T\n",
               "BinaryModel.forward", "raised ValueError: matmul"),
}


def make_folder(base, name, file, old, new):
    folder = base / name
    shutil.copytree(FIXTURES / "correct", folder)
    path = folder / file
    text = path.read_text()
    assert text.count(old) == 1, f"{name}: the text to change must occur once in {file}"
    path.write_text(text.replace(old, new))
    return folder


@pytest.fixture(scope="session")
def checked(tmp_path_factory, mnist_dir):
    """{folder name: its JSON summary}, from one checker run per group of parts."""
    base = tmp_path_factory.mktemp("solutions")
    groups = {}
    for name, (parts, file, old, new, *_rest) in {**MUTATIONS, **PASSING, **BROKEN}.items():
        groups.setdefault(parts, []).append(make_folder(base, name, file, old, new))
    groups.setdefault("2a 2b-2e 3a 3b-3d 4a", []).extend([FIXTURES / "correct", FIXTURES / "stubs"])
    missing = make_folder(base, "missing-task3", "task3.py", "import numpy", "import numpy")
    (missing / "task3.py").unlink()
    groups.setdefault("3b-3d", []).append(missing)
    summaries, procs = {}, []
    for parts, folders in groups.items():
        only = [arg for part in parts.split() for arg in ("--only", part)]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "src.check", *map(str, folders), "--json", "--timeout", "1", "--jobs", "1",
             "--data-dir", str(mnist_dir), *only], cwd=ROOT, stdout=subprocess.PIPE, text=True))
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        report = json.loads(out)
        assert proc.returncode == (0 if report["passed"] else 1)
        for summary in report["folders"]:
            summaries[Path(summary["folder"]).name] = summary
    return summaries


def result(summary, check_name):
    return next(r for r in summary["checks"] if r["name"] == check_name)


def test_a_correct_solution_passes_every_check(checked):
    summary = checked["correct"]
    assert summary["passed"], [r for r in summary["checks"] if r["status"] == "FAIL"]
    assert set(summary["parts"].values()) == {"PASS"} and len(summary["parts"]) == 5
    assert "R = 1/2 ||w||^2" in result(summary, "L2 gradient, small weights")["message"]


def test_the_stubs_fail_every_part_with_one_line_each_and_no_traceback(checked):
    summary = checked["stubs"]
    assert not summary["passed"]
    assert all(state.startswith("FAIL") for state in summary["parts"].values())
    for r in summary["checks"]:
        if r["status"] == "FAIL":
            assert "Traceback" not in r["actual"] and "\n" not in r["actual"]
    assert "task2a.py:" in result(summary, "BinaryModel()")["actual"]  # their file:line
    assert result(summary, "pre_process_images")["mistake"] == "stub"


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_known_mistake_is_named(checked, name):
    *_, check_name, mistake = MUTATIONS[name]
    r = result(checked[name], check_name)
    assert r["status"] == "FAIL" and r.get("mistake") == mistake, r
    assert MISTAKES[mistake][1] in r["fix"]
    assert not checked[name]["passed"]


@pytest.mark.parametrize("name", PASSING)
def test_what_is_not_a_mistake_passes(checked, name):
    *_, check_name, says = PASSING[name]
    assert checked[name]["passed"], [r for r in checked[name]["checks"] if r["status"] == "FAIL"]
    assert says in result(checked[name], check_name)["message"]


def test_import_side_effects_stay_out_of_the_learners_folder(checked):
    assert checked["prints-a-lot"]["passed"]
    assert not list(Path(checked["prints-a-lot"]["folder"]).glob("side-effect.txt"))
    assert not list(FIXTURES.rglob("__pycache__"))


@pytest.mark.parametrize("name", BROKEN)
def test_code_that_hangs_crashes_or_raises_is_one_fail_line(checked, name):
    *_, check_name, says = BROKEN[name]
    r = result(checked[name], check_name)
    assert r["status"] == "FAIL" and says in r["actual"], r


def test_a_crash_leaves_the_checks_after_it_failed_as_not_run(checked):
    later = [r for r in checked["crashes"]["checks"] if r["part"] == "4a"]
    assert later and all(r["status"] == "FAIL" and "not run" in r["actual"] for r in later)


def test_a_missing_file_is_named(checked):
    r = result(checked["missing-task3"], "calculate_accuracy (softmax)")
    assert r["status"] == "FAIL" and r["actual"] == "task3.py not found in the folder"


def test_every_folder_takes_under_a_few_seconds(checked):
    assert max(s["seconds"] for s in checked.values()) < 20


def test_the_text_report_and_table(mnist_dir, tmp_path):
    """Two folders: a line per check, then one row per folder; exit 1 as one fails."""
    out = subprocess.run(
        [sys.executable, "-m", "src.check", str(FIXTURES / "stubs"), str(FIXTURES / "correct"), "--only", "2a",
         "--data-dir", str(mnist_dir)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("  FAIL  2a     pre_process_images: expected") for line in lines)
    rows = [line for line in lines if line.startswith(str(FIXTURES))]
    assert rows[-2].split()[1:3] == ["FAIL", "7"] and rows[-1].split()[1] == "PASS"  # 3 failed, 4 not run


def test_a_folder_that_does_not_exist_is_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "src.check", str(tmp_path / "nowhere")], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "is not a folder" in out.stderr

