"""Versioned migrations: discovery and ordering (pure), applied by each backend's adapter.

A migration is a file in ``<package>/<backend>/`` of one of the packages listed in
:data:`MIGRATION_PACKAGES` (``backend`` is ``sqlite`` or ``postgres``):

- ``NNNN_name.sql``: SQL statements, applied as one script in one transaction;
- ``mNNNN_name.py``: a module with ``statements(features: Features) -> list[str]``, for SQL that
  depends on what the server offers (TimescaleDB or plain PostgreSQL).

``NNNN`` is the version, unique across all packages and inside the range its package owns:
0001-0099 ingest/storage, 0100-0199 engine, 0200-0299 portal. To add your own migrations, create
``labcal_cloud/<yours>/migrations/{sqlite,postgres}/`` (with an ``__init__.py`` in each folder
holding a ``.py`` migration), append your package to :data:`MIGRATION_PACKAGES` and its range to
:data:`VERSION_RANGES`. Applied versions are recorded in ``schema_migrations``; a version is never
applied twice and never edited once released: add a new one instead.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from labcal_cloud.storage.errors import MigrationError

__all__ = [
    "MIGRATION_PACKAGES",
    "VERSION_RANGES",
    "Backend",
    "Features",
    "Migration",
    "discover",
    "order_migrations",
    "pending",
]

Backend = Literal["sqlite", "postgres"]

MIGRATION_PACKAGES: list[str] = [
    "labcal_cloud.storage.migrations",
    "labcal_cloud.engine.migrations",
    "labcal_cloud.portal.migrations",
]
"""Packages holding ``sqlite/`` and ``postgres/`` migration folders, in any order."""

VERSION_RANGES: dict[str, range] = {
    "labcal_cloud.storage.migrations": range(1, 100),
    "labcal_cloud.engine.migrations": range(100, 200),
    "labcal_cloud.portal.migrations": range(200, 300),
}
"""The versions each package may use, so teams never collide."""

_NAME = re.compile(r"^(?P<py>m)?(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.(?P<ext>sql|py)$")


@dataclass(frozen=True, slots=True)
class Features:
    """What the database server offers, for migrations whose SQL depends on it."""

    timescaledb: bool = False


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    package: str
    render: Callable[[Features], list[str]]

    def statements(self, features: Features) -> list[str]:
        return self.render(features)


def parse_name(filename: str) -> tuple[int, str, str] | None:
    """``(version, name, ext)`` of a migration file name, or None if it is not one."""
    m = _NAME.match(filename)
    if m is None:
        return None
    if (m["ext"] == "py") != (m["py"] is not None):
        raise MigrationError(
            f"migration {filename!r}: SQL files are 'NNNN_name.sql', Python ones 'mNNNN_name.py'"
        )
    return int(m["version"]), m["name"], m["ext"]


def order_migrations(found: Iterable[Migration], ranges: dict[str, range]) -> list[Migration]:
    """Sort by version; refuse duplicates and versions outside their package's range."""
    by_version: dict[int, Migration] = {}
    for mig in found:
        allowed = ranges.get(mig.package)
        if allowed is not None and mig.version not in allowed:
            raise MigrationError(
                f"migration {mig.version:04d}_{mig.name} of {mig.package} is outside its range "
                f"{allowed.start:04d}-{allowed.stop - 1:04d}"
            )
        if mig.version in by_version:
            other = by_version[mig.version]
            raise MigrationError(
                f"migration version {mig.version:04d} is used twice: {other.package}.{other.name} "
                f"and {mig.package}.{mig.name}"
            )
        by_version[mig.version] = mig
    return [by_version[v] for v in sorted(by_version)]


def pending(migrations: list[Migration], applied: set[int]) -> list[Migration]:
    """The migrations not yet applied, in order."""
    return [m for m in migrations if m.version not in applied]


def _sql_renderer(text: str) -> Callable[[Features], list[str]]:
    def render(_: Features) -> list[str]:
        return [text]

    return render


def discover(backend: Backend, packages: Iterable[str] | None = None) -> list[Migration]:
    """Every migration of ``backend`` in ``packages`` (default :data:`MIGRATION_PACKAGES`)."""
    found: list[Migration] = []
    for package in packages if packages is not None else MIGRATION_PACKAGES:
        try:
            folder = resources.files(package).joinpath(backend)
        except ModuleNotFoundError as exc:
            raise MigrationError(f"migration package {package!r} not found: {exc}") from None
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            parsed = parse_name(entry.name)
            if parsed is None:
                continue
            version, name, ext = parsed
            if ext == "sql":
                render = _sql_renderer(entry.read_text(encoding="utf-8"))
            else:
                module = importlib.import_module(f"{package}.{backend}.{entry.name[:-3]}")
                render = module.statements
            found.append(Migration(version, name, package, render))
    return order_migrations(found, VERSION_RANGES)
