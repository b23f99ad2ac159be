"""The IDX reader and the loader: real files, synthetic files, every error, downloads."""

import gzip
import hashlib
import http.server
import shutil
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src import mnist
from src.mnist import MNISTError, load_mnist, parse_idx, read_idx_file
from tests.conftest import SHARED_MNIST, write_fake_mnist, write_idx

# --- real MNIST: the known facts of ../shared/mnist/README.md ---------------


def test_real_mnist_shapes_and_first_labels(mnist_dir):
    train_x, train_y, test_x, test_y = load_mnist(mnist_dir)
    assert train_x.shape == (60000, 28, 28) and train_x.dtype == np.uint8
    assert test_x.shape == (10000, 28, 28)
    assert train_y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test_y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_real_mnist_digit_counts_and_mean_pixel(mnist_dir):
    train_x, train_y, _, test_y = load_mnist(mnist_dir)
    assert np.bincount(train_y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(test_y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train_x.mean() == pytest.approx(33.318, abs=5e-4)


def test_real_mnist_is_decoded_once_and_read_only(mnist_dir):
    first, second = load_mnist(mnist_dir), load_mnist(mnist_dir)
    assert all(a is b for a, b in zip(first, second))
    with pytest.raises(ValueError):
        first[0][0, 0, 0] = 1


def test_uncompressed_files_load_like_gzipped_ones(mnist_dir, tmp_path):
    for name in mnist.FILE_NAMES[2:]:  # the two small t10k files suffice
        (tmp_path / name).write_bytes(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
        array = read_idx_file(tmp_path / name, sha256=mnist.RAW_SHA256[name])
        assert np.array_equal(array, read_idx_file(mnist_dir / f"{name}.gz"))


# --- synthetic IDX files ------------------------------------------------------


def test_round_trip_of_images_and_labels(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 1, 2, 8], dtype=np.uint8)
    assert np.array_equal(read_idx_file(write_idx(tmp_path / "i.gz", images), kind="images"), images)
    assert np.array_equal(read_idx_file(write_idx(tmp_path / "l", labels), kind="labels"), labels)


def test_loader_reads_a_folder_of_synthetic_files(tmp_path):
    arrays = write_fake_mnist(tmp_path, n_train=30, n_test=12)
    loaded = load_mnist(tmp_path, download_missing=False, checksums=None, cache_dir=tmp_path / "cache")
    for got, want in zip(loaded, arrays.values()):
        assert np.array_equal(got, want)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00", "truncated"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated: the header announces 5 values"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "1 unexpected bytes"),
        (b"\x12\x34\x08\x01\x00\x00\x00\x00", "bad magic number 0x12340801"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x00", "not an IDX file of unsigned bytes"),
    ],
)
def test_malformed_idx_gives_clear_error(data, message):
    with pytest.raises(MNISTError, match=message) as err:
        parse_idx(data, source="f.idx")
    assert "f.idx" in str(err.value) and "re-download" in str(err.value)


def test_labels_file_where_images_are_expected_is_named(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros(3))
    with pytest.raises(MNISTError, match=r"bad magic number 0x00000801 for an MNIST images file"):
        read_idx_file(path, kind="images")


def test_images_of_wrong_size_are_refused(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((2, 28, 27)))
    with pytest.raises(MNISTError, match="images are 28x27, expected 28x28"):
        read_idx_file(path, kind="images")


def test_label_outside_0_to_9_is_refused(tmp_path):
    path = write_idx(tmp_path / "labels", [1, 2, 10, 3])
    with pytest.raises(MNISTError, match=r"label 10 at index 2 is outside 0\.\.9"):
        read_idx_file(path, kind="labels")


def test_corrupt_gzip_is_refused(tmp_path):
    good = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    (tmp_path / "a.gz").write_bytes(good[:-6])  # cut off: the stream never ends
    (tmp_path / "b.gz").write_bytes(b"this is not gzip")
    for name in ("a.gz", "b.gz"):
        with pytest.raises(MNISTError, match=f"{name}: not a valid gzip archive"):
            read_idx_file(tmp_path / name)


def test_checksum_mismatch_names_file_and_digests(tmp_path):
    write_fake_mnist(tmp_path)
    with pytest.raises(MNISTError, match=r"train-images-idx3-ubyte.gz: checksum mismatch.*ba891046") as err:
        load_mnist(tmp_path, download_missing=False, cache_dir=tmp_path / "cache")
    assert "Delete the file" in str(err.value)


def test_mismatched_image_and_label_counts(tmp_path):
    write_fake_mnist(tmp_path, n_train=30)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(29))
    with pytest.raises(MNISTError, match="holds 30 images but .* holds 29 labels"):
        load_mnist(tmp_path, download_missing=False, checksums=None, cache_dir=tmp_path / "c")


def test_unreadable_path_is_a_clear_error(tmp_path):
    with pytest.raises(MNISTError, match="cannot be read"):
        read_idx_file(tmp_path)  # a folder, not a file


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64), kind=st.sampled_from([None, "images", "labels"]))
def test_fuzz_parser_raises_only_its_own_error(data, kind):
    try:
        array = parse_idx(data, kind=kind)
    except MNISTError:
        return
    assert array.dtype == np.uint8


