"""A trained model as one .npz file: its weights and what it needs to be used again.

The file holds only plain arrays, so it is loaded without unpickling
(`np.load(..., allow_pickle=False)`): opening a model file can never run code.

    w                [785, 1] (binary) or [785, 10] (softmax), float32 or float64
    kind             "binary" or "softmax"
    dataset          e.g. "mnist" or "fashion-mnist"
    class_names      [num_classes] strings in output order; binary: index 0 is
                     target 0, index 1 is target 1 (the sigmoid's output)
    preprocessing    how images become the model's 785 inputs (PREPROCESSING)
    hyperparameters  JSON object, e.g. {"l2_reg_lambda": 0.0, "learning_rate": 0.5}
    metrics          JSON object, e.g. {"test_accuracy": 0.91}
    format_version   FORMAT_VERSION of the code that wrote the file
    version          the package version (`src.__version__`) that wrote it
    recipe           (format 2) how a picture becomes a 28x28 input: "mnist" (digits:
                     20x20 box, centre of mass) or "fashion-mnist" (trimmed, longest
                     side 28, centred), see `src.images.RECIPES`
    deskew           (format 2) 1 if every image was deskewed (`src.data.deskew`)
                     before pre-processing, in training and for prediction, else 0

A format-1 file (no recipe, no deskew) is read as its dataset's recipe, not deskewed.
"""

import errno
import json
import math
import stat
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import __version__
from .errors import UserError
from .fileio import atomic_path
from .models import BinaryModel, SoftmaxModel

FORMAT_VERSION = 2
PREPROCESSING = "pixels/127.5-1, bias column last (785 inputs)"
KINDS = {"binary": BinaryModel, "softmax": SoftmaxModel}
NUM_CLASSES = {"binary": 2, "softmax": 10}
# 28 * 28 pixels + the bias column; binary: one output, the probability of target 1.
WEIGHT_SHAPES = {"binary": (785, 1), "softmax": (785, 10)}
KEYS = ("w", "kind", "dataset", "class_names", "preprocessing", "hyperparameters", "metrics",
        "format_version", "version")
KEYS_SINCE_2 = ("recipe", "deskew")
RECIPES = ("mnist", "fashion-mnist")  # the image recipes src.images knows
_TRAIN = "Train one with `python -m src.train`."


class ModelFileError(UserError):
    """A model file that cannot be used; the message names the file and what is wrong."""


class SavedModel(NamedTuple):
    """A loaded model file: the model, ready to predict, and what was saved with it."""

    model: object  # BinaryModel or SoftmaxModel
    kind: str
    dataset: str
    class_names: tuple
    hyperparameters: dict
    metrics: dict
    version: str  # the package version that wrote the file
    recipe: str = "mnist"  # how a picture becomes the model's 28x28 input (src.images.RECIPES)
    deskew: bool = False  # images deskewed (src.data.deskew) before pre-processing


