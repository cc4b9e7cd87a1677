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
        link.host.settimeout(3.0)
        assert link.host.recv(1024) == b"CNT OK total=0 service=0\r\n"
    finally:
        server.stop()
