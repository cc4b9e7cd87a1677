"""deploy/compose/make-dev-certs.sh: a CA and a broker certificate that verify, name every host
in subjectAltName, keep their keys private, and are kept (not rotated) on a second run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .deploy_files import COMPOSE_DIR

SCRIPT = COMPOSE_DIR / "make-dev-certs.sh"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def _openssl(*args: str | Path) -> str:
    done = subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_certificates_verify_and_name_every_host(tmp_path: Path) -> None:
    done = _run(tmp_path, "mosquitto", "mqtt.example.org")
    assert done.returncode == 0, done.stderr
    assert "OK" in _openssl("verify", "-CAfile", tmp_path / "ca.crt", tmp_path / "server.crt")
    san = _openssl("x509", "-in", tmp_path / "server.crt", "-noout", "-ext", "subjectAltName")
    for name in ("DNS:mosquitto", "DNS:mqtt.example.org", "IP Address:127.0.0.1"):
        assert name in san
    assert "CA:TRUE" in _openssl("x509", "-in", tmp_path / "ca.crt", "-noout", "-text")
    for key in ("ca.key", "server.key"):
        assert (tmp_path / key).stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "server.csr").exists()


def test_a_second_run_keeps_the_certificates(tmp_path: Path) -> None:
    assert _run(tmp_path).returncode == 0
    before = (tmp_path / "server.crt").read_bytes()
    again = _run(tmp_path, "other-host")
    assert again.returncode == 0
    assert "kept" in again.stdout
    assert (tmp_path / "server.crt").read_bytes() == before


def test_bad_host_names_and_missing_arguments_are_refused(tmp_path: Path) -> None:
    bad = _run(tmp_path, "mosquitto", "evil;rm -rf /")
    assert bad.returncode == 1
    assert "not a host name" in bad.stderr
    assert not (tmp_path / "server.crt").exists()
    assert _run().returncode == 1
