"""The starter's submission script writes a zip and asks questions when imported: the checker must never import it."""
raise SystemExit("create_submission_zip.py was imported")
