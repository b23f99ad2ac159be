"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

import contextlib
import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

# mkstemp makes files only the owner can read; the final file should get the
# permissions any new file gets (0666 less the umask), like open() gives.
_UMASK = os.umask(0)
os.umask(_UMASK)

# A temporary file of atomic_path: ".<name>.<pid>-<8 random chars>.part". The
# pid tells a later run whether its writer is still alive; files without one
# come from older versions of this module.
PART_NAME = re.compile(r"\.(?P<name>.+)\.(?:(?P<pid>\d+)-)?[a-z0-9_]{8}\.part")
STALE_AFTER_SECONDS = 60


def part_prefix(name):
    """The mkstemp prefix of a temporary file for `name`, made by this process."""
    return f".{name}.{os.getpid()}-"


def fsync_path(path):
    """Flush a file's (or a folder's) data to the disk, so a rename after it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` on success.

    The temporary file lives in the same directory so that the final
    `os.replace` is an atomic rename; it is flushed to the disk first, so a
    power cut leaves the old file or the new one. If the body raises, the
    temporary file is removed and `path` is left as it was. One left by a
    killed process is removed by `remove_stale_parts`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=part_prefix(path.name), suffix=".part")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path, text):
    """Write `text` to `path` (UTF-8) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def sha256_file(path):
    """The SHA-256 of a file's bytes, as hex: how a run's JSON names the figures it goes with."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_parts(folder, now=None):
    """Remove the temporary files of atomic writes that a killed process left in `folder`.

    A `.part` file is stale when it is older than STALE_AFTER_SECONDS and its
    writer (the pid in its name) no longer runs: both, so that a live write,
    even one paused for a while or from another machine on a shared disk, is
    never touched. Returns the names removed.
    """
    now = time.time() if now is None else now
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = PART_NAME.fullmatch(entry.name)
            if not match or not entry.is_file(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER_SECONDS:
                    continue
                if match["pid"] and _alive(int(match["pid"])):
                    continue
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed
