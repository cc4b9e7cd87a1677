"""Drivers against the firmware simulator on real ptys."""

from __future__ import annotations

from pathlib import Path

import pytest

from labcal_edge.config import SerialDeviceConfig
from labcal_edge.drivers.balance import BalanceDriver
from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.link import PySerialLink
from labcal_edge.drivers.pipette import PipetteDriver
from labcal_edge.drivers.scanner import ScannerDriver
from labcal_edge.drivers.sensor import SensorDriver
from labcal_edge.errors import DeviceTimeoutError, DeviceUnavailableError
from labcal_shared.protocols import Dialect

from .sim import server, sim_station


def link(name: str, port: str | Path) -> PySerialLink:
    return PySerialLink(SerialDeviceConfig(name=name, port=str(port)))


@pytest.mark.parametrize("protocol", ["mt-sics", "sbi", "and"])
def test_balance_dialect_is_probed_identified_and_weighs(tmp_path: Path, protocol: str) -> None:
    toml = f'[balance]\nprotocol = "{protocol}"\nserial = "B42"\nsettle_s = 0.2\n'
    with sim_station(toml, tmp_path / "dev") as station:
        driver = BalanceDriver(link("bal", server(station, "balance").address), GarbageLog("bal"))
        ident = driver.connect()
        assert ident.dialect is Dialect(protocol)
        assert ident.serial.endswith("B42")
        reading = driver.weigh(stable=True, timeout=5)
        assert reading.stable
        assert reading.value is not None
        assert abs(reading.to_mg()) < 5  # an empty pan
        driver.tare(timeout=5)
        driver.link.close()


def test_pipette_identity_counters_volume_and_dispense(tmp_path: Path) -> None:
    toml = '[[pipettes]]\nserial = "P-7"\nnominal_ul = 1000\nmin_ul = 100\n'
    with sim_station(toml, tmp_path / "dev") as station:
        driver = PipetteDriver(link("p", server(station, "pipette").address), GarbageLog("p"))
        ident = driver.connect()
        assert ident.serial == "P-7"
        before = driver.counters()
        assert driver.volume(500).set_ul == 500
        driver.dispense()
        after = driver.counters()
        assert after.total == before.total + 1
        assert after.since_service == before.since_service + 1


def test_sensor_and_scanner(tmp_path: Path) -> None:
    toml = (
        '[sensor]\nserial = "ENV-9"\n[scanner]\ncodes = ["LC1|LabCal|LP-1000|P-7"]\nevery_s = 0.2\n'
    )
    with sim_station(toml, tmp_path / "dev") as station:
        sensor = SensorDriver(link("env", server(station, "sensor").address), GarbageLog("env"))
        assert sensor.connect()[1] == "ENV-9"
        conditions = sensor.measure()
        assert 15 < conditions.air_temp_c < 30
        assert 80 < conditions.pressure_kpa < 110
        scanner = ScannerDriver(link("sc", server(station, "scanner").address), GarbageLog("sc"))
        scanner.connect()
        scan = scanner.next_scan(timeout=5)
        assert scan is not None
        assert scan[1] is not None
        assert scan[1].serial == "P-7"


def test_unplugged_device_raises_unavailable(tmp_path: Path) -> None:
    with sim_station('[[pipettes]]\nserial = "P-1"\n', tmp_path / "dev") as station:
        srv = server(station, "pipette")
        driver = PipetteDriver(link("p", srv.address), GarbageLog("p"), timeout_s=1)
        driver.connect()
        srv.unplug()
        with pytest.raises(DeviceUnavailableError):
            driver.counters()
        assert not driver.link.is_open  # closed at once, so a replugged device can be reopened


def test_pyserial_url_socket_transport(tmp_path: Path) -> None:
    toml = '[[pipettes]]\nserial = "P-NET"\ntransport = "tcp"\n'
    with sim_station(toml, tmp_path / "dev") as station:
        address = server(station, "pipette").address
        assert address.startswith("socket://")
        driver = PipetteDriver(link("p", address), GarbageLog("p"))
        assert driver.connect().serial == "P-NET"
        assert driver.counters().total >= 0
        driver.link.close()


def test_loop_url_and_garbage_lines_are_counted_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    """loop:// echoes what is written: the pipette driver's own command comes back as a line
    that is no reply — garbage, counted (logged once) — and each ask times out cleanly."""
    drv = PipetteDriver(
        PySerialLink(SerialDeviceConfig(name="lp", port="loop://")), GarbageLog("lp"), timeout_s=0.3
    )
    drv.link.open()
    for _ in range(3):
        with pytest.raises(DeviceTimeoutError):
            drv.counters()
    assert drv.client.garbage.total == 3  # the echoed "CNT" lines
    drv.link.write(b"\xff\xfe nonsense\r\n" * 5)
    assert drv.client.drain_events(timeout=0.2) == []
    assert drv.client.garbage.total == 8
    assert sum("skipping garbage" in r.getMessage() for r in caplog.records) == 1


def test_a_port_is_used_by_one_reader_at_a_time(tmp_path: Path) -> None:
    with sim_station('[[pipettes]]\nserial = "P-X"\n', tmp_path / "dev") as station:
        address = server(station, "pipette").address
        first = link("first", address)
        first.open()
        second = link("second", address)
        with pytest.raises(DeviceUnavailableError, match="lock"):
            second.open()
        first.close()
        second.open()  # free again
        second.close()
