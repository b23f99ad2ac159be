"""The main job's scheduling and console, with tiny stand-in scripts (python -c) instead of the tasks."""

import argparse
import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from src import __main__ as job
from src.__main__ import Script, run_scripts

ROOT = Path(__file__).resolve().parent.parent


def script(name, code, cost=1.0):
    return Script(name, [sys.executable, "-c", textwrap.dedent(code)], cost)


def lines_of(out, name):
    """The lines a script printed, without the job's prefix and its start and end lines."""
    prefix = re.compile(rf"^{re.escape(name)} +\| ")
    lines = [prefix.sub("", line) for line in out.getvalue().splitlines() if prefix.match(line)]
    return lines[1:-1]


def test_lines_of_two_chatty_scripts_are_whole_and_carry_their_prefix():
    chatty = "import sys\nfor i in range(300):\n    print('{}' * 300, i, flush=True)\n"
    out = io.StringIO()
    assert run_scripts([script("a.py", chatty.format("a")), script("bb.py", chatty.format("b"))], jobs=2,
                       out=out) == 0
    for line in out.getvalue().splitlines():
        assert re.fullmatch(r"a\.py  \| (\$ .*|a{300} \d+|done in .*)", line) or \
            re.fullmatch(r"bb\.py \| (\$ .*|b{300} \d+|done in .*)", line), line
    assert lines_of(out, "a.py") == [f"{'a' * 300} {i}" for i in range(300)]
    assert lines_of(out, "bb.py") == [f"{'b' * 300} {i}" for i in range(300)]


def test_scripts_start_longest_first():
    scripts = [script(name, "pass", cost) for name, cost in (("short", 1), ("long", 3), ("middle", 2))]
    out = io.StringIO()
    assert run_scripts(scripts, jobs=1, out=out) == 0
    started = [line.split()[0] for line in out.getvalue().splitlines() if "| $ python" in line]
    assert started == ["long", "middle", "short"]


def test_jobs_1_runs_one_script_at_a_time(tmp_path):
    log = tmp_path / "log"
    code = f"import sys, time\nopen({str(log)!r}, 'a').write('start\\n'); time.sleep(0.05)\n" \
           f"open({str(log)!r}, 'a').write('end\\n')\n"
    assert run_scripts([script(f"s{i}", code) for i in range(3)], jobs=1, out=io.StringIO()) == 0
    assert log.read_text() == "start\nend\n" * 3


SLOW_WITH_CLEANUP = """
    import os, signal, sys, time
    def clean_up(signum, frame):
        open(os.path.join({folder!r}, f"cleaned-{{os.getpid()}}"), "w").close()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, clean_up)
    signal.signal(signal.SIGINT, clean_up)
    print("ready", os.getpid(), flush=True)
    time.sleep(30)
"""


def test_the_first_failure_stops_the_others_and_gives_its_exit_code(tmp_path, capsys):
    scripts = [script("fails.py", "import time, sys; time.sleep(0.3); sys.exit(3)", cost=3),
               script("slow.py", SLOW_WITH_CLEANUP.format(folder=str(tmp_path)), cost=2),
               script("never.py", "print('started')", cost=1)]
    out, started = io.StringIO(), time.monotonic()
    assert run_scripts(scripts, jobs=2, out=out) == 3
    assert time.monotonic() - started < 10
    assert len(list(tmp_path.glob("cleaned-*"))) == 1  # slow.py got SIGTERM and cleaned up
    assert "never.py" not in out.getvalue()
    assert capsys.readouterr().err == "fails.py failed with exit code 3; the other scripts were stopped\n"


def test_a_script_killed_by_a_signal_fails_with_128_plus_its_number():
    killed = script("killed.py", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert run_scripts([killed], jobs=1, out=io.StringIO()) == 128 + signal.SIGKILL


MAIN_JOB = """
    import sys
    from src.__main__ import Script, run_scripts
    child = [sys.executable, "-c", {child!r}]
    sys.exit(run_scripts([Script("one.py", child, 2), Script("two.py", child, 1)], jobs=2))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_is_passed_on_and_waited_for(tmp_path, signum):
    child = textwrap.dedent(SLOW_WITH_CLEANUP.format(folder=str(tmp_path)))
    with subprocess.Popen([sys.executable, "-c", textwrap.dedent(MAIN_JOB.format(child=child))], cwd=ROOT,
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as main_job:
        try:
            pids = []
            while len(pids) < 2:
                line = main_job.stdout.readline()
                assert line, "the main job ended early"
                if "| ready" in line:
                    pids.append(int(line.split()[-1]))
            main_job.send_signal(signum)
            out, err = main_job.communicate(timeout=10)
        finally:
            if main_job.poll() is None:
                main_job.kill()
    assert main_job.returncode == 128 + signum
    assert err == f"stopped by {signal.Signals(signum).name}: every script that was running has stopped\n"
    cleaned = sorted(path.name for path in tmp_path.glob("cleaned-*"))
    assert cleaned == sorted(f"cleaned-{pid}" for pid in pids)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_scripts_get_the_jobs_flags_and_one_job_each():
    args = argparse.Namespace(seed=7, dataset="mnist", data_dir="/data", out_dir="/out", jobs=2)
    commands = {s.name: s.argv[1:] for s in job.script_commands(args)}
    assert sorted(commands) == ["task2.py", "task2a.py", "task3.py", "task3a.py", "task4.py"]
    common = ["--seed", "7", "--dataset", "mnist", "--data-dir", "/data"]
    assert commands["task3a.py"] == ["task3a.py", *common]
    assert commands["task4.py"] == ["task4.py", *common, "--jobs", "1", "--out-dir", "/out"]


def test_main_stops_at_a_failing_script_without_building_the_report(monkeypatch, tmp_path):
    monkeypatch.setattr(job, "script_commands", lambda args: [script("fails.py", "raise SystemExit(4)")])
    monkeypatch.setattr("src.report.build_report", lambda out_dir: pytest.fail("report built"))
    assert job.main(["--out-dir", str(tmp_path), "--jobs", "1"]) == 4
