"""Composition root of one ingest worker process: MQTT source, store, mirror, loop."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence

from labcal_cloud.ingest.directory import StationDirectory
from labcal_cloud.ingest.influx_mirror import InfluxConfig, InfluxMirror
from labcal_cloud.ingest.limits import MAX_PAYLOAD_BYTES
from labcal_cloud.ingest.loop import CommitListener, IngestLoop
from labcal_cloud.ingest.metrics import IngestMetrics
from labcal_cloud.ingest.mqtt_source import MqttSource, MqttSourceConfig
from labcal_cloud.ingest.receipts import StorageReceipts
from labcal_cloud.ops.shutdown import run_off_main_thread
from labcal_cloud.settings import Settings
from labcal_cloud.storage.ports import IngestStore

__all__ = ["IngestWorker"]

log = logging.getLogger(__name__)


class IngestWorker:
    """One worker: ``start()``, then ``run()`` until ``stop()`` (or SIGTERM under ``serve``)."""

    def __init__(
        self,
        settings: Settings,
        store: IngestStore,
        *,
        listeners: Sequence[CommitListener] = (),
        before_commit: Callable[[], None] | None = None,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        self.settings = settings
        self.metrics = IngestMetrics()
        self._stop = threading.Event()
        self.source = MqttSource(
            MqttSourceConfig(
                url=settings.mqtt_url,
                client_id=settings.ingest_client_id,
                group=settings.ingest_group,
                tenant_filter=settings.ingest_tenant_filter,
                session_expiry_s=settings.ingest_session_expiry_s,
                receive_maximum=settings.ingest_receive_maximum,
                username=settings.mqtt_username,
                password=settings.mqtt_password,
                ca_file=settings.mqtt_ca_file,
                protocol=settings.mqtt_protocol,
            )
        )
        self.mirror: InfluxMirror | None = None
        all_listeners = list(listeners)
        if settings.ingest_storage_receipts:
            all_listeners.append(StorageReceipts(self.source.publish, self.metrics))
        if settings.influx_url and settings.influx_token:
            self.mirror = InfluxMirror(
                InfluxConfig(
                    settings.influx_url,
                    settings.influx_token,
                    settings.influx_org,
                    settings.influx_bucket,
                ),
                self.metrics,
            )
            all_listeners.append(self.mirror)
        self.loop = IngestLoop(
            self.source,
            store,
            StationDirectory(store.station_tenants, time.monotonic),
            self.metrics,
            sleep=self._sleep,
            jitter=random.random,
            max_batch=settings.ingest_max_batch,
            max_batch_bytes=settings.ingest_max_batch_bytes,
            listeners=all_listeners,
            before_commit=before_commit,
            committers=settings.ingest_committers or (2 if store.concurrent_writes else 1),
            max_payload_bytes=max_payload_bytes,
        )

    def _sleep(self, seconds: float) -> bool:
        return not self._stop.wait(seconds)

    def start(self) -> None:
        self.source.start()

    def run(self) -> None:
        self.loop.run(self._stop.is_set)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.source.close()
        if self.mirror is not None:
            self.mirror.close()

    def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Run until SIGTERM/SIGINT; then finish the batch in hand and exit. The loop runs in
        its own thread (see :func:`~labcal_cloud.ops.shutdown.run_off_main_thread`)."""
        self.start()
        log.info("ingest worker %s subscribed", self.settings.ingest_client_id)
        if on_ready is not None:
            on_ready()
        try:
            run_off_main_thread(self.run, self.stop, name="ingest-loop")
        finally:
            self.close()
