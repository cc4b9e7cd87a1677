import subprocess
import sys
from pathlib import Path

import pytest

from labcal_edge.cli import main


def test_check_config_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[station]\ntenant = "acme"\nid = "s1"\n')
    assert main(["check-config", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    tls = tmp_path / "tls.toml"
    tls.write_text(f'[station]\ntenant = "a"\nid = "s"\n[mqtt.tls]\nca_file = "{tmp_path}/ca"\n')
    assert main(["check-config", str(tls)]) == 0  # files may be installed later: a warning
    assert f"mqtt.tls.ca_file {tmp_path}/ca does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[station]\ntenant = "acme"\nid = "s1"\n[outbox]\npolicy = "maybe"\n')
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err
    assert "outbox.policy" in err


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("labcal-edge")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("labcal-edge ")


# One SIGTERM at a random moment while the main thread waits on the stop event again and again
# (as the agent's loop does), 200 times. A handler calling stop.set() itself hangs as soon as the
# signal lands while the main thread holds the event's lock: within the first trial or two here.
_ONE_SIGTERM_TRIALS = """
import os, random, signal, threading
from labcal_edge.cli import _stop_on_signals
for trial in range(200):
    stop = _stop_on_signals()
    threading.Timer(random.uniform(0, 0.003), os.kill, (os.getpid(), signal.SIGTERM)).start()
    while not stop.is_set():
        stop.wait(0)
print("trials", trial + 1, flush=True)
"""


def test_sigterm_sets_the_stop_event_while_the_agent_waits_on_it() -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _ONE_SIGTERM_TRIALS], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the main thread hung: the SIGTERM handler waited for the event's lock")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["trials", "200"]
