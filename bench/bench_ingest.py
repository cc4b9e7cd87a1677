"""Ingest figures: sustained MQTT → committed rows on PostgreSQL and SQLite (1 and 2 workers,
single readings and 100-reading batches), the raw ceiling (mosquitto_sub | psql COPY), and
publish → commit latency at a paced 1,000 messages/s.

Run: .venv/bin/python bench/bench_ingest.py [--messages 150000] [--batches 20000] [--runs 3]
     [--quick]

Everything runs on a private Mosquitto (free port, in-memory, unlimited queue) and a fresh
PostgreSQL database (DATABASE_URL, default the machine's) that are removed afterwards.

Method (throughput): the workers' persistent sessions are created first, the backlog is published
while no worker runs (so the publisher does not compete for the 2 cores), then the workers start
and drain it; the rate is taken between 5 % and 100 % of the rows committed (startup excluded).
The raw ceiling drains the same backlog with ``mosquitto_sub -q 1 -c | psql -c 'COPY ...'``.
Each single-reading line also prints the CPU µs a message of each process group in the same
window (workers, Mosquitto, PostgreSQL; for the raw ceiling mosquitto_sub and psql too), read
from /proc by ``proc_cpu.py``: where the cores went, and why ratios differ between machines.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from proc_cpu import CpuWindow, pids_named

from labcal_cloud.ingest.service import IngestWorker
from labcal_cloud.settings import Settings
from labcal_cloud.storage import open_store
from labcal_cloud.storage.ports import StationRecord
from labcal_cloud.storage.rows import Batch
from labcal_shared.contracts import DeviceRef, Envelope, Reading, ReadingBatch, build_topic, encode

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BALANCE = DeviceRef(type="balance", make="MT", model="XS205", serial="B1")
TENANT = "bench"
STATIONS = [f"st-{i:02d}" for i in range(10)]
T0 = datetime(2026, 11, 23, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = workdir / "mosquitto.conf"
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "persistence false",
        "max_inflight_messages 0",
        "max_queued_messages 0",
        "max_queued_bytes 0",
    ]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("private mosquitto did not start")


def envelopes(n: int, per_message: int, seq0: int = 0) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        station = STATIONS[i % len(STATIONS)]
        if per_message == 1:
            payload: Reading | ReadingBatch = Reading(value=997.0 + i % 7, unit="mg", stable=True)
        else:
            payload = ReadingBatch(
                readings=[
                    {"value": 997.0 + j, "unit": "mg", "stable": True} for j in range(per_message)
                ]
            )
        env = Envelope(
            message_id=uuid.uuid4(),
            tenant=TENANT,
            station=station,
            seq=seq0 + i,
            device=BALANCE,
            device_time=T0 + timedelta(milliseconds=i),
            edge_time=T0 + timedelta(milliseconds=i),
            clock="synced",
            payload=payload,
        )
        out.append((build_topic(TENANT, station, env.kind), encode(env)))
    return out


def publish_all(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"pub-{uuid.uuid4().hex[:6]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    chunk = 20_000  # paho has 65,535 packet ids: wait for each chunk before the next
    for start in range(0, len(messages), chunk):
        infos = [client.publish(t, p, qos=1) for t, p in messages[start : start + chunk]]
        for info in infos:
            info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def forget_sessions(port: int, client_ids: list[str]) -> None:
    """Drop the broker's persistent sessions of these clients (MQTT 5 clean start, expiry 0).

    A session left behind stays subscribed: the broker queues every later message for it (its
    shared-subscription group has an offline member), and over a run that queue grew to GBs and
    slowed the later rounds.
    """
    for cid in client_ids:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=cid, protocol=MQTTProtocolVersion.MQTTv5
        )
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0
        client.connect("127.0.0.1", port, clean_start=True, properties=props)
        client.loop_start()
        deadline = time.monotonic() + 10
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.01)
        client.disconnect()
        client.loop_stop()


def fresh_db(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}"
    else:
        name = f"labcal_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    store = open_store(url)
    store.migrate()
    for s in STATIONS:
        store.add_station(StationRecord(s, TENANT, "$7$101$x$y"))
    store.close()
    return url


def drop_db(url: str) -> None:
    if url.startswith("postgresql"):
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def spawn_worker(url: str, port: int, client_id: str, group: str) -> subprocess.Popen[str]:
    proc = launch_worker(url, port, client_id, group)
    wait_ready(proc)
    return proc


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    if "subscribed" not in proc.stdout.readline():
        raise RuntimeError("worker did not start")


def launch_worker(url: str, port: int, client_id: str, group: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labcal_cloud.cli",
            "--database-url",
            url,
            "--mqtt-url",
            f"mqtt://127.0.0.1:{port}",
            "ingest",
            "--client-id",
            client_id,
            "--group",
            group,
            "--tenant-filter",
            TENANT,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(30)
    if proc.stdout:
        proc.stdout.close()


def drain_rate(
    kind: str, workers: int, per_message: int, n: int, port: int, workdir: Path
) -> tuple[float, dict[str, float]]:
    """Rows (readings) per second committed while draining a backlog of n messages, and the CPU
    (µs per message) of the workers, the brokers and PostgreSQL's processes in the same window."""
    url = fresh_db(kind, workdir)
    group = f"bench-{uuid.uuid4().hex[:6]}"
    ids = [f"w{i}-{group}" for i in range(workers)]
    try:
        for cid in ids:  # create the persistent sessions, then go offline
            stop(spawn_worker(url, port, cid, group))
        publish_all(port, envelopes(n, per_message))
        spawned = time.perf_counter()
        procs = [launch_worker(url, port, cid, group) for cid in ids]
        groups: dict[str, Callable[[], list[int]]] = {
            "workers": lambda: [p.pid for p in procs],
            "mosquitto": lambda: pids_named("mosquitto"),
            "postgres": lambda: pids_named("postgres"),
        }
        whole, steady = CpuWindow(groups), CpuWindow(groups)  # from the spawn; from 5 %
        whole.start()
        store = open_store(url)
        total = n  # progress is polled on messages, rarely: a count is work for the database too
        t_start = c_start = None
        try:
            while True:
                c = store.count("messages")
                now = time.perf_counter()
                if t_start is None and c >= 0.05 * total:
                    t_start, c_start = now, c
                    steady.start()
                if c >= total:
                    break
                time.sleep(0.1)
            used = whole.stop()
            if t_start is not None and now - t_start >= 1.0:
                used = steady.stop()
        finally:
            store.close()
            for p in procs:
                stop(p)
        if t_start is None or c_start is None or now - t_start < 1.0:
            t_start, c_start = spawned, 0  # too short to exclude startup: count it
        assert store_readings(url) == n * per_message
        done = total - c_start
        return done * per_message / (now - t_start), {k: v * 1e6 / done for k, v in used.items()}
    finally:
        forget_sessions(port, ids)
        drop_db(url)


