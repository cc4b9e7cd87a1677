"""Station TOML: the shipped example parses; mistakes are refused with the key named."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from labcal_sim.devices.base import Device
from labcal_sim.ports import ManualClock
from labcal_sim.serve import DeviceServer
from labcal_sim.station import build_pipette, build_station
from labcal_sim.station_config import ConfigError, PipetteConfig, parse_station_config
from labcal_sim.transport.link import InProcessLink

EXAMPLE = Path(__file__).parents[2] / "firmware-sim" / "examples" / "station.toml"


def test_example_station_file_parses_and_builds(tmp_path):
    config = replace(parse_station_config(EXAMPLE.read_text()), link_dir=str(tmp_path))
    assert config.balance is not None
    assert len(config.pipettes) >= 2
    station = build_station(config, ManualClock())
    try:
        kinds = [s.device.kind for s in station.servers]
        assert kinds[0] == "balance"
        assert kinds.count("pipette") == len(config.pipettes)
        links = {p.name for p in tmp_path.iterdir()}  # the sensor is on TCP: no link
        assert links == {
            "balance-B123456789",
            "pipette-LP1000-0001",
            "pipette-LP100-0002",
            "scanner-SC-0001",
        }
    finally:
        station.stop()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[balance]\nprotocol = 'ohaus'\n", "balance.protocol"),
        ("[balance]\nreadability = '1g'\n", "balance.readability"),
        ("[balance]\ntransport = 'usb'\n", "balance.transport"),
        ("[balance]\ncolour = 'red'\n", "unknown keys: colour"),
        ("[balance]\nfaults = ['explode']\n", "faults"),
        ("[[pipettes]]\nserial = 'A'\n[[pipettes]]\nserial = 'A'\n", "share a serial"),
        ("speed = 0\n", "speed"),
        ("stations = 3\n", "unknown top-level"),
        ("[balance\n", "not valid TOML"),
    ],
)
def test_bad_station_files_are_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_station_config(text)


def test_in_process_link_for_unit_tests():
    clock = ManualClock()
    device: Device = build_pipette(PipetteConfig(serial="LINK-1"), random.Random(1))
    link = InProcessLink()
    server = DeviceServer(device, link, clock, random.Random(2)).start()
    try:
        assert link.host is not None
        link.host.sendall(b"CNT\r\n")
        link.host.settimeout(10.0)
        assert link.host.recv(1024) == b"CNT OK total=0 service=0\r\n"
    finally:
        server.stop()


STATION_WITH_SCRIPT = """
[balance]
vessel_g = 20
water_g = 5
settle_s = 1.0
[[pipettes]]
serial = "LP-S1"
events = [
  {at_s = 10, kind = "drop"},
  {at_s = 20, kind = "leak"},
  {at_s = 30, kind = "error", code = "E07", text = "motor stall"},
]
"""


def test_scripted_pipette_events_and_a_preloaded_vessel(tmp_path):
    from labcal_shared.protocols import mtsics

    from .support import ask, open_port, silent_for

    clock = ManualClock(500.0)
    config = replace(parse_station_config(STATION_WITH_SCRIPT), link_dir=str(tmp_path))
    station = build_station(config, clock).start()
    balance = open_port(station.servers[0].address)
    pipette = open_port(station.servers[1].address)
    try:
        (line,) = ask(balance, b"S\r\n")  # the vessel with water is there and settled
        assert float(mtsics.parse_weight(line).to_mg()) == pytest.approx(25_000.0, abs=0.1)
        assert silent_for(pipette) == b""
        clock.advance(10.0)
        assert pipette.readline() == b"EVT seq=1 kind=DROP cycle=0\r\n"
        clock.advance(10.0)
        assert silent_for(pipette) == b""  # a leak says nothing on the wire …
        model = station.servers[1].device.model  # type: ignore[attr-defined]
        assert model.state.leaking  # … but it is in the ground truth
        clock.advance(10.0)
        assert pipette.readline() == b'EVT seq=2 kind=ERROR code=E07 text="motor stall"\r\n'
    finally:
        balance.close()
        pipette.close()
        station.stop()


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ('[{at_s = 1, kind = "explode"}]', "kind 'explode'"),
        ('[{at_s = -1, kind = "drop"}]', "negative"),
        ('[{at_s = 1, kind = "error"}]', "needs a code"),
        ('[{kind = "drop"}]', "at_s"),
        ('[{at_s = 1, kind = "drop", when = "now"}]', "each event"),
    ],
)
def test_bad_scripted_events_are_refused(events, message):
    with pytest.raises(ConfigError, match=message):
        parse_station_config(f"[[pipettes]]\nevents = {events}\n")


def test_a_station_that_cannot_open_a_port_closes_the_others(tmp_path):
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    text = f'link_dir = "{tmp_path}"\n[balance]\n[sensor]\ntransport = "tcp:127.0.0.1:{port}"\n'
    try:
        with pytest.raises(OSError, match="in use"):
            build_station(parse_station_config(text), ManualClock())
    finally:
        busy.close()
    # the balance's pty had been opened with its symlink; closing it removed the link again
    assert list(tmp_path.iterdir()) == []
