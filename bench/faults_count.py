"""The fault benchmark's verdict: what the edges committed against what storage holds (pure).

Inputs are plain tuples, so the counting is tested on its own (tests/bench/test_faults_count.py):

* the ledger: every message an edge outbox committed, ``(station, seq, message_id, digest)``
  (``digest``: sha256 of the payload as published), from the outbox's own transaction;
* what storage holds: ``(station, seq, message_id, digest, order)`` per ``messages`` row
  (``order``: when it was stored, to see arrival order), and the number of rows per message in
  the tables that hold its content (readings, usage, runs, events): a message id with more than
  its own content rows is doubled too.

Counts: ``lost`` (committed, not stored), ``doubled`` (stored more than once: a second row under
one id, one station and seq under two ids, or extra content rows), ``changed`` (stored under its
id with another digest), ``unexpected`` (stored, never committed by an edge; station status is
published without the outbox and is left out), ``reordered`` (stored after a message of the same
station with a higher seq).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

__all__ = ["Counts", "LedgerRow", "StoredRow", "count"]

LedgerRow = tuple[str, int, str, bytes]  # station, seq, message id, digest
StoredRow = tuple[str, int, str, bytes | None, float]  # station, seq, message id, digest, order


@dataclass(frozen=True, slots=True)
class Counts:
    committed: int
    stored: int
    lost: int
    doubled: int
    changed: int
    unexpected: int
    reordered: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def count(
    ledger: Iterable[LedgerRow],
    stored: Iterable[StoredRow],
    content_rows: Mapping[str, int] | None = None,
    expected_content: Mapping[str, int] | None = None,
) -> Counts:
    """Compare; ``content_rows[id]`` is how many content rows storage holds for a message and
    ``expected_content[id]`` how many it should (1, or a batch's values); ids missing from
    ``expected_content`` are not checked."""
    committed: dict[str, tuple[str, int, bytes]] = {}
    for station, seq, mid, digest in ledger:
        committed[mid] = (station, seq, digest)
    rows = list(stored)
    per_id = Counter(r[2] for r in rows)
    doubled = sum(n - 1 for n in per_id.values() if n > 1)
    per_seq = Counter((r[0], r[1]) for r in rows)
    doubled += sum(n - 1 for n in per_seq.values() if n > 1)
    if content_rows is not None and expected_content is not None:
        for mid, want in expected_content.items():
            got = content_rows.get(mid, 0)
            if got > want:
                doubled += got - want
    seen: dict[str, tuple[bytes | None, str]] = {r[2]: (r[3], r[0]) for r in rows}
    lost = sum(1 for mid in committed if mid not in seen)
    changed = sum(
        1 for mid, (_, _, digest) in committed.items() if mid in seen and seen[mid][0] != digest
    )
    unexpected = sum(1 for mid in per_id if mid not in committed)
    return Counts(
        committed=len(committed),
        stored=len(per_id),
        lost=lost,
        doubled=doubled,
        changed=changed,
        unexpected=unexpected,
        reordered=reordered(rows),
    )


def reordered(rows: Iterable[StoredRow]) -> int:
    """Messages stored after a message of the same station with a higher seq."""
    top: dict[str, int] = {}
    late = 0
    for station, seq, _mid, _digest, _order in sorted(rows, key=lambda r: (r[4], r[0], r[1])):
        if seq < top.get(station, -1):
            late += 1
        else:
            top[station] = seq
    return late
