"""Ingest memory with a large backlog waiting on the broker: peak RSS of one worker and drain time.

Run: .venv/bin/python bench/bench_ingest_backlog_rss.py [--messages 1000000 ...] [--sqlite]

For each backlog size: a private Mosquitto (free port, in-memory) whose ``max_queued_messages``
is raised above the backlog (the default of 1000 per client would drop the rest, even at QoS 1;
``deploy/mosquitto/mosquitto.conf`` sets 1,000,000); the worker's persistent session is created
and left offline; the backlog (single readings, 10 stations) is published to it; then one
``labcal-cloud ingest`` process starts, and its RSS (``VmRSS`` in ``/proc/<pid>/status``) is
sampled every 0.1 s until every message is committed (a fresh PostgreSQL database, DATABASE_URL,
default the machine's; or SQLite with ``--sqlite``). It prints the RSS when the worker has
subscribed, the peak while draining, the drain time, and checks that every message was stored.

What bounds the worker's memory: the broker sends at most the worker's Receive Maximum
(``LABCAL_INGEST_RECEIVE_MAXIMUM``) unacknowledged messages, and a batch holds at most
``--max-batch`` messages / ``--max-batch-bytes`` of payload; the rest of the backlog stays in the
broker.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench_ingest import (
    ADMIN_URL,
    drop_db,
    envelopes,
    forget_sessions,
    fresh_db,
    launch_worker,
    publish_all,
    spawn_worker,
    stop,
)

from labcal_cloud.storage import open_store

CHUNK = 50_000  # messages built and published at a time (1,000,000 at once would be ~400 MB here)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(workdir: Path, queued: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = workdir / "mosquitto.conf"
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "persistence false",
        "max_inflight_messages 10000",
        f"max_queued_messages {queued}",
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


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_size(n: int, kind: str, workdir: Path) -> dict[str, float]:
    broker, port = start_broker(workdir, queued=max(1_000_000, n + n // 10))
    url = fresh_db(kind, workdir)
    group = f"rss-{uuid.uuid4().hex[:6]}"
    cid = f"w-{group}"
    try:
        stop(spawn_worker(url, port, cid, group))  # the persistent session, then offline
        t0 = time.perf_counter()
        for start in range(0, n, CHUNK):
            publish_all(port, envelopes(min(CHUNK, n - start), 1, seq0=start))
        published_s = time.perf_counter() - t0
        broker_rss = rss_kib(broker.pid)
        started = time.perf_counter()
        proc = launch_worker(url, port, cid, group)
        assert proc.stdout is not None
        if "subscribed" not in proc.stdout.readline():
            raise RuntimeError("worker did not start")
        subscribed_rss = rss_kib(proc.pid)
        peak = subscribed_rss
        store = open_store(url)
        last_count = 0.0
        stored = 0
        try:
            while stored < n:
                peak = max(peak, rss_kib(proc.pid))
                now = time.perf_counter()
                if now - last_count >= 1.0:
                    stored = store.count("messages")
                    last_count = now
                if proc.poll() is not None:
                    raise RuntimeError(f"worker exited with {proc.returncode}")
                time.sleep(0.1)
            drain_s = time.perf_counter() - started
            final = rss_kib(proc.pid)
        finally:
            store.close()
            stop(proc)
        check = open_store(url)
        try:
            assert check.count("messages") == n, "messages lost or doubled"
            assert check.count("readings") == n
        finally:
            check.close()
        return {
            "n": n,
            "publish_s": published_s,
            "broker_mib": broker_rss / 1024,
            "subscribed_mib": subscribed_rss / 1024,
            "peak_mib": peak / 1024,
            "final_mib": final / 1024,
            "drain_s": drain_s,
        }
    finally:
        forget_sessions(port, [cid])
        drop_db(url)
        broker.terminate()
        broker.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = ap.parse_args()
    kind = "sqlite" if args.sqlite else "postgres"
    print(f"backend {kind} ({'file' if args.sqlite else ADMIN_URL}), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="labcal-rss-") as tmp:
        for n in args.messages:
            r = one_size(n, kind, Path(tmp))
            print(
                f"backlog {n:,} messages: published in {r['publish_s']:.1f} s "
                f"(broker RSS {r['broker_mib']:.0f} MiB); worker RSS subscribed "
                f"{r['subscribed_mib']:.0f} MiB, peak {r['peak_mib']:.0f} MiB, at the end "
                f"{r['final_mib']:.0f} MiB; drained in {r['drain_s']:.1f} s "
                f"({n / r['drain_s']:,.0f} msg/s); every message stored once",
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
