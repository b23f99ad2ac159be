"""A run's outputs as one transaction: all new or all old, never mixed.

(Being built; see the issue on transactions.)
"""

from pathlib import Path

from .errors import UserError
from .fileio import sha256_file


class OutputError(UserError):
    """An output folder that cannot be written, is locked, or holds mixed runs."""


def verify_files(folder, files, source):
    """Check that every file in `files` ({name: sha256}) exists in `folder` with that digest.

    source: the metrics file that lists them, for the message.
    Raises OutputError naming the first figure that is missing or does not match.
    """
    folder = Path(folder)
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise OutputError(f"{path} is missing but {source} lists it: rerun the script that wrote {source}.")
        if sha256_file(path) != digest:
            raise OutputError(f"{path} does not belong to the run in {source} (its SHA-256 differs): "
                              f"the folder holds outputs of two runs; rerun the script that wrote {source}.")
