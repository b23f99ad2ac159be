"""`python -m src.predict` with awkward inputs: each is one line naming it, and the others are classified."""

import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_outputs import _raise, tmpfs
from test_predict import LINE, draw_digit, exit_code

from src import predict
from src.modelfile import save_model
from src.models import SoftmaxModel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def model(tmp_path):
    softmax = SoftmaxModel()
    softmax.w = np.random.default_rng(0).normal(0, 0.05, softmax.w.shape)
    return str(save_model(tmp_path / "model.npz", softmax, kind="softmax", dataset="mnist",
                          class_names=[str(d) for d in range(10)], hyperparameters={}, metrics={}))


def test_a_fifo_a_symlink_loop_and_unprintable_names_are_each_one_line(model, tmp_path):
    first, last = draw_digit(tmp_path / "first.png"), draw_digit(tmp_path / "last.png", "one")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it would wait for a writer for ever
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    not_utf8 = draw_digit(tmp_path / os.fsdecode(b"caf\xe9.png"))  # a Latin-1 name
    newline = draw_digit(tmp_path / "two\nlines.png", "one")
    images = [first, str(fifo), str(loop), not_utf8, newline, last]
    show = tmp_path / "seen"
    argv = [sys.executable, "-m", "src.predict", model, *map(os.fsencode, images), "--show", str(show)]
    child = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=10, check=False)
    out, err = child.stdout.decode(), child.stderr.decode()
    assert child.returncode == 1 and "Traceback" not in out + err
    shown = [LINE.match(line)[1] for line in out.splitlines()]
    assert shown == [first, f"{tmp_path}/caf\\xe9.png", f"{tmp_path}/two\\nlines.png", last]
    assert err.splitlines() == [f"error: {fifo}: is a FIFO (named pipe), not an image file.",
                                f"error: {loop}: a loop of symbolic links, not an image file; fix the link."]
    assert len(list(show.iterdir())) == 4


def test_show_into_a_read_only_folder_is_refused_before_the_first_image(model, tmp_path, capsys,
                                                                           monkeypatch):
    image = draw_digit(tmp_path / "seven.png")
    with tmpfs(tmp_path / "ro", "ro,size=64k") as mount:
        if mount is None:  # no mounting here: the same error where the probe writes
            monkeypatch.setattr(predict.tempfile, "mkstemp", _raise(errno.EROFS))
        folder = tmp_path / "ro"
        assert exit_code([model, image, "--show", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # nothing classified: the problem is found first
    assert err == f"error: --show {folder}: cannot write there (Read-only file system): choose another --show folder.\n"


def test_a_full_disk_while_showing_is_one_line_and_every_image_is_still_classified(model, tmp_path, capsys,
                                                                                      monkeypatch):
    images = [draw_digit(tmp_path / f"{n}.png", shape) for n, shape in enumerate(["seven", "one", "seven"])]
    with tmpfs(tmp_path / "small", "size=48k") as mount:
        folder = tmp_path / "small"
        if mount is None:
            monkeypatch.setattr(predict, "_save_prediction_figure", _raise(errno.ENOSPC))
        else:
            with open(folder / "filler", "wb") as f:  # leave room for the --show check, not for a figure
                f.write(b"x" * (44 << 10))
        assert exit_code([model, *images, "--show", str(folder)]) == 1
        assert sorted(p.name for p in folder.iterdir()) == (["filler"] if mount else [])  # no partial figure
    out, err = capsys.readouterr()
    assert [LINE.match(line)[1] for line in out.splitlines()] == images
    assert err == (f"error: --show: could not write {folder / '0_predicted.png'} (No space left on device); no more "
                   "figures are written: free some disk space or choose another --show folder\n")


def test_an_interrupted_show_run_says_what_it_wrote(model, tmp_path, capsys, monkeypatch):
    images = [draw_digit(tmp_path / f"{n}.png") for n in range(3)]
    calls = []

    def classify_until_ctrl_c(saved, image):
        calls.append(image)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return classify(saved, image)

    classify = predict.classify
    monkeypatch.setattr(predict, "classify", classify_until_ctrl_c)
    show = tmp_path / "seen"
    assert exit_code([model, *images, "--show", str(show)]) == 130
    err = capsys.readouterr().err
    assert err == f"interrupted (Ctrl-C) after writing 2 files to {show}/, each complete; nothing else was changed.\n"
    assert re.fullmatch(r"\d_predicted\.png \d_predicted\.png", " ".join(sorted(p.name for p in show.iterdir())))


def test_a_show_folder_or_out_dir_that_is_a_symlink_loop_is_named_as_such(model, tmp_path, capsys):
    from src.outputs import OutputError, check_out_dir
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert exit_code([model, draw_digit(tmp_path / "a.png"), "--show", str(loop)]) == 1
    refusal = f"error: --show {loop} is a loop of symbolic links: fix the link or choose another --show folder.\n"
    assert capsys.readouterr() == ("", refusal)
    with pytest.raises(OutputError, match=f"--out-dir {loop} is a loop of symbolic links: fix the link"):
        check_out_dir(loop)