@settings(max_examples=200, deadline=None)
@given(dims=st.lists(st.integers(0, 4), min_size=1, max_size=3), extra=st.binary(max_size=8))
def test_fuzz_well_formed_headers_with_any_body(dims, extra):
    header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    try:
        array = parse_idx(header + extra)
    except MNISTError:
        return
    assert array.shape == tuple(dims)


def test_huge_announced_dimensions_do_not_allocate():
    data = bytes([0, 0, 8, 3]) + (0xFFFFFFFF).to_bytes(4, "big") * 3
    with pytest.raises(MNISTError, match="truncated"):
        parse_idx(data)


# --- where files are looked for ----------------------------------------------


def test_search_order_argument_then_env_then_cache(tmp_path, monkeypatch):
    arg, env, cache = tmp_path / "arg", tmp_path / "env", tmp_path / "cache"
    write_fake_mnist(env, n_train=20, seed=1)
    write_fake_mnist(cache, n_train=10, seed=2)
    monkeypatch.setenv(mnist.ENV_VAR, str(env))
    kwargs = dict(download_missing=False, checksums=None, cache_dir=cache)
    assert len(load_mnist(arg, **kwargs)[0]) == 20  # arg empty -> env
    write_fake_mnist(arg, n_train=40, seed=3)
    assert len(load_mnist(arg, **kwargs)[0]) == 40  # arg first
    monkeypatch.delenv(mnist.ENV_VAR)
    assert len(load_mnist(tmp_path / "nowhere", **kwargs)[0]) == 10  # then the cache


# --- downloads from a local HTTP server --------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    drop_after = None  # bytes to send before dropping the connection

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        if self.drop_after is None:
            return super().copyfile(source, outputfile)
        outputfile.write(source.read(self.drop_after))
        self.close_connection = True


@pytest.fixture
def serve(tmp_path):
    """serve(files, drop_after=None) -> URL of a local mirror holding `files`."""
    servers = []

    def start(files, drop_after=None):
        root = tmp_path / f"mirror{len(servers)}"
        root.mkdir()
        for path in files:
            shutil.copy(path, root)
        handler = type("H", (_Handler,), {"drop_after": drop_after})
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), lambda *a, **k: handler(*a, directory=str(root), **k))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def shared_gz_digests(monkeypatch):
    """Treat the shared folder's re-made .gz archives as what mirrors serve."""
    digests = dict(line.split()[::-1] for line in (SHARED_MNIST / "SHA256SUMS").read_text().splitlines())
    monkeypatch.setattr(mnist, "GZ_SHA256", {n: digests[f"{n}.gz"] for n in mnist.FILE_NAMES})


def test_download_lands_verified_in_cache(serve, tmp_path, mnist_dir, shared_gz_digests, monkeypatch):
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)
    url = serve(sorted(mnist_dir.glob("*.gz")))
    cache = tmp_path / "cache"
    arrays = load_mnist(tmp_path / "empty", mirrors=(url,), cache_dir=cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in mnist.FILE_NAMES)
    assert arrays[1][:3].tolist() == [5, 0, 4]


def test_missing_first_mirror_falls_back_to_second(serve, tmp_path):
    archive = tmp_path / "t10k-labels-idx1-ubyte.gz"
    write_idx(archive, np.arange(10))
    empty, full = serve([]), serve([archive])
    cache = tmp_path / "cache"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    path = mnist.download("t10k-labels-idx1-ubyte", cache, mirrors=(empty, full), sha256=digest)  # 404, then 200
    assert path == cache / archive.name and path.read_bytes() == archive.read_bytes()


def test_bad_checksum_leaves_cache_empty(serve, tmp_path):
    archive = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(10))
    cache = tmp_path / "cache"
    with pytest.raises(MNISTError, match="could not download t10k-labels-idx1-ubyte.gz") as err:
        mnist.download("t10k-labels-idx1-ubyte", cache, mirrors=(serve([archive]),), sha256="0" * 64)
    assert "127.0.0.1" in str(err.value) and "checksum mismatch" in str(err.value)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_dropped_connection_leaves_cache_empty(serve, tmp_path):
    labels = np.random.default_rng(0).integers(0, 10, 5000)  # random: compresses poorly
    archive = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    assert archive.stat().st_size > 1000
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    with pytest.raises(MNISTError, match="could not download"):
        mnist.download("t10k-labels-idx1-ubyte", cache,
                       mirrors=(serve([archive], drop_after=100),), sha256=digest)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_offline_error_names_every_place_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path / "env"))
    dead = "http://127.0.0.1:9/"  # the discard port: nothing listens there
    with pytest.raises(MNISTError) as err:
        load_mnist(tmp_path / "arg", mirrors=(dead,), cache_dir=tmp_path / "cache")
    message = str(err.value)
    for place in ("arg", "env", "cache"):
        assert str(tmp_path / place) in message
    for name in mnist.FILE_NAMES:
        assert f"{dead}{name}.gz: could not connect" in message
    assert mnist.ENV_VAR in message
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []


def test_missing_file_on_every_mirror_reports_http_404(serve, tmp_path):
    with pytest.raises(MNISTError, match=r"t10k-labels-idx1-ubyte.gz: HTTP 404"):
        mnist.download("t10k-labels-idx1-ubyte", tmp_path / "cache", mirrors=(serve([]),), sha256="0" * 64)
