"""Station configuration (TOML) as typed, validated settings — pure: text in, dataclasses out.

Example (see firmware-sim/README.md)::

    seed = 42
    link_dir = "/tmp/labcal-station"     # optional: stable symlinks for the ptys

    [balance]
    protocol = "mt-sics"                 # mt-sics | sbi | and
    transport = "pty"                    # pty | tcp | tcp:127.0.0.1:5001
    readability = "0.01mg"               # 0.001mg | 0.01mg | 0.1mg
    serial = "B123456789"
    evaporation_mg_per_s = 0.0005
    faults = ["garbage=0.05"]

    [[pipettes]]
    serial = "LP1000-0001"
    nominal_ul = 1000
    min_ul = 100
    channels = 1                         # 8 or 12 for a multichannel pipette
    systematic_pct = 0.4
    events = [{at_s = 60, kind = "drop"}, {at_s = 600, kind = "error", code = "E07"}]

    [sensor]
    [scanner]
    codes = ["LC1|LabCal|LP-1000|LP1000-0001"]
    every_s = 30
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

from labcal_sim.devices.pipette import ScriptedEvent
from labcal_sim.faults import FaultSwitches
from labcal_sim.physics.balance import READABILITY_CLASSES

__all__ = [
    "BalanceConfig",
    "ConfigError",
    "DeviceConfig",
    "PipetteConfig",
    "ScannerConfig",
    "SensorConfig",
    "StationConfig",
    "parse_station_config",
]

PROTOCOLS = ("mt-sics", "sbi", "and")


class ConfigError(ValueError):
    """The station file is not valid; the message names the key."""


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    transport: str = "pty"
    faults: FaultSwitches = field(default_factory=FaultSwitches)


@dataclass(frozen=True, slots=True)
class BalanceConfig(DeviceConfig):
    protocol: str = "mt-sics"
    readability: str = "0.01mg"
    serial: str = "B123456789"
    settle_s: float = 1.5
    evaporation_mg_per_s: float = 0.0
    drift_mg_per_h: float = 0.0
    id_codes: bool = False
    vessel_g: float = 0.0
    water_g: float = 0.0


@dataclass(frozen=True, slots=True)
class PipetteConfig(DeviceConfig):
    serial: str = "LP1000-0001"
    make: str = "LabCal"
    model: str = "LP-1000"
    nominal_ul: float = 1000.0
    min_ul: float = 100.0
    channels: int = 1  # a multichannel pipette reports it in ID; each channel is weighed alone
    systematic_pct: float = 0.15
    cv_pct: float = 0.1
    events: tuple[ScriptedEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class SensorConfig(DeviceConfig):
    serial: str = "ENV-0001"


@dataclass(frozen=True, slots=True)
class ScannerConfig(DeviceConfig):
    serial: str = "SC-0001"
    codes: tuple[str, ...] = ()
    every_s: float | None = None


@dataclass(frozen=True, slots=True)
class StationConfig:
    seed: int = 0
    speed: float = 1.0
    link_dir: str | None = None
    balance: BalanceConfig | None = None
    pipettes: tuple[PipetteConfig, ...] = ()
    sensor: SensorConfig | None = None
    scanner: ScannerConfig | None = None


def check_transport(value: str, where: str) -> str:
    if value == "pty" or value == "tcp":
        return value
    if value.startswith("tcp:"):
        host, _, port = value[4:].rpartition(":")
        if host and port.isdigit():
            return value
    raise ConfigError(f"{where}.transport {value!r}: use 'pty', 'tcp' or 'tcp:HOST:PORT'")


def _event(raw: Any, where: str) -> ScriptedEvent:
    if not isinstance(raw, dict) or set(raw) - {"at_s", "kind", "code", "text"}:
        raise ConfigError(f"{where}: each event is {{at_s, kind[, code, text]}}, got {raw!r}")
    try:
        return ScriptedEvent(
            float(raw["at_s"]), str(raw["kind"]), str(raw.get("code", "")), str(raw.get("text", ""))
        )
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _section(cls: type[Any], raw: dict[str, Any], where: str) -> Any:
    known = set(cls.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"[{where}] unknown keys: {', '.join(sorted(unknown))}")
    values = dict(raw)
    try:
        values["faults"] = FaultSwitches.parse(list(raw.get("faults", [])))
    except ValueError as exc:
        raise ConfigError(f"[{where}] faults: {exc}") from None
    values["transport"] = check_transport(str(raw.get("transport", "pty")), where)
    if "codes" in values:
        values["codes"] = tuple(str(c) for c in values["codes"])
    if "events" in values:
        values["events"] = tuple(_event(e, f"{where}.events") for e in values["events"])
    if "channels" in values and not (
        isinstance(values["channels"], int) and 1 <= values["channels"] <= 384
    ):
        raise ConfigError(f"[{where}] channels must be a whole number from 1 to 384")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"[{where}] {exc}") from None


def parse_station_config(text: str) -> StationConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"station file is not valid TOML: {exc}") from None
    top = {"seed", "speed", "link_dir", "balance", "pipettes", "sensor", "scanner"}
    unknown = set(raw) - top
    if unknown:
        raise ConfigError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    balance = _section(BalanceConfig, raw["balance"], "balance") if "balance" in raw else None
    if balance is not None:
        if balance.protocol not in PROTOCOLS:
            raise ConfigError(f"balance.protocol {balance.protocol!r}: one of {PROTOCOLS}")
        if balance.readability not in READABILITY_CLASSES:
            raise ConfigError(
                f"balance.readability {balance.readability!r}: one of {tuple(READABILITY_CLASSES)}"
            )
    pipettes = tuple(
        _section(PipetteConfig, p, f"pipettes.{i}") for i, p in enumerate(raw.get("pipettes", []))
    )
    serials = [p.serial for p in pipettes]
    if len(set(serials)) != len(serials):
        raise ConfigError("two pipettes share a serial number")
    speed = float(raw.get("speed", 1.0))
    if speed <= 0:
        raise ConfigError(f"speed must be positive, got {speed}")
    return StationConfig(
        seed=int(raw.get("seed", 0)),
        speed=speed,
        link_dir=raw.get("link_dir"),
        balance=balance,
        pipettes=pipettes,
        sensor=_section(SensorConfig, raw["sensor"], "sensor") if "sensor" in raw else None,
        scanner=_section(ScannerConfig, raw["scanner"], "scanner") if "scanner" in raw else None,
    )
