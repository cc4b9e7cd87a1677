"""The durable outbox: every message is committed to SQLite (WAL) before it is published and
leaves only after the broker's PUBACK.

* Per-station sequence numbers are assigned here, in the same transaction as the insert, and the
  counter is persisted, so they never repeat across restarts, kill -9 or power loss.
* With ``synchronous=full`` (the default) a committed append survives power loss; acknowledgements
  may be lost instead, which only causes a harmless resend (the message id shows the duplicate).
* Bounded: at ``capacity`` the configured :class:`~labcal_edge.config.FullPolicy` applies, and
  every drop or refusal is counted, logged and passed to the ``on_alert`` callback: no silent loss.
* Full — the capacity reached (``block`` timed out, or ``refuse``) or the disk refusing writes
  (``SQLITE_FULL``, ``SQLITE_IOERR``): the new message is *refused* with :class:`OutboxFullError`
  (its transaction rolled back, its sequence number not used), committed messages are never
  touched; :attr:`Outbox.refusing` says why (``"capacity"`` / ``"disk"``), :attr:`refused_total`
  counts, and the alert is raised once per episode. The next append that fits ends the episode
  ("accepting again"): after a delivery (capacity) or once disk space is freed.
* Storage receipts (:meth:`confirm`): a station that waits for them deletes a message when the
  cloud says it is stored (by seq and message id), not at the PUBACK.
* A message the broker refuses for good (PUBACK reason code >= 0x80) is moved to a dead-letter
  table with the reason, never retried in a loop and never deleted.

Thread-safe: producers (drivers, workflows) and the publisher share one instance.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from labcal_edge.config import FullPolicy
from labcal_edge.errors import OutboxFullError
from labcal_shared.contracts.receipts import same_id

__all__ = ["Outbox", "OutboxMessage", "StoredMessage"]

log = logging.getLogger(__name__)

#: SQLite's answers when the file system refuses a write (full disk, quota, read-only remount).
_DISK_ERRORS = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR})


def _disk_refused(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _DISK_ERRORS  # extended codes keep the base


_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('next_seq', 0), ('dropped', 0), ('refused', 0);
"""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """What a producer hands in; built once the sequence number is known."""

    message_id: str
    topic: str
    payload: bytes
    retain: bool = False


@dataclass(frozen=True, slots=True)
class StoredMessage:
    seq: int
    message_id: str
    topic: str
    payload: bytes
    retain: bool


Alert = Callable[[str], None]


