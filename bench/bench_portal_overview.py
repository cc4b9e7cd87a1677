"""Device overview latency with 10,000 devices in one tenant, under a closed-loop HTTP load.

Seeds a fresh database (SQLite file, or PostgreSQL with --database-url), starts the portal with
uvicorn in its own process, logs in, then runs ``--clients`` concurrent keep-alive clients that
each request the overview pages back to back. Prints p50/p95/p99 per page for every run and the
median over runs. Usage:

    .venv/bin/python bench/bench_portal_overview.py [--devices 10000] [--clients 1 4] [--runs 3]
        [--requests 200] [--database-url postgresql://postgres@127.0.0.1:5432/bench_db]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from labcal_cloud.portal.app import build_services
from labcal_cloud.portal.demo import seed_demo
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.settings import PortalSettings

PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


STATUSES = ("ok", "ok", "ok", "due_soon", "due", "overdue", "ok", "blocked")


def seed_engine_states(services: Services) -> None:
    """What ``labcal-cloud engine due|forecast`` stores (keyed by the registry's device id): a
    due state for 9 in 10 devices (the rest show as not computed yet) and a forecast for 1 in
    4."""
    pg = services.db.dialect == "postgresql"
    at = datetime(2026, 3, 2, tzinfo=UTC)
    rows = services.db.query(
        "SELECT tenant_id, serial, id FROM portal_devices WHERE tenant_id IS NOT NULL"
    )
    due, forecast = [], []
    for i, (tenant, serial, device_id) in enumerate(rows):
        when = at + timedelta(days=i % 400 - 60)
        if i % 10:
            status = STATUSES[i % len(STATUSES)]
            due.append((tenant, serial, status, "time", when if pg else when.isoformat(),
                        f"{status}: bench reason {i}", at if pg else at.isoformat(),
                        device_id))  # fmt: skip
        if i % 4 == 0:
            forecast.append((tenant, serial, at if pg else at.isoformat(), 0.8, i % 8 == 0,
                             f"likely leaves 80 % of MPE around {when.date()}",
                             device_id))  # fmt: skip
    services.db.executemany(
        "INSERT INTO device_due_state (tenant, device_serial, status, basis, due_at, reason,"
        " updated_at, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        due,
    )
    services.db.executemany(
        "INSERT INTO maintenance_forecast (tenant, device_serial, computed_at, guard, alert,"
        " reason, device_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        forecast,
    )


def seed(url: str, devices: int) -> tuple[str, str]:
    services = build_services(PortalSettings(database_url=url, fast_password_hashing=True))
    logins = seed_demo(services, devices, PASSWORD)
    seed_engine_states(services)
    services.db.close()
    if url.startswith("postgresql://"):  # what autovacuum does soon after a bulk load
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            for table in ("portal_devices", "device_due_state", "maintenance_forecast"):
                conn.execute(f"VACUUM ANALYZE {table}")
    return logins.lab_admin, logins.site_ids[0]


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LABCAL_PORTAL_DATABASE_URL": url, "LABCAL_COOKIE_SECURE": "0"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "labcal_cloud.portal.commands:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("portal did not start")


def login(port: int, email: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"email": email, "password": PASSWORD})
    conn.request("POST", "/api/v1/session", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    cookie = resp.getheader("set-cookie") or ""
    if resp.status != 200:
        raise RuntimeError(f"login failed: {resp.status}")
    return cookie.split(";", 1)[0]


def load(port: int, cookie: str, path: str, clients: int, requests: int) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = requests // clients

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        mine = []
        for _ in range(per_client):
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if resp.status != 200:
                raise RuntimeError(f"{path}: HTTP {resp.status}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url
    drop: tuple[str, str] | None = None
    if not url:
        url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    elif url.startswith("postgresql://"):
        import psycopg

        name = f"labcal_portal_bench_{uuid.uuid4().hex[:8]}"
        admin = url
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = url.rsplit("/", 1)[0] + "/" + name
        drop = (admin, name)
    t0 = time.perf_counter()
    email, site_id = seed(url, args.devices)
    print(
        f"seeded {args.devices} devices in {time.perf_counter() - t0:.1f} s ({url.split(':')[0]})"
    )
    port = free_port()
    proc = start_server(url, port)
    try:
        cookie = login(port, email)
        pages = {
            "overview": "/devices",
            "overdue filter": "/devices?state=overdue",
            "site filter": f"/devices?site_id={site_id}",
        }
        load(port, cookie, "/devices", 1, 20)  # warm-up
        for clients in args.clients:
            for name, path in pages.items():
                p95s, p50s, p99s = [], [], []
                for _ in range(args.runs):
                    lat = load(port, cookie, path, clients, args.requests)
                    p50s.append(pct(lat, 50))
                    p95s.append(pct(lat, 95))
                    p99s.append(pct(lat, 99))
                print(
                    f"{name:15s} clients={clients}  p50 {statistics.median(p50s):6.1f} ms  "
                    f"p95 {statistics.median(p95s):6.1f} ms  p99 {statistics.median(p99s):6.1f} ms"
                    f"  (median of {args.runs} runs × {args.requests} requests; "
                    f"p95 per run: {', '.join(f'{x:.1f}' for x in p95s)})"
                )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        tmp.cleanup()
        if drop is not None:
            import psycopg

            with psycopg.connect(drop[0], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)')


if __name__ == "__main__":
    main()
