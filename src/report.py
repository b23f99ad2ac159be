"""The report: figures/README.md, rebuilt from the runs' metrics and figures.

    python -m src.report [--figures-dir figures]

The text is the template report.md.j2 beside this file; `facts` computes
the numbers it states and which conclusion holds, by the thresholds below,
so the report cannot drift from the runs that made the figures. Every
number is read from task2.json, task3.json and task4.json, checked by the
schema of src.outputs (metrics.schema.json). A metrics file that is
missing, damaged, of an older version, or that does not list the figures
beside it (outputs of two runs) is refused with one line naming the file,
the failing key and the command that rewrites it. The main job
(`python -m src`) rebuilds the report after the task scripts.
"""

import argparse
import functools
import sys
from pathlib import Path

import jinja2
import numpy as np

from . import cli, plots
from .errors import UserError
from .fileio import write_text_atomic
from .mnist import DATASETS
from .outputs import OutputError, verify_outputs

TEMPLATE = "report.md.j2"

# When a difference counts. Below these, the report says "about the same".
SAME_SPREAD = 0.10  # 2e: relative change of the validation accuracy's step-to-step spread
OVERFIT_RISE = 0.01  # 3d: validation loss more than 1% above its minimum at the end: overfitting
SAME_ACCURACY = 0.001  # 4d: 0.1 percentage points, two images of a 2,000-image validation set
OVERFIT_GAP = 0.01  # 4d: training accuracy more than 1 point above validation: overfitting
SAME_ROUGHNESS = 0.05  # 4b: relative change of the weight images' roughness


class ReportError(UserError):
    """A metrics file or figure the report cannot use; the message names it and the script to rerun."""


# --- how the numbers are written (the template's filters) ----------------------------------------

def fmt(x):
    """How every loss and accuracy is written in the report (tests look for it); None: no such images."""
    return "n/a" if x is None else f"{x:.4f}"


def points(x):
    """A fraction as percentage points."""
    return f"{100 * x:.2f}"


# --- reading the metrics -------------------------------------------------------------------------

def read_task(folder, task):
    """task's metrics file, checked by the schema and listing every figure of plots.FIGURES[task]
    with the digest of the file beside it; ReportError (one line) otherwise."""
    folder = Path(folder)
    script = f"{task}.py --out-dir {folder}"  # src.outputs writes it as `python {script}`
    try:
        metrics = verify_outputs(folder, task, script)
    except OutputError as err:
        raise ReportError(str(err)) from None
    path = folder / f"{task}.json"
    for name in plots.FIGURES[task]:
        if name not in metrics["files"]:
            raise ReportError(f"{folder / name} is not listed in {path} (\"files\"): it is not an output "
                              f"of that run; rerun `python {script}`.")
    if task == "task4":  # 4b to 4e compare runs with the penalty against one without it
        # Each lambda as the tables write it: one row each.
        labels = sorted(f"{run['l2_reg_lambda']:g}" for run in metrics["runs"].values())
        if len(set(labels)) < len(labels):
            raise ReportError(f"{path}: runs has two runs with one lambda ({', '.join(labels)}); rerun "
                              f"`python {script}`.")
        if "0" not in labels:  # the schema asks for two runs at least, so one has lambda > 0
            raise ReportError(f"{path}: runs must hold a run with lambda = 0 and one with lambda > 0 to "
                              f"compare; rerun `python {script}`.")
    return metrics


def read_all(folder):
    """{task: metrics} of the three tasks, all of one dataset; ReportError otherwise."""
    tasks = {task: read_task(folder, task) for task in plots.FIGURES}
    runs = [(task, name, settings["dataset"])
            for task, metrics in tasks.items() for name, settings in metrics["settings"].items()]
    task1, run1, first = runs[0]
    for task, name, dataset in runs:
        if dataset != first:
            raise ReportError(f"{Path(folder) / f'{task}.json'}: run {name} was trained on {dataset} but "
                              f"{task1}.json's run {run1} on {first}; rerun every task script with one "
                              f"--dataset and --out-dir {folder}.")
    return tasks


# --- the facts the report states ------------------------------------------------------------------

def lowest(series):
    """(step, value) of a series' smallest value, the earliest if it occurs twice."""
    i = int(np.argmin(series["values"]))
    return series["steps"][i], series["values"][i]


def last(series):
    """(step, value) of a series' last check."""
    return series["steps"][-1], series["values"][-1]


def epoch_of(step, run):
    """The 1-based epoch in which a global step falls."""
    return step // run["steps_per_epoch"] + 1


def step_spread(run):
    """Standard deviation of the change in validation accuracy between consecutive checks
    after the first epoch (whose climb from chance would dominate it); None with fewer
    than three such checks."""
    series = run["val_accuracy"]
    values = [v for step, v in zip(series["steps"], series["values"]) if step >= run["steps_per_epoch"]]
    return float(np.std(np.diff(values))) if len(values) >= 3 else None


def compared(new, old, same):
    """'lower', 'higher' or 'same': new against old, 'same' within a relative band `same`."""
    return "lower" if new < (1 - same) * old else "higher" if new > (1 + same) * old else "same"


