"""The four IDX files of MNIST or Fashion-MNIST -> uint8 arrays: find, download, verify, parse.

Both datasets have the same four files (60,000 training and 10,000 test
images of 28 x 28 unsigned bytes, labels 0..9); `DATASETS` holds what
differs: titles, class names, mirrors, digests, where to look. For the
dataset asked for, the files (each gzipped or not) are looked for in order:

1. the `data_dir` argument,
2. the folder in that dataset's environment variable (`MNIST_DATA_DIR`,
   `FASHION_MNIST_DATA_DIR`),
3. that dataset's cache inside the repository: `data/mnist/` (where the
   repository ships MNIST) or `data/fashion-mnist/` (git-ignored).

Files found nowhere are downloaded into the cache from the dataset's
public mirrors, checked against the SHA-256 of the archives those mirrors
serve, and renamed into place only once complete and verified (pooch does
the temporary file and the check), so an interrupted or corrupt download
leaves nothing behind.

Every file read is checked: the IDX magic number, the dimensions
(N x 28 x 28 images, N labels), labels in 0..9, as many images as labels,
and the SHA-256 of the decompressed bytes against the canonical digests
(a file of the other dataset is named as such). A file is never inflated
past the size its IDX header announces, and with the checksums on a header
must announce the canonical file's size, so a gzip bomb costs at most that
size, never gigabytes. Each failure, including a folder that cannot be searched,
raises one `MNISTError` that names the path, what is wrong and what to do.

Decoded arrays are kept in memory for the life of the process (read-only),
so a second `load_mnist()` costs nothing.
"""

import errno
import hashlib
import logging
import os
import re
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserError

FILE_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")
IMAGE_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABEL_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
IMAGE_SHAPE = (28, 28)
_DATA = Path(__file__).resolve().parent.parent / "data"



def _per_file(*values):
    """File name -> value, for the four values given in FILE_NAMES' order."""
    return dict(zip(FILE_NAMES, values, strict=True))


# Decompressed sizes: a 16-byte header and 784 bytes an image, an 8-byte
# header and one byte a label. Fashion-MNIST copies MNIST's layout exactly.
_CANONICAL_SIZES = _per_file(16 + 60_000 * 784, 8 + 60_000, 16 + 10_000 * 784, 8 + 10_000)


@dataclass(frozen=True)
class Dataset:
    """What the loader knows about one dataset of the four IDX files."""

    name: str          # the key in DATASETS and the value of --dataset
    title: str         # how messages name it
    content: str       # what its files hold, for "holds X, not Y"
    class_names: tuple  # label 0..9 -> name
    env_var: str       # searched after the data_dir argument
    cache_dir: Path    # searched last; downloads land here
    mirrors: tuple     # base URLs serving the four .gz files, tried in order
    gz_sha256: dict    # file name -> SHA-256 of the .gz archive the mirrors serve
    raw_sha256: dict   # file name -> SHA-256 of the decompressed, canonical file
    raw_size: dict     # file name -> bytes of the decompressed, canonical file
    known_mixup: str = ""  # said when this dataset's files turn out to be another's

    def fix(self):
        """What to do about a bad file: the end of most messages."""
        return (f"Delete the file and run again to re-download it, or set {self.env_var} "
                f"to a folder holding the four original {self.title} files.")


