"""The four MNIST IDX files -> uint8 arrays: find, download, verify, parse.

Where the files are looked for, in order (each file either gzipped or not):

1. the `data_dir` argument,
2. the directory in the `MNIST_DATA_DIR` environment variable,
3. the cache folder `data/mnist/` inside the repository (git-ignored).

Files found nowhere are downloaded into the cache from the public mirrors,
checked against the SHA-256 of the archives those mirrors serve, and renamed
into place only once complete and verified (pooch does the temporary file
and the check), so an interrupted or corrupt download leaves nothing behind.

Every file read is checked: the IDX magic number, the dimensions
(N x 28 x 28 images, N labels), labels in 0..9, as many images as labels,
and the SHA-256 of the decompressed bytes against the canonical digests.
Each failure raises one `MNISTError` that names the file, what is wrong and
what to do about it.

Decoded arrays are kept in memory for the life of the process (read-only),
so a second `load_mnist()` costs nothing.
"""

import gzip
import hashlib
import logging
import os
import zlib
from pathlib import Path

import numpy as np

ENV_VAR = "MNIST_DATA_DIR"
CACHE_DIR = Path(__file__).resolve().parent.parent / "data" / "mnist"

# The original yann.lecun.com address answers 403; these serve the same files.
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

# SHA-256 of the decompressed, canonical IDX files.
RAW_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# SHA-256 of the `.gz` archives as the public mirrors serve them.
GZ_SHA256 = {
    "train-images-idx3-ubyte": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
FILE_NAMES = tuple(RAW_SHA256)

IMAGE_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABEL_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
IMAGE_SHAPE = (28, 28)

_FIX = (
    f"Delete the file and run again to re-download it, or set {ENV_VAR} "
    "to a folder holding the four original MNIST files."
)


class MNISTError(Exception):
    """A problem with the MNIST files; the message says what to do."""


def parse_idx(data, source="<bytes>", kind=None):
    """Parse the bytes of an IDX file of unsigned bytes into an array.

    data:   the whole (decompressed) file.
    source: the name used in error messages.
    kind:   "images" (expects N x 28 x 28), "labels" (expects N values in
            0..9) or None (any unsigned-byte IDX file).
    Returns a read-only uint8 array that shares memory with `data`.
    Raises MNISTError for anything that is not such a file.
    """
    data = memoryview(data).cast("B")
    if len(data) < 4:
        raise MNISTError(f"{source}: truncated: {len(data)} bytes, too short for an IDX header. {_FIX}")
    zero, dtype_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero != 0 or dtype_code != 0x08 or ndim == 0:
        raise MNISTError(
            f"{source}: bad magic number {magic:#010x}: not an IDX file of unsigned bytes "
            f"(expected {IMAGE_MAGIC:#010x} for images or {LABEL_MAGIC:#010x} for labels). {_FIX}"
        )
    expected_magic = {"images": IMAGE_MAGIC, "labels": LABEL_MAGIC}.get(kind)
    if expected_magic is not None and magic != expected_magic:
        raise MNISTError(
            f"{source}: bad magic number {magic:#010x} for an MNIST {kind} file "
            f"(expected {expected_magic:#010x}). {_FIX}"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise MNISTError(f"{source}: truncated: the header needs {header_size} bytes, the file has {len(data)}. {_FIX}")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if kind == "images" and shape[1:] != IMAGE_SHAPE:
        raise MNISTError(f"{source}: images are {'x'.join(map(str, shape[1:]))}, expected 28x28. {_FIX}")
    expected_size = header_size + int(np.prod(shape, dtype=np.int64))
    if len(data) < expected_size:
        raise MNISTError(
            f"{source}: truncated: the header announces {'x'.join(map(str, shape))} values "
            f"({expected_size} bytes), the file has {len(data)} bytes. {_FIX}"
        )
    if len(data) > expected_size:
        raise MNISTError(
            f"{source}: {len(data) - expected_size} unexpected bytes after the "
            f"{'x'.join(map(str, shape))} values the header announces. {_FIX}"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
    if kind == "labels" and array.size and array.max() > 9:
        bad = int(np.argmax(array > 9))
        raise MNISTError(f"{source}: label {array[bad]} at index {bad} is outside 0..9. {_FIX}")
    return array


def read_idx_file(path, kind=None, sha256=None):
    """Read, decompress (if the name ends in .gz), parse and verify one IDX file.

    sha256: if given, the digest the decompressed bytes must have.
    Returns the array (see `parse_idx`).
    """
    array, digest = _read_idx(path, kind)
    _check_digest(path, digest, sha256)
    return array


def _read_idx(path, kind):
    """(array, SHA-256 of the decompressed bytes) of one IDX file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise MNISTError(f"{path}: cannot be read ({err.strerror}). {_FIX}") from None
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise MNISTError(f"{path}: not a valid gzip archive ({err}). {_FIX}") from None
    return parse_idx(raw, source=str(path), kind=kind), hashlib.sha256(raw).hexdigest()


def _check_digest(path, digest, expected):
    if expected is not None and digest != expected:
        raise MNISTError(
            f"{path}: checksum mismatch: the decompressed SHA-256 is {digest}, "
            f"the canonical MNIST file's is {expected}. {_FIX}"
        )


def candidate_dirs(data_dir=None, cache_dir=None):
    """The folders searched, in order: argument, $MNIST_DATA_DIR, the cache."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get(ENV_VAR):
        dirs.append(Path(os.environ[ENV_VAR]))
    dirs.append(Path(cache_dir) if cache_dir is not None else CACHE_DIR)
    return dirs


def find_file(name, dirs):
    """The first existing `name` or `name.gz` in `dirs`, or None."""
    for folder in dirs:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def download(name, cache_dir=CACHE_DIR, mirrors=MIRRORS, sha256=None):
    """Download `name.gz` into `cache_dir`, trying each mirror in turn.

    sha256: the digest the archive must have (default: the mirrors' one).

    Returns the path of the verified archive. Raises MNISTError listing every
    URL tried and why it failed; nothing is left in the cache on failure.
    """
    import pooch  # imported here: only a download needs it (and requests)

    # Our own error says what failed; pooch's "Downloading data from" lines would be noise.
    pooch.get_logger().setLevel(logging.WARNING)
    failures = []
    for mirror in mirrors:
        url = f"{mirror}{name}.gz"
        try:
            path = pooch.retrieve(
                url, known_hash=f"sha256:{sha256 or GZ_SHA256[name]}", fname=f"{name}.gz",
                path=cache_dir, progressbar=False,
            )
            return Path(path)
        except Exception as err:  # noqa: BLE001 - any failure means: next mirror
            failures.append(f"{url}: {_why_download_failed(err)}")
    raise MNISTError(f"could not download {name}.gz from any mirror:\n  " + "\n  ".join(failures))


def _why_download_failed(err):
    """A few words for a failed download, instead of requests' long traceback text."""
    import requests

    if isinstance(err, requests.HTTPError) and err.response is not None:
        return f"HTTP {err.response.status_code}"
    if isinstance(err, requests.ConnectionError):
        return "could not connect (no network, or the host is down)"
    if isinstance(err, requests.Timeout):
        return "timed out"
    if isinstance(err, requests.RequestException):
        return f"the connection broke off ({type(err).__name__})"
    if isinstance(err, ValueError) and "hash" in str(err).lower():
        return "checksum mismatch: the download was corrupt and has been discarded"
    text = str(err).splitlines()[0][:160] if str(err) else ""
    return f"{type(err).__name__}: {text}"


_loaded = {}  # resolved path -> (array, digest): decoded once per process


def load_mnist(data_dir=None, download_missing=True, mirrors=None, checksums=RAW_SHA256,
               cache_dir=None):
    """Load the four MNIST files as uint8 arrays.

    data_dir:         searched first (see the module docstring for the order).
    download_missing: download files found nowhere into the cache.
    checksums:        file name -> SHA-256 of its decompressed bytes; None
                      skips the check (for synthetic files in tests).
    mirrors:          base URLs to download from (default: MIRRORS).
    cache_dir:        where downloads go (default: data/mnist/ in the repository).
    Returns (train_images [60000, 28, 28], train_labels [60000],
             test_images [10000, 28, 28], test_labels [10000]), read-only uint8.
    """
    dirs = candidate_dirs(data_dir, cache_dir)
    paths = {name: find_file(name, dirs) for name in FILE_NAMES}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        errors = []
        for name in missing:
            if not download_missing:
                errors.append(f"{name}: downloading is switched off")
                continue
            try:
                paths[name] = download(name, dirs[-1], mirrors or MIRRORS)
            except MNISTError as err:
                errors.append(str(err))
        if errors:
            looked = "\n  ".join(str(d) for d in dirs)
            raise MNISTError(
                f"MNIST files not found: {', '.join(missing)} (gzipped or not).\n"
                f"Looked in:\n  {looked}\n" + "\n".join(errors)
                + f"\nDownload the four files by hand, or set {ENV_VAR} to a folder that holds them."
            )

    arrays = {}
    for name, path in paths.items():
        key = path.resolve()
        if key not in _loaded:
            _loaded[key] = _read_idx(path, "images" if "images" in name else "labels")
        arrays[name] = _loaded[key][0]
    for split in ("train", "t10k"):
        images, labels = arrays[f"{split}-images-idx3-ubyte"], arrays[f"{split}-labels-idx1-ubyte"]
        if len(images) != len(labels):
            raise MNISTError(
                f"{paths[split + '-images-idx3-ubyte']} holds {len(images)} images but "
                f"{paths[split + '-labels-idx1-ubyte']} holds {len(labels)} labels. {_FIX}"
            )
    for name, path in paths.items():
        _check_digest(path, _loaded[path.resolve()][1], (checksums or {}).get(name))
    return tuple(arrays[name] for name in FILE_NAMES)