def save_model(path, model, *, kind, dataset, class_names, hyperparameters, metrics, recipe=None,
               deskew=False):
    """Write `model` and its description to `path` as an .npz file, atomically.

    recipe: how pictures become its inputs, one of RECIPES (default: the
    dataset's own if it is one of them, else "mnist"). deskew: whether its
    images are deskewed before pre-processing.
    kind: "binary" or "softmax", matching the model's class. class_names: the
    classes in output order (2 for binary: target 0 then target 1; 10 for
    softmax). hyperparameters, metrics: JSON-serialisable dicts.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}.")
    if not isinstance(model, KINDS[kind]) or model.w.shape != WEIGHT_SHAPES[kind]:
        raise ValueError(f"a {kind} model has w of shape {WEIGHT_SHAPES[kind]}, got "
                         f"{type(model).__name__} with w {model.w.shape}.")
    if not np.all(np.isfinite(model.w)):
        raise ValueError("The model's weights are not all finite; there is nothing worth saving.")
    class_names = [str(name) for name in class_names]
    if len(class_names) != NUM_CLASSES[kind]:
        raise ValueError(f"a {kind} model needs {NUM_CLASSES[kind]} class names, got {len(class_names)}.")
    if not isinstance(dataset, str) or not dataset:
        raise ValueError(f"dataset must be a non-empty string, got {dataset!r}.")
    recipe = default_recipe(dataset) if recipe is None else recipe
    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {RECIPES}, got {recipe!r}.")
    arrays = dict(
        w=model.w, kind=np.array(kind), dataset=np.array(dataset), class_names=np.array(class_names),
        preprocessing=np.array(PREPROCESSING),
        hyperparameters=np.array(json.dumps(dict(hyperparameters), sort_keys=True)),
        metrics=np.array(json.dumps(dict(metrics), sort_keys=True)),
        format_version=np.array(FORMAT_VERSION, dtype=np.int64), version=np.array(__version__),
        recipe=np.array(recipe), deskew=np.array(int(bool(deskew)), dtype=np.int64),
    )
    with atomic_path(path) as tmp:
        # A file object, not a name: np.savez would append ".npz" to the temporary name.
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return Path(path)


def load_model(path):
    """Read a file written by `save_model` -> SavedModel. Never unpickles.

    Raises ModelFileError (one line: the file and what is wrong) for anything
    that is not a complete, valid model file of a format this code reads.
    """
    arrays = _read_arrays(path)

    def fail(problem):
        raise ModelFileError(f"{path} is not a usable model file: {problem}. {_TRAIN}")

    version = _scalar(arrays, "format_version", "iu", fail)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model-file format {version}, written by a newer version of this code "
            f"(this one reads format {FORMAT_VERSION}): update the code, or {_TRAIN[0].lower()}{_TRAIN[1:]}")
    if version < 1:
        fail(f"format_version is {version}, not a valid format")
    kind = _scalar(arrays, "kind", "U", fail)
    if kind not in KINDS:
        fail(f"unknown kind {kind!r} (expected one of {', '.join(sorted(KINDS))})")
    preprocessing = _scalar(arrays, "preprocessing", "U", fail)
    if preprocessing != PREPROCESSING:
        fail(f"its inputs are made by {preprocessing!r}, this code makes {PREPROCESSING!r}")
    names = arrays["class_names"]
    if names.dtype.kind != "U":
        fail(f"class_names should be text (a NumPy unicode array), the file has {names.dtype} "
             f"({'bytes' if names.dtype.kind == 'S' else names.dtype.kind})")
    if names.ndim != 1 or len(names) != NUM_CLASSES[kind]:
        fail(f"a {kind} model needs {NUM_CLASSES[kind]} class names, the file has {names.size} "
             f"(shape {names.shape})")
    w = arrays["w"]
    if w.dtype not in (np.float32, np.float64) or w.shape != WEIGHT_SHAPES[kind]:
        fail(f"a {kind} model's weights are float32 or float64 of shape {list(WEIGHT_SHAPES[kind])}, "
             f"the file has {w.dtype} {list(w.shape)}")
    if not np.all(np.isfinite(w)):
        fail(f"{np.count_nonzero(~np.isfinite(w))} of its weights are not finite (NaN or infinity)")
    hyperparameters = _json_object(arrays, "hyperparameters", fail)
    model = _make_model(kind, w, hyperparameters.get("l2_reg_lambda", 0.0), fail)
    dataset = _scalar(arrays, "dataset", "U", fail)
    recipe, deskew = default_recipe(dataset), False  # format 1: what the code of then did, per dataset
    if version >= 2:
        missing = [key for key in KEYS_SINCE_2 if key not in arrays]
        if missing:
            fail(f"a format-{version} file has {', '.join(KEYS_SINCE_2)}; it lacks {', '.join(missing)}")
        recipe = _scalar(arrays, "recipe", "U", fail)
        if recipe not in RECIPES:
            fail(f"unknown image recipe {recipe!r} (expected one of {', '.join(RECIPES)})")
        deskew = _scalar(arrays, "deskew", "iu", fail)
        if deskew not in (0, 1):
            fail(f"deskew is {deskew}, not 0 or 1")
    return SavedModel(model, kind, dataset, tuple(str(n) for n in names),
                      hyperparameters, _json_object(arrays, "metrics", fail),
                      _scalar(arrays, "version", "U", fail), recipe, bool(deskew))


def default_recipe(dataset):
    """The image recipe of `dataset`: its own if this code knows it, else MNIST's."""
    return dataset if dataset in RECIPES else "mnist"


def _read_arrays(path):
    """Every key of KEYS from the .npz at `path`, as arrays; ModelFileError otherwise.

    Read member by member with zipfile, never trusting the archive: each
    member's layout (stored or deflated, not encrypted, named once) and the
    size its .npy header declares are checked before its data is read, and
    no member is inflated past MAX_MEMBER_BYTES, so a small file cannot
    claim gigabytes of memory (as the IDX reader never inflates past its header).
    """
    def fail(problem):
        problem = " ".join(str(problem).split())  # one line, whatever the library said
        raise ModelFileError(f"{path} is not a usable model file: {problem}. {_TRAIN}")

    path = Path(path)
    _check_regular_file(path, fail)
    try:
        if not zipfile.is_zipfile(path):
            fail("it is not a complete .npz archive (truncated, or another kind of file)")
        with zipfile.ZipFile(path) as archive:
            members = _members(archive, fail)
            return {key: _read_member(archive, info, key, fail) for key, info in members.items()}
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        fail(f"it is damaged ({type(err).__name__}: {err})")


