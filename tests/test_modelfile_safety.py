"""Model files that cannot exhaust memory, and malformed archives that are each one line.

Each bad archive is written byte by byte here (a few lines of the ZIP
format), so that the tests can state what np.savez would never write: an
inflated size, an encryption flag, a compression method, a header that lies.
"""

import io
import json
import math
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from test_modelfile import assert_model_file_error, rewrite, save_softmax

from src.modelfile import MAX_ARRAY_BYTES, load_model

ROOT = Path(__file__).resolve().parent.parent


def npy_bytes(array):
    """What np.save writes for `array`."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_header(shape, dtype="<f8"):
    """A .npy (1.0) header alone, declaring any shape: what a file can claim without holding it."""
    text = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    text += " " * (-(len(text) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


class Member:
    """One ZIP member as it will be written: its bytes as stored and what the directory says."""

    def __init__(self, name, data, method=zipfile.ZIP_STORED, stored=None, file_size=None, crc=None, flags=0):
        self.name, self.method, self.flags = name.encode(), method, flags
        self.stored = data if stored is None else stored  # the bytes in the archive (compressed or not)
        self.file_size = len(data) if file_size is None else file_size
        self.crc = zlib.crc32(data) if crc is None else crc


def write_zip(path, members):
    """A ZIP archive of `members`, each described in the central directory as it says."""
    body, directory = b"", b""
    for m in members:
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, m.flags, m.method, 0, 0x21, m.crc,
                            len(m.stored), m.file_size, len(m.name), 0)
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, m.flags, m.method, 0, 0x21, m.crc,
                                 len(m.stored), m.file_size, len(m.name), 0, 0, 0, 0, 0o644 << 16, len(body))
        directory += m.name
        body += local + m.name + m.stored
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0)
    Path(path).write_bytes(body + directory + end)
    return path


def model_members(good, **replace):
    """The members of the model file `good` as Member objects, some replaced (None: dropped)."""
    with zipfile.ZipFile(good) as archive:
        members = {info.filename[:-4]: Member(info.filename, archive.read(info)) for info in archive.infolist()}
    members.update(replace)
    return [m for m in members.values() if m is not None]


@pytest.fixture
def good(tmp_path):
    return save_softmax(tmp_path / "good.npz")


CHUNK = 2**24  # 16 MiB


def zeros_deflated(header, chunks):
    """A raw deflate stream of `header` then `chunks` times 16 MiB of zeros, built in milliseconds:
    after a full flush the compressor starts afresh, so each 16 MiB of zeros compresses to the
    same bytes, repeated here (about 1 KB per MiB, as a real zip bomb)."""
    chunk = bytes(CHUNK)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(header) + deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    return first + again * (chunks - 1) + deflate.flush()


# The child measures its own peak memory: VmHWM, the peak resident set of its own memory
# since exec (getrusage's ru_maxrss would include the parent's: Linux carries it over exec).
MEASURE = """
import re, sys, time
from pathlib import Path
from src.modelfile import ModelFileError, load_model
start = time.perf_counter()
try:
    load_model(sys.argv[1])
    print("loaded")
except ModelFileError as err:
    print(err)
