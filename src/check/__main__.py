"""python -m src.check DIR [DIR ...] [--json] [--only PART]: check your own solution of the assignment.

Each folder holds the course starter's files, filled in (task2a.py,
task3a.py, trainer.py, task2.py, task3.py, utils.py). Every part is run
against this project's reference on real MNIST, in a child process with
limits, and each check is one line: PASS, FAIL (expected against actual and,
where a known mistake fits, its name and the fix) or NOTE (reported, never
failed). Exit 0 only when every check of every folder passes.
"""

import argparse
import json
import sys
from pathlib import Path

from ..cli import float_in, int_in, run
from ..errors import UserError
from ..parallel import available_cores
from .checks import PARTS
from .runner import FOLDER_TIMEOUT, check_folders


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m src.check", description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", metavar="DIR", help="a folder with your task2a.py, task3a.py, ...")
    p.add_argument("--only", action="append", choices=PARTS, metavar="PART",
                   help=f"check only this part ({', '.join(PARTS)}); may be given more than once")
    p.add_argument("--json", action="store_true", help="print the results as JSON (for grading scripts)")
    p.add_argument("--timeout", type=float_in(0.1, FOLDER_TIMEOUT), default=20.0, metavar="SECONDS",
                   help=f"time limit of one check (default: 20; a folder has at most {FOLDER_TIMEOUT:g} s)")
    p.add_argument("--jobs", type=int_in(1), default=None,
                   help="folders checked at once (default: the cores this process may use)")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DATA_DIR, then data/mnist/)")
    return p.parse_args(argv)


def folder_summary(folder, results, seconds):
    parts = {}
    for r in results:
        failed = r["status"] in ("FAIL", "SKIP")
        state = parts.setdefault(r["part"], [0, 0])
        state[failed] += 1
    return {"folder": str(folder), "seconds": round(seconds, 2),
            "passed": all(r["status"] in ("PASS", "NOTE") for r in results),
            "parts": {part: "PASS" if not n_failed else f"FAIL {n_failed}"
                      for part, (_, n_failed) in parts.items()},
            "checks": results}


def check_line(r, skipped_after):
    head = f"  {r['status']:4}  {r['part']:5}  {r['name']}: "
    if r["status"] != "FAIL":
        return head + r["message"]
    text = f"expected {r['expected']}; got {r['actual']}" if r.get("expected") else r["actual"]
    if r.get("fix"):
        text += f" - {r['fix']}"
    if skipped_after:
        text += f" ({skipped_after} check{'s' if skipped_after > 1 else ''} that need{'' if skipped_after > 1 else 's'}" \
                f" it not run)"
    return head + text


def report(summary):
    results = summary["checks"]
    by_name = {r["name"]: r for r in results}

    def root(r):  # the failed check a skipped one waits for
        while r["status"] == "SKIP":
            r = by_name[r["needs"]]
        return r

    skipped, waiting = {}, {}  # same part: counted on the failure's line; another part: one line of its own
    for r in results:
        if r["status"] == "SKIP":
            first = root(r)
            if first["part"] == r["part"]:
                skipped[first["name"]] = skipped.get(first["name"], 0) + 1
            else:
                waiting.setdefault(r["part"], (r, first, []))[2].append(r)
    lines = [f"{summary['folder']} ({summary['seconds']:.1f} s)"]
    last_missing = None
    for r in results:
        if r["status"] == "SKIP":
            if r["part"] in waiting and waiting[r["part"]][0] is r:
                _, first, group = waiting[r["part"]]
                n = len(group)
                lines.append(f"  FAIL  {r['part']:5}  {r['name']}: not run ({n} check{'s' if n > 1 else ''}) "
                             f"until {first['name']} ({first['part']}) passes")
            continue
        if r.get("missing") or r.get("not_run"):
            key = (r["part"], r["actual"])
            if key == last_missing:
                continue
            last_missing = key
        lines.append(check_line(r, skipped.get(r["name"], 0)))
    counts = {s: sum(r["status"] == s for r in results) for s in ("PASS", "FAIL", "SKIP", "NOTE")}
    tally = f"  {counts['PASS']} passed, {counts['FAIL']} failed"
    if counts["SKIP"]:
        tally += f", {counts['SKIP']} not run"
    if counts["NOTE"]:
        tally += f", {counts['NOTE']} note{'s' if counts['NOTE'] > 1 else ''}"
    return "\n".join(lines + [tally])


def table(summaries, parts):
    width = max(len("folder"), *(len(s["folder"]) for s in summaries))
    rows = [f"{'folder':<{width}}  " + "  ".join(f"{p:<6}" for p in parts) + "  seconds"]
    for s in summaries:
        rows.append(f"{s['folder']:<{width}}  " + "  ".join(f"{s['parts'].get(p, '-'):<6}" for p in parts)
                    + f"  {s['seconds']:7.1f}")
    return "\n".join(rows)


def main(argv=None):
    args = parse_args(argv)
    for folder in args.folders:
        if not Path(folder).is_dir():
            raise UserError(f"{folder} is not a folder: give the folder that holds your task2a.py, task3a.py, ...")
    parts = [p for p in PARTS if p in (args.only or PARTS)]
    jobs = args.jobs or min(len(args.folders), available_cores())
    outcomes = check_folders(args.folders, parts, args.timeout, jobs, args.data_dir)
    summaries = [folder_summary(*outcome) for outcome in outcomes]
    if args.json:
        print(json.dumps({"passed": all(s["passed"] for s in summaries), "parts": parts,
                          "folders": summaries}, indent=1))
    else:
        print("\n\n".join(report(s) for s in summaries))
        if len(summaries) > 1:
            print("\n" + table(summaries, parts))
    sys.stdout.flush()
    return 0 if all(s["passed"] for s in summaries) else 1


if __name__ == "__main__":
    run(main)
