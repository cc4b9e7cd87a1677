"""The station's devices built from configuration, each under hot-plug supervision.

Shared by ``labcal-edge run`` and ``labcal-edge gravimetric``. Device identity (make, model,
serial) comes from the device itself when it tells, else from the configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from labcal_edge.config import BalanceConfig, EdgeConfig, SerialDeviceConfig
from labcal_edge.drivers.balance import BalanceDriver, BalanceIdentity
from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.link import PySerialLink
from labcal_edge.drivers.pipette import PipetteDriver
from labcal_edge.drivers.scanner import ScannerDriver
from labcal_edge.drivers.sensor import SensorDriver
from labcal_edge.supervisor import Supervised
from labcal_shared.contracts import DeviceRef, DeviceType
from labcal_shared.contracts.payloads import DeviceStatus
from labcal_shared.protocols import Dialect
from labcal_shared.protocols.pipette import Identity

__all__ = ["Device", "StationDevices", "build_devices"]

D = TypeVar("D")
OnChange = Callable[["Device[Any]"], None]


@dataclass
class Device(Generic[D]):
    """A configured device: its driver, its supervision and its identity for messages."""

    config: SerialDeviceConfig
    type: DeviceType
    driver: D
    supervised: Supervised[Any]

    @property
    def ref(self) -> DeviceRef:
        ident = self.supervised.identity
        make = self.config.make or "unknown"
        model = self.config.model or "unknown"
        serial = self.config.serial or self.config.name
        if isinstance(ident, Identity):
            make, model, serial = ident.make, ident.model, ident.serial
        elif isinstance(ident, BalanceIdentity):
            make = self.config.make or _BALANCE_MAKES[ident.dialect]
            model, serial = ident.model or model, ident.serial or serial
        elif isinstance(ident, tuple):
            model, serial = ident
        return DeviceRef(type=self.type, make=make, model=model, serial=serial)

    def status(self) -> DeviceStatus:
        return DeviceStatus(
            device=self.ref, available=self.supervised.available, port=self.config.port[:256]
        )


_BALANCE_MAKES = {Dialect.MT_SICS: "Mettler Toledo", Dialect.SBI: "Sartorius", Dialect.AND: "A&D"}


@dataclass
class StationDevices:
    balances: list[Device[BalanceDriver]] = field(default_factory=list)
    pipettes: list[Device[PipetteDriver]] = field(default_factory=list)
    scanner: Device[ScannerDriver] | None = None
    sensor: Device[SensorDriver] | None = None

    def all(self) -> list[Device[Any]]:
        extra = [d for d in (self.scanner, self.sensor) if d is not None]
        return [*self.balances, *self.pipettes, *extra]

    def close(self) -> None:
        for device in self.all():
            link = getattr(device.driver, "link", None)
            if link is not None:
                link.close()


def _dialect(cfg: BalanceConfig) -> Dialect | None:
    return None if cfg.dialect == "auto" else Dialect(cfg.dialect)


def build_devices(config: EdgeConfig, on_change: OnChange | None = None) -> StationDevices:
    devices = StationDevices()

    def supervise(
        cfg: SerialDeviceConfig,
        connect: Callable[[], Any],
        link: PySerialLink,
        holder: list[Device[Any]],
    ) -> Supervised[Any]:
        def changed(_: Supervised[Any]) -> None:
            if on_change is not None and holder:
                on_change(holder[0])

        return Supervised(cfg.name, cfg.port, connect, link.close, on_change=changed)

    for bcfg in config.balance:
        link = PySerialLink(bcfg)
        bal = BalanceDriver(link, GarbageLog(bcfg.name), _dialect(bcfg), timeout_s=bcfg.timeout_s)
        holder: list[Device[Any]] = []
        dev = Device(bcfg, DeviceType.BALANCE, bal, supervise(bcfg, bal.connect, link, holder))
        holder.append(dev)
        devices.balances.append(dev)
    for pcfg in config.pipette:
        link = PySerialLink(pcfg)
        pip = PipetteDriver(link, GarbageLog(pcfg.name), timeout_s=pcfg.timeout_s)
        holder = []
        pdev = Device(pcfg, DeviceType.PIPETTE, pip, supervise(pcfg, pip.connect, link, holder))
        holder.append(pdev)
        devices.pipettes.append(pdev)
    if config.scanner is not None:
        scfg = config.scanner
        link = PySerialLink(scfg)
        scan = ScannerDriver(link, GarbageLog(scfg.name))
        holder = []
        sdev = Device(scfg, DeviceType.SCANNER, scan, supervise(scfg, scan.connect, link, holder))
        holder.append(sdev)
        devices.scanner = sdev
    if config.environment is not None:
        ecfg = config.environment
        link = PySerialLink(ecfg)
        sensor = SensorDriver(link, GarbageLog(ecfg.name), timeout_s=ecfg.timeout_s)
        holder = []
        edev = Device(
            ecfg, DeviceType.SENSOR, sensor, supervise(ecfg, sensor.connect, link, holder)
        )
        holder.append(edev)
        devices.sensor = edev
    return devices