seconds = time.perf_counter() - start
peak_kib = int(re.search(r"VmHWM:\\s*(\\d+) kB", Path("/proc/self/status").read_text())[1])
print(peak_kib // 1024, f"{seconds:.3f}")
"""


def peak_of_loading(path):
    """(the one line load_model gave, peak memory of the process in MiB, seconds) in a fresh process."""
    child = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True,
                           text=True, timeout=60, check=False, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert child.returncode == 0 and child.stderr == "", child.stderr
    line, peak = child.stdout.splitlines()
    mib, seconds = peak.split()
    return line, int(mib), float(seconds)


@pytest.mark.parametrize("lies", [False, True], ids=["honest directory", "directory understates"])
def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path, good, lies):
    """4 MB of deflated zeros that inflate to 3.9 GiB (just under ZIP64's 4 GiB)."""
    chunks = 249
    header = npy_header((785, 10)) if lies else npy_header((chunks * CHUNK // 80, 10))
    size = len(header) + chunks * CHUNK  # what the member really inflates to
    bomb = Member("w.npy", b"", method=zipfile.ZIP_DEFLATED, stored=zeros_deflated(header, chunks),
                  file_size=len(header) + 785 * 10 * 8 if lies else size, crc=0)
    path = write_zip(tmp_path / "bomb.npz", model_members(good, w=bomb))
    assert path.stat().st_size < 5e6
    line, peak_mib, _ = peak_of_loading(path)
    assert line.startswith(f"{path} is not a usable model file: ")
    assert (f"inflates to {size:,} bytes" in line) if not lies else ("Bad CRC-32" in line), line
    assert peak_mib < 200  # the bare interpreter with NumPy is about 30 MiB; inflating would be 4,000


def test_a_header_declaring_terabytes_is_refused_before_reading(tmp_path, good):
    header = npy_header((10**12, 1))  # 8 TB of float64 declared in 128 bytes
    path = write_zip(tmp_path / "huge.npz", model_members(good, w=Member("w.npy", header, file_size=len(header))))
    assert path.stat().st_size < 4096  # a few kilobytes: every other member of a real model file
    assert_model_file_error(path, "array 'w' declares float64 of shape [1000000000000, 1], "
                                  f"8,000,000,000,000 bytes, more than a model file ever holds ({MAX_ARRAY_BYTES:,})")


@pytest.mark.parametrize("member, phrase", [
    (Member("w.npy", b"these bytes are not an array"), "array 'w' is not a .npy array"),
    (Member("w", npy_bytes(np.zeros((785, 10)))), "it lacks w"),
    (Member("w.npy", npy_bytes(np.zeros((785, 10))), flags=0x1), "its member w.npy is encrypted"),
    (Member("w.npy", npy_bytes(np.zeros((785, 10))), method=99), "uses compression method 99"),
    (Member("w.npy", npy_bytes(np.zeros((785, 10)))[:-8]), "array 'w' is 62,792 bytes but its header declares 62,800"),
    (Member("w.npy", npy_bytes(np.zeros((785, 10)))[:-8], file_size=62928), "array 'w' is cut short"),
], ids=["raw bytes named .npy", "array without .npy", "encrypted flag", "method 99", "shorter than its header",
        "cut short"])
def test_each_malformed_layout_is_one_line(tmp_path, good, member, phrase):
    path = write_zip(tmp_path / "bad.npz", model_members(good, w=member))
    assert_model_file_error(path, phrase)


def test_a_member_stored_twice_is_refused(tmp_path, good):
    members = model_members(good)
    path = write_zip(tmp_path / "twice.npz", [*members, Member("w.npy", npy_bytes(np.ones((785, 10))))])
    assert_model_file_error(path, "it holds w.npy 2 times")


def test_deeply_nested_json_is_one_line(tmp_path, good):
    nested = '{"a": ' * 20_000 + "1" + "}" * 20_000
    bad = rewrite(good, tmp_path / "bad.npz", hyperparameters=np.array(nested))
    assert_model_file_error(bad, "hyperparameters is JSON nested too deeply")


def test_bytes_class_names_name_their_type_not_their_count(tmp_path, good):
    bad = rewrite(good, tmp_path / "bad.npz", class_names=np.array([str(d).encode() for d in range(10)]))
    assert_model_file_error(bad, "class_names should be text (a NumPy unicode array), the file has |S1 (bytes)")


def test_a_good_file_still_loads_and_compressed_ones_too(tmp_path, good):
    with np.load(good) as npz:
        np.savez_compressed(tmp_path / "small.npz", **{key: npz[key] for key in npz.files})
    for path in (good, tmp_path / "small.npz"):
        saved = load_model(path)
        assert saved.model.w.shape == (785, 10) and saved.model.w.flags.writeable
        assert json.loads(json.dumps(saved.hyperparameters)) == saved.hyperparameters
    assert math.isclose(saved.metrics["test_accuracy"], 0.9126)


def test_a_symlink_loop_or_a_fifo_as_model_is_named_as_such(tmp_path):
    loop = tmp_path / "loop.npz"
    loop.symlink_to(loop)
    assert_model_file_error(loop, "it is a loop of symbolic links")
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    assert_model_file_error(fifo, "not a regular file (a FIFO, device or socket)")
