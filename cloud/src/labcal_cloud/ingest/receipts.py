"""Storage receipts: after each commit, tell every station which of its messages are stored.

A :class:`StorageReceipts` listener runs after a batch is committed and acked, and publishes
(QoS 1) one receipt per station on the station's own ``labcal/v1/{tenant}/{station}/cmd`` topic
(the broker ACL lets the ingest service user write ``labcal/v1/+/+/cmd`` and each station read
only its own). It names every message of the batch that storage holds now: new ones and
redeliveries of what it held already; not conflicts (other content under a stored id or
sequence number, quarantined), nor station status (never kept in an outbox). A station that
waits for receipts (``[mqtt] storage_receipts`` at the edge) keeps each message until one names
it, so a message the broker acknowledged but lost (a kill -9 of Mosquitto holding it in memory
for an offline ingest session) is sent again, and stored once: storage is idempotent.

A receipt lost on the way (ingest killed before it published, broker restart) only delays the
station: it sends the message again after its timeout and gets a receipt for the duplicate.
The ingest workers receive the receipts too (their subscription ``labcal/v1/+/+/+`` matches
``cmd``): :func:`is_cloud_answer` tells the loop to ack and skip them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from labcal_cloud.ingest.metrics import IngestMetrics
from labcal_cloud.storage.ports import WriteResult
from labcal_cloud.storage.rows import Batch
from labcal_shared.contracts import Kind, build_topic
from labcal_shared.contracts.receipts import encode_receipt

__all__ = ["RECEIPT_CHUNK", "StorageReceipts", "is_cloud_answer", "receipts_of"]

log = logging.getLogger(__name__)

RECEIPT_CHUNK = 2000  # pairs per receipt message (about 100 KB)
_CMD_SUFFIX = "/" + Kind.CMD.value
_STATUS = Kind.STATUS.value


def is_cloud_answer(topic: str) -> bool:
    """A message the cloud sent a station (``…/cmd``), not one a station sent."""
    return topic.endswith(_CMD_SUFFIX)


def receipts_of(batch: Batch, result: WriteResult) -> dict[str, list[tuple[int, str]]]:
    """The receipt topic of each station in the batch → the (seq, message id) pairs stored."""
    # the ids' ints, not the UUIDs: UUID.__hash__ is Python code (µs a message)
    conflicts = {c.int for c in result.conflicts}
    out: dict[str, list[tuple[int, str]]] = {}
    topics: dict[tuple[str, str], str] = {}
    for m in batch.messages:
        if m.kind == _STATUS or (conflicts and m.message_id.int in conflicts):
            continue
        key = (m.tenant, m.station)
        topic = topics.get(key)
        if topic is None:
            topic = topics[key] = build_topic(m.tenant, m.station, Kind.CMD)
        out.setdefault(topic, []).append((m.seq, m.message_id.hex))  # 4x faster than str()
    return out


class StorageReceipts:
    """The commit listener that publishes the receipts through ``publish(topic, payload)``."""

    def __init__(self, publish: Callable[[str, bytes], None], metrics: IngestMetrics) -> None:
        self._publish = publish
        self._metrics = metrics

    def __call__(self, batch: Batch, result: WriteResult) -> None:
        for topic, pairs in receipts_of(batch, result).items():
            for i in range(0, len(pairs), RECEIPT_CHUNK):
                self._publish(topic, encode_receipt(pairs[i : i + RECEIPT_CHUNK]))
                self._metrics.add("receipts")
            self._metrics.add("receipted", len(pairs))