# The most any member may hold: the weights are at most 785 x 10 float64 (62,800 bytes)
# and every other member is a short text or a number; 1 MiB leaves room for long texts.
MAX_ARRAY_BYTES = 2**20
MAX_HEADER_BYTES = 10_000  # numpy's own limit for a .npy header it reads safely
MAX_MEMBER_BYTES = MAX_ARRAY_BYTES + MAX_HEADER_BYTES
_LAYOUTS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}  # np.savez, np.savez_compressed


def _check_regular_file(path, fail):
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        fail("no such file")
    except OSError as err:
        fail("it is a loop of symbolic links" if err.errno == errno.ELOOP else f"it cannot be read ({err.strerror})")
    if stat.S_ISDIR(mode):
        fail("it is a folder, not a file")
    if not stat.S_ISREG(mode):
        fail("it is not a regular file (a FIFO, device or socket)")


def _members(archive, fail):
    """{key: ZipInfo of key.npy} for every key, each checked for a layout np.savez writes."""
    infos = archive.infolist()
    counts = Counter(info.filename for info in infos)
    twice = sorted(name for name, n in counts.items() if n > 1)
    if twice:
        fail(f"it holds {twice[0]} {counts[twice[0]]} times, so which one is the model's is unclear")
    by_name = {info.filename: info for info in infos}
    missing = [key for key in KEYS if f"{key}.npy" not in by_name]
    if missing:
        fail(f"it lacks {', '.join(missing)}")
    # Format 2's keys are optional here; load_model asks for them by the file's format.
    members = {key: by_name[f"{key}.npy"] for key in KEYS + KEYS_SINCE_2 if f"{key}.npy" in by_name}
    for info in members.values():
        if info.flag_bits & 0x1:
            fail(f"its member {info.filename} is encrypted, which a model file never is")
        if info.compress_type not in _LAYOUTS:
            fail(f"its member {info.filename} uses compression method {info.compress_type}; a model file is "
                 "stored or deflated (np.savez)")
        if info.file_size > MAX_MEMBER_BYTES:
            fail(f"its member {info.filename} inflates to {info.file_size:,} bytes, more than a model file "
                 f"ever holds ({MAX_MEMBER_BYTES:,})")
    return members


def _read_member(archive, info, key, fail):
    """The array in member `info`: its .npy header checked first, then at most that many bytes read."""
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version not in ((1, 0), (2, 0)):
                fail(f"array {key!r} is in .npy format {version[0]}.{version[1]}, which np.savez does not "
                     "write for a model")
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran_order, dtype = read_header(member, max_header_size=MAX_HEADER_BYTES)
        except ValueError as err:
            fail(f"array {key!r} is not a .npy array ({err})")
        if dtype.hasobject:
            fail(f"array {key!r} holds Python objects, which are never unpickled (that could run code)")
        size = math.prod(shape) * dtype.itemsize  # Python integers: no overflow, whatever the header says
        if size > MAX_ARRAY_BYTES:
            fail(f"array {key!r} declares {dtype} of shape {list(shape)}, {size:,} bytes, more than a model "
                 f"file ever holds ({MAX_ARRAY_BYTES:,})")
        header_size = member.tell()
        if header_size + size != info.file_size:
            fail(f"array {key!r} is {info.file_size - header_size:,} bytes but its header declares {size:,}")
        data = member.read(size)  # the CRC is checked here, at the member's end
    if len(data) != size:
        fail(f"array {key!r} is cut short")
    flat = np.frombuffer(data, dtype=dtype, count=math.prod(shape)) if size else np.empty(shape, dtype)
    if fortran_order:
        return flat.reshape(shape[::-1]).transpose().copy()
    return flat.reshape(shape).copy()


def _scalar(arrays, key, kinds, fail):
    """arrays[key] as a Python str or int, if it is a 0-d array of a dtype kind in `kinds`."""
    value = arrays[key]
    if value.ndim != 0 or value.dtype.kind not in kinds:
        fail(f"{key} should be a single {'string' if kinds == 'U' else 'integer'}, "
             f"the file has {value.dtype} of shape {value.shape}")
    return value.item()


def _json_object(arrays, key, fail):
    text = _scalar(arrays, key, "U", fail)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        fail(f"{key} is not valid JSON ({err})")
    except RecursionError:
        fail(f"{key} is JSON nested too deeply to be a model's description")
    if not isinstance(value, dict):
        fail(f"{key} should be a JSON object, the file has {type(value).__name__}")
    return value


def _make_model(kind, w, l2_reg_lambda, fail):
    try:
        model = KINDS[kind](l2_reg_lambda=l2_reg_lambda, dtype=w.dtype)
    except (TypeError, ValueError) as err:
        fail(f"hyperparameter l2_reg_lambda: {err}")
    model.w = np.ascontiguousarray(w)
    return model
