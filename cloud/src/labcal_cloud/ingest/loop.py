"""The ingest loop: take a batch from the source, judge it, commit it, and only then ack it.

Ports: a :class:`Source` of MQTT messages (the paho adapter, or a fake in unit tests), the
:class:`~labcal_cloud.storage.ports.IngestStore`, and listeners told about each commit (the
InfluxDB mirror, domain events). Storage outages pause the loop without acking; it retries with
:func:`~labcal_cloud.ingest.backoff.backoff_delay` and resumes where it stopped.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol
from uuid import UUID

from labcal_cloud.ingest.backoff import backoff_delay
from labcal_cloud.ingest.core import Incoming, Quarantined, build_batch, quarantine_row
from labcal_cloud.ingest.directory import StationDirectory
from labcal_cloud.ingest.limits import MAX_BATCH, MAX_BATCH_BYTES, MAX_PAYLOAD_BYTES
from labcal_cloud.ingest.metrics import IngestMetrics
from labcal_cloud.ingest.receipts import is_cloud_answer
from labcal_cloud.storage.errors import StorageError, StorageUnavailableError
from labcal_cloud.storage.ports import IngestStore, WriteResult
from labcal_cloud.storage.rows import Batch

__all__ = ["CommitListener", "IngestLoop", "Source"]

log = logging.getLogger(__name__)


class Source(Protocol):
    def next_batch(self, max_items: int, timeout_s: float, max_bytes: int) -> list[Incoming]:
        """Wait up to ``timeout_s`` for a first message, then take what is ready: at most
        ``max_items`` messages, and no more payload bytes than ``max_bytes`` (except a first
        message that is larger on its own)."""
        ...

    def ack(self, items: Sequence[Incoming]) -> None: ...


CommitListener = Callable[[Batch, WriteResult], None]


def _keys(prepared: tuple[Batch, int] | None) -> frozenset[object] | None:
    """The message ids and (station, seq) pairs a batch writes (None: not known yet)."""
    if prepared is None:
        return None
    batch = prepared[0]
    rows = batch.messages
    if batch.replays:
        rows = [*rows, *(m for m, _ in batch.replays)]
    # the id's int, not the UUID: UUID.__hash__ is Python code, ~3x the cost of the whole key
    return frozenset([m.message_id.int for m in rows] + [(m.station, m.seq) for m in rows])


class IngestLoop:
    def __init__(
        self,
        source: Source,
        store: IngestStore,
        directory: StationDirectory,
        metrics: IngestMetrics,
        *,
        sleep: Callable[[float], bool],
        jitter: Callable[[], float],
        max_batch: int = MAX_BATCH,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        poll_s: float = 0.2,
        listeners: Sequence[CommitListener] = (),
        before_commit: Callable[[], None] | None = None,
        committers: int = 1,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        """``sleep(seconds)`` returns False when the loop should stop instead of retrying;
        ``committers`` is how many batches may commit at once (each in its own transaction)."""
        if committers < 1:
            raise ValueError("committers must be >= 1")
        self._source = source
        self._store = store
        self._directory = directory
        self.metrics = metrics
        self._sleep = sleep
        self._jitter = jitter
        self._max_batch = max_batch
        self._max_batch_bytes = max_batch_bytes
        self._poll_s = poll_s
        self._listeners = list(listeners)
        self._before_commit = before_commit
        self._committers = committers
        self._max_payload_bytes = max_payload_bytes

    def step(self) -> bool:
        """Handle one batch. False if no message came, or if stopped during a retry (no ack)."""
        items = self._source.next_batch(self._max_batch, self._poll_s, self._max_batch_bytes)
        if not items:
            return False
        return self._commit_and_ack(items, self._prepare(items))

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Pipelined: judge and build the next batch while earlier ones commit.

        Up to ``committers`` batches commit at once, each in its own transaction on its own
        connection (the database's work on one overlaps the Python work on the others). Acks,
        metrics and listeners still follow strictly in the order the batches were taken: a
        committed batch waits for its predecessor's turn, so the broker gets PUBACKs in order and
        a crash leaves at worst later batches committed but unacked (redelivered, then stored as
        duplicates). A batch taken from the source is committed before the loop stops (or left
        unacked for redelivery if stopped during an outage).
        """
        inflight: deque[Future[bool]] = deque()
        turn: threading.Event | None = None  # set when the newest batch has had its turn to ack
        uncommitted: list[tuple[threading.Event, frozenset[object] | None]] = []
        with ThreadPoolExecutor(self._committers, thread_name_prefix="ingest-commit") as pool:
            try:
                while not should_stop():
                    items = self._source.next_batch(
                        self._max_batch, self._poll_s, self._max_batch_bytes
                    )
                    while inflight and inflight[0].done():
                        inflight.popleft().result()  # re-raise what a committer raised
                    if not items:
                        continue
                    prepared = self._prepare(items)
                    done = threading.Event()
                    wait_for: threading.Event | None = None
                    if self._committers > 1:  # one committer commits the batches in order
                        keys = _keys(prepared)
                        uncommitted = [(d, k) for d, k in uncommitted if not d.is_set()]
                        # a message whose id or (station, seq) an earlier batch still commits:
                        # wait for that batch, so that of two conflicting copies the first wins
                        wait_for = turn if any(
                            k is None or keys is None or not keys.isdisjoint(k)
                            for _, k in uncommitted
                        ) else None  # fmt: skip
                        uncommitted.append((done, keys))
                    while len(inflight) >= self._committers:
                        inflight.popleft().result()
                    job = (items, prepared, turn, done, wait_for)
                    inflight.append(pool.submit(self._commit_in_turn, *job))
                    turn = done
            finally:
                while inflight:
                    inflight.popleft().result()

    def _commit_in_turn(
        self,
        items: list[Incoming],
        prepared: tuple[Batch, int] | None,
        turn: threading.Event | None,
        done: threading.Event,
        after: threading.Event | None = None,
    ) -> bool:
        """Commit (once ``after`` is set, if given), wait until the previous batch has acked
        (or given up), then ack."""
        try:
            if after is not None:
                after.wait()
            committed = self._commit_with_retry(items, prepared)
            if turn is not None:
                turn.wait()
            if committed is None:
                return False
            self._ack_and_tell(items, *committed)
            return True
        finally:
            done.set()

    def _prepare(self, items: list[Incoming]) -> tuple[Batch, int] | None:
        """Judge and build rows ahead of the commit; None if the directory could not load."""
        answers = sum(1 for i in items if is_cloud_answer(i.topic))
        self.metrics.add("received", len(items) - answers)  # what the stations sent
        if answers:
            self.metrics.add("cloud_answers_skipped", answers)
        try:
            return self._build(items)
        except StorageUnavailableError:
            return None  # the commit attempts build it again, with backoff

    def _build(self, items: list[Incoming]) -> tuple[Batch, int]:
        """The batch of the stations' messages; the cloud's own answers (storage receipts on
        ``…/cmd``, which the subscription matches too) are acked with the batch, not stored."""
        if any(is_cloud_answer(i.topic) for i in items):
            items = [i for i in items if not is_cloud_answer(i.topic)]
        return build_batch(
            items, self._directory.tenant_of, max_payload_bytes=self._max_payload_bytes
        )

    def _commit_and_ack(self, items: list[Incoming], prepared: tuple[Batch, int] | None) -> bool:
        committed = self._commit_with_retry(items, prepared)
        if committed is None:
            return False
        self._ack_and_tell(items, *committed)
        return True

    def _commit_with_retry(
        self, items: list[Incoming], prepared: tuple[Batch, int] | None
    ) -> tuple[Batch, int, WriteResult] | None:
        """Commit, retrying through storage outages; None if stopped while waiting to retry."""
        attempt = 0
        while True:
            try:
                return self._commit(items, prepared)
            except StorageUnavailableError as exc:
                prepared = None
                attempt += 1
                self.metrics.add("storage_errors")
                delay = backoff_delay(attempt, jitter=self._jitter())
                log.warning("storage unavailable (%s); retry %d in %.2fs", exc, attempt, delay)
                if not self._sleep(delay):
                    return None

    def _ack_and_tell(
        self, items: list[Incoming], batch: Batch, in_batch_dups: int, result: WriteResult
    ) -> None:
        self._source.ack(items)
        self.metrics.add("batches")
        self.metrics.add("stored", result.stored)
        self.metrics.add("duplicates", result.duplicates + in_batch_dups)
        for row in batch.quarantine:
            self.metrics.add("quarantined:" + row.reason.partition(":")[0])
        self.metrics.add("quarantined:conflict", len(result.conflicts) + result.conflicting_copies)
        for listener in self._listeners:
            try:
                listener(batch, result)
            except Exception:  # a listener never blocks ingest
                self.metrics.add("listener_errors")
                log.exception("commit listener failed")

    def _commit(
        self, items: list[Incoming], prepared: tuple[Batch, int] | None = None
    ) -> tuple[Batch, int, WriteResult]:
        batch, dups = prepared or self._build(items)
        if self._before_commit is not None:
            self._before_commit()
        try:
            return batch, dups, self._store.write_batch(batch)
        except StorageUnavailableError:
            raise
        except StorageError as exc:
            log.error("storage refused a batch (%s); writing its messages one by one", exc)
            return self._commit_one_by_one(items)

    def _commit_one_by_one(self, items: list[Incoming]) -> tuple[Batch, int, WriteResult]:
        """Isolate the message the database refuses and quarantine it with the reason."""
        total = Batch()
        stored = duplicates = quarantined = in_batch = 0
        conflicts: list[UUID] = []
        copies = 0
        for item in items:
            batch, dups = self._build([item])
            try:
                result = self._store.write_batch(batch)
            except StorageUnavailableError:
                raise
            except StorageError as exc:
                who = batch.messages[0] if batch.messages else None
                reason = Quarantined(
                    f"storage: {exc}".replace("\n", " ")[:1000],
                    who.tenant if who else None,
                    who.station if who else None,
                )
                batch = Batch(quarantine=[quarantine_row(item, reason)])
                result = self._store.write_batch(batch)
            in_batch += dups
            stored += result.stored
            duplicates += result.duplicates
            quarantined += result.quarantined
            conflicts += result.conflicts
            copies += result.conflicting_copies
            total.messages += batch.messages
            total.readings += batch.readings
            total.series += batch.series
            total.usage += batch.usage
            total.runs += batch.runs
            total.events += batch.events
            total.quarantine += batch.quarantine
            total.sources += batch.sources
        return (
            total,
            in_batch,
            WriteResult(stored, duplicates, quarantined, tuple(conflicts), copies),
        )
