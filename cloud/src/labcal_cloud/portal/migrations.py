"""Apply the portal's versioned migrations (``migrations/0200-0299_*.sql``) once each, in order."""

from __future__ import annotations

from importlib import resources

from labcal_cloud.portal.database import Database

__all__ = ["apply_migrations", "migration_files"]


def migration_files() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` of every shipped portal migration, sorted by version."""
    folder = resources.files("labcal_cloud.portal") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            if not 200 <= version <= 299:
                raise ValueError(f"portal migration {entry.name} is outside the 0200-0299 range")
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(db: Database) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS portal_schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
    )
    done = {row[0] for row in db.query("SELECT version FROM portal_schema_migrations")}
    applied = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        with db.transaction():
            db.script(sql)
            db.execute(
                "INSERT INTO portal_schema_migrations (version, name) VALUES (?, ?)",
                (version, name),
            )
        applied.append(name)
    return applied