def store_readings(url: str) -> int:
    store = open_store(url)
    try:
        return store.count("readings")
    finally:
        store.close()


def raw_ceiling(n: int, port: int) -> tuple[float, dict[str, float]]:
    """mosquitto_sub (QoS 1, persistent session) piped into psql COPY of the raw payloads; the
    rate and the CPU (µs per message) of each process on the way."""
    name = f"labcal_bench_raw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE raw_messages (payload text)")
        sub = [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-q",
            "1",
            "-c",
            "-i",
            f"raw-{name}",
            "-t",
            f"labcal/v1/{TENANT}/+/+",
        ]
        subprocess.run([*sub, "-W", "1", "-C", "1"], capture_output=True)  # create the session
        publish_all(port, envelopes(n, 1))
        cpu = CpuWindow(
            {
                "mosquitto": lambda: pids_named("mosquitto"),
                "postgres": lambda: pids_named("postgres"),
            }
        )
        cpu.start()
        t0 = time.perf_counter()
        # mosquitto_sub | psql, as two processes of this one, so that each one's CPU is known
        reader = subprocess.Popen([*sub, "-C", str(n)], stdout=subprocess.PIPE)
        writer = subprocess.Popen(
            ["psql", "-q", url, "-c", "COPY raw_messages (payload) FROM STDIN"],
            stdin=reader.stdout,
            stderr=subprocess.PIPE,
        )
        assert reader.stdout is not None
        reader.stdout.close()  # psql alone holds the read end: it sees EOF when the reader ends
        used = {"mosquitto_sub": _reap(reader), "psql": _reap(writer)}
        elapsed = time.perf_counter() - t0
        used |= cpu.stop()
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM raw_messages").fetchone()
        if reader.returncode != 0 or writer.returncode != 0 or row is None or row[0] != n:
            err = writer.stderr.read().decode() if writer.stderr else ""
            raise RuntimeError(f"raw pipeline failed: {err} rows={row}")
        return n / elapsed, {k: v * 1e6 / n for k, v in used.items()}
    finally:
        forget_sessions(port, [f"raw-{name}"])
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reap(proc: subprocess.Popen[bytes]) -> float:
    """Wait for ``proc``; its user + system CPU seconds (from the kernel's accounting)."""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def _paced_publisher(port: int, rate: int, seconds: float, ready: mp.Event) -> None:  # type: ignore[valid-type]
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"paced-{uuid.uuid4().hex[:6]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.wait()
    start = time.time()
    for i in range(int(rate * seconds)):
        due = start + i / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        station = STATIONS[i % len(STATIONS)]
        now = datetime.now(UTC)
        env = Envelope(
            message_id=uuid.uuid4(),
            tenant=TENANT,
            station=station,
            seq=10_000_000 + i,
            device=BALANCE,
            device_time=now,
            edge_time=now,
            clock="synced",
            payload=Reading(value=1.0, unit="mg", stable=True),
        )
        client.publish(build_topic(TENANT, station, env.kind), encode(env), qos=1)
    time.sleep(1.0)
    client.disconnect()
    client.loop_stop()


