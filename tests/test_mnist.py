"""The IDX reader and the loader: real files of both datasets, synthetic files, every error, downloads."""

import dataclasses
import errno
import gzip
import hashlib
import http.server
import os
import shutil
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src import mnist
from src.errors import UserError
from src.mnist import MNISTError, class_names, load_mnist, parse_idx, read_idx_file
from tests.conftest import write_fake_mnist, write_idx

MNIST_RAW_SHA256 = mnist.DATASETS["mnist"].raw_sha256

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
        array = read_idx_file(tmp_path / name, sha256=MNIST_RAW_SHA256[name])
        assert np.array_equal(array, read_idx_file(mnist_dir / f"{name}.gz"))


# --- real Fashion-MNIST: the known facts of ../shared/fashion-mnist/README.md --


def test_real_fashion_mnist_class_counts_and_mean_pixel(fashion_mnist_dir):
    train_x, train_y, test_x, test_y = load_mnist(fashion_mnist_dir, dataset="fashion-mnist")
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    assert np.bincount(train_y).tolist() == [6000] * 10
    assert np.bincount(test_y).tolist() == [1000] * 10
    assert train_x.mean() / 255 == pytest.approx(0.2860, abs=5e-5)  # of full scale
    assert test_x.mean() / 255 == pytest.approx(0.2868, abs=5e-5)


