"""The process supervisor of ``serve`` and ``demo up`` with real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labcal_cloud.serve.supervisor import ChildFailedError, Supervisor

from .processes import alive, wait_until

STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("pid", grandchild.pid, flush=True)
time.sleep(600)
"""


def test_stop_all_kills_a_child_that_ignores_sigterm_and_its_whole_group(tmp_path: Path) -> None:
    lines: list[str] = []
    sup = Supervisor(tmp_path / "logs", dict(os.environ), lambda child, line: lines.append(line))
    polite = sup.start("polite", [sys.executable, "-c", "import time; time.sleep(600)"])
    stubborn = sup.start("stubborn", [sys.executable, "-c", STUBBORN])
    grandchild = int(stubborn.wait_for_line(r"^pid (\d+)", 60).group(1))
    said: list[str] = []
    sup.stop_all(grace_s=1.0, say=said.append)
    assert not polite.alive()
    assert not stubborn.alive()
    wait_until(lambda: not alive(grandchild), 30, "the grandchild killed with its group")
    assert "stubborn did not stop in 1 s: SIGKILL" in said
    assert (tmp_path / "logs" / "stubborn.log").read_text().startswith("pid ")
    assert lines == [f"pid {grandchild}"]


def test_waiting_for_a_line_fails_clearly_when_the_child_exits(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", dict(os.environ), lambda child, line: None)
    child = sup.start("quitter", [sys.executable, "-c", "print('bye'); raise SystemExit(3)"])
    with pytest.raises(ChildFailedError, match="quitter exited with 3"):
        child.wait_for_line(r"never printed", 60)
    sup.stop_all(say=lambda text: None)


SUPERVISOR = """
import os, sys, time
from pathlib import Path
from labcal_cloud.serve.supervisor import Supervisor
sup = Supervisor(Path(sys.argv[1]), dict(os.environ), lambda child, line: None)
child = sup.start("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def test_children_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, str(tmp_path / "logs")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        assert alive(child)
        proc.kill()  # SIGKILL: no chance to clean up; the kernel tells the child (PDEATHSIG)
        proc.wait()
        wait_until(lambda: not alive(child), 30, "the orphaned child to stop")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_restarted_child_runs_the_same_command_appends_to_its_log_and_keeps_its_place(
    tmp_path: Path,
) -> None:
    sup = Supervisor(tmp_path / "logs", dict(os.environ), lambda child, line: None)
    script = "import os, time; print('up', os.getpid(), flush=True); time.sleep(600)"
    first = sup.start("first", [sys.executable, "-c", "import time; time.sleep(600)"])
    crashing = sup.start("crashing", [sys.executable, "-c", script], extra_env={"ROLE": "x"})
    last = sup.start("last", [sys.executable, "-c", "import time; time.sleep(600)"])
    crashing.wait_for_line(r"^up ", 60)
    crashing.proc.kill()
    crashing.proc.wait()
    again = sup.restart(crashing)
    found = again.wait_for_line(r"^up (\d+)", 60)
    assert int(found.group(1)) == again.pid != crashing.pid
    assert again.env["ROLE"] == "x"
    assert sup.children == [first, again, last]  # stopped newest first: last, again, first
    log = (tmp_path / "logs" / "crashing.log").read_text()
    assert log.count("up ") == 2  # both lives, one after the other
    said: list[str] = []
    sup.stop_all(say=said.append)
    stopping = [line.split()[1] for line in said if line.startswith("stopping ")]
    assert stopping == ["last", "crashing", "first"]


def test_a_chatty_child_keeps_a_bounded_memory_of_its_lines(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", dict(os.environ), lambda child, line: None)
    script = "for i in range(10_000): print('line', i)\nprint('done', flush=True)\n"
    script += "import time; time.sleep(600)"
    child = sup.start("chatty", [sys.executable, "-c", script])
    assert child.wait_for_line(r"^done$", 60).group(0) == "done"
    assert len(child.lines) <= 2000
    assert child.dropped + len(child.lines) == 10_001
    assert child.lines[-1] == "done"
    sup.stop_all(say=lambda text: None)
    assert (tmp_path / "logs" / "chatty.log").read_text().count("\n") == 10_001  # all kept


def test_a_big_log_moves_aside_when_its_child_starts_again(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    sup = Supervisor(logs, dict(os.environ), lambda child, line: None, max_log_bytes=100)
    child = sup.start("role", [sys.executable, "-c", "print('x' * 200, flush=True)"])
    child.wait_for_line(r"^x+$", 60)
    child.proc.wait()
    again = sup.restart(child)
    again.wait_for_line(r"^x+$", 60)
    again.proc.wait()
    sup.stop_all(say=lambda text: None)
    assert (logs / "role.log.1").read_text() == "x" * 200 + "\n"  # the first life
    assert (logs / "role.log").read_text() == "x" * 200 + "\n"  # the second
