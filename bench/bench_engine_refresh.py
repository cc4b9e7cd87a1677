"""One ``refresh_due_states`` pass over N registered devices through the SQL adapter
(``SqlEngineRepository``), on SQLite or PostgreSQL: the first pass (every state new, with its
change event) and a second pass (nothing changed).

Run: .venv/bin/python bench/bench_engine_refresh.py [--devices N]
     [--database-url postgresql://…]   (a scratch database is created and dropped)
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.events import DomainEvent
from labcal_cloud.engine.service import refresh_due_states
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.storage.factory import open_store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Count:
    def __init__(self) -> None:
        self.n = 0

    def publish(self, event: DomainEvent) -> None:
        self.n += 1


def seed(db: Database, devices: int) -> None:
    db.execute(
        "INSERT INTO portal_tenants (id, name, kind, created_at) VALUES (?, ?, ?, ?)",
        ("t1", "Bench lab", "customer", NOW.isoformat()),
    )
    db.execute("INSERT INTO portal_sites (id, tenant_id, name) VALUES ('s1', 't1', 'Main')")
    rows = []
    for i in range(devices):
        calibrated = NOW - timedelta(days=i % 450) if i % 10 else None
        rows.append(
            (
                uuid.uuid4().hex,
                "t1",
                "s1",
                "Acme",
                "P100",
                f"B{i:07d}",
                (NOW - timedelta(days=500)).isoformat(),
                365,
                calibrated.isoformat() if calibrated else None,
                (i * 37) % 1_200,
                1_000 if i % 3 == 0 else 0,
            )
        )
    db.executemany(
        "INSERT INTO portal_devices (id, tenant_id, site_id, make, model, serial, registered_at,"
        " interval_days, last_calibrated_at, usage_cycles, cycles_limit)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def run(url: str, devices: int) -> None:
    store = open_store(url)
    store.migrate()
    store.close()
    db = connect(url)
    try:
        seed(db, devices)
        repo = SqlEngineRepository(db)
        for label in ("first pass (all new)", "second pass (no change)"):
            events = Count()
            start = time.perf_counter()
            changes = refresh_due_states(repo, events, DuePolicy(), now=NOW)
            elapsed = time.perf_counter() - start
            print(
                f"{db.dialect:10s} {devices:,} devices, {label}: {elapsed:.2f} s"
                f" ({devices / elapsed:,.0f} devices/s), {changes:,} changes, {events.n:,} events"
            )
    finally:
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--database-url", default="", help="a PostgreSQL server (admin URL)")
    args = ap.parse_args()
    if args.database_url:
        import psycopg

        name = f"bench_refresh_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            run(args.database_url.rsplit("/", 1)[0] + f"/{name}", args.devices)
        finally:
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args.devices)


if __name__ == "__main__":
    main()