class Outbox:
    def __init__(
        self,
        path: Path | str,
        *,
        capacity: int = 1_000_000,
        policy: FullPolicy = FullPolicy.BLOCK,
        block_timeout_s: float = 30.0,
        synchronous: str = "full",
        on_alert: Alert | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.capacity = capacity
        self.policy = policy
        self.block_timeout_s = block_timeout_s
        self._on_alert = on_alert
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._space = threading.Condition(self._lock)
        self._depth = self._scalar("SELECT count(*) FROM messages")
        self.refusing: str | None = None  # why new messages are refused now: capacity / disk
        self._episode_refused = 0
        self._refused_unsaved = 0  # refusals counted while the disk refused the counter too
        self._acked_unsaved: set[int] = set()  # acknowledged, deletion not yet on disk
        self._deleted_unsaved = 0

    # -- producers -------------------------------------------------------------------------

    def append(self, build: Callable[[int], OutboxMessage]) -> int:
        """Assign the next sequence number, build the message with it and commit; return seq."""
        return self.append_many([build])[0]

    def append_many(self, builders: Sequence[Callable[[int], OutboxMessage]]) -> list[int]:
        """Like :meth:`append` for several messages in one transaction (all or nothing)."""
        n = len(builders)
        if n > self.capacity:
            raise OutboxFullError(f"{n} messages exceed the outbox capacity {self.capacity}")
        with self._lock:
            self._make_room(n)
            try:
                seqs = self._insert(builders)
            except sqlite3.Error as exc:
                if not _disk_refused(exc):
                    raise
                self._refuse("disk", n, f"the disk refuses writes ({exc})")
            self._depth += n
            if self.refusing is not None:
                self._alert(
                    f"outbox accepting again ({self.refusing} freed) after "
                    f"{self._episode_refused} refused message(s)"
                )
                self.refusing = None
        return seqs

    def _insert(self, builders: Sequence[Callable[[int], OutboxMessage]]) -> list[int]:
        seqs: list[int] = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            seq = self._scalar("SELECT value FROM counters WHERE name='next_seq'")
            rows = []
            for build in builders:
                msg = build(seq)
                rows.append((seq, msg.message_id, msg.topic, msg.payload, int(msg.retain)))
                seqs.append(seq)
                seq += 1
            self._db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", rows)
            self._db.execute("UPDATE counters SET value=? WHERE name='next_seq'", (seq,))
            if self._refused_unsaved:
                self._bump("refused", self._refused_unsaved)
            self._delete_unsaved_acks()
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back by itself (disk full)
                self._db.execute("ROLLBACK")
            raise
        self._refused_unsaved = 0
        self._acked_unsaved_saved()
        return seqs

    def _refuse(self, why: str, n: int, detail: str) -> None:
        """Count ``n`` refused messages, alert once per episode, raise :class:`OutboxFullError`."""
        try:
            self._bump("refused", n)
        except sqlite3.Error:
            self._refused_unsaved += n  # saved with the next append that succeeds
        text = (
            f"outbox full: {detail}; new messages are refused, none stored is dropped "
            f"({self._depth} queued)"
        )
        if self.refusing is None:
            self.refusing = why
            self._episode_refused = 0
            self._alert(text)
        self._episode_refused += n
        raise OutboxFullError(text)

    def reserve_seq(self) -> int:
        """A sequence number for a message that is not stored (station status, Last Will).

        :class:`OutboxFullError` when the disk refuses the write: a number that is not persisted
        could be handed out twice.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                seq = self._scalar("SELECT value FROM counters WHERE name='next_seq'")
                self._db.execute("UPDATE counters SET value=? WHERE name='next_seq'", (seq + 1,))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if not _disk_refused(exc):
                    raise
                detail = f"no sequence number: the disk refuses writes ({exc})"
                raise OutboxFullError(detail) from None
            return seq

    def _make_room(self, n: int) -> None:
        """Called with the lock held: apply the full policy until ``n`` more messages fit."""
        if self._depth + n <= self.capacity:
            return
        self._resync_depth()  # another process (labcal-edge gravimetric) may have changed it
        if self._depth + n <= self.capacity:
            return
        if self.policy is FullPolicy.REFUSE:
            self._refuse("capacity", n, f"{self._depth}/{self.capacity} messages, refused {n}")
        if self.policy is FullPolicy.DROP_OLDEST:
            excess = self._depth + n - self.capacity
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "DELETE FROM messages WHERE seq IN (SELECT seq FROM messages ORDER BY seq LIMIT ?)",
                (excess,),
            )
            self._db.execute("UPDATE counters SET value=value+? WHERE name='dropped'", (excess,))
            self._db.execute("COMMIT")
            self._depth -= excess
            self._alert(
                f"outbox full ({self.capacity}): dropped the {excess} oldest message(s); "
                f"{self.dropped_total} dropped in total"
            )
            return
        self._alert(f"outbox full ({self._depth}/{self.capacity}): producers are blocked")
        deadline = time.monotonic() + self.block_timeout_s
        while self._depth + n > self.capacity:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._refuse(
                    "capacity",
                    n,
                    f"{self._depth}/{self.capacity} messages for {self.block_timeout_s:g} s, "
                    f"refused {n}",
                )
            self._space.wait(remaining)

    # -- publisher ---------------------------------------------------------------------------

    def peek(self, after_seq: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` stored messages with ``seq > after_seq``, oldest first."""
        with self._lock:
            cur = self._db.execute(
                "SELECT seq, message_id, topic, payload, retain FROM messages "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            )
            rows = [StoredMessage(r[0], r[1], r[2], bytes(r[3]), bool(r[4])) for r in cur]
            if self._acked_unsaved:
                rows = [m for m in rows if m.seq not in self._acked_unsaved]
            return rows

    def fetch(self, seqs: Iterable[int]) -> list[StoredMessage]:
        """The messages of ``seqs`` that are still stored, oldest first (to send again)."""
        wanted = [s for s in seqs if s not in self._acked_unsaved]
        out: list[StoredMessage] = []
        with self._lock:
            for i in range(0, len(wanted), 500):
                part = wanted[i : i + 500]
                cur = self._db.execute(
                    "SELECT seq, message_id, topic, payload, retain FROM messages "
                    f"WHERE seq IN ({','.join('?' * len(part))}) ORDER BY seq",
                    part,
                )
                out += [StoredMessage(r[0], r[1], r[2], bytes(r[3]), bool(r[4])) for r in cur]
        return out

    def confirm(self, stored: Iterable[tuple[int, str]]) -> int:
        """A storage receipt: delete the messages whose seq *and* message id it names (like
        :meth:`ack`); return how many were still stored."""
        wanted = dict(stored)
        if not wanted:
            return 0
        with self._lock:
            match = [m.seq for m in self.fetch(wanted) if same_id(wanted[m.seq], m.message_id)]
            return self.ack(match) if match else 0

    def ack(self, seqs: Iterable[int]) -> int:
        """Delete acknowledged messages; return how many were still stored.

        While the disk refuses the deletion (a full disk: WAL pages cannot be written), the
        acknowledgements are kept in memory, the messages are not offered again (:meth:`peek`)
        and they are deleted with the next write that succeeds; after a restart they are
        resent (duplicates with the same message id, never losses).
        """
        with self._lock:
            new = [s for s in seqs if s not in self._acked_unsaved]
            if not new and not self._acked_unsaved:
                return 0
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._delete_unsaved_acks()
                before = self._db.total_changes
                self._db.executemany("DELETE FROM messages WHERE seq=?", [(s,) for s in new])
                removed = self._db.total_changes - before
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if not _disk_refused(exc):
                    raise
                return self._keep_acks(new, exc)
            self._acked_unsaved_saved()
            self._depth -= removed
            if self._depth < 0:  # rows another process appended: count them
                self._resync_depth()
            self._space.notify_all()
            return removed

    def _delete_unsaved_acks(self) -> None:
        """In a transaction: delete the messages acknowledged while the disk refused it."""
        if self._acked_unsaved:
            before = self._db.total_changes
            self._db.executemany(
                "DELETE FROM messages WHERE seq=?", [(s,) for s in self._acked_unsaved]
            )
            self._deleted_unsaved = self._db.total_changes - before

    def _acked_unsaved_saved(self) -> None:
        """After the commit that deleted them: the kept acknowledgements are on disk."""
        if self._acked_unsaved:
            self._depth -= self._deleted_unsaved
            self._acked_unsaved.clear()
            self._deleted_unsaved = 0

    def _keep_acks(self, seqs: list[int], exc: sqlite3.Error) -> int:
        stored = [
            s
            for s in seqs
            if self._db.execute("SELECT 1 FROM messages WHERE seq=?", (s,)).fetchone()
        ]
        if stored and not self._acked_unsaved:
            log.warning("acknowledgements kept in memory until the disk accepts writes: %s", exc)
        self._acked_unsaved.update(stored)
        return len(stored)

    def dead_letter(self, seq: int, reason: str) -> None:
        """Move a message the broker refused for good out of the queue, keeping it and why."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.execute(
                "INSERT INTO dead_letters SELECT seq, message_id, topic, payload, ? "
                "FROM messages WHERE seq=?",
                (reason, seq),
            )
            moved = cur.rowcount
            self._db.execute("DELETE FROM messages WHERE seq=?", (seq,))
            self._db.execute("COMMIT")
            self._depth -= moved
            self._space.notify_all()
        if moved:
            self._alert(f"broker refused message seq={seq}: {reason}; kept as a dead letter")

    # -- inspection --------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Messages waiting for delivery (acknowledged ones not yet deleted are not counted)."""
        return max(0, self._depth - len(self._acked_unsaved))

    @property
    def dropped_total(self) -> int:
        with self._lock:
            return self._scalar("SELECT value FROM counters WHERE name='dropped'")

    @property
    def refused_total(self) -> int:
        with self._lock:
            saved = self._scalar("SELECT value FROM counters WHERE name='refused'")
            return saved + self._refused_unsaved

    def dead_letters(self) -> list[tuple[int, str, str]]:
        with self._lock:
            cur = self._db.execute("SELECT seq, message_id, reason FROM dead_letters ORDER BY seq")
            return [(int(r[0]), str(r[1]), str(r[2])) for r in cur]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- internals ---------------------------------------------------------------------------

    def _resync_depth(self) -> None:
        """The depth is counted in this process; the agent and ``labcal-edge gravimetric``
        share the file, so recount when the estimate cannot be right (or before refusing)."""
        self._depth = self._scalar("SELECT count(*) FROM messages")  # acked-unsaved included

    def _scalar(self, sql: str) -> int:
        row = self._db.execute(sql).fetchone()
        return int(row[0])

    def _bump(self, name: str, n: int) -> None:
        self._db.execute("UPDATE counters SET value=value+? WHERE name=?", (n, name))

    def _alert(self, text: str) -> None:
        log.error("%s", text)
        if self._on_alert is not None:
            self._on_alert(text)
