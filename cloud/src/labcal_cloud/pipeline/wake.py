"""How the pipeline learns that another process committed something (shell).

- PostgreSQL: ``LISTEN labcal_pipeline``; ingest notifies in the transaction that stores runs,
  usage or events, so the notification arrives at commit and never for a rolled-back batch.
- SQLite: ``PRAGMA data_version`` of a connection of its own changes whenever another
  connection (ingest, the API) commits; it is read every ``poll_s``.

``wait(timeout)`` returns True when woken, False on time-out; neither loses a wake-up that
arrived between two waits.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any, Protocol

from labcal_cloud.storage.postgres_store import PIPELINE_CHANNEL

__all__ = ["PostgresWake", "SqliteWake", "Wake", "wake_for"]


class Wake(Protocol):
    def wait(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


class PostgresWake:
    def __init__(self, url: str, channel: str = PIPELINE_CHANNEL) -> None:
        import psycopg

        self._conn: Any = psycopg.connect(url, autocommit=True)
        self._conn.execute(f"LISTEN {channel}")

    def wait(self, timeout: float) -> bool:
        woken = False
        for _ in self._conn.notifies(timeout=max(timeout, 0.001), stop_after=1):
            woken = True
        if woken:  # drain what arrived meanwhile: one pass serves them all
            for _ in self._conn.notifies(timeout=0.001):
                pass
        return woken

    def close(self) -> None:
        self._conn.close()


class SqliteWake:
    def __init__(self, path: str, poll_s: float = 0.25) -> None:
        self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._poll_s = poll_s
        self._seen = self._version()

    def _version(self) -> int:
        row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            version = self._version()
            if version != self._seen:
                self._seen = version
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self._poll_s, left))

    def close(self) -> None:
        self._conn.close()


def wake_for(url: str) -> Wake:
    """The wake-up source for a database URL (``sqlite:///…`` or ``postgresql://…``)."""
    if url.startswith("sqlite:///"):
        return SqliteWake(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresWake(url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://")
