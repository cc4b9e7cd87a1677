"""Best-effort mirror of committed readings to InfluxDB (influxdb-client).

Runs on its own thread with a bounded queue: batches lines, retries with backoff, and drops (and
counts) what it cannot write. It is told about readings only after the primary commit, and its
failures never reach the ingest loop: the primary database holds the truth.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from dataclasses import dataclass

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from labcal_cloud.ingest.backoff import backoff_delay
from labcal_cloud.ingest.influx_lines import reading_lines
from labcal_cloud.ingest.metrics import IngestMetrics
from labcal_cloud.storage.ports import WriteResult
from labcal_cloud.storage.rows import Batch

__all__ = ["InfluxConfig", "InfluxMirror"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InfluxConfig:
    url: str
    token: str
    org: str
    bucket: str
    batch_lines: int = 5000
    max_queued_lines: int = 200_000
    attempts: int = 3
    timeout_ms: int = 5000


class InfluxMirror:
    """A commit listener: ``mirror(batch, result)`` queues the batch's readings."""

    def __init__(self, config: InfluxConfig, metrics: IngestMetrics) -> None:
        self.config = config
        self.metrics = metrics
        self._queue: queue.Queue[list[str]] = queue.Queue()
        self._queued_lines = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._client = InfluxDBClient(
            url=config.url, token=config.token, org=config.org, timeout=config.timeout_ms
        )
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        self._thread = threading.Thread(target=self._run, name="influx-mirror", daemon=True)
        self._thread.start()

    def __call__(self, batch: Batch, result: WriteResult) -> None:
        if not batch.readings and not batch.series:
            return
        rows = batch.all_readings()
        if result.conflicts:  # refused and quarantined: not the stored readings
            refused = frozenset(result.conflicts)
            rows = (r for r in rows if r.message_id not in refused)
        lines = reading_lines(rows)
        if not lines:
            return
        with self._lock:
            if self._queued_lines + len(lines) > self.config.max_queued_lines:
                self.metrics.add("mirror_dropped", len(lines))
                return
            self._queued_lines += len(lines)
        self._queue.put(lines)

    def close(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._queue.put([])
        self._thread.join(timeout_s)
        self._client.close()  # type: ignore[no-untyped-call]

    def _take(self) -> list[str]:
        lines = self._queue.get()
        while len(lines) < self.config.batch_lines:
            try:
                lines = lines + self._queue.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            self._queued_lines -= len(lines)
        return lines

    def _run(self) -> None:
        while not self._stop.is_set():
            lines = self._take()
            if lines:
                self._send(lines)

    def _send(self, lines: list[str]) -> None:
        for attempt in range(1, self.config.attempts + 1):
            try:
                self._write.write(
                    bucket=self.config.bucket,
                    org=self.config.org,
                    record=lines,  # nanosecond precision, the client's default
                )
                self.metrics.add("mirror_written", len(lines))
                return
            except Exception as exc:  # influxdb-client raises ApiException, urllib3 errors…
                self.metrics.add("mirror_failures")
                log.warning("InfluxDB mirror write failed (attempt %d): %s", attempt, exc)
                if attempt < self.config.attempts and self._stop.wait(
                    backoff_delay(attempt, jitter=random.random())
                ):
                    break
        self.metrics.add("mirror_dropped", len(lines))
