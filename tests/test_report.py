"""The report builds from the runs' metrics, says only what they say, and refuses
damaged or mixed outputs with one line naming the file and the script to rerun.

The metrics and figures are written here, synthetically (a small but complete
schema, 1x1 PNGs with their SHA-256 in "files"), so these tests run in well
under a second and can set the numbers each conclusion depends on.
"""

import json
import re
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from src import plots
from src.errors import UserError
from src.experiment import TASK2, TASK3
from src.fileio import sha256_file
from src.report import ReportError, build_report, fmt, main

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ["1a", "1b", "2b", "2c", "2d", "2e", "3b", "3c", "3d", "4a", "4b", "4c", "4d", "4e"]
STEPS_PER_EPOCH, STEPS_PER_CHECK = 10, 5


# --- synthetic outputs ----------------------------------------------------------------------------

def settings(max_epochs, base=TASK3, **changes):
    """The settings record of a run as src.experiment writes it, with small sizes."""
    return asdict(replace(base, max_epochs=max_epochs, train_size=1500, val_size=300, **changes))


def final(train_loss, val_loss, test_loss, train_accuracy, val_accuracy, test_accuracy):
    return {"train_loss": train_loss, "val_loss": val_loss, "test_loss": test_loss,
            "train_accuracy": train_accuracy, "val_accuracy": val_accuracy, "test_accuracy": test_accuracy}


def series(values):
    return {"steps": [STEPS_PER_CHECK * i for i in range(len(values))], "values": [float(v) for v in values]}


def run_record(numbers, epochs_run, stopped, val_loss=None, val_accuracy=None):
    """A run of `epochs_run` epochs of 10 steps, validated every 5 steps (2 checks an epoch)."""
    checks = 2 * epochs_run
    steps = STEPS_PER_EPOCH * epochs_run
    if val_loss is None:
        val_loss = np.linspace(0.9, numbers["val_loss"], checks)
    if val_accuracy is None:
        val_accuracy = np.linspace(0.5, numbers["val_accuracy"], checks)
    assert len(val_loss) == len(val_accuracy) == checks
    last_check = STEPS_PER_CHECK * (checks - 1)
    train_loss = {"steps": list(range(steps)), "values": list(np.linspace(0.7, numbers["train_loss"], steps))}
    return {"train_loss": train_loss,
            "val_loss": series(val_loss), "val_accuracy": series(val_accuracy),
            "train_accuracy": series(np.linspace(0.5, numbers["train_accuracy"], checks)),
            "steps_per_epoch": STEPS_PER_EPOCH, "epochs_run": epochs_run, "early_stopped": stopped,
            "stop_epoch": epochs_run if stopped else None, "stop_step": last_check if stopped else None,
            "final": numbers, "test_accuracy": numbers["test_accuracy"],
            "l2_reg_lambda": 0.0, "weight_l2_norm": 1.0, "weight_roughness": 1.0}


def zigzag(amplitude, checks, level=0.95):
    return [level + amplitude * (-1) ** i for i in range(checks)]


def task2_metrics(plain_spread=0.02, shuffled_spread=0.005):
    """Validation accuracy zigzags by the given amplitudes (2e's spread)."""
    return {"settings": {"no_shuffle": settings(20, TASK2), "shuffle": settings(20, TASK2, shuffle=True)},
            "runs": {"no_shuffle": run_record(final(0.0594, 0.0688, 0.0690, 0.9806, 0.9759, 0.9748), 4, True,
                                              val_accuracy=zigzag(plain_spread, 8)),
                     "shuffle": run_record(final(0.0639, 0.0723, 0.0650, 0.9781, 0.9687, 0.9766), 3, True,
                                           val_accuracy=zigzag(shuffled_spread, 6))}}


