"""A tiny SQL gateway over SQLite (``sqlite3``) or PostgreSQL (psycopg 3).

The portal's repositories write portable SQL with ``?`` placeholders; this module translates
them for psycopg, serialises access to the one connection with a lock and offers a
``transaction()`` context. It is the only portal module that imports a database driver.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["Database", "Row", "connect"]

Row = tuple[Any, ...]


class Database:
    """One connection, used under a lock; every statement runs inside a transaction."""

    def __init__(self, conn: Any, *, dialect: str, url: str = "") -> None:
        self._conn = conn
        self.dialect = dialect
        self._url = url
        self._lock = threading.RLock()
        self._depth = 0

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Run the block in one transaction (nested blocks join the outer one)."""
        with self._lock:
            if self._depth == 0 and self.dialect == "postgresql" and self._conn.closed:
                self._reconnect()  # the server dropped us (restart, failover): start afresh
            self._depth += 1
            try:
                yield self
            except BaseException:
                if self._depth == 1 and not getattr(self._conn, "closed", False):
                    self._conn.rollback()
                raise
            else:
                if self._depth == 1:
                    self._conn.commit()
            finally:
                self._depth -= 1

    def _reconnect(self) -> None:
        import psycopg

        self._conn = psycopg.connect(self._url)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.transaction():
            self._conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.transaction():
            cur = self._conn.cursor()
            cur.executemany(self._sql(sql), [tuple(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction():
            cur = self._conn.execute(self._sql(sql), tuple(params))
            return [tuple(r) for r in cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def script(self, sql: str) -> None:
        """Run several ``;``-separated statements (migrations)."""
        with self.transaction():
            for statement in (s.strip() for s in sql.split(";")):
                if statement:
                    self._conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def connect(url: str) -> Database:
    """Open ``sqlite:///path`` (``sqlite:////abs``, ``sqlite:///:memory:``) or ``postgresql://…``."""
    if url.startswith("sqlite:"):
        if not url.startswith("sqlite:///"):
            raise ValueError(
                f"SQLite URLs look like sqlite:///relative.db or sqlite:////abs.db: {url!r}"
            )
        path = url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.isolation_level = "DEFERRED"
        return Database(conn, dialect="sqlite")
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg

        return Database(psycopg.connect(url), dialect="postgresql", url=url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://")