def facts_2(task2):
    """2b to 2e: the run without shuffling (2b, 2c, 2d) against the one with it (2e)."""
    plain, shuffled = task2["runs"]["no_shuffle"], task2["runs"]["shuffle"]
    first, best = (plain["val_loss"]["steps"][0], plain["val_loss"]["values"][0]), lowest(plain["val_loss"])
    spreads = step_spread(plain), step_spread(shuffled)
    stop = plain["stop_step"] if plain["early_stopped"] else -1
    return {"plain": plain, "shuffled": shuffled, "settings": task2["settings"],
            "first": first, "best": best, "best_epoch": epoch_of(best[0], plain),
            # 2d: the checks from the lowest validation loss to the early stop (the patience used up)
            "checks_after": sum(best[0] < step <= stop for step in plain["val_loss"]["steps"]),
            "spreads": spreads,
            "steadier": None if None in spreads else compared(spreads[1], spreads[0], SAME_SPREAD)}


def facts_3(task3):
    """3b to 3d and the test-set analysis: the run with early stopping and the one twice as long without."""
    main, long = task3["runs"]["softmax"], task3["runs"]["softmax_overfitting"]
    best, end = lowest(long["val_loss"]), last(long["val_loss"])
    rise, gap = end[1] - best[1], long["final"]["train_accuracy"] - long["final"]["val_accuracy"]
    overfitting = ("none" if best[0] == end[0] else "begun" if rise > OVERFIT_RISE * best[1] else "barely")
    matrix = np.array(task3["confusion_matrix"])
    confused = sorted(((int(matrix[i, j]), i, j) for i in range(10) for j in range(10)
                       if i != j and matrix[i, j] > 0), reverse=True)[:3]
    return {"main": main, "long": long, "settings": task3["settings"], "best": best,
            "best_epoch": epoch_of(best[0], long), "end": end, "end_accuracy": last(long["val_accuracy"])[1],
            "main_end_accuracy": last(main["val_accuracy"])[1], "rise": rise,
            "rise_share": rise / best[1] if best[1] > 0 else None, "gap": gap, "overfitting": overfitting,
            "total": int(matrix.sum()), "right": int(np.trace(matrix)), "confused": confused,
            "mistakes": task3["misclassified"]}


def change(run, reference):
    """(how, size): how run's final validation accuracy compares with reference's,
    'raised', 'lowered' or 'same' (within SAME_ACCURACY), and by how much."""
    diff = run["final"]["val_accuracy"] - reference["final"]["val_accuracy"]
    return ("same" if abs(diff) <= SAME_ACCURACY else "raised" if diff > 0 else "lowered"), abs(diff)


def facts_4(task4):
    """4b to 4e: the runs by lambda, the smallest and largest against lambda = 0."""
    runs = sorted(task4["runs"].values(), key=lambda run: run["l2_reg_lambda"])  # lambda = 0 first
    zero, largest = runs[0], runs[-1]
    val = [run["final"]["val_accuracy"] for run in runs]
    best = max(runs[1:], key=lambda run: run["final"]["val_accuracy"])
    raised_at = best["l2_reg_lambda"] if best["final"]["val_accuracy"] - val[0] > SAME_ACCURACY else None
    lowered = any(val[0] - v > SAME_ACCURACY for v in val[1:])
    grew = [(a, b) for a, b in zip(runs, runs[1:]) if b["weight_l2_norm"] >= a["weight_l2_norm"]]
    return {"runs": runs, "zero": zero, "smallest": runs[1], "largest": largest, "best": best,
            "raised_at": raised_at, "changes": (change(largest, zero), change(runs[1], zero)),
            "effect": "raises" if raised_at is not None else "lowers" if lowered else "barely changes",
            "lowered": lowered, "steadily": all(a >= b for a, b in zip(val, val[1:])),
            "gap_zero": zero["final"]["train_accuracy"] - val[0],
            "overfits": zero["final"]["train_accuracy"] - val[0] > OVERFIT_GAP,
            "smoother": compared(largest["weight_roughness"], zero["weight_roughness"], SAME_ROUGHNESS),
            "grew": grew[0] if grew else None}


def facts(tasks):
    """Everything the template states, from the three tasks' checked metrics."""
    dataset = DATASETS[tasks["task2"]["settings"]["no_shuffle"]["dataset"]]
    digits = dataset.name == "mnist"
    return {"title": dataset.title, "class_names": dataset.class_names, "digits": digits,
            "task2": facts_2(tasks["task2"]), "task3": facts_3(tasks["task3"]),
            "task4": facts_4(tasks["task4"])}


@functools.cache
def template():
    """report.md.j2, compiled once."""
    # Block tags take their whole line (trim_blocks, lstrip_blocks); a name the facts lack is an error.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                             extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(num=fmt, points=points, g=lambda x: f"{x:g}", percent=lambda x: f"{x:.1%}")
    return env.get_template(TEMPLATE)


def render(facts):
    """The report's Markdown: the template filled with `facts`."""
    return template().render(facts)


def build_report(figures_dir="figures"):
    """Write figures_dir/README.md from the metrics and figures there; returns its path.

    Raises ReportError (one line: the file, the problem, the script to rerun).
    """
    text = render(facts(read_all(figures_dir)))
    path = Path(figures_dir) / "README.md"
    try:
        write_text_atomic(path, text)
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}; check that the folder is "
                          "writable.") from err
    return path


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m src.report", description=__doc__.splitlines()[0])
    p.add_argument("--figures-dir", default="figures",
                   help="folder with the metrics and figures (default: figures/)")
    args = p.parse_args(argv)
    try:
        path = build_report(args.figures_dir)
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    cli.run(main)  # Ctrl-C or SIGTERM: one line and its exit code
