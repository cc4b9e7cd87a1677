"""The operational figures, read from the shared database at scrape time.

The ingest and scheduler processes write everything they do to the database (messages,
quarantine, station status, reminder deliveries), so the API process can expose the fleet-wide
figures without a push gateway and however many replicas run: counts are totals since the
database was created, which is what Prometheus counters expect (``rate()`` does the rest).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from labcal_cloud.db.gateway import Database

__all__ = ["StoredFigures", "read_applied_migrations", "read_figures"]


@dataclass(frozen=True, slots=True)
class StoredFigures:
    messages_by_kind: dict[str, int] = field(default_factory=dict)
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    outbox_depth: dict[tuple[str, str], int] = field(default_factory=dict)  # (tenant, station)
    reminders_sent_by_channel: dict[str, int] = field(default_factory=dict)
    reminder_failures_by_outcome: dict[str, int] = field(default_factory=dict)


def reason_code(reason: str) -> str:
    """``"contract: bad payload"`` → ``"contract"`` (the quarantine reason's first word)."""
    head = reason.split(":", 1)[0].strip().split(" ", 1)[0]
    return head or "unknown"


def read_applied_migrations(db: Database) -> set[int]:
    return {int(r[0]) for r in db.query("SELECT version FROM schema_migrations")}


def read_figures(db: Database) -> StoredFigures:
    messages = {
        str(k): int(n) for k, n in db.query("SELECT kind, count(*) FROM messages GROUP BY kind")
    }
    quarantine: Counter[str] = Counter()
    for reason, n in db.query("SELECT reason, count(*) FROM quarantine GROUP BY reason"):
        quarantine[reason_code(str(reason))] += int(n)
    depth: dict[tuple[str, str], int] = {}
    rows = db.query(
        "SELECT m.tenant, m.station, m.payload_json FROM messages m"
        " WHERE m.payload_type = 'station_status' AND m.seq = (SELECT max(x.seq) FROM messages x"
        " WHERE x.station = m.station AND x.payload_type = 'station_status')"
    )
    for tenant, station, payload in rows:
        try:  # text on SQLite, already decoded (jsonb) on PostgreSQL
            doc = json.loads(payload) if isinstance(payload, str | bytes) else payload
            depth[(str(tenant), str(station))] = int(doc.get("outbox_depth", 0))
        except (TypeError, ValueError, AttributeError):
            continue
    sent = {
        str(ch): int(n)
        for ch, n in db.query(
            "SELECT s.channel, count(*) FROM reminder_delivery d"
            " JOIN reminder_step s ON s.id = d.step_id WHERE d.outcome = 'sent' GROUP BY s.channel"
        )
    }
    failures = {
        str(o): int(n)
        for o, n in db.query(
            "SELECT outcome, count(*) FROM reminder_delivery"
            " WHERE outcome <> 'sent' GROUP BY outcome"
        )
    }
    return StoredFigures(messages, dict(quarantine), depth, sent, failures)
