"""Model files: what is saved comes back, and every bad file is one clear error.

Weights are compared exactly (np.save keeps every bit); each bad file is
built by hand and must give a ModelFileError of one line that names the file
and the problem, without ever unpickling anything.
"""

import pickle
from pathlib import Path

import numpy as np
import pytest

import src
from src.errors import UserError
from src.modelfile import FORMAT_VERSION, KEYS, KEYS_SINCE_2, ModelFileError, load_model, save_model
from src.models import BinaryModel, SoftmaxModel

DIGITS = [str(d) for d in range(10)]


def softmax_model(dtype=np.float64, seed=0):
    model = SoftmaxModel(l2_reg_lambda=0.02, dtype=dtype)
    model.w = np.random.default_rng(seed).normal(size=model.w.shape).astype(dtype)
    return model


def save_softmax(path, model=None, **overrides):
    args = dict(kind="softmax", dataset="mnist", class_names=DIGITS,
                hyperparameters={"l2_reg_lambda": 0.02, "learning_rate": 0.01, "batch_size": 128},
                metrics={"test_accuracy": 0.9126})
    args.update(overrides)
    return save_model(path, model if model is not None else softmax_model(), **args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_round_trip_keeps_weights_and_description(tmp_path, dtype):
    model = softmax_model(dtype)
    save_softmax(tmp_path / "m.npz", model)
    saved = load_model(tmp_path / "m.npz")
    assert isinstance(saved.model, SoftmaxModel)
    assert saved.model.w.dtype == dtype
    np.testing.assert_array_equal(saved.model.w, model.w)
    assert saved.model.l2_reg_lambda == 0.02
    assert (saved.kind, saved.dataset, saved.class_names) == ("softmax", "mnist", tuple(DIGITS))
    assert saved.hyperparameters == {"l2_reg_lambda": 0.02, "learning_rate": 0.01, "batch_size": 128}
    assert saved.metrics == {"test_accuracy": 0.9126}
    assert saved.version == src.__version__


def test_binary_round_trip_predicts_the_same(tmp_path):
    model = BinaryModel()
    model.w = np.random.default_rng(1).normal(size=(785, 1))
    save_model(tmp_path / "b.npz", model, kind="binary", dataset="mnist", class_names=["3", "2"],
               hyperparameters={}, metrics={})
    saved = load_model(tmp_path / "b.npz")
    X = np.random.default_rng(2).uniform(-1, 1, (50, 785))
    assert isinstance(saved.model, BinaryModel)
    assert saved.class_names == ("3", "2")  # index 0 = target 0, index 1 = target 1
    np.testing.assert_array_equal(saved.model.predict(X), model.predict(X))
    np.testing.assert_array_equal(saved.model.forward(X), model.forward(X))


def test_file_holds_only_plain_arrays(tmp_path):
    save_softmax(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(KEYS + KEYS_SINCE_2)
        assert all(npz[key].dtype.kind in "fiU" for key in npz.files)
        assert int(npz["format_version"]) == FORMAT_VERSION


def edited(path, drop=(), **changes):
    """The model file at `path` with keys dropped or replaced, written back (by hand, as np.savez does)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files if key not in drop}
    arrays.update({key: np.array(value) for key, value in changes.items()})
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def test_recipe_and_deskew_come_back(tmp_path):
    saved = load_model(save_softmax(tmp_path / "m.npz", deskew=True))
    assert (saved.recipe, saved.deskew) == ("mnist", True)
    fashion = load_model(save_softmax(tmp_path / "f.npz", dataset="fashion-mnist"))
    assert (fashion.recipe, fashion.deskew) == ("fashion-mnist", False)  # the dataset's own recipe


def test_format_1_file_still_loads_with_its_datasets_recipe(tmp_path):
    for dataset in ("mnist", "fashion-mnist"):
        path = edited(save_softmax(tmp_path / f"{dataset}.npz", dataset=dataset), drop=KEYS_SINCE_2,
                       format_version=np.int64(1))
        saved = load_model(path)
        assert (saved.recipe, saved.deskew) == (dataset, False)


@pytest.mark.parametrize("drop, changes, phrase", [
    (("recipe",), {}, "lacks recipe"),
    ((), {"recipe": "cifar"}, "unknown image recipe 'cifar'"),
    ((), {"deskew": np.int64(2)}, "deskew is 2"),
    ((), {"deskew": "yes"}, "deskew should be a single integer"),
])
def test_bad_format_2_fields_are_one_line(tmp_path, drop, changes, phrase):
    path = edited(save_softmax(tmp_path / "m.npz"), drop=drop, **changes)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert phrase in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_failed_save_leaves_the_old_file(tmp_path):
    path = save_softmax(tmp_path / "m.npz")
    before = path.read_bytes()
    with pytest.raises(TypeError):  # a metric that is not JSON
        save_softmax(path, softmax_model(seed=5), metrics={"when": object()})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left


def test_save_refuses_mismatched_kind_and_class_names(tmp_path):
    with pytest.raises(ValueError, match="binary"):
        save_softmax(tmp_path / "m.npz", kind="binary", class_names=["0", "1"])
    with pytest.raises(ValueError, match="10 class names"):
        save_softmax(tmp_path / "m.npz", class_names=["0", "1"])


# --- bad files --------------------------------------------------------------------------

def rewrite(good, path, drop=(), **replace):
    """A copy of the model file `good` at `path`, keys dropped or replaced."""
    with np.load(good, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files if key not in drop}
    arrays.update(replace)
    np.savez(path, **arrays)
    return path


class MakesMarker:
    """Unpickling this object creates the file `marker`: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def assert_model_file_error(path, *phrases):
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert isinstance(info.value, UserError)
    assert "\n" not in message
    assert str(path) in message and "python -m src.train" in message
    for phrase in phrases:
        assert phrase in message, message


@pytest.fixture
def good(tmp_path):
    return save_softmax(tmp_path / "good.npz")


def test_pickle_payload_in_the_test_really_runs_code(tmp_path):
    # The guard for the tests below: unpickling MakesMarker does create the marker.
    pickle.loads(pickle.dumps(MakesMarker(tmp_path / "ran")))
    assert (tmp_path / "ran").exists()


def test_object_array_is_refused_without_unpickling(tmp_path, good):
    marker = tmp_path / "marker"
    payload = np.array([MakesMarker(marker)], dtype=object)
    bad = rewrite(good, tmp_path / "bad.npz", w=payload)
    assert_model_file_error(bad, "'w' holds Python objects, which are never unpickled")
    assert not marker.exists()


def test_whole_file_pickle_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "marker"
    bad = tmp_path / "bad.npz"
    bad.write_bytes(pickle.dumps(MakesMarker(marker)))
    assert_model_file_error(bad, "not a complete .npz archive")
    assert not marker.exists()


def test_not_an_npz_file(tmp_path):
    bad = tmp_path / "notes.npz"
    bad.write_text("these are not weights\n")
    assert_model_file_error(bad, "not a complete .npz archive")


def test_single_npy_array_is_not_a_model(tmp_path):
    bad = tmp_path / "w.npy"
    np.save(bad, np.zeros((785, 10)))
    assert_model_file_error(bad, "not a complete .npz archive")


def test_truncated_file(tmp_path, good):
    bad = tmp_path / "cut.npz"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert_model_file_error(bad, "truncated")


def test_missing_file(tmp_path):
    assert_model_file_error(tmp_path / "nowhere.npz", "no such file")


def test_missing_keys(tmp_path, good):
    assert_model_file_error(rewrite(good, tmp_path / "bad.npz", drop=("class_names", "kind")),
                            "lacks kind, class_names")


@pytest.mark.parametrize("shape", [(785, 9), (784, 10), (785,), (785, 1)])
def test_wrong_weight_shape_for_softmax(tmp_path, good, shape):
    bad = rewrite(good, tmp_path / "bad.npz", w=np.zeros(shape))
    assert_model_file_error(bad, "softmax", "[785, 10]", str(list(shape)))


def test_wrong_weight_shape_for_binary(tmp_path, good):
    bad = rewrite(good, tmp_path / "bad.npz", kind=np.array("binary"), class_names=np.array(["3", "2"]))
    assert_model_file_error(bad, "binary", "[785, 1]", "[785, 10]")


def test_integer_weights(tmp_path, good):
    bad = rewrite(good, tmp_path / "bad.npz", w=np.zeros((785, 10), dtype=np.int64))
    assert_model_file_error(bad, "int64")


def test_wrong_class_name_count(tmp_path, good):
    bad = rewrite(good, tmp_path / "bad.npz", class_names=np.array(DIGITS[:9]))
    assert_model_file_error(bad, "needs 10 class names", "has 9")


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights(tmp_path, good, value):
    w = softmax_model().w
    w[3, 4] = value
    assert_model_file_error(rewrite(good, tmp_path / "bad.npz", w=w), "1 of its weights are not finite")


def test_unknown_kind(tmp_path, good):
    bad = rewrite(good, tmp_path / "bad.npz", kind=np.array("svm"))
    assert_model_file_error(bad, "unknown kind 'svm'")


def test_newer_format_version(tmp_path, good):
    bad = rewrite(good, tmp_path / "bad.npz", format_version=np.array(FORMAT_VERSION + 1))
    assert_model_file_error(bad, f"format {FORMAT_VERSION + 1}", "newer version", "update the code")


def test_hyperparameters_not_json(tmp_path, good):
    bad = rewrite(good, tmp_path / "bad.npz", hyperparameters=np.array("{l2: 0"))
    assert_model_file_error(bad, "hyperparameters is not valid JSON")


def test_other_preprocessing(tmp_path, good):
    bad = rewrite(good, tmp_path / "bad.npz", preprocessing=np.array("pixels/255"))
    assert_model_file_error(bad, "'pixels/255'")
