"""The seeded demo world: the portal's demo tenant and users, the simulated pipettes and a fleet
registered in it, the stations registered for ingest (the signing key is serve's, in the data
dir)."""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from labcal_cloud.demo.layout import BALANCE_STATION, BENCH_STATION, DemoPaths, SimStation
from labcal_cloud.portal.demo import seed_demo
from labcal_cloud.portal.services import Services
from labcal_cloud.readapi.auth import token_digest
from labcal_cloud.registry.store import OrderItem
from labcal_cloud.stations.passwords import mosquitto_hash
from labcal_cloud.storage.ports import StationRecord, StationStore

__all__ = ["DemoWorld", "FleetSummary", "seed_fleet", "seed_world"]

STATIONS: tuple[SimStation, ...] = (BALANCE_STATION, BENCH_STATION)
REMINDED_AGE_DAYS = 336


@dataclass(frozen=True, slots=True)
class DemoWorld:
    tenant_id: str
    site_id: str
    login: str
    password: str
    provider_login: str
    sim_devices: dict[str, str]  # serial → portal device id
    read_token: str  # bearer token of the read API (/v1/readings, /v1/runs, usage)


@dataclass(frozen=True, slots=True)
class FleetSummary:
    pipettes: int
    days: int
    usage_rows: int
    calibrated: int


def seed_world(
    services: Services, stations: StationStore, password: str, demo_devices: int
) -> DemoWorld:
    """The portal's demo data plus the simulated pipettes (registered, never calibrated) and
    the two stations (registered for ingest under the demo tenant)."""
    logins = seed_demo(services, demo_devices, password)
    site = logins.site_ids[0]
    sim: dict[str, str] = {}
    for station in STATIONS:
        for p in station.pipettes:
            device = services.registry.add(
                logins.tenant_id, site, OrderItem(p.make, p.model, p.serial, p.nominal_ul)
            )
            sim[p.serial] = device.id
        # the private broker allows anonymous clients; the hash is what a real broker would use
        digest = mosquitto_hash(secrets.token_urlsafe(18), secrets.token_bytes(12))
        stations.add_station(StationRecord(station.id, logins.tenant_id, digest))
    # one bench pipette was calibrated 336 days ago: due in 29 days, so the first step of its
    # due sequence (30 days before) is due now and lands in the inbox within the first pass
    reminded = BENCH_STATION.pipettes[-1].serial
    calibrated_at = services.runtime.now() - timedelta(days=REMINDED_AGE_DAYS)
    services.registry.mark_calibrated(sim[reminded], calibrated_at, 365)
    read_token = secrets.token_urlsafe(24)
    stations.add_api_token(logins.tenant_id, token_digest(read_token), "demo")
    return DemoWorld(
        logins.tenant_id, site, logins.lab_admin, password, logins.provider_admin, sim, read_token
    )


def seed_fleet(services: Services, world: DemoWorld, paths: DemoPaths, today: date) -> FleetSummary:
    """Register the fleet exported by ``labcal-sim fleet export`` (accelerated time, ground
    truth) in the demo tenant: its days are shifted to end yesterday; each pipette's last
    service becomes its last calibration, and its daily cycles since then become usage weeks."""
    doc: dict[str, Any] = json.loads(paths.fleet.read_text(encoding="utf-8"))
    days = int(doc["spec"]["days"])
    start = date.fromisoformat(doc["spec"]["start"])
    shift = (today - timedelta(days=1)) - (start + timedelta(days=days - 1))
    last_service: dict[str, date] = {}
    for ev in doc["events"]:
        if ev["kind"] == "service":
            last_service[ev["serial"]] = date.fromisoformat(ev["date"]) + shift
    ids: dict[str, str] = {}
    for p in doc["pipettes"]:
        model = str(p["model"])
        device = services.registry.add(
            world.tenant_id,
            world.site_id,
            OrderItem("LabCal", model, f"FLEET-{p['serial']}", float(p["nominal_ul"])),
        )
        ids[p["serial"]] = device.id
        served = last_service.get(p["serial"])
        if served is not None:
            at = datetime.combine(served, datetime.min.time(), UTC)
            services.registry.mark_calibrated(device.id, at, 365)
    weeks: dict[tuple[str, date], int] = defaultdict(int)
    for row in doc["usage"]:
        day = date.fromisoformat(row["date"]) + shift
        served = last_service.get(row["serial"])
        if served is not None and day < served:
            continue
        weeks[(row["serial"], day - timedelta(days=day.weekday()))] += int(row["cycles"])
    for (serial, week), cycles in sorted(weeks.items()):
        services.registry.update_usage(world.tenant_id, ids[serial], cycles, week)
    return FleetSummary(len(ids), days, len(doc["usage"]), len(last_service))