DATASETS = {
    "mnist": Dataset(
        name="mnist", title="MNIST", content="the MNIST digits",
        class_names=tuple(str(digit) for digit in range(10)),
        env_var="MNIST_DATA_DIR", cache_dir=_DATA / "mnist",
        # The original yann.lecun.com address answers 403; these serve the same files.
        mirrors=("https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "https://ossci-datasets.s3.amazonaws.com/mnist/"),
        gz_sha256=_per_file(
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        raw_sha256=_per_file(
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        raw_size=_CANONICAL_SIZES,
    ),
    "fashion-mnist": Dataset(
        name="fashion-mnist", title="Fashion-MNIST", content="Fashion-MNIST's clothing images",
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                     "Sneaker", "Bag", "Ankle boot"),
        env_var="FASHION_MNIST_DATA_DIR", cache_dir=_DATA / "fashion-mnist",
        # Both serve the files under MNIST's names; the first over HTTPS.
        mirrors=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
                 "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        gz_sha256=_per_file(
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        raw_sha256=_per_file(
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        raw_size=_CANONICAL_SIZES,
        # zalandoresearch/fashion-mnist#107
        known_mixup="the Fashion-MNIST mirror has served the digit files by mistake",
    ),
}
DATASET_NAMES = tuple(DATASETS)


class _Default:
    def __repr__(self):
        return "DEFAULT"


DEFAULT = _Default()  # checksums=DEFAULT: the dataset's canonical digests and sizes


class MNISTError(UserError):
    """A problem with the files of MNIST or Fashion-MNIST; the message says what to do."""


def dataset_info(dataset):
    """The `Dataset` called `dataset`; ValueError (a programming mistake) for an unknown name."""
    try:
        return DATASETS[dataset]
    except (KeyError, TypeError):
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASET_NAMES)}") from None


def class_names(dataset):
    """The ten class names of `dataset`, by label: ("0", ..., "9") or ("T-shirt/top", ...)."""
    return dataset_info(dataset).class_names


# --- parsing ------------------------------------------------------------------

_MAX_HEADER = 4 + 4 * 255  # the magic number and at most 255 dimensions
_CHUNK = 1 << 20  # compressed bytes read at a time


def _parse_header(data, source, kind, ds):
    """(header size, shape) of the IDX bytes that start `data`, or None if too few bytes to tell.

    Raises MNISTError for a magic number or shape that is not an IDX file of
    unsigned bytes of `kind` ("images": N x 28 x 28, "labels", or None: any).
    """
    if len(data) < 4:
        return None
    zero, dtype_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero != 0 or dtype_code != 0x08 or ndim == 0:
        raise MNISTError(
            f"{source}: bad magic number {magic:#010x}: not an IDX file of unsigned bytes "
            f"(expected {IMAGE_MAGIC:#010x} for images or {LABEL_MAGIC:#010x} for labels). {ds.fix()}"
        )
    expected_magic = {"images": IMAGE_MAGIC, "labels": LABEL_MAGIC}.get(kind)
    if expected_magic is not None and magic != expected_magic:
        raise MNISTError(
            f"{source}: bad magic number {magic:#010x} for an {ds.title} {kind} file "
            f"(expected {expected_magic:#010x}). {ds.fix()}"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        return None
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if kind == "images" and shape[1:] != IMAGE_SHAPE:
        raise MNISTError(f"{source}: images are {'x'.join(map(str, shape[1:]))}, expected 28x28. {ds.fix()}")
    return header_size, shape


def _announced_size(source, header, canonical_size, ds):
    """The file size the header announces; with `canonical_size`, refuse any other."""
    header_size, shape = header
    size = header_size + int(np.prod(shape, dtype=object))  # exact: no int64 overflow
    if canonical_size is not None and size != canonical_size:
        raise MNISTError(
            f"{source}: the header announces {'x'.join(map(str, shape))} values ({size:,} bytes), "
            f"the canonical {ds.title} file has {canonical_size:,} bytes. {ds.fix()}"
        )
    return size


def _check_size(source, shape, expected, actual, ds):
    """Refuse a file of `actual` bytes where the header announces `expected`."""
    values = "x".join(map(str, shape))
    if actual < expected:
        raise MNISTError(
            f"{source}: truncated: the header announces {values} values "
            f"({expected} bytes), the file has {actual} bytes. {ds.fix()}"
        )
    if actual > expected:
        raise MNISTError(
            f"{source}: {actual - expected} unexpected bytes after the {values} values the header "
            f"announces. {ds.fix()}"
        )


def parse_idx(data, source="<bytes>", kind=None, dataset="mnist"):
    """Parse the bytes of an IDX file of unsigned bytes into an array.

    data:    the whole (decompressed) file.
    source:  the name used in error messages.
    kind:    "images" (expects N x 28 x 28), "labels" (expects N values in
             0..9) or None (any unsigned-byte IDX file).
    dataset: whose file it should be, for the messages ("mnist", "fashion-mnist").
    Returns a read-only uint8 array that shares memory with `data`.
    Raises MNISTError for anything that is not such a file.
    """
    ds = dataset_info(dataset)
    data = memoryview(data).cast("B")
    header = _parse_header(data, source, kind, ds)
    if header is None and len(data) < 4:
        raise MNISTError(f"{source}: truncated: {len(data)} bytes, too short for an IDX header. {ds.fix()}")
    if header is None:
        raise MNISTError(
            f"{source}: truncated: the header needs {4 + 4 * data[3]} bytes, the file has {len(data)}. "
            f"{ds.fix()}"
        )
    header_size, shape = header
    _check_size(source, shape, _announced_size(source, header, None, ds), len(data), ds)
    array = np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
    array.flags.writeable = False  # shared by every caller (see `load_mnist`)
    if kind == "labels" and array.size and array.max() > 9:
        bad = int(np.argmax(array > 9))
        raise MNISTError(f"{source}: label {array[bad]} at index {bad} is outside 0..9. {ds.fix()}")
    return array


# --- reading files ------------------------------------------------------------


def _gzip_inflater():
    return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16+: a gzip wrapper, its CRC checked


def _gunzip_idx(file, source, kind, canonical_size, ds):
    """The decompressed bytes of a gzipped IDX file, never more than its header announces.

    Inflates in steps (zlib's max_length), reads the IDX header from the first
    bytes, and refuses as soon as the output passes the announced size (or at
    once if `canonical_size` is given and the header announces another): a
    gzip bomb costs at most that size in memory and time, never gigabytes.
    """
    out, limit, header = bytearray(), _MAX_HEADER, None  # until the header is known: its largest size
    inflater, pending, in_member = _gzip_inflater(), b"", False
    try:
        while pending or (pending := file.read(_CHUNK)):
            out += inflater.decompress(pending, limit + 1 - len(out))  # at most one byte too many
            pending, in_member = inflater.unconsumed_tail, True
            if inflater.eof:  # one gzip member ends; another may follow, as in `cat a.gz b.gz`
                pending, in_member, inflater = inflater.unused_data, False, _gzip_inflater()
            if header is None and (header := _parse_header(out, source, kind, ds)) is not None:
                limit = _announced_size(source, header, canonical_size, ds)
            if len(out) > limit:
                raise MNISTError(
                    f"{source}: inflates to more than the {limit:,} bytes its IDX header announces "
                    f"(a corrupt archive or a gzip bomb). {ds.fix()}"
                )
    except zlib.error as err:
        raise MNISTError(f"{source}: not a valid gzip archive ({err}). {ds.fix()}") from None
    if in_member:
        raise MNISTError(f"{source}: not a valid gzip archive (it is cut off before its end). {ds.fix()}")
    return out


def _read_plain_idx(file, source, kind, canonical_size, ds):
    """The bytes of an uncompressed IDX file, once its size matches what its header announces."""
    head = file.read(_MAX_HEADER)
    header = _parse_header(head, source, kind, ds)
    if header is None:
        return head  # too short for a header: `parse_idx` says so
    size = _announced_size(source, header, canonical_size, ds)
    _check_size(source, header[1], size, os.fstat(file.fileno()).st_size, ds)
    file.seek(0)
    return file.read()


def _read_idx(path, kind, dataset="mnist", canonical_size=None):
    """(array, SHA-256 of the decompressed bytes) of one IDX file, gzipped if its name ends in .gz."""
    path, ds = Path(path), dataset_info(dataset)
    read = _gunzip_idx if path.suffix == ".gz" else _read_plain_idx
    try:
        with open(path, "rb") as file:
            raw = read(file, str(path), kind, canonical_size, ds)
    except OSError as err:
        raise MNISTError(f"{path}: cannot be read ({err.strerror}). {ds.fix()}") from None
    return parse_idx(raw, source=str(path), kind=kind, dataset=dataset), hashlib.sha256(raw).hexdigest()


def read_idx_file(path, kind=None, sha256=None, dataset="mnist"):
    """Read, decompress (if the name ends in .gz), parse and verify one IDX file.

    sha256:  if given, the digest the decompressed bytes must have.
    dataset: whose file it should be, for the messages.
    Returns the array (see `parse_idx`).
    """
    array, digest = _read_idx(path, kind, dataset)
    _check_digest(path, digest, sha256, dataset_info(dataset))
    return array


def _dataset_with_digest(name, digest, field):
    """The dataset whose file `name` has this SHA-256 (field "raw_sha256" or "gz_sha256"), or None."""
    return next((ds for ds in DATASETS.values() if getattr(ds, field).get(name) == digest), None)


def _why_mixup(wanted):
    return f" ({wanted.known_mixup})" if wanted.known_mixup else ""


def _wrong_dataset(path, wanted, found):
    """One line for a file of dataset `found` where `wanted`'s was asked for."""
    return (f"{path} holds {found.content}, not {wanted.title}{_why_mixup(wanted)}: point --data-dir or "
            f"{wanted.env_var} at the {wanted.title} files, or delete it and run again to download them.")


def _check_digest(path, digest, expected, ds):
    if expected is None or digest == expected:
        return
    found = _dataset_with_digest(Path(path).name.removesuffix(".gz"), digest, "raw_sha256")
    if found is not None and found is not ds:
        raise MNISTError(_wrong_dataset(path, ds, found))
    raise MNISTError(
        f"{path}: checksum mismatch: the decompressed SHA-256 is {digest}, "
        f"the canonical {ds.title} file's is {expected}. {ds.fix()}"
    )


# --- finding files ------------------------------------------------------------


def candidate_dirs(data_dir=None, cache_dir=None, dataset="mnist"):
    """The folders searched, in order: argument, the dataset's env var, its cache."""
    ds = dataset_info(dataset)
    dirs = []
    if data_dir is not None:
        info = _stat(data_dir, ds)
        if info is None or not stat.S_ISDIR(info.st_mode):
            raise MNISTError(f"--data-dir {data_dir}: {'no such folder' if info is None else 'not a folder'}. "
                             f"Point --data-dir or {ds.env_var} at a folder holding the four {ds.title} files, "
                             f"or leave both out to use {ds.cache_dir}.")
        dirs.append(Path(data_dir))
    if os.environ.get(ds.env_var):
        dirs.append(Path(os.environ[ds.env_var]))
    dirs.append(Path(cache_dir) if cache_dir is not None else ds.cache_dir)
    return dirs


_FS_PROBLEMS = {
    errno.EACCES: "permission denied: a folder on this path cannot be searched",
    errno.EPERM: "permission denied: a folder on this path cannot be searched",
    errno.ENAMETOOLONG: "the path is too long for the file system "
                        "(over 255 bytes in one name, or 4,096 in all)",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.ELOOP: "a loop of symbolic links",
}


def _stat(path, ds):
    """os.stat(path), or None if nothing is there; any other file-system error is one MNISTError.

    (Path.is_file() would raise PermissionError or "File name too long" with a traceback.)
    """
    elsewhere = f"point --data-dir or {ds.env_var} at a folder holding the four {ds.title} files"
    try:
        return os.stat(path)
    except FileNotFoundError:
        if not os.path.islink(path):
            return None
        raise MNISTError(f"{path}: a symbolic link to {os.readlink(path)}, which does not exist. "
                         f"Fix or delete the link, or {elsewhere}.") from None
    except OSError as err:
        problem = _FS_PROBLEMS.get(err.errno, f"cannot be searched ({err.strerror})")
        todo = "Give read and search permission on its folders (chmod u+rx), or " if err.errno in (
            errno.EACCES, errno.EPERM) else "Fix the path, or "
        raise MNISTError(f"{path}: {problem}. {todo}{elsewhere}.") from None


def find_file(name, dirs, dataset="mnist"):
    """The first existing `name` or `name.gz` in `dirs`, or None.

    Raises MNISTError for a folder that cannot be searched, a path that is
    too long, a folder that is a file, or a dangling symbolic link.
    """
    ds = dataset_info(dataset)
    for folder in dirs:
        info = _stat(folder, ds)
        if info is None:
            continue
        if not stat.S_ISDIR(info.st_mode):
            raise MNISTError(f"{folder}: a file, not a folder. Point --data-dir or {ds.env_var} at the "
                             f"folder holding the four {ds.title} files, not at one of them.")
        for candidate in (folder / name, folder / f"{name}.gz"):
            info = _stat(candidate, ds)
            if info is not None and stat.S_ISREG(info.st_mode):
                return candidate
    return None


# --- downloading --------------------------------------------------------------


def download(name, cache_dir=None, mirrors=None, sha256=None, dataset="mnist"):
    """Download `name.gz` into `cache_dir`, trying each mirror in turn.

    cache_dir: default: the dataset's cache (data/mnist/ or data/fashion-mnist/).
    mirrors:   base URLs (default: the dataset's mirrors).
    sha256:    the digest the archive must have (default: the mirrors' one).

    Returns the path of the verified archive. Raises MNISTError listing every
    URL tried and why it failed; nothing is left in the cache on failure.
    """
    import pooch  # imported here: only a download needs it (and requests)

    ds = dataset_info(dataset)
    # Our own error says what failed; pooch's "Downloading data from" lines would be noise.
    pooch.get_logger().setLevel(logging.WARNING)
    failures = []
    for mirror in mirrors or ds.mirrors:
        url = f"{mirror}{name}.gz"
        try:
            path = pooch.retrieve(
                url, known_hash=f"sha256:{sha256 or ds.gz_sha256[name]}", fname=f"{name}.gz",
                path=cache_dir or ds.cache_dir, progressbar=False,
            )
            return Path(path)
        except Exception as err:  # noqa: BLE001 - any failure means: next mirror
            failures.append(f"{url}: {_why_download_failed(err, name, ds)}")
    raise MNISTError(f"could not download {name}.gz from any mirror:\n  " + "\n  ".join(failures))


def _why_download_failed(err, name, ds):
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
        # pooch's message says "... but got <digest>": maybe another dataset's archive.
        got = re.search(r"but got ([0-9a-f]{64})", str(err))
        found = got and _dataset_with_digest(name, got.group(1), "gz_sha256")
        if found and found is not ds:
            return f"served {found.content}, not {ds.title}{_why_mixup(ds)}; the download was discarded"
        return "checksum mismatch: the download was corrupt and has been discarded"
    text = str(err).splitlines()[0][:160] if str(err) else ""
    return f"{type(err).__name__}: {text}"


# --- loading ------------------------------------------------------------------

_loaded = {}  # resolved path -> (array, digest): decoded once per process


def load_mnist(data_dir=None, dataset="mnist", download_missing=True, mirrors=None, checksums=DEFAULT,
               cache_dir=None):
    """Load the four files of MNIST or Fashion-MNIST as uint8 arrays.

    data_dir:         searched first (see the module docstring for the order).
    dataset:          "mnist" (digits) or "fashion-mnist" (clothing); see DATASET_NAMES.
    download_missing: download files found nowhere into the cache.
    mirrors:          base URLs to download from (default: the dataset's mirrors).
    checksums:        DEFAULT: each file must be the canonical one (its size,
                      from the header on, and its decompressed SHA-256);
                      a dict file name -> SHA-256: those digests only;
                      None: no check (for synthetic files in tests).
    cache_dir:        where downloads go (default: data/mnist/ or data/fashion-mnist/).
    Returns (train_images [60000, 28, 28], train_labels [60000],
             test_images [10000, 28, 28], test_labels [10000]), read-only uint8,
             labels 0..9 (names: `class_names(dataset)`).
    Raises MNISTError (one message naming the file and what to do) for files
    missing, unreadable, malformed, or not the canonical ones.
    """
    ds = dataset_info(dataset)
    sizes = ds.raw_size if checksums is DEFAULT else {}
    checksums = ds.raw_sha256 if checksums is DEFAULT else (checksums or {})
    paths = _find_or_download(ds, candidate_dirs(data_dir, cache_dir, dataset), download_missing, mirrors)
    for name, path in paths.items():
        key = path.resolve()
        if key not in _loaded:
            _loaded[key] = _read_idx(path, "images" if "images" in name else "labels", dataset,
                                     sizes.get(name))
    arrays = {name: _loaded[path.resolve()][0] for name, path in paths.items()}
    for split in ("train", "t10k"):
        images, labels = arrays[f"{split}-images-idx3-ubyte"], arrays[f"{split}-labels-idx1-ubyte"]
        if len(images) != len(labels):
            raise MNISTError(
                f"{paths[split + '-images-idx3-ubyte']} holds {len(images)} images but "
                f"{paths[split + '-labels-idx1-ubyte']} holds {len(labels)} labels. {ds.fix()}"
            )
    for name, path in paths.items():
        _check_digest(path, _loaded[path.resolve()][1], checksums.get(name), ds)
    return tuple(arrays[name] for name in FILE_NAMES)


def _find_or_download(ds, dirs, download_missing, mirrors):
    """File name -> path of each of the four files: found in `dirs`, else downloaded into dirs[-1]."""
    paths = {name: find_file(name, dirs, ds.name) for name in FILE_NAMES}
    missing = [name for name, path in paths.items() if path is None]
    errors = []
    for name in missing:
        if not download_missing:
            errors.append(f"{name}: downloading is switched off")
            continue
        try:
            paths[name] = download(name, dirs[-1], mirrors or ds.mirrors, dataset=ds.name)
        except MNISTError as err:
            errors.append(str(err))
    if errors:
        looked = "\n  ".join(str(d) for d in dirs)
        raise MNISTError(
            f"{ds.title} files not found: {', '.join(missing)} (gzipped or not).\n"
            f"Looked in:\n  {looked}\n" + "\n".join(errors)
            + f"\nDownload the four files by hand, or set {ds.env_var} to a folder that holds them."
        )
    return paths
