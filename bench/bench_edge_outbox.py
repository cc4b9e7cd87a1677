"""Edge outbox figures: write throughput and backlog drain rate to a local Mosquitto.

Run: .venv/bin/python bench/bench_edge_outbox.py [--messages 20000] [--runs 3]
Starts a private Mosquitto on a free port (never touches the machine's broker) and prints the
median over the runs.
"""

from __future__ import annotations

import argparse
import getpass
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from labcal_edge.config import MqttConfig
from labcal_edge.emitter import Emitter, Outgoing
from labcal_edge.messages import StationIdentity
from labcal_edge.ntp import FixedProbe
from labcal_edge.outbox import Outbox
from labcal_edge.publisher import Publisher
from labcal_shared.contracts import DeviceRef, DeviceType, MassUnit, Reading

BALANCE = DeviceRef(type=DeviceType.BALANCE, make="MT", model="XS205", serial="B1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n")
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def emitter_for(path: Path, synchronous: str = "full") -> Emitter:
    outbox = Outbox(path, synchronous=synchronous)
    return Emitter(StationIdentity("bench", "st1"), outbox, FixedProbe(True))


def reading(i: int) -> Outgoing:
    return Outgoing(
        Reading(value=float(i), unit=MassUnit.G, stable=True),
        BALANCE,
        datetime.now(UTC),
    )


def bench_writes(tmp: Path, n: int, batch: int, synchronous: str) -> float:
    em = emitter_for(tmp / f"w-{uuid.uuid4().hex}.sqlite3", synchronous)
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        em.emit_many([reading(i) for i in range(start, min(n, start + batch))])
    rate = n / (time.perf_counter() - t0)
    em.outbox.close()
    return rate


def bench_drain(tmp: Path, n: int, port: int) -> float:
    em = emitter_for(tmp / f"d-{uuid.uuid4().hex}.sqlite3", "normal")
    for start in range(0, n, 1000):
        em.emit_many([reading(i) for i in range(start, min(n, start + 1000))])
    pub = Publisher(MqttConfig(port=port), f"bench-{uuid.uuid4().hex[:6]}", em.outbox)
    stop = threading.Event()
    thread = threading.Thread(target=pub.run, args=(stop,))
    t0 = time.perf_counter()
    thread.start()
    while em.outbox.depth > 0:
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    stop.set()
    thread.join()
    em.outbox.close()
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for label, nwrite, batch, sync in (
            ("outbox write, 1 msg/transaction, synchronous=FULL", 2000, 1, "full"),
            ("outbox write, 1 msg/transaction, synchronous=NORMAL", 2000, 1, "normal"),
            ("outbox write, 100 msg/transaction, synchronous=FULL", args.messages, 100, "full"),
        ):
            rates = [bench_writes(tmp, nwrite, batch, sync) for _ in range(args.runs)]
            print(f"{label}: {statistics.median(rates):,.0f} msg/s (median of {args.runs})")
        proc, port = start_broker(tmp)
        try:
            rates = [bench_drain(tmp, args.messages, port) for _ in range(args.runs)]
        finally:
            proc.terminate()
            proc.wait()
        print(
            f"backlog drain of {args.messages:,} messages to local Mosquitto (QoS 1): "
            f"{statistics.median(rates):,.0f} msg/s (median of {args.runs})"
        )


if __name__ == "__main__":
    main()
