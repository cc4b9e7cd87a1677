"""The fault benchmark's records: the ledger each outbox keeps, and what storage holds.

The ledger is an SQLite trigger added to a station's outbox file before its agent starts: every
message is copied into ``bench_ledger`` by the outbox's own insert transaction, so a refused
message is never in it and a committed one always is. :func:`read_verdict` reads the ledgers and
PostgreSQL and hands plain tuples to :func:`faults_count.count`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import psycopg
from faults_count import Counts, count

from labcal_edge.outbox import Outbox

__all__ = [
    "TENANT",
    "ledger_count",
    "outbox_state",
    "prepare_outbox",
    "read_verdict",
    "stored_counts",
]

TENANT = "faults"
LEDGER = """
CREATE TABLE IF NOT EXISTS bench_ledger (
    seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS bench_ledger_in AFTER INSERT ON messages BEGIN
    INSERT INTO bench_ledger VALUES (NEW.seq, NEW.message_id, NEW.topic, NEW.payload);
END;
"""


def prepare_outbox(outbox: Path) -> None:
    """Create the outbox and the ledger trigger before the agent opens it."""
    Outbox(outbox, synchronous="normal").close()
    with sqlite3.connect(outbox) as db:
        db.executescript(LEDGER)


def _ro(outbox: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{outbox}?mode=ro", uri=True, timeout=30)


def ledger_count(outbox: Path) -> int:
    with _ro(outbox) as db:
        return int(db.execute("SELECT count(*) FROM bench_ledger").fetchone()[0])


def outbox_state(outbox: Path) -> tuple[int, int, int]:
    """(messages still in the outbox, refused, dead letters)."""
    with _ro(outbox) as db:
        depth = int(db.execute("SELECT count(*) FROM messages").fetchone()[0])
        refused = int(db.execute("SELECT value FROM counters WHERE name='refused'").fetchone()[0])
        dead = int(db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])
    return depth, refused, dead


def stored_counts(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT station, count(*) FROM messages WHERE tenant=%s AND kind <> 'status' "
            "GROUP BY station",
            (TENANT,),
        ).fetchall()
    return {str(s): int(n) for s, n in rows}


def read_verdict(outboxes: Mapping[str, Path], db_url: str) -> tuple[Counts, Counter[str]]:
    """The counts, and the committed messages by payload type."""
    ledger: list[tuple[str, int, str, bytes]] = []
    kinds: Counter[str] = Counter()
    for station, outbox in outboxes.items():
        with _ro(outbox) as db:
            for seq, mid, _topic, payload in db.execute("SELECT * FROM bench_ledger"):
                ledger.append((station, int(seq), str(mid), hashlib.sha256(payload).digest()))
                kinds[json.loads(payload)["payload"]["type"]] += 1
    with psycopg.connect(db_url) as conn:
        stored = [
            (str(s), int(q), str(m), bytes(d) if d is not None else None, float(t))
            for s, q, m, d, t in conn.execute(
                "SELECT station, seq, message_id::text, digest, extract(epoch FROM received_at) "
                "FROM messages WHERE tenant=%s AND kind <> 'status'",
                (TENANT,),
            )
        ]
        content: Counter[str] = Counter()
        for table in ("readings", "reading_series", "usage_reports", "runs", "device_events"):
            for mid, n in conn.execute(
                f"SELECT message_id::text, count(*) FROM {table} WHERE tenant=%s "
                "GROUP BY message_id",
                (TENANT,),
            ):
                content[str(mid)] += int(n)
    expected = {row[2]: 1 for row in stored}
    return count(ledger, stored, content, expected), kinds
