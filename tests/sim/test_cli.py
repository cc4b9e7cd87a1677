"""The ``labcal-sim`` console script, run as a real process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labcal_shared.protocols import pipette as pp

from .support import ask, open_port

CLI = [sys.executable, "-m", "labcal_sim.cli"]


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_until(predicate, what: str, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> int:
    """Signal the process, collect its output (closing the pipes) and return its exit code."""
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr
    return process.returncode


@pytest.mark.parametrize(
    ("args", "command", "reply"),
    [
        (["balance", "--protocol", "mt-sics", "--pty"], b"I4\r\n", b'I4 A "B123456789"\r\n'),
        (
            ["balance", "--protocol", "mt-sics", "--tcp", "127.0.0.1:0"],
            b"I4\r\n",
            b'I4 A "B123456789"\r\n',
        ),
        (
            ["balance", "--protocol", "sbi", "--pty", "--serial", "0031801165"],
            b"\x1bx2_",
            b"SerNo.    0031801165\r\n",
        ),
        (["balance", "--protocol", "and", "--pty"], b"?SN\r\n", b"SN,B123456789\r\n"),
        (["pipette", "--pty", "--serial", "LP-9"], b"CNT\r\n", b"CNT OK total=0 service=0\r\n"),
        (
            ["sensor", "--tcp", "127.0.0.1:0"],
            b"MEAS 1\r\n",
            b'MEAS ERR ARG "no argument expected"\r\n',
        ),
    ],
)
def test_serves_prints_address_first_and_stops_cleanly_on_sigterm(args, command, reply):
    process = _start(*args)
    try:
        address = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert address.startswith("/dev/pts/") or address.startswith("socket://127.0.0.1:")
        port = open_port(address)
        try:
            assert ask(port, command) == [reply]
        finally:
            port.close()
    finally:
        assert _stop(process) == 0


def test_sigint_also_stops_cleanly():
    process = _start("scanner", "--pty", "--code", "X1")
    process.stdout.readline()  # type: ignore[union-attr]
    assert _stop(process, signal.SIGINT) == 0


def test_station_prints_one_line_per_device_and_hot_plugs_on_sigusr1(tmp_path):
    config = tmp_path / "station.toml"
    config.write_text(
        f'link_dir = "{tmp_path / "by-id"}"\n'
        '[balance]\nprotocol = "sbi"\n'
        '[[pipettes]]\nserial = "LP1000-0001"\n'
        '[[pipettes]]\nserial = "LP200-0002"\nnominal_ul = 200\nmin_ul = 20\n'
        '[sensor]\ntransport = "tcp"\n'
        '[scanner]\ncodes = ["LC1|LabCal|LP-1000|LP1000-0001"]\n'
    )
    process = _start("station", "--config", str(config))
    try:
        lines = [process.stdout.readline().rstrip("\n").split("\t") for _ in range(5)]  # type: ignore[union-attr]
        assert [line[0] for line in lines] == ["balance", "pipette", "pipette", "sensor", "scanner"]
        pipette_path = lines[2][2]
        assert pipette_path == str(tmp_path / "by-id" / "pipette-LP200-0002")
        port = open_port(pipette_path)
        try:
            reply = pp.parse_line(ask(port, b"ID\r\n")[0])
            assert pp.identity_from(reply).serial == "LP200-0002"
        finally:
            port.close()
        process.send_signal(signal.SIGUSR1)  # unplug all; they reappear after a second
        link = Path(pipette_path)
        _wait_until(lambda: not link.exists(), "the pipette to be unplugged")
        _wait_until(link.exists, "the pipette to reappear")
        again = open_port(pipette_path)
        assert again is not None
        try:
            assert pp.volume_from(pp.parse_line(ask(again, b"VOL\r\n")[0])).nominal_ul == 200
        finally:
            again.close()
    finally:
        assert _stop(process) == 0


def test_station_refuses_a_bad_config(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[balance]\nprotocol = "ohaus"\n')
    result = subprocess.run(
        [*CLI, "station", "--config", str(config)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "balance.protocol 'ohaus'" in result.stderr


def test_fleet_export_json_and_csv(tmp_path):
    out = tmp_path / "fleet.json"
    args = ["fleet", "export", "--pipettes", "8", "--days", "120", "--seed", "3"]
    args += ["--start", "2026-03-01"]
    subprocess.run([*CLI, *args, "--out", str(out)], check=True, timeout=60)
    document = json.loads(out.read_text())
    assert len(document["pipettes"]) == 8
    assert document["spec"]["days"] == 120
    assert min(row["date"] for row in document["usage"]) == "2026-03-01"
    csv_dir = tmp_path / "csv"
    result = subprocess.run(
        [*CLI, *args, "--format", "csv", "--out", str(csv_dir)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sorted(Path(p).name for p in result.stdout.split()) == [
        "events.csv",
        "pipettes.csv",
        "truth.csv",
        "usage.csv",
    ]
    summary = subprocess.run(
        [*CLI, "fleet", "summary", "--pipettes", "8", "--days", "120", "--seed", "3"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert summary.stdout.startswith("pipettes 8  days 120  seed 3")
