"""The one kind of error a user sees as a single line.

`UserError` is a problem the person running a script can fix (a missing
file, a flag out of range, a folder that cannot be written); its message
says what is wrong and what to do. `src.cli.run` prints it as one line and
exits 1. Everything else, such as a ValueError from calling the library
with the wrong shapes, is a programming mistake and keeps its traceback.
"""

import os


class UserError(Exception):
    """A problem the user can fix; the message names it and says what to do."""


def printable(text):
    """`text` (a file name, a message naming one) as one printable line, whatever it holds.

    Bytes of a name that are not UTF-8 (kept by Python as surrogates) become
    \\xNN, and control characters such as a newline their escape (\\n), so a
    name can neither split a line of output nor fail to print.
    """
    text = os.fsencode(text).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
