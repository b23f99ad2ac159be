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
    """Model files as `python -m src.train` writes them, trained for a moment (~1 s, mostly deskewing):
    {"softmax": deskewed softmax on MNIST (test accuracy ~0.90), "binary": task 2's 2 (target 1)
    against 3 (target 0), ~0.97}."""
    from dataclasses import replace

    from src.experiment import TASK2, TASK3, train_run
    from src.train import save_trained_model

    folder = tmp_path_factory.mktemp("draw-models")
    settings = {"softmax": replace(TASK3, train_size=3000, val_size=500, max_epochs=3, learning_rate=0.05,
                                   deskew=True),
                "binary": replace(TASK2, train_size=3000, val_size=500, max_epochs=20)}
    paths = {}
    for name, s in settings.items():
        record, w = train_run(s, mnist_dir)
        paths[name] = folder / f"{name}.npz"
        save_trained_model(paths[name], w, s, record)
    return paths
