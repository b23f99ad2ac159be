"""The one kind of error a user sees as a single line.

`UserError` is a problem the person running a script can fix (a missing
file, a flag out of range, a folder that cannot be written); its message
says what is wrong and what to do. `src.cli.run` prints it as one line and
exits 1. Everything else, such as a ValueError from calling the library
with the wrong shapes, is a programming mistake and keeps its traceback.
"""


class UserError(Exception):
    """A problem the user can fix; the message names it and says what to do."""
