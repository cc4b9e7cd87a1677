"""A tiny SQL gateway over SQLite (``sqlite3``) or PostgreSQL (psycopg 3 with a connection pool).

The portal's repositories write portable SQL with ``?`` placeholders; this module translates
them for psycopg and offers ``transaction()`` (nested blocks join the outer one). SQLite uses one
connection under a lock; PostgreSQL a small pool, one connection per request thread, so requests
run in parallel on the server and a connection the server dropped is replaced. It is the only
portal module that imports a database driver.
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
    def __init__(self, *, dialect: str, conn: Any = None, pool: Any = None) -> None:
        self.dialect = dialect
        self._conn = conn  # SQLite
        self._pool = pool  # PostgreSQL
        self._lock = threading.RLock()
        self._local = threading.local()

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

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.transaction():
            self._cursor_conn().execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.transaction():
            cur = self._cursor_conn().cursor()
            cur.executemany(self._sql(sql), [tuple(r) for r in rows])

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
            name="labcal-portal",
        )
        return Database(dialect="postgresql", pool=pool)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://")