def task3_metrics(long_val_loss=None):
    """long_val_loss: the 16 validation losses of the 8-epoch run without early stopping (3d)."""
    matrix = 90 * np.eye(10, dtype=int)
    matrix[9, 4], matrix[4, 9], matrix[2, 8] = 7, 5, 3
    return {"settings": {"softmax": settings(6),
                         "softmax_overfitting": settings(8, early_stopping_patience=None)},
            "runs": {"softmax": run_record(final(0.2806, 0.2648, 0.3080, 0.9203, 0.9280, 0.9126), 4, True),
                     "softmax_overfitting": run_record(final(0.2544, 0.2543, 0.2999, 0.9278, 0.9305, 0.9149),
                                                       8, False, val_loss=long_val_loss)},
            "confusion_matrix": matrix.tolist(),
            "misclassified": [{"test_index": 12, "true": 9, "predicted": 4, "probability": 0.987},
                              {"test_index": 3, "true": 2, "predicted": 8, "probability": 0.9}]}


# lambda: (train accuracy, val accuracy, weight L2 norm, roughness, epochs)
LAMBDA_RUNS = {0.0: (0.9203, 0.9280, 4.7495, 1.060, 4), 0.002: (0.9196, 0.9275, 4.5134, 1.056, 4),
               0.02: (0.9088, 0.9200, 3.2540, 0.9998, 3), 0.2: (0.8785, 0.9000, 1.6587, 0.914, 2),
               2.0: (0.7964, 0.8155, 0.5994, 0.884, 2)}


def task4_metrics(lambda_runs=LAMBDA_RUNS):
    metrics = {"settings": {}, "runs": {}}
    for lam, (train_acc, val_acc, norm, roughness, epochs) in lambda_runs.items():
        name = f"lambda_{lam:g}"
        metrics["settings"][name] = settings(5, l2_reg_lambda=lam)
        run = run_record(final(0.3 + lam, 0.28 + lam, 0.31 + lam, train_acc, val_acc, val_acc - 0.01),
                         epochs, True)
        run.update(l2_reg_lambda=lam, weight_l2_norm=norm, weight_roughness=roughness)
        metrics["runs"][name] = run
    return metrics


