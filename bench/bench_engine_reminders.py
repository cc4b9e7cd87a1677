"""Reminders per second delivered to a local SMTP server (aiosmtpd in its own process,
discarding messages), through the real scheduler path: PostgreSQL claim (FOR UPDATE SKIP
LOCKED) → SMTP → mark sent + delivery log.

Run: .venv/bin/python bench/bench_engine_reminders.py [--steps N] [--repeats R] [--workers W]
Needs PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres);
creates and drops its own database. Prints the median reminders/s over R runs.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg

from labcal_cloud.db.gateway import connect
from labcal_cloud.notify.steps import NewStep
from labcal_cloud.scheduler.channels import EmailSender
from labcal_cloud.scheduler.ports import Sender
from labcal_cloud.scheduler.reminder_store import SqlReminderStore
from labcal_cloud.scheduler.runner import run_pass
from labcal_cloud.storage.factory import open_store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _now() -> datetime:
    return datetime.now(UTC)


def one_run(admin_url: str, steps: int, workers: int, port: int) -> float:
    name = f"labcal_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    try:
        store = open_store(url)
        store.migrate()
        store.close()
        seed_db = connect(url)
        seed = SqlReminderStore(seed_db)
        at = _now() - timedelta(minutes=1)
        seed.enqueue(
            [
                NewStep(
                    "t",
                    "due",
                    f"d{i}",
                    "initial",
                    f"u{i}",
                    "email",
                    f"u{i}@x.test",
                    "Calibration due",
                    "due in 30 days",
                    at,
                )
                for i in range(steps)
            ]
        )
        seed_db.close()

        def work(worker: str) -> None:
            db = connect(url, pool_size=1)  # one connection per worker, as before
            s = SqlReminderStore(db)
            email = EmailSender("127.0.0.1", port, "b@x.test", _now)
            senders: dict[str, Sender] = {"email": email}
            while run_pass(s, senders, worker=worker, now=_now, batch=50).claimed:
                pass
            email.close()
            db.close()

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        with psycopg.connect(url) as conn:
            sent = conn.execute("SELECT count(*) FROM reminder_step WHERE status='sent'").fetchone()
        if sent is None or sent[0] != steps:
            raise SystemExit(f"only {sent} of {steps} steps were sent")
        return steps / elapsed
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    port = free_port()
    # the SMTP server runs in its own process, as a real one would (no shared GIL);
    # the steps' 'sent' status in the database is the count that is checked
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("aiosmtpd did not start") from None
                time.sleep(0.1)
        rates = [one_run(admin, args.steps, args.workers, port) for _ in range(args.repeats)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"reminders to a local SMTP server (aiosmtpd), {args.steps} steps, {args.workers} workers"
    )
    print(f"  median {statistics.median(rates):,.0f} reminders/s over {args.repeats} runs")


if __name__ == "__main__":
    main()
