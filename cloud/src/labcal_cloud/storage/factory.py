"""Open a store from a database URL: ``sqlite:///path/file.sqlite3`` or ``postgresql://...``."""

from __future__ import annotations

from urllib.parse import urlsplit

from labcal_cloud.storage.ports import Store

__all__ = ["open_store", "sqlite_path"]


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///rel/path`` or ``sqlite:////abs/path`` URL; None if not SQLite."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    if not path:
        raise ValueError(f"database URL {url!r} names no file: use sqlite:///path/file.sqlite3")
    return path


def open_store(url: str) -> Store:
    """The store for ``url``; the caller closes it."""
    path = sqlite_path(url)
    if path is not None:
        from labcal_cloud.storage.sqlite_store import SqliteStore

        return SqliteStore(path)
    scheme = urlsplit(url).scheme
    if scheme in ("postgresql", "postgres"):
        from labcal_cloud.storage.postgres_store import PostgresStore

        return PostgresStore(url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///file or postgresql://...")