def latency(
    kind: str, port: int, workdir: Path, rate: int = 1000, seconds: float = 10.0
) -> tuple[float, float, int]:
    """p50/p99 of edge publish → worker commit, in ms, at a paced rate (worker in this process)."""
    url = fresh_db(kind, workdir)
    samples: list[float] = []

    def on_commit(batch: Batch, _result: object) -> None:
        now = datetime.now(UTC)
        samples.extend((now - m.edge_time).total_seconds() * 1000 for m in batch.messages)

    store = open_store(url)
    settings = Settings(
        database_url=url,
        mqtt_url=f"mqtt://127.0.0.1:{port}",
        ingest_group=f"lat-{uuid.uuid4().hex[:6]}",
        ingest_tenant_filter=TENANT,
        ingest_client_id=f"lat-{uuid.uuid4().hex[:6]}",
    )
    worker = IngestWorker(settings, store, listeners=[on_commit])
    worker.start()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    pub = ctx.Process(target=_paced_publisher, args=(port, rate, seconds, ready))
    pub.start()
    time.sleep(1.0)
    ready.set()
    pub.join()
    deadline = time.time() + 10
    while len(samples) < int(rate * seconds) and time.time() < deadline:
        time.sleep(0.05)
    worker.stop()
    thread.join(10)
    worker.close()
    store.close()
    forget_sessions(port, [settings.ingest_client_id])
    drop_db(url)
    q = statistics.quantiles(samples, n=100)
    return q[49], q[98], len(samples)


def one_round(n: int, nb: int, port: int, workdir: Path) -> dict[str, float]:
    """Every figure once; printed as it comes, returned for the medians."""
    out: dict[str, float] = {}
    raw, raw_cpu = raw_ceiling(n, port)
    out["raw ceiling mosquitto_sub | psql COPY (msg/s)"] = raw
    print(f"  raw ceiling mosquitto_sub | psql COPY : {raw:10,.0f} msg/s", flush=True)
    _cpu_line(out, "raw ceiling", raw_cpu)
    for kind in ("postgres", "sqlite"):
        for workers in (1, 2):
            r, used = drain_rate(kind, workers, 1, n, port, workdir)
            out[f"{kind} {workers} worker(s), single readings (msg/s)"] = r
            out[f"{kind} {workers} worker(s), single readings / raw ceiling (%)"] = 100 * r / raw
            print(
                f"  {kind:8} {workers} worker(s), single readings : {r:10,.0f} msg/s "
                f"({r / raw:5.1%} of raw ceiling)",
                flush=True,
            )
            _cpu_line(out, f"{kind} {workers} worker(s), single readings", used)
        for workers in (1, 2):
            r, used = drain_rate(kind, workers, 100, nb, port, workdir)
            out[f"{kind} {workers} worker(s), 100-reading batches (readings/s)"] = r
            print(
                f"  {kind:8} {workers} worker(s), 100-reading batches: {r:10,.0f} readings/s",
                flush=True,
            )
    for kind in ("postgres", "sqlite"):
        p50, p99, count = latency(kind, port, workdir)
        out[f"{kind} publish -> commit p50 at 1,000 msg/s (ms)"] = p50
        out[f"{kind} publish -> commit p99 at 1,000 msg/s (ms)"] = p99
        print(
            f"  {kind:8} publish → commit latency at 1,000 msg/s: p50 {p50:6.1f} ms, "
            f"p99 {p99:6.1f} ms ({count} messages)",
            flush=True,
        )
    return out


def _cpu_line(out: dict[str, float], path: str, used: dict[str, float]) -> None:
    """Print (and keep for the medians) the CPU µs per message of each process group."""
    for group, us in used.items():
        out[f"{path}: CPU µs per message, {group}"] = us
    parts = ", ".join(f"{group} {us:.1f}" for group, us in used.items())
    print(f"      CPU µs per message: {parts} (total {sum(used.values()):.1f})", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=150_000)
    ap.add_argument("--batches", type=int, default=20_000, help="100-reading batch messages")
    ap.add_argument("--runs", type=int, default=3, help="rounds; medians are printed at the end")
    ap.add_argument("--quick", action="store_true", help="small sizes, one round: a smoke run")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up (finally blocks) on kill
    n, nb, runs = (5_000, 300, 1) if args.quick else (args.messages, args.batches, args.runs)
    workdir = Path(tempfile.mkdtemp(prefix="labcal-bench-"))
    broker, port = start_broker(workdir)
    try:
        print(
            f"ingest bench: {n} single-reading messages, {nb} x 100-reading batches, {runs} "
            f"round(s), {os.cpu_count()} CPUs, private mosquitto :{port}"
        )
        rounds = []
        for i in range(runs):
            print(f"round {i + 1} (load average {os.getloadavg()[0]:.1f})", flush=True)
            rounds.append(one_round(n, nb, port, workdir))
        print(f"medians over {runs} round(s) (load average at the end {os.getloadavg()[0]:.1f}):")
        for key in rounds[0]:
            print(f"  {key}: {statistics.median(r[key] for r in rounds):,.1f}")
    finally:
        broker.terminate()
        try:
            broker.wait(10)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
