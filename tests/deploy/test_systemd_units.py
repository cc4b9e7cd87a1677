"""``systemd-analyze verify`` on every systemd unit under deploy/.

verify also checks that each Exec*= binary exists and is executable; the binaries live on the lab
PC (/opt/labcal-edge/venv/...), not here, so a copy of the unit points them at executable stubs,
and the original paths are checked against what deploy/edge/install.sh installs. Any warning
(an unknown key is only a warning to systemd) fails the test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .deploy_files import DEPLOY

UNITS = sorted(DEPLOY.rglob("*.service"))
EXEC = re.compile(r"^(Exec[A-Za-z]+=)([-@:+!]*)(/\S+)", re.M)
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def verify(unit: Path, tmp: Path) -> tuple[int, str, list[str]]:
    """Run systemd-analyze verify on a copy of ``unit`` with stubbed binaries."""
    assert SYSTEMD_ANALYZE, "systemd-analyze is missing (apt-get install systemd)"
    originals: list[str] = []

    def stub(m: re.Match[str]) -> str:
        originals.append(m.group(3))
        fake = tmp / "bin" / m.group(3).lstrip("/")
        fake.parent.mkdir(parents=True, exist_ok=True)
        fake.write_text("#!/bin/sh\nexit 0\n")
        fake.chmod(0o755)
        return f"{m.group(1)}{m.group(2)}{fake}"

    copy = tmp / unit.name
    copy.write_text(EXEC.sub(stub, unit.read_text(encoding="utf-8")))
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(copy)], capture_output=True, text=True, check=False
    )
    return done.returncode, done.stderr.strip(), originals


GOOD = """[Unit]
Description=test
[Service]
ExecStart=/opt/x/bin/agent run
Restart=on-failure
[Install]
WantedBy=multi-user.target
"""


def test_verify_passes_a_good_unit(tmp_path: Path) -> None:
    unit = tmp_path / "src" / "good.service"
    unit.parent.mkdir()
    unit.write_text(GOOD)
    code, err, execs = verify(unit, tmp_path)
    assert (code, err) == (0, "")
    assert execs == ["/opt/x/bin/agent"]


def test_verify_catches_a_misspelt_key(tmp_path: Path) -> None:
    unit = tmp_path / "src" / "typo.service"
    unit.parent.mkdir()
    unit.write_text(GOOD.replace("Restart=", "Restrat="))
    _code, err, _ = verify(unit, tmp_path)
    assert "Restrat" in err


def test_verify_catches_a_bad_value(tmp_path: Path) -> None:
    unit = tmp_path / "src" / "value.service"
    unit.parent.mkdir()
    unit.write_text(GOOD.replace("Restart=on-failure", "Restart=sometimes"))
    _code, err, _ = verify(unit, tmp_path)
    assert err != ""


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_unit_verifies(unit: Path, tmp_path: Path) -> None:
    code, err, execs = verify(unit, tmp_path)
    assert (code, err) == (0, "")
    assert execs, "no Exec line"


def test_edge_unit_runs_what_the_installer_installs() -> None:
    unit = DEPLOY / "systemd" / "labcal-edge.service"
    if not unit.exists():
        pytest.skip(f"{unit.relative_to(DEPLOY.parent)} (edge's) has not landed yet")
    text = unit.read_text(encoding="utf-8")
    assert re.search(r"^ExecStart=/opt/labcal-edge/venv/bin/labcal-edge run\b", text, re.M)
    assert "/etc/labcal/edge.toml" in text
    assert re.search(r"^User=labcal$", text, re.M)


def test_single_lab_unit_runs_serve_on_its_state_directory() -> None:
    unit = DEPLOY / "systemd" / "labcal.service"
    text = unit.read_text(encoding="utf-8")
    start = re.search(r"^ExecStart=(\S+) serve --data-dir (\S+)$", text, re.M)
    assert start, "ExecStart runs labcal-cloud serve --data-dir DIR"
    assert Path(start.group(1)).name == "labcal-cloud"
    assert re.search(r"^StateDirectory=labcal$", text, re.M)
    assert start.group(2) == "/var/lib/labcal"  # StateDirectory=labcal of a system unit
    assert re.search(r"^User=labcal$", text, re.M)
    assert re.search(r"^Restart=on-failure$", text, re.M)
    assert re.search(r"^KillSignal=SIGTERM$", text, re.M)
    assert re.search(r"^KillMode=mixed$", text, re.M), "serve stops its own processes in order"
    env_file = re.search(r"^EnvironmentFile=-?(\S+)$", text, re.M)
    assert env_file, "settings come from an environment file"
    example = DEPLOY / "systemd" / "labcal.env.example"
    assert example.is_file()
    keys = {
        line.partition("=")[0].lstrip("#")
        for line in example.read_text(encoding="utf-8").splitlines()
        if re.match(r"^#?LABCAL_[A-Z_]+=", line)
    }
    assert {"LABCAL_BASE_URL", "LABCAL_LINK_SECRET", "LABCAL_SMTP_HOST"} <= keys
