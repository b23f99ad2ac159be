"""Shared fixtures: real MNIST (bundled in data/mnist/) and Fashion-MNIST, and synthetic IDX files."""

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from src import mnist

# Fashion-MNIST is not bundled; tests read the copy beside the checkout unless told otherwise.
SHARED_FASHION_MNIST = Path(__file__).resolve().parents[2] / "shared" / "fashion-mnist"


def write_idx(path, array, magic=None, gz=None):
    """Write `array` (uint8) as an IDX file; gzipped if the name ends in .gz."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 + array.ndim
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(raw) if (gz if gz is not None else path.suffix == ".gz") else raw)
    return path


def write_fake_mnist(folder, n_train=50, n_test=20, gz=True, seed=0):
    """Four small, valid (but not canonical) MNIST-format files in `folder`."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for name, array in arrays.items():
        write_idx(folder / f"{name}{suffix}", array)
    return arrays


@pytest.fixture(autouse=True)
def _fresh_mnist_memory_cache():
    """Forget what a test decoded (its tmp_path files); keep the real datasets decoded once."""
    saved = dict(mnist._loaded)
    yield
    mnist._loaded.clear()
    mnist._loaded.update(saved)


def _real_data(dataset, default):
    """The folder with a real dataset's four files ($<its env var>, else `default`), decoded once.

    In CI (CI=true) a test that needs the data fails when it cannot read it;
    elsewhere it is skipped with a note on how to provide the data.
    """
    info = mnist.DATASETS[dataset]
    folder = Path(os.environ.get(info.env_var) or default)
    try:
        mnist.load_mnist(folder, dataset=dataset, download_missing=False)
    except mnist.MNISTError as err:
        message = f"real {info.title} is needed and could not be read: {err}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(f"{message}\nSet {info.env_var} to a folder holding the four {info.title} files.")
    return folder


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder with the real MNIST files: MNIST_DATA_DIR, else the bundled data/mnist/."""
    return _real_data("mnist", mnist.DATASETS["mnist"].cache_dir)


@pytest.fixture(scope="session")
def fashion_mnist_dir():
    """The folder with the real Fashion-MNIST files: FASHION_MNIST_DATA_DIR, else ../shared/fashion-mnist."""
    return _real_data("fashion-mnist", SHARED_FASHION_MNIST)


SMALL_RUN = ["--train-size", "1500", "--val-size", "300", "--epochs", "2", "--quiet"]


@pytest.fixture(scope="session")
def small_outputs(mnist_dir, tmp_path_factory):
    """task2.py, task3.py and task4.py run once with small sizes into one folder."""
    import task2
    import task3
    import task4

    out = tmp_path_factory.mktemp("figures")
    for module in (task2, task3, task4):
        assert module.main(["--data-dir", str(mnist_dir), "--out-dir", str(out), *SMALL_RUN]) is None
    return out


@pytest.fixture(scope="session")
def draw_models(mnist_dir, tmp_path_factory):
    """Model files of the kinds `python -m src.train` writes, trained by plain SGD for a moment (0.3 s):
    {"softmax": on deskewed MNIST (held-out accuracy 0.92), "binary": task 2's 2 (target 1)
    against 3 (target 0), 0.96}. Their hyperparameters record the split, as src.train's do."""
    from dataclasses import asdict, replace

    from src.data import deskew, load_binary_dataset, load_full_mnist, one_hot_encode, pre_process_images
    from src.experiment import TASK2, TASK3
    from src.modelfile import save_model
    from src.models import BinaryModel, SoftmaxModel

    folder = tmp_path_factory.mktemp("draw-models")
    sizes = {"train_size": 2000, "val_size": 500, "seed": 0}
    runs = {"softmax": (replace(TASK3, **sizes, deskew=True), SoftmaxModel, tuple(map(str, range(10)))),
            "binary": (replace(TASK2, **sizes), BinaryModel, ("3", "2"))}
    paths = {}
    for name, (s, Model, names) in runs.items():
        if s.model == "binary":
            split = load_binary_dataset(*s.classes, s.train_size, s.val_size, s.seed, mnist_dir)
            X, Y = pre_process_images(split.X_train, np.float32), split.y_train[:, None].astype(np.float32)
        else:
            split = load_full_mnist(s.train_size, s.val_size, s.seed, mnist_dir)
            X, Y = pre_process_images(deskew(split.X_train), np.float32), one_hot_encode(split.y_train, dtype=np.float32)
        model, rng = Model(dtype=np.float32), np.random.default_rng(0)  # float32, as src.train
        for _ in range(10):
            for batch in np.array_split(rng.permutation(len(X)), len(X) // 50):
                model.backward(X[batch], model.forward(X[batch]), Y[batch])
                model.w -= 0.05 * model.grad
        paths[name] = save_model(folder / f"{name}.npz", model, kind=s.model, dataset="mnist", class_names=names,
                                 hyperparameters=asdict(s), metrics={}, deskew=s.deskew)
    return paths