def test_class_names_of_both_datasets():
    assert mnist.DATASET_NAMES == ("mnist", "fashion-mnist")
    assert class_names("mnist") == tuple("0123456789")
    assert class_names("fashion-mnist") == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def test_unknown_dataset_is_a_programming_error_listing_the_choices(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'cifar'; choose one of mnist, fashion-mnist"):
        load_mnist(tmp_path, dataset="cifar")


def test_mnist_files_offered_as_fashion_mnist_are_named_in_one_line(mnist_dir):
    with pytest.raises(MNISTError) as err:
        load_mnist(mnist_dir, dataset="fashion-mnist", download_missing=False)
    message = str(err.value)
    assert message.startswith(f"{mnist_dir / 'train-images-idx3-ubyte.gz'} holds the MNIST digits, "
                              "not Fashion-MNIST (the Fashion-MNIST mirror has served the digit files")
    assert "FASHION_MNIST_DATA_DIR" in message and len(message.splitlines()) == 1


def test_fashion_mnist_files_offered_as_mnist_are_named(fashion_mnist_dir):
    with pytest.raises(MNISTError, match="holds Fashion-MNIST's clothing images, not MNIST: .* MNIST_DATA"):
        load_mnist(fashion_mnist_dir, download_missing=False)


def _fashion_copy(fashion_mnist_dir, folder, damaged, damage):
    """`folder` with links to the real Fashion-MNIST files, and a damaged copy of `damaged`."""
    folder.mkdir()
    for name in mnist.FILE_NAMES:
        (folder / f"{name}.gz").symlink_to(fashion_mnist_dir / f"{name}.gz")
    data = bytearray((fashion_mnist_dir / f"{damaged}.gz").read_bytes())
    (folder / f"{damaged}.gz").unlink()
    (folder / f"{damaged}.gz").write_bytes(damage(data))
    return folder


def _flip_a_byte(data):
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("damage, message", [
    (_flip_a_byte, "not a valid gzip archive"),
    (lambda data: bytes(data[: len(data) // 2]), r"not a valid gzip archive \(it is cut off"),
], ids=["corrupt", "truncated"])
def test_damaged_fashion_mnist_file_is_one_line(fashion_mnist_dir, tmp_path, damage, message):
    folder = _fashion_copy(fashion_mnist_dir, tmp_path / "f", "t10k-labels-idx1-ubyte", damage)
    with pytest.raises(MNISTError, match=f"t10k-labels-idx1-ubyte.gz: {message}") as err:
        load_mnist(folder, dataset="fashion-mnist", download_missing=False)
    assert "FASHION_MNIST_DATA_DIR" in str(err.value) and len(str(err.value).splitlines()) == 1


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
        load_mnist(tmp_path, download_missing=False, checksums=MNIST_RAW_SHA256, cache_dir=tmp_path / "cache")
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


# --- bounded reading: gzip bombs, sizes against the header ---------------------

BOMB_ZEROS = 256 << 20  # bytes of zeros after the header: ~250 kB at level 9


@pytest.fixture(scope="module")
def gzip_bomb(tmp_path_factory):
    """t10k-labels-idx1-ubyte.gz: an honest header for 10,000 labels, then 256 MB of zeros.

    Written by streaming 1 MB blocks through zlib (level 9), so it costs
    about a second and a megabyte of memory to make.
    """
    path = tmp_path_factory.mktemp("bomb") / "t10k-labels-idx1-ubyte.gz"
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    with open(path, "wb") as f:
        f.write(deflate.compress(bytes([0, 0, 8, 1]) + (10_000).to_bytes(4, "big")))
        f.writelines(deflate.compress(block) for _ in range(BOMB_ZEROS // len(block)))
        f.write(deflate.flush())
    return path


def test_gzip_bomb_is_refused_at_once_in_bounded_memory(gzip_bomb):
    assert gzip_bomb.stat().st_size < BOMB_ZEROS // 500  # a real bomb: over 500x
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(MNISTError, match="inflates to more than the 10,008 bytes its IDX header"):
            read_idx_file(gzip_bomb, kind="labels")
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0  # seconds
    assert peak < 8 << 20  # bytes: under 8 MB where inflating it would take 256 MB


@pytest.mark.parametrize("gz", [True, False])
def test_header_announcing_other_than_the_canonical_size_is_refused(tmp_path, gz):
    # 5,478,275 images of 784 bytes: a header announcing 4 GB.
    write_fake_mnist(tmp_path, gz=gz)
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (5_478_275, 28, 28))
    path = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(header + bytes(1 << 20)) if gz else header + bytes(1 << 20))
    start = time.perf_counter()
    with pytest.raises(MNISTError, match=r"header announces 5478275x28x28 values \(4,294,967,616 bytes\), "
                                         r"the canonical MNIST file has 47,040,016 bytes"):
        load_mnist(tmp_path, download_missing=False, cache_dir=tmp_path / "cache")
    assert time.perf_counter() - start < 0.5  # seconds


def test_uncompressed_file_size_is_checked_against_the_header(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(7))
    with pytest.raises(MNISTError, match=r"truncated: the header announces 10 values \(18 bytes\).* 15 "):
        read_idx_file(path, kind="labels")


def test_concatenated_gzip_members_read_as_one_file(tmp_path):
    raw = bytes([0, 0, 8, 1]) + (6).to_bytes(4, "big") + bytes([1, 2, 3, 4, 5, 6])
    (tmp_path / "l.gz").write_bytes(gzip.compress(raw[:5]) + gzip.compress(raw[5:]))  # as `cat a.gz b.gz`
    assert read_idx_file(tmp_path / "l.gz", kind="labels").tolist() == [1, 2, 3, 4, 5, 6]


# --- where files are looked for ----------------------------------------------


def test_search_order_argument_then_env_then_cache(tmp_path, monkeypatch):
    arg, env, cache = tmp_path / "arg", tmp_path / "env", tmp_path / "cache"
    write_fake_mnist(env, n_train=20, seed=1)
    write_fake_mnist(cache, n_train=10, seed=2)
    monkeypatch.setenv("MNIST_DATA_DIR", str(env))
    kwargs = {"download_missing": False, "checksums": None, "cache_dir": cache}
    arg.mkdir()
    assert len(load_mnist(arg, **kwargs)[0]) == 20  # arg empty -> env
    write_fake_mnist(arg, n_train=40, seed=3)
    assert len(load_mnist(arg, **kwargs)[0]) == 40  # arg first
    monkeypatch.delenv("MNIST_DATA_DIR")
    assert len(load_mnist(None, **kwargs)[0]) == 10  # then the cache


def test_search_order_for_fashion_mnist_skips_mnist_data_dir(tmp_path, monkeypatch):
    arg, env, other, cache = (tmp_path / d for d in ("arg", "env", "mnist_env", "cache"))
    write_fake_mnist(env, n_train=20, seed=1)
    write_fake_mnist(other, n_train=30, seed=2)
    write_fake_mnist(cache, n_train=10, seed=3)
    monkeypatch.setenv("FASHION_MNIST_DATA_DIR", str(env))
    monkeypatch.setenv("MNIST_DATA_DIR", str(other))
    kwargs = {"dataset": "fashion-mnist", "download_missing": False, "checksums": None, "cache_dir": cache}
    arg.mkdir()
    assert len(load_mnist(arg, **kwargs)[0]) == 20  # arg empty -> its env var
    write_fake_mnist(arg, n_train=40, seed=4)
    assert len(load_mnist(arg, **kwargs)[0]) == 40  # arg first
    monkeypatch.delenv("FASHION_MNIST_DATA_DIR")
    assert len(load_mnist(None, **kwargs)[0]) == 10  # then its cache, never MNIST_DATA_DIR


def test_default_caches_are_per_dataset():
    data = Path(mnist.__file__).resolve().parent.parent / "data"
    assert mnist.candidate_dirs(dataset="mnist")[-1] == data / "mnist"
    assert mnist.candidate_dirs(dataset="fashion-mnist")[-1] == data / "fashion-mnist"


# --- file-system errors while looking: one line naming the path, no traceback --


def _one_line_error(folder, tmp_path):
    with pytest.raises(MNISTError) as err:
        load_mnist(folder, download_missing=False, cache_dir=tmp_path / "cache")
    message = str(err.value)
    assert len(message.splitlines()) == 1 and "--data-dir or MNIST_DATA_DIR" in message
    return message


def test_mnist_error_is_a_user_error():
    assert issubclass(MNISTError, UserError)


def test_path_too_long_is_one_line(tmp_path):
    folder = tmp_path / ("x" * 300)  # one name over the 255-byte limit: ENAMETOOLONG for real
    assert _one_line_error(folder, tmp_path).startswith(f"{folder}: the path is too long")


def test_folder_that_is_a_file_is_one_line(tmp_path):
    folder = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((1, 28, 28)))
    assert _one_line_error(folder, tmp_path).startswith(f"--data-dir {folder}: not a folder.")


def test_data_dir_that_does_not_exist_is_one_line_not_passed_over(tmp_path):
    assert _one_line_error(tmp_path / "typo", tmp_path).startswith(f"--data-dir {tmp_path / 'typo'}: no such folder.")


def test_dangling_symlink_is_one_line(tmp_path):
    write_fake_mnist(tmp_path / "d")
    link = tmp_path / "d" / "train-images-idx3-ubyte.gz"
    link.unlink()
    link.symlink_to(tmp_path / "gone.gz")
    message = _one_line_error(tmp_path / "d", tmp_path)
    assert message.startswith(f"{link}: a symbolic link to {tmp_path / 'gone.gz'}, which does not exist")


def test_folder_without_search_permission_is_one_line(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    write_fake_mnist(locked)
    locked.chmod(0o600)  # no search (x) permission
    try:
        if os.access(locked, os.X_OK):  # root: chmod does not bite, so answer as the kernel would
            real_stat = os.stat

            def stat(path, *args, **kwargs):
                if Path(path).parent == locked:
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
                return real_stat(path, *args, **kwargs)

            monkeypatch.setattr(os, "stat", stat)
        message = _one_line_error(locked, tmp_path)
    finally:
        monkeypatch.undo()
        locked.chmod(0o755)
    assert message.startswith(f"{locked / 'train-images-idx3-ubyte'}: permission denied")
    assert "chmod u+rx" in message


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
        # A short poll interval: shutdown() waits up to one interval, 0.5 s by default.
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def shared_gz_digests(monkeypatch, mnist_dir):
    """Treat the bundled, re-made .gz archives of MNIST as what its mirrors serve."""
    digests = {n: hashlib.sha256((mnist_dir / f"{n}.gz").read_bytes()).hexdigest() for n in mnist.FILE_NAMES}
    mnist_info = dataclasses.replace(mnist.DATASETS["mnist"], gz_sha256=digests)
    monkeypatch.setitem(mnist.DATASETS, "mnist", mnist_info)


def test_download_lands_verified_in_cache(serve, tmp_path, mnist_dir, shared_gz_digests, monkeypatch):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    url = serve(sorted(mnist_dir.glob("*.gz")))
    cache = tmp_path / "cache"
    (tmp_path / "empty").mkdir()
    arrays = load_mnist(tmp_path / "empty", mirrors=(url,), cache_dir=cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in mnist.FILE_NAMES)
    assert arrays[1][:3].tolist() == [5, 0, 4]


def test_missing_first_mirror_falls_back_to_second(serve, tmp_path):
    archive = tmp_path / "t10k-labels-idx1-ubyte.gz"
    write_idx(archive, np.arange(10))
    empty, full = serve([]), serve([archive])
    cache = tmp_path / "cache"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    # 404, then 200
    path = mnist.download("t10k-labels-idx1-ubyte", cache, mirrors=(empty, full), sha256=digest)
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
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "env"))
    dead = "http://127.0.0.1:9/"  # the discard port: nothing listens there
    (tmp_path / "arg").mkdir()
    with pytest.raises(MNISTError) as err:
        load_mnist(tmp_path / "arg", mirrors=(dead,), cache_dir=tmp_path / "cache")
    message = str(err.value)
    for place in ("arg", "env", "cache"):
        assert str(tmp_path / place) in message
    for name in mnist.FILE_NAMES:
        assert f"{dead}{name}.gz: could not connect" in message
    assert "MNIST_DATA_DIR" in message
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []


def test_missing_file_on_every_mirror_reports_http_404(serve, tmp_path):
    with pytest.raises(MNISTError, match=r"t10k-labels-idx1-ubyte.gz: HTTP 404"):
        mnist.download("t10k-labels-idx1-ubyte", tmp_path / "cache", mirrors=(serve([]),), sha256="0" * 64)


def test_download_of_the_other_dataset_is_named_and_discarded(serve, tmp_path, mnist_dir, shared_gz_digests):
    url = serve([mnist_dir / "t10k-labels-idx1-ubyte.gz"])  # a Fashion-MNIST mirror serving the digits
    cache = tmp_path / "cache"
    with pytest.raises(MNISTError, match=f"{url}t10k-labels-idx1-ubyte.gz: served the MNIST digits, "
                                         "not Fashion-MNIST .*; the download was discarded"):
        mnist.download("t10k-labels-idx1-ubyte", cache, mirrors=(url,), dataset="fashion-mnist")
    assert not cache.exists() or list(cache.iterdir()) == []
