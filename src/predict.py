"""Classify your own digit photos with a saved model.

    python -m src.predict MODEL IMAGE... [--json] [--show DIR] [--background auto|light|dark]

Each image is made to look like the images the model was trained on, as
its model file says (`src.images`: MNIST's recipe for digits, Fashion-
MNIST's for clothing; deskewed if it was trained so), pre-processed as in
training, and classified; one line per image gives the three likeliest
classes (both, for a binary model) with their probabilities:

    my_seven.jpg: 7 (0.912), 1 (0.051), 9 (0.020)

--json prints one JSON list instead; --show DIR writes, for each image, a PNG
of the 28x28 image as the model saw it beside the weight template of the
class it chose. An image that cannot be read is reported on stderr and the
others are still classified; the exit code is then 1. File names are shown
escaped where they are not printable (\\xff, \\n), so each image is one line.
"""

import argparse
import errno
import json
import os
import stat
import sys
from pathlib import Path

import numpy as np

from .cli import run
from .data import deskew, pre_process_images
from .errors import UserError, printable
from .images import BACKGROUNDS, ImageError, load_digit_image
from .modelfile import load_model
from .outputs import is_symlink_loop, note_written, write_probe

TOP = 3  # classes shown per image


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m src.predict", description=__doc__.splitlines()[0])
    p.add_argument("model", metavar="MODEL", help="a model file (.npz) written by `python -m src.train`")
    p.add_argument("images", metavar="IMAGE", nargs="+",
                   help="photos or scans of single digits (PNG, JPEG, ...)")
    p.add_argument("--json", action="store_true", help="print one JSON list instead of a line per image")
    p.add_argument("--show", metavar="DIR", help="write a PNG per image: what the model saw, and the "
                   "weight template of the class it chose")
    p.add_argument("--background", choices=BACKGROUNDS, default="auto",
                   help="light: dark ink on light paper; dark: light ink on dark; "
                        "auto (default): decided from the image's border")
    args = p.parse_args(argv)
    if args.show is not None and Path(args.show).exists() and not Path(args.show).is_dir():
        p.error(f"argument --show: {args.show} exists and is not a folder")
    return args


def see(saved, source, background="auto", name=None):
    """An image (a path, or a binary file object) -> uint8 [28, 28]: what `saved`'s model sees.

    The one way from a picture to the model's input, for the command line and
    any other front end, so that they cannot drift apart: the recipe of the
    model's dataset (`saved.recipe`), then deskewing if the model was trained
    on deskewed images (`saved.deskew`). The result goes to `classify` as it is.
    name: how error messages call the image (default: the path, or the file
    object's name, else "the image"). Raises ImageError.
    """
    image = load_digit_image(source, background=background, recipe=saved.recipe, name=name)
    return deskew(image) if saved.deskew else image


def classify(saved, image):
    """uint8 [28, 28] -> (predicted class index, probabilities [num_classes])."""
    X = pre_process_images(image[None], dtype=saved.model.w.dtype)
    y_hat = saved.model.forward(X)[0]
    # Binary: the sigmoid is the probability of target 1, class_names[1].
    probabilities = np.array([1 - y_hat[0], y_hat[0]]) if saved.kind == "binary" else y_hat
    return int(saved.model.predict(X)[0]), probabilities.astype(np.float64)


def ranked(prediction, probabilities, top=TOP):
    """The prediction first, then the other classes by falling probability: top indices."""
    others = [k for k in np.argsort(-probabilities, kind="stable") if k != prediction]
    return [prediction, *others][:top]


def describe(path, names, prediction, probabilities):
    """One output line: `path: 7 (0.912), 1 (0.051), 9 (0.020)`."""
    best = ", ".join(f"{names[k]} ({probabilities[k]:.3f})" for k in ranked(prediction, probabilities))
    return f"{path}: {best}"


