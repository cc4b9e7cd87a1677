"""deploy/edge/install.sh, run for real: --dry-run on this machine (nothing may change), and a
full install under --root into a temporary directory (real virtualenv, real packages from this
repository, real ``labcal-edge check-config``), run again to show it is idempotent."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .deploy_files import DEPLOY

INSTALL = DEPLOY / "edge" / "install.sh"
VALID = """[station]
tenant = "acme"
id = "acme-bal-01"

[mqtt]
host = "mqtt.example.org"
port = 8883
"""
UNIT = """[Unit]
Description=LabCal edge agent (test stand-in)
[Service]
User=labcal
ExecStart=/opt/labcal-edge/venv/bin/labcal-edge run --config /etc/labcal/edge.toml
[Install]
WantedBy=multi-user.target
"""
SYSTEM_PATHS = (
    "/opt/labcal-edge",
    "/etc/labcal/edge.toml",
    "/etc/systemd/system/labcal-edge.service",
)


def _install(*args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(INSTALL), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    return done


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("inputs")
    (d / "labcal-edge.service").write_text(UNIT)
    (d / "edge.toml").write_text(VALID)
    (d / "bad.toml").write_text(VALID.replace("port = 8883", "port = 0"))
    return d


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, inputs: Path) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("root")
    first = _install(
        "--root", root, "--unit", inputs / "labcal-edge.service", "--config", inputs / "edge.toml"
    )
    assert first.returncode == 0, first.stdout + first.stderr
    return root, first.stdout


def test_dry_run_plans_every_step_and_changes_nothing(inputs: Path) -> None:
    before = {p: os.path.exists(p) for p in SYSTEM_PATHS}
    assert not any(before.values()), f"this machine already has an edge install: {before}"
    done = _install(
        "--dry-run", "--unit", inputs / "labcal-edge.service", "--config", inputs / "edge.toml"
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    user_exists = (
        subprocess.run(["getent", "passwd", "labcal"], capture_output=True).returncode == 0
    )
    assert ("user labcal exists" in out) == user_exists
    if not user_exists:
        assert "would run: useradd --system" in out
        assert "would run: usermod --append --groups dialout labcal" in out
    for step in (
        "-m venv /opt/labcal-edge/venv",
        "/opt/labcal-edge/venv/bin/python -m pip install",
        "install -m 0640",
        "/etc/labcal/edge.toml",
        "install -m 0644",
        "/etc/systemd/system/labcal-edge.service",
        "would run: systemctl enable labcal-edge.service",
        "would run: systemctl restart labcal-edge.service",
    ):
        assert step in out, step
    assert "+ " not in out, "a dry run executed a command"
    assert {p: os.path.exists(p) for p in SYSTEM_PATHS} == before


def test_install_lays_out_venv_config_and_unit(installed: tuple[Path, str], inputs: Path) -> None:
    root, out = installed
    agent = root / "opt/labcal-edge/venv/bin/labcal-edge"
    version = subprocess.run([agent, "--version"], capture_output=True, text=True, check=False)
    assert version.stdout.startswith("labcal-edge ")
    config = root / "etc/labcal/edge.toml"
    assert config.read_text() == VALID
    assert config.stat().st_mode & 0o777 == 0o640
    assert (root / "var/lib/labcal-edge").stat().st_mode & 0o777 == 0o750
    unit = root / "etc/systemd/system/labcal-edge.service"
    assert unit.read_text() == UNIT
    assert "OK — station acme/acme-bal-01" in out
    assert "skipped (--root): useradd" in out or "user labcal exists" in out
    assert "skipped (--root): systemctl enable labcal-edge.service" in out
    assert "skipped (--root): systemctl restart labcal-edge.service" in out


def test_second_run_changes_nothing(installed: tuple[Path, str], inputs: Path) -> None:
    root, _ = installed
    config = root / "etc/labcal/edge.toml"
    stamp = config.stat().st_mtime_ns
    again = _install("--root", root, "--unit", inputs / "labcal-edge.service")
    assert again.returncode == 0, again.stderr
    out = again.stdout
    assert "virtualenv" in out
    assert "exists" in out
    assert "labcal-edge 0.1.0 is installed" in out
    assert f"configuration {config} kept" in out
    assert "is up to date" in out
    changes = [line for line in out.splitlines() if line.startswith("+ ")]
    assert [c for c in changes if "chmod 0750" not in c] == []
    assert config.stat().st_mtime_ns == stamp


def test_an_invalid_config_is_installed_but_not_started(
    installed: tuple[Path, str], inputs: Path
) -> None:
    root, _ = installed
    done = _install(
        "--root", root, "--unit", inputs / "labcal-edge.service", "--config", inputs / "bad.toml"
    )
    assert done.returncode == 0, done.stderr
    assert "the configuration is not valid" in done.stdout
    assert "mqtt.port" in done.stderr
    assert "systemctl enable labcal-edge.service" in done.stdout
    assert "systemctl restart" not in done.stdout
    # put the valid one back for any later test
    assert (
        _install(
            "--root",
            root,
            "--unit",
            inputs / "labcal-edge.service",
            "--config",
            inputs / "edge.toml",
        ).returncode
        == 0
    )


def test_a_missing_unit_or_config_is_refused(tmp_path: Path, inputs: Path) -> None:
    done = _install("--dry-run", "--unit", tmp_path / "nope.service")
    assert done.returncode == 1
    assert "systemd unit not found" in done.stderr
    done = _install(
        "--dry-run", "--unit", inputs / "labcal-edge.service", "--config", tmp_path / "x"
    )
    assert done.returncode == 1
    assert "no such configuration file" in done.stderr
    done = _install("--frobnicate")
    assert done.returncode == 1
    assert "unknown argument" in done.stderr


def test_the_example_config_is_valid() -> None:
    from labcal_edge.config import load_config

    config = load_config(DEPLOY / "edge" / "edge.example.toml")
    assert config.mqtt.tls is not None
    assert config.mqtt.port == 8883


def test_files_belong_to_the_group_the_real_unit_runs_as(inputs: Path) -> None:
    unit = (DEPLOY / "systemd" / "labcal-edge.service").read_text(encoding="utf-8")
    groups = [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("Group=")]
    group = groups[-1] if groups else "labcal"
    done = _install("--dry-run", "--config", inputs / "edge.toml")
    assert done.returncode == 0, done.stderr
    assert f"would run: chown root:{group} /etc/labcal\n" in done.stdout
    assert f"would run: chown root:{group} /etc/labcal/edge.toml\n" in done.stdout
    assert f"would run: chown labcal:{group} /var/lib/labcal-edge\n" in done.stdout
    assert "/etc/systemd/system/labcal-edge.service" in done.stdout
