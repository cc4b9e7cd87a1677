"""``labcal-cloud migrate``: apply pending migrations to the configured database."""

from __future__ import annotations

import argparse
from typing import Any

from labcal_cloud.settings import Settings
from labcal_cloud.storage.errors import StorageError
from labcal_cloud.storage.factory import open_store

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "migrate", help="apply pending database migrations"
    )
    p.set_defaults(handler=migrate)


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.database_url)
    try:
        applied = store.migrate()
    except StorageError as exc:
        print(f"migrate: {exc}")
        return 1
    finally:
        store.close()
    for name in applied:
        print(f"applied {name}")
    print(f"database is up to date ({len(applied)} applied)")
    return 0
