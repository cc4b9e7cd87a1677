"""How long a published gravimetric run takes to become a visible signed certificate, through
the production processes (``labcal-cloud ingest`` and ``labcal-cloud pipeline run`` as separate
OS processes, a private Mosquitto), on SQLite and on PostgreSQL.

For each run: publish (QoS 1) → the run row is committed by ingest ("stored") → a
``portal_calibrations`` row holds its signed certificate ("certified"). Runs are published one
at a time, so each figure is one run's latency, not a backlog's. Prints median and p95.

Run: .venv/bin/python bench/bench_pipeline_latency.py [--runs 30] [--backend sqlite|postgres|both]
PostgreSQL: DATABASE_URL (a maintenance database; a fresh one is created and dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from labcal_cloud.accounts.model import Role
from labcal_cloud.db.gateway import connect
from labcal_cloud.portal.app import build_services
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.registry.store import OrderItem
from labcal_cloud.serve.signing import write_signing_pair
from labcal_cloud.storage.factory import open_store
from labcal_cloud.storage.ports import StationRecord
from labcal_shared.contracts import (
    DeviceRef,
    Envelope,
    EnvironmentSample,
    GravimetricRun,
    TestVolume,
    build_topic,
    encode,
)

BIN = Path(sys.executable).parent
PIPETTE = DeviceRef(type="pipette", make="LabCal", model="LP-1000", serial="BENCH-0001")
BALANCE = DeviceRef(type="balance", make="Mettler Toledo", model="XS205DU", serial="B0001")
STATION = "bench-st-01"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def _postgres_database() -> Iterator[str]:
    import psycopg

    admin = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"labcal_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _seed(url: str, tmp: Path) -> tuple[str, dict[str, str]]:
    store = open_store(url)
    store.migrate()
    key, cert = tmp / "key.pem", tmp / "cert.pem"
    write_signing_pair(key, cert, "Bench Provider")
    secret = secrets.token_urlsafe(36)
    settings = PortalSettings(
        database_url=url, signing_key=key, signing_cert=cert, link_secret=secret
    )
    s = build_services(settings)
    lab = s.accounts.create_tenant("Bench Lab")
    s.accounts.create_user(lab.id, "qa@bench.example", "QA", Role.LAB_ADMIN, "pw-long-enough-1")
    site = s.accounts.create_site(lab.id, "Site")
    s.registry.add(lab.id, site.id, OrderItem(PIPETTE.make, PIPETTE.model, PIPETTE.serial, 1000))
    store.add_station(StationRecord(STATION, lab.id, "unused"))
    store.close()
    s.db.close()
    env = {
        "LABCAL_DATABASE_URL": url,
        "LABCAL_PORTAL_DATABASE_URL": url,
        "LABCAL_SIGNING_KEY": str(key),
        "LABCAL_SIGNING_CERT": str(cert),
        "LABCAL_LINK_SECRET": secret,
        "LABCAL_BASE_URL": "http://127.0.0.1:8000",
    }
    return lab.id, env


def _run_envelope(tenant: str, seq: int) -> Envelope:
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    masses = [997.0 + 0.1 * (i % 3) for i in range(10)]
    return Envelope(
        message_id=uuid.uuid4(),
        tenant=tenant,
        station=STATION,
        seq=seq,
        device=None,
        device_time=t0,
        edge_time=t0,
        clock="synced",
        payload=GravimetricRun(
            run_id=uuid.uuid4(),
            mode="calibration",
            pipette=PIPETTE,
            nominal_volume_ul=1000.0,
            balance=BALANCE,
            balance_readability_mg=0.01,
            environment=[EnvironmentSample(air_temp_c=20.1, pressure_kpa=101.3, humidity_pct=55.0)],
            test_volumes=[TestVolume(volume_ul=1000.0, masses_mg=masses)],
            operator="Bench",
            started_at=t0,
            ended_at=t0 + timedelta(minutes=5),
        ),
    )


def one_backend(name: str, url: str, runs: int, tmp: Path) -> dict[str, list[float]]:
    tenant, extra = _seed(url, tmp)
    port = _free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    env = {**os.environ, **extra, "LABCAL_MQTT_URL": f"mqtt://127.0.0.1:{port}"}
    logs = tmp / "logs"
    logs.mkdir()
    procs = [subprocess.Popen([mosquitto, "-c", str(conf)], stderr=subprocess.DEVNULL)]
    _wait_port(port)
    for role, argv in (
        ("ingest", [str(BIN / "labcal-cloud"), "ingest", "--client-id", f"bench-{name}"]),
        ("pipeline", [str(BIN / "labcal-cloud"), "pipeline", "run"]),
    ):
        with open(logs / f"{role}.log", "w") as log:
            procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))
    db = connect(url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-pub", protocol=MQTTProtocolVersion.MQTTv5
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    stored: list[float] = []
    certified: list[float] = []
    try:
        _wait_for(lambda: "subscribed" in (logs / "ingest.log").read_text(), 60, "ingest")
        _wait_for(lambda: "pipeline: ready" in (logs / "pipeline.log").read_text(), 60, "pipe")
        time.sleep(1.0)
        for seq in range(1, runs + 1):
            env_ = _run_envelope(tenant, seq)
            mid = str(env_.message_id)
            started = time.perf_counter()
            info = client.publish(build_topic(tenant, STATION, env_.kind), encode(env_), qos=1)
            info.wait_for_publish(10)
            got_stored = None
            while True:
                now = time.perf_counter()
                if got_stored is None and db.one("SELECT 1 FROM runs WHERE message_id = ?", (mid,)):
                    got_stored = now - started
                if db.one(
                    "SELECT 1 FROM portal_calibrations p JOIN calibration_record c"
                    " ON p.record_id = CAST(c.record_id AS TEXT) WHERE c.run_message_id = ?",
                    (mid,),
                ):
                    certified.append(now - started)
                    stored.append(got_stored if got_stored is not None else now - started)
                    break
                if now - started > 60:
                    raise RuntimeError(f"run {seq} not certified within 60 s (logs in {logs})")
                time.sleep(0.005)
            time.sleep(0.2)
    finally:
        client.loop_stop()
        client.disconnect()
        db.close()
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(30)
    return {"stored": stored, "certified": certified}


def _wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready within {timeout} s")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="runs published, one at a time")
    ap.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = ap.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    results: dict[str, dict[str, list[float]]] = {}
    for name in backends:
        with tempfile.TemporaryDirectory(prefix=f"labcal-bench-{name}-") as d:
            tmp = Path(d)
            if name == "sqlite":
                url = f"sqlite:///{tmp / 'labcal.sqlite3'}"
                results[name] = one_backend(name, url, args.runs, tmp)
            else:
                with _postgres_database() as url:
                    results[name] = one_backend(name, url, args.runs, tmp)
    print(f"run published -> certificate visible, {args.runs} runs one at a time (seconds)")
    print(f"{'backend':<10} {'stored p50':>11} {'stored p95':>11} {'cert p50':>9} {'cert p95':>9}")
    for name, r in results.items():
        print(
            f"{name:<10} {statistics.median(r['stored']):11.3f} {_p95(r['stored']):11.3f}"
            f" {statistics.median(r['certified']):9.3f} {_p95(r['certified']):9.3f}"
        )
    print(json.dumps({k: {m: sorted(v) for m, v in r.items()} for k, r in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
