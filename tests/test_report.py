"""The report builds from the runs and says only what the metrics say."""

import re
import shutil

import pytest

from src.experiment import read_metrics
from src.report import SOURCES, ReportError, build_report, fmt

SECTIONS = ["1a", "1b", "2b", "2c", "2d", "2e", "3b", "3c", "3d", "4a", "4b", "4c", "4d", "4e"]


@pytest.fixture
def report(small_outputs, tmp_path):
    folder = tmp_path / "figures"
    shutil.copytree(small_outputs, folder)
    return folder, build_report(folder).read_text()


def test_every_section_is_present_in_order(report):
    _, text = report
    positions = [text.find(f"## {section}:") for section in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions) if p == -1]
    assert positions == sorted(positions)


def test_every_image_link_points_at_an_existing_file(report):
    folder, text = report
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) >= 12
    for link in links:
        assert (folder / link).is_file(), link


def test_numbers_are_those_of_the_metrics(report):
    folder, text = report
    for name in SOURCES:
        for run_name, run in read_metrics(folder / name)["runs"].items():
            for key, value in run["final"].items():
                assert fmt(value) in text, (name, run_name, key)
            if run["early_stopped"]:
                assert str(run["stop_epoch"]) in text
            if "weight_l2_norm" in run:
                assert f"{run['weight_l2_norm']:.4f}" in text
                assert f"| lambda = {run['l2_reg_lambda']:g} | {run['epochs_run']} |" in text
                assert (f"| {run['l2_reg_lambda']:g} | {fmt(run['final']['val_accuracy'])} | "
                        f"{fmt(run['test_accuracy'])} | {run['weight_l2_norm']:.4f} |") in text


def test_derivations_state_the_element_wise_l2_gradient(report):
    _, text = report
    assert r"\frac{\partial R}{\partial w_{kj}} = w_{kj}" in text
    assert r"-(y - \hat y)\, x_i" in text and r"-x_j \,(y_k - \hat y_k)" in text


def test_missing_metrics_file_names_the_script(report):
    folder, _ = report
    (folder / "task3.json").unlink()
    with pytest.raises(ReportError, match=r"task3.json is missing: run `python task3.py"):
        build_report(folder)


def test_missing_figure_names_the_script(report):
    folder, _ = report
    (folder / "task4e_l2_reg_norms.png").unlink()
    with pytest.raises(ReportError, match=r"task4e_l2_reg_norms.png is missing: run `python task4.py"):
        build_report(folder)


def test_report_command_exits_1_with_one_line_when_metrics_are_missing(tmp_path, capsys):
    from src.report import main
    assert main(["--figures-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "task2.json is missing: run `python task2.py" in err[0]
    assert not (tmp_path / "README.md").exists()
