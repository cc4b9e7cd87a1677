"""The SQL gateway over SQLite (``sqlite3``) or PostgreSQL (psycopg 3 with a connection pool).

Every store of the cloud (registry, certificates, engine records and due states, reminders,
webhooks, bookings…) writes portable SQL with ``?`` placeholders through :class:`Database`; it
translates them for psycopg and offers ``transaction()`` (nested blocks join the outer one), so a
unit of work (a record and its event) commits together. ``execute`` returns the row count and
``query`` reads ``RETURNING`` rows on both backends. The dialect hooks are small: ``skip_locked``
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, nothing on SQLite, whose single writer lock already
serialises claims), :meth:`Database.at` / :meth:`Database.read_at` for ``TIMESTAMPTZ`` columns
(fixed-width UTC text on SQLite, so text order is time order) and :func:`placeholders`.

SQLite uses one connection under a lock; PostgreSQL a small pool, one connection per thread, so
requests run in parallel on the server and a connection the server dropped is replaced.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

__all__ = ["Database", "Row", "connect", "placeholders", "utc_text"]

Row = tuple[Any, ...]


def utc_text(at: datetime) -> str:
    """``2026-11-23T22:50:00.000000+00:00`` (always the same width, so text order = time order)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def placeholders(n: int) -> str:
    """``?, ?, ?`` for an ``IN (…)`` list of ``n`` values (at least one)."""
    if n < 1:
        raise ValueError("an IN list needs at least one value")
    return ", ".join("?" * n)


class Database:
    def __init__(self, *, dialect: str, conn: Any = None, pool: Any = None) -> None:
        self.dialect = dialect
        self._conn = conn  # SQLite
        self._pool = pool  # PostgreSQL
        self._lock = threading.RLock()
        self._local = threading.local()
        self.skip_locked = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
        """Appended to a claim's inner ``SELECT`` (PostgreSQL); SQLite's writer lock suffices."""

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def at(self, value: datetime | None) -> datetime | str | None:
        """A ``TIMESTAMPTZ`` parameter: the datetime on PostgreSQL, fixed-width UTC text on
        SQLite (naive datetimes are taken as UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value if self.is_postgres else utc_text(value)

    @staticmethod
    def read_at(value: object) -> datetime | None:
        """A ``TIMESTAMPTZ`` column as an aware datetime (SQLite gives ISO text)."""
        if value is None:
            return None
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Run the block in one transaction (nested blocks join the outer one)."""
        if getattr(self._local, "conn", None) is not None:
            yield self  # nested: part of the outer transaction
            return
        if self._pool is not None:
            with self._pool.connection() as conn:  # commit, or roll back on an exception
                self._local.conn = conn
                try:
                    yield self
                finally:
                    self._local.conn = None
            return
        with self._lock:
            self._local.conn = self._conn
            try:
                yield self
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()
            finally:
                self._local.conn = None

    def _cursor_conn(self) -> Any:
        return self._local.conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the number of rows it changed (-1 when not known)."""
        with self.transaction():
            cur = self._cursor_conn().execute(self._sql(sql), tuple(params))
            return int(cur.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run one statement per row; returns the rows changed in all (-1 when not known)."""
        with self.transaction():
            cur = self._cursor_conn().cursor()
            cur.executemany(self._sql(sql), [tuple(r) for r in rows])
            return int(cur.rowcount)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction():
            cur = self._cursor_conn().execute(self._sql(sql), tuple(params))
            return [tuple(r) for r in cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        else:
            with self._lock:
                self._conn.close()


def connect(url: str, pool_size: int = 8) -> Database:
    """Open ``sqlite:///path`` (``sqlite:////abs``, ``sqlite:///:memory:``) or ``postgresql://…``."""
    if url.startswith("sqlite:"):
        if not url.startswith("sqlite:///"):
            raise ValueError(
                f"SQLite URLs look like sqlite:///relative.db or sqlite:////abs.db: {url!r}"
            )
        conn = sqlite3.connect(
            url.removeprefix("sqlite:///"),
            check_same_thread=False,
            isolation_level=None,
            timeout=30,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.isolation_level = "DEFERRED"
        return Database(dialect="sqlite", conn=conn)
    if url.startswith(("postgresql://", "postgres://")):
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=True,
            check=ConnectionPool.check_connection,
            name="labcal-db",
        )
        return Database(dialect="postgresql", pool=pool)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://")
