"""Tolerance tables a provider loads, and which one judges a device's runs — on SQLite or
PostgreSQL (tables ``tolerance_table``, ``tolerance_assignment``; migration 0106).

A (name, version) is loaded once: loading the same file again is a no-op, a different content
under the same name and version is refused (a new version is a new table). Which table judges a
run: the device's assignment, else its tenant's, else a loaded table named like the run's MPE
edition (its latest loaded version), else none (the shipped edition; an edition LabCal does not
ship is refused by the core with a clear message). Assigning a table changes how *new* runs are
judged; a stored record changes only through a correction record that supersedes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.errors import RecordRejectedError
from labcal_shared.iso8655.tolerance import ToleranceTable, parse_tolerance_table

__all__ = ["LoadResult", "SqlToleranceTables"]


@dataclass(frozen=True, slots=True)
class LoadResult:
    table: ToleranceTable
    new: bool  # False: the same table was loaded before


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class SqlToleranceTables:
    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self, data: Any, at: datetime) -> LoadResult:
        """Validate (``ToleranceTableError`` says where and why) and store a decoded file."""
        table = parse_tolerance_table(data)
        body = _canonical(data)
        digest = hashlib.sha256(body.encode()).hexdigest()
        with self._db.transaction():
            row = self._db.one(
                "SELECT sha256 FROM tolerance_table WHERE name = ? AND version = ?",
                (table.name, table.version),
            )
            if row is not None:
                if str(row[0]) != digest:
                    raise RecordRejectedError(
                        f"tolerance table {table.label} is already loaded with other content; "
                        "a changed table needs a new version"
                    )
                return LoadResult(table, new=False)
            self._db.execute(
                "INSERT INTO tolerance_table (name, version, kind, source, body_json, sha256,"
                " loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    table.name,
                    table.version,
                    table.kind,
                    table.source,
                    body,
                    digest,
                    self._db.at(at),
                ),
            )
        return LoadResult(table, new=True)

    def get(self, name: str, version: str) -> ToleranceTable:
        row = self._db.one(
            "SELECT body_json FROM tolerance_table WHERE name = ? AND version = ?", (name, version)
        )
        if row is None:
            raise RecordRejectedError(f"no tolerance table {name} ({version}) is loaded")
        return parse_tolerance_table(json.loads(str(row[0])))

    def tables(self) -> list[tuple[str, str, str, datetime]]:
        """(name, version, kind, loaded at) of every loaded table."""
        out = []
        for name, version, kind, at in self._db.query(
            "SELECT name, version, kind, loaded_at FROM tolerance_table ORDER BY name, loaded_at"
        ):
            when = Database.read_at(at)
            assert when is not None
            out.append((str(name), str(version), str(kind), when))
        return out

    def assign(
        self, tenant: str, name: str, version: str, at: datetime, *, device_serial: str = ""
    ) -> ToleranceTable:
        table = self.get(name, version)
        self._db.execute(
            """INSERT INTO tolerance_assignment (tenant, device_serial, name, version, updated_at)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, device_serial)
               DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version,
                   updated_at = EXCLUDED.updated_at""",
            (tenant, device_serial, name, version, self._db.at(at)),
        )
        return table

    def table_for(self, tenant: str, serial: str, edition: str) -> ToleranceTable | None:
        """The table that judges this device's run of ``edition`` (None: the shipped one)."""
        rows = self._db.query(
            "SELECT device_serial, name, version FROM tolerance_assignment WHERE tenant = ?"
            " AND device_serial IN (?, '')",
            (tenant, serial),
        )
        found = {str(s): (str(n), str(v)) for s, n, v in rows}
        chosen = found.get(serial) or found.get("")
        if chosen is not None:
            return self.get(*chosen)
        latest = self._db.one(
            "SELECT version FROM tolerance_table WHERE name = ? ORDER BY loaded_at DESC LIMIT 1",
            (edition,),
        )
        return None if latest is None else self.get(edition, str(latest[0]))