def main(argv=None):
    args = parse_args(argv)
    saved = load_model(args.model)
    show = None if args.show is None else check_show_folder(Path(args.show))  # before the first image
    results, failed, used = [], 0, {_real(p) for p in args.images}
    for path in args.images:
        try:
            check_image_file(path)
            image = see(saved, path, background=args.background)
        except ImageError as err:
            print(f"error: {printable(str(err))}", file=sys.stderr, flush=True)
            failed += 1
            continue
        prediction, probabilities = classify(saved, image)
        if args.json:
            results.append({"path": path, "prediction": saved.class_names[prediction],
                            "probabilities": dict(zip(saved.class_names, map(float, probabilities)))})
        else:
            print(describe(printable(path), saved.class_names, prediction, probabilities), flush=True)
        if show is not None:
            out = _figure_path(show, path, used)
            try:
                _save_prediction_figure(out, saved, image, prediction, probabilities[prediction], path)
            except OSError as err:
                print(f"error: --show: could not write {printable(str(out))} ({err.strerror}); no more figures "
                      f"are written: {_advice(err)}", file=sys.stderr, flush=True)
                show, failed = None, failed + 1
                continue
            note_written(out)  # so that an interruption says what was written
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if failed else 0


def check_show_folder(folder):
    """Make the --show folder if missing and prove it writable with a real file; return it.

    One UserError line otherwise (a read-only disk, no permission, a full disk), before any image.
    """
    if folder.is_symlink() and not folder.exists():  # mkdir would say only "File exists"
        what = ("a loop of symbolic links" if is_symlink_loop(folder)
                else f"a symbolic link to {printable(os.readlink(folder))}, which does not exist")
        raise UserError(f"--show {printable(str(folder))} is {what}: fix the link or choose another --show folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_probe(folder, "show-check")
    except OSError as err:
        raise UserError(f"--show {printable(str(folder))}: cannot write there ({err.strerror}): "
                        f"{_advice(err)}.") from None
    return folder


def _advice(err):
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some disk space or choose another --show folder"
    return "choose another --show folder"


_FILE_KINDS = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISSOCK: "a socket",
               stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device"}


def check_image_file(path):
    """ImageError (naming `path`, escaped) unless it is a regular file we may read.

    Found without opening it: opening a FIFO would wait for a writer for ever.
    """
    name = printable(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file; check the path.") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ImageError(f"{name}: a loop of symbolic links, not an image file; fix the link.") from None
        raise ImageError(f"{name}: cannot be read ({err.strerror}).") from None
    for is_kind, kind in _FILE_KINDS.items():
        if is_kind(mode):
            raise ImageError(f"{name}: is {kind}, not an image file.")
    if not os.access(path, os.R_OK):
        raise ImageError(f"{name}: cannot be read (permission denied).")


def _real(path):
    """The path with symbolic links resolved, as far as they go (a loop is left as it is)."""
    return Path(os.path.realpath(path))


def _figure_path(folder, image_path, used):
    """folder/<image name>_predicted.png, numbered if that name is taken (never an input)."""
    stem = Path(image_path).stem
    out, n = folder / f"{stem}_predicted.png", 1
    while _real(out) in used:
        n += 1
        out = folder / f"{stem}_predicted-{n}.png"
    used.add(_real(out))
    return out


def _save_prediction_figure(out, saved, image, prediction, probability, title):
    """The 28x28 input beside the weight template of the predicted class, as PNG."""
    from . import plots  # Matplotlib only when --show asks for figures

    if saved.kind == "binary":
        # One weight image: positive weights vote for class_names[1], negative for [0].
        template = saved.model.w[:-1, 0]
        label = f"weights: + for {saved.class_names[1]}, - for {saved.class_names[0]}"
    else:
        template = saved.model.w[:-1, prediction]
        label = f"weight template of {saved.class_names[prediction]}"
    name = f"{printable(Path(title).name)}: {saved.class_names[prediction]} ({probability:.3f})"
    plots.save_figure(plots.prediction_figure(image, template.reshape(28, 28), label, name), out)


if __name__ == "__main__":
    run(main)
