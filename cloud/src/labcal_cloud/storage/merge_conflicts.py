"""Conflicts on PostgreSQL: the messages a batch holds with other content than the database
(see ``storage.rows``), found after the merge and quarantined in the batch's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg

from labcal_cloud.storage.rows import Batch, conflict_reason, conflict_row, is_redelivery

__all__ = ["judge_replays", "quarantine_conflicts", "refused_by_merge"]

# Run after the merge, so the messages it inserted are visible: the staged messages refused
# with other content under their id, or whose (station, seq) another id holds.
_CONFLICTS = (
    b"SELECT s.message_id, o.message_id FROM stage_messages s "
    b"LEFT JOIN messages m ON m.message_id = s.message_id "
    b"LEFT JOIN messages o ON m.message_id IS NULL AND o.station = s.station AND o.seq = s.seq "
    b"WHERE m.message_id IS NULL OR m.digest <> s.digest"
)
_SELECT_DIGESTS = b"SELECT message_id, digest FROM messages WHERE message_id = ANY(%s)"


def refused_by_merge(cur: psycopg.Cursor[Any]) -> list[tuple[UUID, UUID | None]]:
    """The staged messages the merge refused as conflicts: (their id, the id stored under their
    station and seq, or None when their own id is stored with other content)."""
    return [(r[0], r[1]) for r in cur.execute(_CONFLICTS).fetchall()]


def quarantine_conflicts(
    cur: psycopg.Cursor[Any],
    batch: Batch,
    conflicts: Sequence[tuple[UUID, UUID | None]],
    insert_sql: str,
) -> int:
    """Quarantine the refused messages of ``batch``; return the quarantine rows new."""
    if not conflicts:
        return 0
    index = {m.message_id: i for i, m in enumerate(batch.messages)}
    n = 0
    for message_id, stored_as in conflicts:
        i = index[message_id]
        reason = conflict_reason(batch.messages[i], None if stored_as is None else str(stored_as))
        cur.execute(insert_sql, batch.conflict_row(i, reason))
        n += cur.rowcount
    return n


def judge_replays(cur: psycopg.Cursor[Any], batch: Batch, insert_sql: str) -> tuple[int, int]:
    """Compare each of ``batch.replays`` with what is stored under its id, after the batch's
    writes; quarantine those with other content. Return (conflicting copies, rows new)."""
    if not batch.replays:
        return 0, 0
    ids = [m.message_id for m, _ in batch.replays]
    stored = dict(cur.execute(_SELECT_DIGESTS, (ids,)).fetchall())
    copies = n = 0
    for m, source in batch.replays:
        if not is_redelivery(stored.get(m.message_id), m):
            copies += 1
            cur.execute(insert_sql, conflict_row(m, source, conflict_reason(m, None)))
            n += cur.rowcount
    return copies, n
