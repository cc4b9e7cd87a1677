"""What one ingest batch holds at most by default: messages, and bytes of payload (a first
message larger than that comes alone). Used by the settings, the loop and the MQTT source; kept
apart so that reading the settings imports nothing else."""

from __future__ import annotations

__all__ = ["MAX_BATCH", "MAX_BATCH_BYTES", "MAX_PAYLOAD_BYTES"]

MAX_BATCH = 5000
MAX_BATCH_BYTES = 4 * 1024 * 1024

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""A larger payload is quarantined unread (``oversize:``). The largest valid message the contracts
allow in practice, a ``reading_batch`` of 10,000 readings with their own times, is ~1.1 MB."""
