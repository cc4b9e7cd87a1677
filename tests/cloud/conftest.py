"""Fixtures for the ingest, storage, stations and read-API tests (real SQLite, PostgreSQL and
Mosquitto). ``store_url`` is parametrized over both backends, so each test runs on both."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from labcal_cloud.ingest.service import IngestWorker
from labcal_cloud.settings import Settings
from labcal_cloud.stations.passwords import mosquitto_hash
from labcal_cloud.storage import Store, open_store
from labcal_cloud.storage.ports import StationRecord
from labcal_shared.contracts import (
    DeviceEvent,
    DeviceRef,
    Envelope,
    EnvironmentSample,
    GravimetricRun,
    Payload,
    Reading,
    ReadingBatch,
    StationStatus,
    TestVolume,
    UsageReport,
    build_topic,
    encode,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PIPETTE = DeviceRef(type="pipette", make="LabCal", model="LP-1000", serial="P0001")
BALANCE = DeviceRef(type="balance", make="Mettler Toledo", model="XS205DU", serial="B0001")


def wait_until(predicate: Callable[[], bool], timeout_s: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` until true; fail (not hang) after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


class Messages:
    """Valid envelopes of one station, with increasing sequence numbers."""

    def __init__(self, tenant: str, station: str) -> None:
        self.tenant = tenant
        self.station = station
        self.seq = 0

    def envelope(self, payload: Payload, *, device: DeviceRef | None = BALANCE) -> Envelope:
        self.seq += 1
        return Envelope(
            message_id=uuid.uuid4(),
            tenant=self.tenant,
            station=self.station,
            seq=self.seq,
            device=device,
            device_time=T0 + timedelta(seconds=self.seq),
            edge_time=T0 + timedelta(seconds=self.seq, milliseconds=5),
            clock="synced",
            payload=payload,
        )

    def reading(self, value: float = 997.0) -> Envelope:
        return self.envelope(Reading(value=value, unit="mg", stable=True))

    def batch(self, n: int) -> Envelope:
        return self.envelope(
            ReadingBatch(
                readings=[{"value": float(i), "unit": "mg", "stable": True} for i in range(n)]
            )
        )

    def usage(self, cycles: int) -> Envelope:
        return self.envelope(
            UsageReport(cycles_total=cycles, cycles_since_service=cycles % 1000), device=PIPETTE
        )

    def event(self, detail: str = "free fall") -> Envelope:
        return self.envelope(DeviceEvent(event="drop", detail=detail), device=PIPETTE)

    def status(self) -> Envelope:
        return self.envelope(StationStatus(state="online"), device=None)

    def run(self) -> Envelope:
        return self.envelope(
            GravimetricRun(
                run_id=uuid.uuid4(),
                mode="calibration",
                pipette=PIPETTE,
                nominal_volume_ul=1000.0,
                balance=BALANCE,
                balance_readability_mg=0.01,
                environment=[
                    EnvironmentSample(air_temp_c=20.1, pressure_kpa=101.3, humidity_pct=50.0)
                ],
                test_volumes=[TestVolume(volume_ul=1000.0, masses_mg=[997.0, 997.2, 996.9])],
                operator="A. Operator",
                started_at=T0,
                ended_at=T0 + timedelta(minutes=10),
            ),
            device=None,
        )

    @staticmethod
    def wire(env: Envelope) -> tuple[str, bytes]:
        """The (topic, payload) an edge publishes for ``env``."""
        return build_topic(env.tenant, env.station, env.kind), encode(env)


class Publisher:
    """A plain paho publisher (QoS 1) that waits until the broker acknowledged each message."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None):
        parts = urlsplit(url)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"pub-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()

    def publish(self, messages: list[tuple[str, bytes]]) -> None:
        infos = [self.client.publish(t, p, qos=1) for t, p in messages]
        for info in infos:
            info.wait_for_publish(timeout=30)
            assert info.is_published(), "broker did not acknowledge a publish"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'labcal.sqlite3'}"
    else:
        url = str(request.getfixturevalue("fresh_database_url"))
    store = open_store(url)
    try:
        store.migrate()
    finally:
        store.close()
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def station(store: Store, tenant_id: str) -> str:
    """A station registered to this test's tenant."""
    station_id = f"s-{uuid.uuid4().hex[:10]}"
    store.add_station(StationRecord(station_id, tenant_id, mosquitto_hash("pw", b"0" * 12)))
    return station_id


@pytest.fixture
def messages(tenant_id: str, station: str) -> Messages:
    return Messages(tenant_id, station)


@pytest.fixture
def publisher(mqtt_url: str) -> Iterator[Publisher]:
    p = Publisher(mqtt_url)
    yield p
    p.close()


@pytest.fixture
def group() -> str:
    """A shared-subscription group unique to this test."""
    return f"g-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def worker_settings(store_url: str, mqtt_url: str, tenant_id: str, group: str) -> Settings:
    return Settings(
        database_url=store_url,
        mqtt_url=mqtt_url,
        ingest_group=group,
        ingest_tenant_filter=tenant_id,
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:10]}",
        ingest_session_expiry_s=120,
    )


@pytest.fixture
def start_worker(worker_settings: Settings) -> Iterator[Callable[..., IngestWorker]]:
    """Start in-process workers (thread each); all are stopped and closed at teardown."""
    running: list[tuple[IngestWorker, threading.Thread, Store]] = []

    def start(**overrides: object) -> IngestWorker:
        settings = worker_settings.override(**overrides)
        store = open_store(settings.database_url)
        worker = IngestWorker(settings, store)
        worker.start()
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        running.append((worker, thread, store))
        return worker

    yield start
    for worker, thread, store in running:
        worker.stop()
        thread.join(10)
        worker.close()
        store.close()


def _worker_process(settings: Settings, *extra: str) -> subprocess.Popen[str]:
    """``labcal-cloud ingest`` as a real subprocess; returns once it says it is subscribed."""
    cmd = [
        sys.executable,
        "-m",
        "labcal_cloud.cli",
        "--database-url",
        settings.database_url,
        "--mqtt-url",
        settings.mqtt_url,
        "ingest",
        "--client-id",
        settings.ingest_client_id,
        "--group",
        settings.ingest_group,
        "--tenant-filter",
        settings.ingest_tenant_filter,
        "--session-expiry",
        str(settings.ingest_session_expiry_s),
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABCAL_")}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "subscribed" not in line:
        proc.kill()
        pytest.fail(f"worker did not start: {line!r}")
    return proc


@pytest.fixture
def wait() -> Callable[..., None]:
    return wait_until


@pytest.fixture
def spawn_worker() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``labcal-cloud ingest`` subprocesses; any still alive are killed at teardown."""
    procs: list[subprocess.Popen[str]] = []

    def spawn(settings: Settings, *extra: str) -> subprocess.Popen[str]:
        proc = _worker_process(settings, *extra)
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture
def msgs(tenant_id: str) -> Messages:
    """Messages of an unregistered station ``st-1``, for pure tests that need no database."""
    return Messages(tenant_id, "st-1")
