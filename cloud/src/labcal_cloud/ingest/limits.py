"""What one ingest batch holds at most by default: messages, and bytes of payload (a first
message larger than that comes alone). Used by the settings, the loop and the MQTT source; kept
apart so that reading the settings imports nothing else."""

from __future__ import annotations

__all__ = ["MAX_BATCH", "MAX_BATCH_BYTES"]

MAX_BATCH = 5000
MAX_BATCH_BYTES = 4 * 1024 * 1024
