"""Storage receipts: the cloud tells a station which of its messages are in storage.

After each database commit, ingest publishes (QoS 1) one receipt per station on the station's own
``labcal/v1/{tenant}/{station}/cmd`` topic, naming the committed messages by sequence number and
message id (messages stored before, i.e. redeliveries, are named again)::

    {"type": "storage_receipt", "stored": [[17, "6f1c…"], [18, "a2b0…"]]}

A message id is its UUID as 32 hex digits (ingest sends ``UUID.hex``: 4x cheaper to build than
the hyphenated form) or hyphenated; :func:`same_id` compares either form.

A station that waits for receipts (``[mqtt] storage_receipts``) deletes a message from its
outbox only when a receipt names it, not at the broker's PUBACK: a PUBACK only says the broker
holds the message (Mosquitto keeps a queued message of an offline ingest session in memory, and
a kill -9 of the broker loses it). Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from labcal_shared.errors import DecodeError

__all__ = ["RECEIPT_TYPE", "decode_receipt", "encode_receipt", "same_id"]

RECEIPT_TYPE = "storage_receipt"


def encode_receipt(stored: Iterable[tuple[int, str]]) -> bytes:
    """The receipt for these ``(seq, message_id)`` pairs."""
    pairs = [[int(seq), str(mid)] for seq, mid in stored]
    return json.dumps({"type": RECEIPT_TYPE, "stored": pairs}, separators=(",", ":")).encode()


def same_id(a: str, b: str) -> bool:
    """Whether two message ids name the same UUID (hyphenated or 32 hex digits, any case)."""
    return a.replace("-", "").lower() == b.replace("-", "").lower()


def decode_receipt(payload: bytes) -> list[tuple[int, str]]:
    """The ``(seq, message_id)`` pairs of a receipt; :class:`DecodeError` saying what is wrong."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"storage receipt: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("type") != RECEIPT_TYPE:
        raise DecodeError(f"not a storage receipt (expected type {RECEIPT_TYPE!r})")
    stored = data.get("stored")
    if not isinstance(stored, list):
        raise DecodeError("storage receipt: 'stored' must be a list of [seq, message_id]")
    out: list[tuple[int, str]] = []
    for i, pair in enumerate(stored):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not isinstance(pair[0], int)
            or isinstance(pair[0], bool)
            or pair[0] < 0
            or not isinstance(pair[1], str)
        ):
            raise DecodeError(f"storage receipt: stored.{i} must be [seq >= 0, message_id]")
        out.append((pair[0], pair[1]))
    return out
