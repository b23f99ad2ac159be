"""Check a learner's own solution of the assignment against the reference: `python -m src.check DIR`.

mistakes.py: the known mistakes and their fixes; checks.py: the checks of each part (run in
the child); child.py: the child process; runner.py: the data and one child per folder, with
limits; __main__.py: the command line, the report and the table.
"""
