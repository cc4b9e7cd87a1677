"""The demo's stations, devices and files (pure: identities and TOML text, no I/O).

Two simulated stations on ptys: a balance station (MT-SICS balance, two smart pipettes pouring
into it, an environment sensor) and a bench of three smart pipettes. One edge agent serves each
station; the balance station first runs a scripted gravimetric calibration of its first pipette.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BALANCE_STATION",
    "BENCH_STATION",
    "DemoPaths",
    "SimPipette",
    "edge_toml",
    "gravimetric_script",
    "station_toml",
]


@dataclass(frozen=True, slots=True)
class SimPipette:
    serial: str
    model: str
    nominal_ul: float
    min_ul: float
    systematic_pct: float
    cv_pct: float
    make: str = "LabCal"


@dataclass(frozen=True, slots=True)
class SimStation:
    id: str
    balance_serial: str | None
    pipettes: tuple[SimPipette, ...]
    sensor_serial: str | None


BALANCE_STATION = SimStation(
    id="demo-bal-01",
    balance_serial="B-DEMO-0001",
    pipettes=(
        SimPipette("LP1000-0101", "LP-1000", 1000, 100, 0.4, 0.12),
        SimPipette("LP100-0102", "LP-100", 100, 10, -0.3, 0.15),
    ),
    sensor_serial="ENV-DEMO-01",
)
BENCH_STATION = SimStation(
    id="demo-bench-01",
    balance_serial=None,
    pipettes=(
        SimPipette("LP200-0201", "LP-200", 200, 20, 0.2, 0.1),
        SimPipette("LP10-0202", "LP-10", 10, 1, 0.5, 0.3),
        SimPipette("LP5000-0203", "LP-5000", 5000, 500, -0.1, 0.1),
    ),
    sensor_serial=None,
)


@dataclass(frozen=True, slots=True)
class DemoPaths:
    """The demo's own files in the data dir (``serve``'s are in :class:`ServePaths`)."""

    root: Path

    def devices(self, station: SimStation) -> Path:
        return self.root / "dev" / station.id

    def station_file(self, station: SimStation) -> Path:
        return self.root / f"sim-{station.id}.toml"

    def edge_file(self, station: SimStation, variant: str = "") -> Path:
        return self.root / f"edge-{station.id}{variant}.toml"

    def edge_data(self, station: SimStation) -> Path:
        return self.root / "edge" / station.id

    @property
    def script(self) -> Path:
        return self.root / "gravimetric-script.toml"

    @property
    def fleet(self) -> Path:
        return self.root / "fleet.json"


def _link(paths: DemoPaths, station: SimStation, kind: str, serial: str) -> Path:
    return paths.devices(station) / f"{kind}-{serial}"


def station_toml(paths: DemoPaths, station: SimStation, seed: int) -> str:
    """The ``labcal-sim station`` file: every device on a pty with a stable symlink."""
    lines = [f"seed = {seed}", f'link_dir = "{paths.devices(station)}"', ""]
    if station.balance_serial:
        lines += [
            "[balance]",
            'protocol = "mt-sics"',
            'readability = "0.01mg"',
            f'serial = "{station.balance_serial}"',
            "settle_s = 0.2",
            "evaporation_mg_per_s = 0.0005",
            "vessel_g = 20",
            "water_g = 5",
            "",
        ]
    for p in station.pipettes:
        lines += [
            "[[pipettes]]",
            f'serial = "{p.serial}"',
            f'model = "{p.model}"',
            f"nominal_ul = {p.nominal_ul:g}",
            f"min_ul = {p.min_ul:g}",
            f"systematic_pct = {p.systematic_pct:g}",
            f"cv_pct = {p.cv_pct:g}",
            "",
        ]
    if station.sensor_serial:
        lines += ["[sensor]", f'serial = "{station.sensor_serial}"', ""]
    return "\n".join(lines)


def edge_toml(
    paths: DemoPaths,
    station: SimStation,
    tenant: str,
    mqtt_port: int,
    *,
    mqtt_host: str = "127.0.0.1",
    pipettes: tuple[SimPipette, ...] | None = None,
    log_level: str = "INFO",
    mqtt_protocol: str = "5",
    mqtt_username: str | None = None,
) -> str:
    """The edge agent's file for ``station`` (plain MQTT, by default to serve's broker);
    ``pipettes`` narrows the pipettes (a gravimetric run uses the first one listed)."""
    lines = [
        f'log_level = "{log_level}"',
        "[station]",
        f'tenant = "{tenant}"',
        f'id = "{station.id}"',
        f'data_dir = "{paths.edge_data(station)}"',
        "[mqtt]",
        f'host = "{mqtt_host}"',
        f"port = {mqtt_port}",
        f'protocol = "{mqtt_protocol}"',
        "reconnect_base_s = 0.2",
        "reconnect_cap_s = 2.0",
        "status_interval_s = 5",
        "[outbox]",
        'synchronous = "normal"',
        "[usage]",
        "poll_interval_s = 1.0",
        "periodic_s = 30.0",
        "[clock]",
        'ntp = "none"',
        "[gravimetric]",
        'operator = "Demo Operator"',
        "stable_timeout_s = 10",
    ]
    if mqtt_username is not None:
        lines.insert(lines.index("[outbox]"), f'username = "{mqtt_username}"')
    if station.balance_serial:
        link = _link(paths, station, "balance", station.balance_serial)
        lines += ["[[balance]]", 'name = "balance"', f'port = "{link}"', "poll_s = 10"]
    for i, p in enumerate(station.pipettes if pipettes is None else pipettes):
        link = _link(paths, station, "pipette", p.serial)
        lines += ["[[pipette]]", f'name = "pipette-{i + 1}"', f'port = "{link}"']
    if station.sensor_serial:
        link = _link(paths, station, "sensor", station.sensor_serial)
        lines += ["[environment]", 'name = "environment"', f'port = "{link}"']
    return "\n".join(lines) + "\n"


def gravimetric_script(volumes_ul: tuple[float, ...]) -> str:
    """Answers of the scripted operator: the pipette dispenses by itself into the balance."""
    text = 'operator = "Demo Operator"\ndeliver = "pipette"\n'
    if volumes_ul:  # else the workflow's defaults for the pipette and the mode
        text += f"volumes_ul = [{', '.join(f'{v:g}' for v in volumes_ul)}]\n"
    return text