def write_outputs(folder, task2=None, task3=None, task4=None):
    """task2/3/4.json and 1x1 PNG figures in `folder`, each JSON listing its figures' SHA-256."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    metrics = {"task2": task2 or task2_metrics(), "task3": task3 or task3_metrics(),
               "task4": task4 or task4_metrics()}
    for k, (task, names) in enumerate(plots.FIGURES.items()):
        files = {}
        for i, name in enumerate(names):
            Image.new("L", (1, 1), color=10 * k + i).save(folder / name)
            files[name] = sha256_file(folder / name)
        document = {**metrics[task], "files": files}
        (folder / f"{task}.json").write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
    return folder


def edit_metrics(folder, task, change):
    """Apply change(metrics dict) to folder/task.json and write it back."""
    path = Path(folder) / f"{task}.json"
    metrics = json.loads(path.read_text())
    change(metrics)
    path.write_text(json.dumps(metrics, allow_nan=True))


def report_of(tmp_path, **metrics):
    return build_report(write_outputs(tmp_path / "figures", **metrics)).read_text()


def section(text, name):
    """The text of one section ('2e', '4d', or 'Beyond'), from its heading to the next."""
    start = text.index(f"## {name}")
    following = re.search(r"\n#{2,3} ", text[start:])
    return text[start:] if following is None else text[start:start + following.start()]


@pytest.fixture
def text(tmp_path):
    return report_of(tmp_path)


# --- what the report says -------------------------------------------------------------------------

def test_every_section_is_present_in_order(text):
    positions = [text.find(f"## {name}:") for name in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions) if p == -1]
    assert positions == sorted(positions)


def test_image_links_are_exactly_the_figures_of_the_one_list(text, tmp_path):
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == sorted(name for names in plots.FIGURES.values() for name in names)
    assert all((tmp_path / "figures" / link).is_file() for link in links)


def test_final_table_rows_hold_the_metrics(text):
    assert "| no shuffling | 4 | 4 | 0.0594 | 0.0688 | 0.0690 | 0.9806 | 0.9759 | 0.9748 |" in text
    assert ("| 8 epochs, no early stopping (3d) | 8 | no | 0.2544 | 0.2543 | 0.2999 "
            "| 0.9278 | 0.9305 | 0.9149 |") in text
    for name, run in task4_metrics()["runs"].items():
        numbers = run["final"]
        row = " | ".join(fmt(numbers[f"{split}_{kind}"]) for kind in ("loss", "accuracy")
                         for split in ("train", "val", "test"))
        lam = f"{run['l2_reg_lambda']:g}"
        assert f"| lambda = {lam} | {run['epochs_run']} | {run['stop_epoch']} | {row} |" in text
        assert (f"| {lam} | {fmt(numbers['val_accuracy'])} | {fmt(numbers['test_accuracy'])} "
                f"| {run['weight_l2_norm']:.4f} |") in text


def test_early_stopping_sentence_states_the_run(text):
    assert "fired in epoch **4** of at most 20 (step 35)" in section(text, "2d")


def test_no_number_is_written_as_nan(text):
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_derivations_state_the_element_wise_l2_gradient(text):
    assert r"\frac{\partial R}{\partial w_{kj}} = w_{kj}" in text
    assert r"-(y - \hat y)\, x_i" in text and r"-x_j \,(y_k - \hat y_k)" in text


def test_confusion_section_names_the_most_confused_pairs(text):
    beyond = section(text, "Beyond")
    assert "On the 915 held-out test images, 900 are right (accuracy 0.9836)" in beyond
    assert "9 -> 4 (7 images), 4 -> 9 (5 images), 2 -> 8 (3 images)" in beyond
    assert "the first was a 9 taken for a 4 with probability 0.987" in beyond


# --- each conclusion follows its numbers ----------------------------------------------------------

def test_4d_says_not_overfitting_when_regularisation_only_lowers_accuracy(text):
    four_d = section(text, "4d")
    assert four_d.startswith("## 4d: why regularisation lowers the validation accuracy here")
    assert "lambda = 2 lowered it by 11.25 points (0.8155)" in four_d
    assert "the smallest, lambda = 0.002, left it about the same (0.9275)" in four_d
    assert ("0.77 points below the validation accuracy, so the unregularised model is not overfitting"
            in four_d)


def test_4d_says_regularisation_helped_when_a_lambda_raised_accuracy(tmp_path):
    overfitting = dict(LAMBDA_RUNS)
    overfitting[0.0] = (0.9900, 0.9000, 4.7495, 1.060, 4)  # 9 points above validation
    overfitting[0.002] = (0.9800, 0.9300, 4.5134, 1.056, 4)
    four_d = section(report_of(tmp_path, task4=task4_metrics(overfitting)), "4d")
    assert four_d.startswith("## 4d: why regularisation raises the validation accuracy here")
    assert "lambda = 0.002, raised it by 3.00 points (0.9300)" in four_d
    assert ("9.00 points above the validation accuracy, so the unregularised model overfits, and at "
            "lambda = 0.002 the penalty removed more") in four_d
    assert "not overfitting" not in four_d


def test_3d_says_overfitting_when_the_validation_loss_rises_from_its_minimum(tmp_path):
    falls_then_rises = list(np.linspace(0.9, 0.25, 10)) + [0.26, 0.27, 0.28, 0.29, 0.30, 0.30]
    three_d = section(report_of(tmp_path, task3=task3_metrics(falls_then_rises)), "3d")
    assert "The validation loss rose 0.0500 (20.0%) from its minimum" in three_d
    assert "begun to overfit" in three_d


def test_3d_says_no_overfitting_while_the_validation_loss_still_falls(tmp_path):
    three_d = section(report_of(tmp_path, task3=task3_metrics(np.linspace(0.9, 0.25, 16))), "3d")
    assert "still at its lowest at the last check: no sign of overfitting" in three_d
    assert "begun to overfit" not in three_d


def test_3d_says_barely_when_the_rise_is_within_one_percent(tmp_path):
    almost_flat = list(np.linspace(0.9, 0.25, 15)) + [0.251]
    three_d = section(report_of(tmp_path, task3=task3_metrics(almost_flat)), "3d")
    assert ("was 0.0010 (0.4%) above its minimum at the last check: this linear model barely overfits"
            in three_d)


def test_3d_names_the_last_checks_numbers_apart_from_the_final_weights(tmp_path):
    three_d = section(report_of(tmp_path, task3=task3_metrics(np.linspace(0.9, 0.26, 16))), "3d")
    assert "at the last check, step 75, it was 0.2600 and the validation accuracy 0.9305" in three_d
    assert "The final weights give a training accuracy of 0.9278 and a validation accuracy of 0.9305" \
        in three_d
    assert "ended" not in three_d  # the final weights' val loss, 0.2543, is the table's


def test_2e_says_shuffling_steadied_training_when_the_spread_fell(text):
    two_e = section(text, "2e")
    assert "fell from 3.92 to 0.94 percentage points: shuffling made training steadier" in two_e
    assert "fired in epoch 3 with shuffling and in epoch 4 without" in two_e


def test_2e_says_shuffling_did_not_steady_training_when_the_spread_rose(tmp_path):
    two_e = section(report_of(tmp_path, task2=task2_metrics(plain_spread=0.005, shuffled_spread=0.02)), "2e")
    assert "rose from 0.98 to 3.77 percentage points: by this measure shuffling did not make training " \
           "steadier" in two_e
    assert "made training steadier" not in two_e


def test_4b_and_4e_follow_roughness_and_norms(tmp_path):
    rougher = dict(LAMBDA_RUNS)
    rougher[2.0] = (0.7964, 0.8155, 4.9, 1.5, 2)  # rougher, and a larger norm than lambda = 0.2
    text = report_of(tmp_path, task4=task4_metrics(rougher))
    assert "the penalty did not smooth the templates" in section(text, "4b")
    assert "it did not fall with every increase of lambda (lambda = 2 left it at 4.9000 against 1.6587" \
        in section(text, "4e")


def test_4b_and_4e_say_smoother_and_falling_for_the_usual_runs(text):
    assert "was 1.060 for lambda = 0 and 0.884 for lambda = 2: the penalty smooths" in section(text, "4b")
    assert "it fell with every increase of lambda" in section(text, "4e")


# --- the dataset and the edge cases a valid run can produce ---------------------------------------

def test_fashion_mnist_is_named_with_its_class_names(tmp_path):
    metrics = {task: make() for task, make in
               (("task2", task2_metrics), ("task3", task3_metrics), ("task4", task4_metrics))}
    for m in metrics.values():
        for s in m["settings"].values():
            s["dataset"] = "fashion-mnist"
    text = report_of(tmp_path, **metrics)
    assert text.startswith("# Report: linear classifiers on Fashion-MNIST")
    assert "Pullover (class 2, target 1) against Dress (class 3, target 0)" in section(text, "2b")
    beyond = section(text, "Beyond")
    assert "Ankle boot -> Coat (7 images)" in beyond
    assert "the first was an Ankle boot taken for a Coat" in beyond
    assert "digit" not in beyond + section(text, "2b") + section(text, "3b") + section(text, "4b")


def test_a_perfect_model_has_no_mistakes_to_show(tmp_path):
    metrics = task3_metrics()
    metrics["confusion_matrix"] = (90 * np.eye(10, dtype=int)).tolist()
    metrics["misclassified"] = []
    beyond = section(report_of(tmp_path, task3=metrics), "Beyond")
    assert "900 are right (accuracy 1.0000). None is misclassified." in beyond
    assert "misclassified no held-out test image" in beyond


def test_an_empty_held_out_test_set_is_said_not_crashed_on(tmp_path):
    metrics = task3_metrics()
    for run in metrics["runs"].values():
        run["final"]["test_loss"] = run["final"]["test_accuracy"] = None
    metrics["confusion_matrix"] = np.zeros((10, 10), dtype=int).tolist()
    metrics["misclassified"] = []
    text = report_of(tmp_path, task3=metrics)
    assert "| 0.9203 | 0.9280 | n/a |" in section(text, "3b")
    assert "Final validation accuracy 0.9280, no held-out test images." in section(text, "3c")
    assert "There are no held-out test images" in section(text, "Beyond")


# --- refusing bad input: one ReportError line, the file and the script to rerun --------------------

def damage(folder, task, how):
    path = folder / f"{task}.json"
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not UTF-8":
        path.write_bytes(b"\xff\xfe" + path.read_bytes())
    elif how == "a JSON list":
        path.write_text("[1, 2, 3]")
    elif how == "infinite":  # 1e999 is valid JSON that Python reads as inf
        path.write_text(path.read_text().replace('"weight_l2_norm": 0.5994', '"weight_l2_norm": 1e999'))
    else:
        edit_metrics(folder, task, how)


BAD_METRICS = {
    "truncated": ("task3", "truncated", "truncated"),
    "empty": ("task2", "empty", "is empty"),
    "not UTF-8": ("task4", "not UTF-8", "not UTF-8"),
    "a JSON list": ("task2", "a JSON list", "not an object"),
    "missing key": ("task2", lambda m: m["runs"]["shuffle"]["final"].pop("val_accuracy"),
                    "runs.shuffle.final.val_accuracy is missing"),
    "missing run": ("task3", lambda m: m["runs"].pop("softmax_overfitting"),
                    "runs.softmax_overfitting is missing"),
    "empty series": ("task2", lambda m: m["runs"]["no_shuffle"].update(val_loss={"steps": [], "values": []}),
                     "runs.no_shuffle.val_loss.values: [] should be non-empty"),
    "unequal series": ("task2", lambda m: m["runs"]["shuffle"]["val_loss"]["values"].pop(),
                       "runs.shuffle.val_loss has 6 steps but 5 values"),
    "steps not increasing": ("task2", lambda m: m["runs"]["shuffle"]["val_loss"]["steps"].reverse(),
                             "runs.shuffle.val_loss.steps do not increase"),
    "NaN": ("task4", lambda m: m["runs"]["lambda_0.02"]["final"].update(val_accuracy=float("nan")), "NaN"),
    "infinite": ("task4", "infinite", "runs.lambda_2.weight_l2_norm: '1e999' is not of type 'number'"),
    "accuracy above 1": ("task3", lambda m: m["runs"]["softmax"]["final"].update(val_accuracy=92.8),
                         "runs.softmax.final.val_accuracy: 92.8 is greater than the maximum of 1"),
    "stop fields disagree": ("task2", lambda m: m["runs"]["shuffle"].update(stop_epoch=2),
                             "runs.shuffle.stop_epoch is 2, not the last epoch run (3)"),
    "stopped with early stopping off": ("task3", lambda m: m["settings"]["softmax"].update(
        early_stopping_patience=None), "runs.softmax.early_stopped is true although early stopping was off"),
    "confusion matrix 9 x 10": ("task3", lambda m: m["confusion_matrix"].pop(),
                                "confusion_matrix: [[90, 0, 0, 0, 0, 0, ...], [0, 90, 0, 0, 0, 0, ...], "),
    "negative count": ("task3", lambda m: m["confusion_matrix"][1].__setitem__(2, -1),
                       "confusion_matrix[1][2]: -1 is less than the minimum of 0"),
    "a mistake that is right": ("task3", lambda m: m["misclassified"][0].update(predicted=9),
                                "misclassified[0].predicted equals its true class"),
    "no lambda 0": ("task4", lambda m: (m["runs"].pop("lambda_0"), m["settings"].pop("lambda_0")),
                    "runs must hold a run with lambda = 0"),
    "a run without settings": ("task4", lambda m: m["settings"].pop("lambda_0"), "runs (lambda_0, "),
    "no l2_reg_lambda": ("task4", lambda m: m["runs"]["lambda_0.2"].pop("l2_reg_lambda"),
                         "runs.lambda_0.2.l2_reg_lambda is missing"),
}


@pytest.mark.parametrize("case", BAD_METRICS)
def test_damaged_metrics_are_one_line_naming_the_file_and_the_script(case, tmp_path):
    task, how, problem = BAD_METRICS[case]
    folder = write_outputs(tmp_path / "figures")
    damage(folder, task, how)
    with pytest.raises(ReportError) as error:
        build_report(folder)
    message = str(error.value)
    assert "\n" not in message and problem in message
    assert str(folder / f"{task}.json") in message and f"`python {task}.py --out-dir {folder}`" in message
    assert isinstance(error.value, UserError) and not (folder / "README.md").exists()


MIXED_FIGURES = {  # what a run cut short between two moves, or an older version, leaves
    "of another run": (lambda folder: Image.new("L", (2, 2)).save(folder / "task3_misclassified.png"),
                       r"task3_misclassified.png does not belong to the run in .*task3.json.*`python task3"),
    "not listed": (lambda folder: edit_metrics(folder, "task4",
                                               lambda m: m["files"].pop("task4e_l2_reg_norms.png")),
                   r"task4e_l2_reg_norms.png is not listed in .*task4.json.*`python task4.py"),
    "missing": (lambda folder: (folder / "task2b_binary_train_loss.png").unlink(),
                r"task2b_binary_train_loss.png is missing but .*task2.json lists it: rerun `python task2.py"),
    "no files listed": (lambda folder: edit_metrics(folder, "task2", lambda m: m.pop("files")),
                        r'task2.json has no "files" object .*older .*: rerun `python task2.py'),
}


@pytest.mark.parametrize("case", MIXED_FIGURES)
def test_figures_that_are_not_the_runs_are_refused(case, tmp_path):
    folder = write_outputs(tmp_path / "figures")
    change, message = MIXED_FIGURES[case]
    change(folder)
    with pytest.raises(ReportError, match=message + r".* --out-dir "):
        build_report(folder)


def test_runs_on_two_datasets_are_refused(tmp_path):
    folder = write_outputs(tmp_path / "figures")
    edit_metrics(folder, "task4",
                 lambda m: [s.update(dataset="fashion-mnist") for s in m["settings"].values()])
    with pytest.raises(ReportError, match=r"task4.json: run lambda_0 was trained on fashion-mnist but "
                                          r"task2.json"):
        build_report(folder)


def test_report_command_exits_1_with_one_line_and_writes_nothing(tmp_path, capsys):
    folder = write_outputs(tmp_path / "figures")
    (folder / "task3.json").unlink()
    assert main(["--figures-dir", str(folder)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "task3.json is missing: rerun `python task3.py --out-dir" in err[0]
    assert not (folder / "README.md").exists()


def test_report_command_writes_the_report(tmp_path, capsys):
    folder = write_outputs(tmp_path / "figures")
    assert main(["--figures-dir", str(folder)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {folder / 'README.md'}"


def test_the_committed_report_is_what_the_committed_runs_give(tmp_path):
    """figures/ as committed: every figure matches its run, and README.md is the report
    the code builds from those runs, to the letter."""
    folder = ROOT / "figures"
    copy_ = shutil.copytree(folder, tmp_path / "figures")
    text = build_report(copy_).read_text()
    assert all(f"## {name}:" in text for name in SECTIONS)
    assert text == (folder / "README.md").read_text()
