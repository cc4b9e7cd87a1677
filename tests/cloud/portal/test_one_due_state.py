"""One due state everywhere: for a seeded fleet (calibrated long ago, recently, usage over the
limit, a failed calibration record, never calibrated), the overview rows, the device page, the
``/api/v1/devices`` API and the engine's ``device_due_state`` table give the same status and due
date for every device — on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from labcal_cloud.db.gateway import Database
from labcal_cloud.ingest.core import rows_of
from labcal_cloud.portal.pages import LABELS
from labcal_cloud.registry.model import DueState
from labcal_cloud.registry.store import OrderItem
from labcal_cloud.storage.factory import open_store
from labcal_cloud.storage.rows import Batch
from labcal_shared.contracts import ClockQuality, DeviceRef, DeviceType, Envelope, UsageReport

from .engine_due import compute_due_states, store_engine_record
from .helpers import World, api_token, client_for

DAY = timedelta(days=1)
SEQ = itertools.count()  # the station's sequence: the ingest drops a repeated (station, seq)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_world(request: pytest.FixtureRequest) -> World:
    world: World = request.getfixturevalue("world" if request.param == "sqlite" else "pg_world")
    return world


def _usage(world: World, tenant: str, serial: str, reports: list[tuple[datetime, int]]) -> None:
    """Usage reports of a pipette through the ingest's write path."""
    batch = Batch()
    device = DeviceRef(type=DeviceType.PIPETTE, make="Acme", model="P100", serial=serial)
    for at, cycles in reports:
        env = Envelope(
            message_id=uuid.uuid4(),
            tenant=tenant,
            station="st-1",
            seq=next(SEQ),
            device=device,
            device_time=at,
            edge_time=at,
            clock=ClockQuality.SYNCED,
            payload=UsageReport(cycles_total=cycles, cycles_since_service=cycles),
        )
        rows_of(env, at, batch)
    store = open_store(world.services.settings.database_url)
    try:
        store.write_batch(batch)
    finally:
        store.close()


def _seed(world: World) -> dict[str, str]:
    """The seeded fleet of lab A; returns serial → device id."""
    reg, tenant, now = world.services.registry, world.a.tenant.id, world.clock()
    ids: dict[str, str] = {}

    def device(serial: str, calibrated_days_ago: float | None, limit: int = 0) -> str:
        d = reg.add(tenant, world.a.site.id, OrderItem("Acme", "P100", serial))
        if calibrated_days_ago is not None:
            reg.mark_calibrated(d.id, now - calibrated_days_ago * DAY, 365)
        if limit:
            world.services.db.execute(
                "UPDATE portal_devices SET cycles_limit = ? WHERE id = ?", (limit, d.id)
            )
        ids[serial] = d.id
        return d.id

    device("OLD-1", 500)  # calibrated long ago
    device("OLD-2", 372)  # a week late, in the grace
    device("SOON", 350)
    device("FRESH", 20)
    device("WORN", 40, limit=1_000)  # usage over the limit, reported by its station
    _usage(world, tenant, "WORN", [(now - 30 * DAY, 0), (now - DAY, 1_500)])
    device("BUSY", 40, limit=10_000)  # heavy use, under the limit
    _usage(world, tenant, "BUSY", [(now - 30 * DAY, 0), (now - DAY, 6_000)])
    device("FAILED", 100)
    assert not store_engine_record(world, tenant, "FAILED", now - 2 * DAY, bias_mg=5.0)
    device("NEVER", None)
    return ids


def _page_state(html: str) -> tuple[str, str]:
    """(label, next due) as the device page shows them."""
    label = re.search(r'Due state</div><span class="state \w+">([^<]+)</span>', html)
    due = re.search(r'Next due</div><p><time datetime="([^"]+)">', html)
    assert label is not None, html
    assert due is not None, html
    return label.group(1), due.group(1)


def test_overview_device_page_api_and_engine_table_agree(any_world: World) -> None:
    w = any_world
    ids = _seed(w)
    tenant, today = w.a.tenant.id, w.clock().date()
    assert compute_due_states(w) == len(ids)

    table = {
        r[0]: (DueState(r[1]), (Database.read_at(r[2]) or w.clock()).astimezone(UTC).date())
        for r in w.services.db.query(
            "SELECT device_id, status, due_at FROM device_due_state WHERE tenant = ?", (tenant,)
        )
    }
    assert set(table) == set(ids.values())  # every registered device, keyed by its id
    by_serial = {s: table[i][0] for s, i in ids.items()}
    assert by_serial == {
        "OLD-1": DueState.OVERDUE,
        "OLD-2": DueState.DUE,
        "SOON": DueState.DUE_SOON,
        "FRESH": DueState.OK,
        "WORN": DueState.DUE,
        "BUSY": DueState.DUE_SOON,
        "FAILED": DueState.BLOCKED,
        "NEVER": DueState.DUE,
    }

    lines, counts = w.services.registry.overview_page(tenant, today, limit=1000)
    overview = {x.device.id: (x.due.state, x.due.due_date) for x in lines}
    unpaged = {
        x.device.id: (x.due.state, x.due.due_date)
        for x in w.services.registry.overview(tenant, today)
    }
    client, headers = client_for(w), api_token(w, w.a.user)
    api = {
        d["id"]: (DueState(d["due_state"]), date.fromisoformat(d["due_date"]))
        for d in client.get("/api/v1/devices", headers=headers).json()
    }
    pages = {}
    for device_id in ids.values():
        label, due = _page_state(client.get(f"/devices/{device_id}", headers=headers).text)
        pages[device_id] = (label, due)
    assert overview == table
    assert unpaged == table
    assert api == table
    assert pages == {k: (LABELS[s], d.isoformat()) for k, (s, d) in table.items()}
    assert sum(counts.values()) == len(ids)
    assert all(counts[s] == list(by_serial.values()).count(s) for s in counts)

    # a new usage report moves the state everywhere at the next pass, and nowhere before it
    _usage(w, tenant, "BUSY", [(w.clock() - timedelta(hours=1), 11_000)])
    busy = ids["BUSY"]
    before = client.get("/api/v1/devices?state=due_soon", headers=headers).json()
    assert busy in {d["id"] for d in before}  # the stored state until the engine's next pass
    compute_due_states(w)
    (status,) = w.services.db.one(
        "SELECT status FROM device_due_state WHERE device_id = ?", (busy,)
    ) or ("",)
    assert status == "due"
    api_busy = next(
        d for d in client.get("/api/v1/devices", headers=headers).json() if d["id"] == busy
    )
    assert api_busy["due_state"] == "due"
    assert _page_state(client.get(f"/devices/{busy}", headers=headers).text)[0] == "Due"
