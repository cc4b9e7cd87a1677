"""The last counters reported per pipette, kept beside the outbox (same SQLite file), so a service
reset or a rollover that happened while the agent was stopped is still recognised."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

__all__ = ["UsageStore"]


class UsageStore:
    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS usage_reported ("
            "serial TEXT PRIMARY KEY, total INTEGER NOT NULL, since_service INTEGER NOT NULL)"
        )
        self._lock = threading.Lock()

    def get(self, serial: str) -> tuple[int, int] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT total, since_service FROM usage_reported WHERE serial=?", (serial,)
            ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def put(self, serial: str, total: int, since_service: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO usage_reported VALUES (?, ?, ?) ON CONFLICT(serial) DO UPDATE SET "
                "total=excluded.total, since_service=excluded.since_service",
                (serial, total, since_service),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
