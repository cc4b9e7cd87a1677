"""Ingest counters (thread-safe), readable as a dict or in Prometheus text format."""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["IngestMetrics"]


class IngestMetrics:
    """Counters: received, stored, duplicates, quarantined (by reason code), storage errors,
    batches, mirror writes/failures/drops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._counts[name] += n

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def prometheus(self, prefix: str = "labcal_ingest") -> str:
        lines = []
        for name, value in sorted(self.snapshot().items()):
            metric, _, label = name.partition(":")
            labels = f'{{reason="{label}"}}' if label else ""
            lines.append(f"{prefix}_{metric}_total{labels} {value}")
        return "\n".join(lines) + "\n"
