"""Start a simulated station (labcal_sim) in this process, on real ptys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from labcal_sim.clock import MonotonicClock
from labcal_sim.station import Station, build_station
from labcal_sim.station_config import parse_station_config


@contextmanager
def sim_station(toml: str, link_dir: Path) -> Iterator[Station]:
    link_dir.mkdir(parents=True, exist_ok=True)
    config = parse_station_config(f'link_dir = "{link_dir}"\n' + toml)
    station = build_station(config, MonotonicClock()).start()
    try:
        yield station
    finally:
        station.stop()


def server(station: Station, kind: str, index: int = 0):  # type: ignore[no-untyped-def]
    return [s for s in station.servers if s.device.kind == kind][index]
