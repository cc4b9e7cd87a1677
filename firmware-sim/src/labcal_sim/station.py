"""Build simulated devices and their servers from configuration (used by the CLI and tests).

All devices of a station share one clock, one lock (the pipettes pour into the balance) and
derive their random generators from the station seed, so a station run is reproducible.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from labcal_sim.devices.aandd import AndBalance
from labcal_sim.devices.base import Device
from labcal_sim.devices.mtsics import MtSicsBalance
from labcal_sim.devices.pipette import DispenseSink, SmartPipette
from labcal_sim.devices.sbi import SbiBalance
from labcal_sim.devices.scanner import BarcodeScanner
from labcal_sim.devices.sensor import EnvironmentSensor
from labcal_sim.faults import FaultSwitches
from labcal_sim.physics.balance import BalanceModel, BalanceSpec
from labcal_sim.physics.bench import Bench
from labcal_sim.physics.environment import EnvironmentModel
from labcal_sim.physics.pipette import PipetteModel, PipetteSpec, WearParams
from labcal_sim.ports import Clock
from labcal_sim.serve import DeviceServer
from labcal_sim.station_config import (
    BalanceConfig,
    PipetteConfig,
    StationConfig,
)
from labcal_sim.transport.endpoint import Endpoint
from labcal_sim.transport.pty_port import PtyEndpoint
from labcal_sim.transport.tcp_port import TcpEndpoint

__all__ = ["Station", "build_balance", "build_pipette", "build_station", "make_endpoint"]


def make_endpoint(transport: str, link: Path | None = None) -> Endpoint:
    """``pty`` (optionally behind the symlink ``link``), ``tcp`` (free port) or ``tcp:H:P``."""
    if transport == "pty":
        return PtyEndpoint(link)
    if transport == "tcp":
        return TcpEndpoint()
    host, _, port = transport.removeprefix("tcp:").rpartition(":")
    return TcpEndpoint(host, int(port))


def build_balance(
    config: BalanceConfig,
    rng: random.Random,
    now: float,
    environment: EnvironmentModel | None = None,
) -> Device:
    """The balance device of ``config``; its ``M28`` temperature follows ``environment``."""
    spec = BalanceSpec.for_class(
        config.readability,
        serial=config.serial,
        settle_s=config.settle_s,
        evaporation_mg_per_s=config.evaporation_mg_per_s,
        drift_mg_per_h=config.drift_mg_per_h,
    )
    model = BalanceModel(spec, now)
    model.unstable = config.faults.unstable
    if config.vessel_g:
        model.place(config.vessel_g * 1000.0, now - spec.settle_s)
    if config.water_g:
        model.add_liquid(config.water_g * 1000.0, now - spec.settle_s)
    if config.protocol == "sbi":
        return SbiBalance(model, rng, id_codes=config.id_codes)
    if config.protocol == "and":
        return AndBalance(model, rng)
    room = environment or EnvironmentModel()
    return MtSicsBalance(model, rng, temperature=lambda t: room.conditions(t).air_temp_c)


def build_pipette(
    config: PipetteConfig, rng: random.Random, sink: DispenseSink | None = None
) -> SmartPipette:
    spec = PipetteSpec(
        make=config.make,
        model=config.model,
        serial=config.serial,
        nominal_ul=config.nominal_ul,
        min_ul=config.min_ul,
        channels=config.channels,
    )
    params = WearParams(systematic_pct=config.systematic_pct, cv_pct=config.cv_pct)
    model = PipetteModel(spec, params)
    if sink is None:
        return SmartPipette(model, rng, script=config.events)
    return SmartPipette(model, rng, sink, script=config.events)


@dataclass
class Station:
    servers: list[DeviceServer] = field(default_factory=list)
    bench: Bench | None = None

    def start(self) -> Station:
        for server in self.servers:
            server.start()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def listing(self) -> list[str]:
        """One line per device: ``kind<TAB>identity<TAB>address``."""
        return [f"{s.device.kind}\t{s.device.identity()}\t{s.address}" for s in self.servers]


def build_station(config: StationConfig, clock: Clock) -> Station:
    master = random.Random(config.seed)
    lock = threading.RLock()
    link_dir = Path(config.link_dir) if config.link_dir else None
    station = Station()
    environment = EnvironmentModel()

    def serve(
        device: Device, transport: str, faults_rng: random.Random, name: str, faults: FaultSwitches
    ) -> None:
        link = link_dir / name if link_dir is not None and transport == "pty" else None
        station.servers.append(
            DeviceServer(
                device, make_endpoint(transport, link), clock, faults_rng, faults=faults, lock=lock
            )
        )

    try:
        _populate(station, config, environment, master, serve, clock.now())
    except BaseException:
        station.stop()  # close the ports already opened (e.g. a TCP port was in use)
        raise
    return station


def _populate(
    station: Station,
    config: StationConfig,
    environment: EnvironmentModel,
    master: random.Random,
    serve: Callable[[Device, str, random.Random, str, FaultSwitches], None],
    now: float,
) -> None:
    sink: DispenseSink | None = None
    if config.balance is not None:
        balance = build_balance(config.balance, random.Random(master.random()), now, environment)
        assert isinstance(balance, MtSicsBalance | SbiBalance | AndBalance)
        station.bench = Bench(balance.model, environment)
        sink = station.bench.receive
        serve(
            balance,
            config.balance.transport,
            random.Random(master.random()),
            f"balance-{config.balance.serial}",
            config.balance.faults,
        )
    for pipette in config.pipettes:
        device = build_pipette(pipette, random.Random(master.random()), sink)
        serve(
            device,
            pipette.transport,
            random.Random(master.random()),
            f"pipette-{pipette.serial}",
            pipette.faults,
        )
    if config.sensor is not None:
        sensor = EnvironmentSensor(
            environment, random.Random(master.random()), serial=config.sensor.serial
        )
        serve(
            sensor,
            config.sensor.transport,
            random.Random(master.random()),
            f"sensor-{config.sensor.serial}",
            config.sensor.faults,
        )
    if config.scanner is not None:
        scanner = BarcodeScanner(
            serial=config.scanner.serial, codes=config.scanner.codes, every_s=config.scanner.every_s
        )
        serve(
            scanner,
            config.scanner.transport,
            random.Random(master.random()),
            f"scanner-{config.scanner.serial}",
            config.scanner.faults,
        )
