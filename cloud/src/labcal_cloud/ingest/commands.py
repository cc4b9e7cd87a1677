"""``labcal-cloud ingest``: run one ingest worker in the foreground."""

from __future__ import annotations

import argparse
import gc
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from labcal_cloud.ingest.service import IngestWorker
from labcal_cloud.ops.metrics_server import ops_server_from_env
from labcal_cloud.settings import Settings
from labcal_cloud.storage.factory import open_store

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "ingest", help="run an ingest worker (MQTT shared subscription → database)"
    )
    p.add_argument("--client-id", help="MQTT client id; keep it stable across restarts")
    p.add_argument("--group", help="shared-subscription group (default 'ingest')")
    p.add_argument("--tenant-filter", help="one tenant id, or '+' for all (default)")
    p.add_argument("--max-batch", type=int, help="messages per transaction (default 5000)")
    p.add_argument(
        "--max-batch-bytes",
        type=int,
        help="payload bytes per transaction (default 4 MiB; a message larger than this goes alone)",
    )
    p.add_argument(
        "--committers",
        type=int,
        help="batches committing at once, each on its own connection (default: 2 on "
        "PostgreSQL, 1 on SQLite)",
    )
    p.add_argument("--session-expiry", type=int, help="MQTT session expiry in seconds")
    p.add_argument(
        "--fault-pause-before-commit",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="fault switch for tests: wait this long before each commit",
    )
    p.set_defaults(handler=ingest)


def tune_gc() -> None:
    """Fewer cyclic-GC passes in the worker process.

    A worker allocates several objects per message (the envelope's models, row tuples, times),
    nearly all freed by reference counting; with CPython's default threshold (700 allocations)
    the cyclic collector still ran every few messages and traversed the batches in hand. With
    the startup objects frozen and a threshold of 100,000, draining a backlog of single readings
    went from a median of 23,000 to 29,000 messages/s (4 runs each, bench machine).
    """
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def ingest(args: argparse.Namespace, settings: Settings) -> int:
    settings = settings.override(
        ingest_client_id=args.client_id,
        ingest_group=args.group,
        ingest_tenant_filter=args.tenant_filter,
        ingest_max_batch=args.max_batch,
        ingest_max_batch_bytes=args.max_batch_bytes,
        ingest_committers=args.committers,
        ingest_session_expiry_s=args.session_expiry,
    )
    store = open_store(settings.database_url)
    pause: Callable[[], None] | None = None
    if args.fault_pause_before_commit > 0:
        delay = args.fault_pause_before_commit

        def pause() -> None:
            time.sleep(delay)

    worker = IngestWorker(settings, store, before_commit=pause)
    tune_gc()
    subscribed = threading.Event()

    def on_ready() -> None:
        subscribed.set()
        print(f"ingest: {settings.ingest_client_id} subscribed", flush=True)

    # /healthz /readyz /metrics on LABCAL_METRICS_PORT (when set), see labcal_cloud.ops
    ops = ops_server_from_env(
        os.environ, worker.metrics.prometheus, lambda: (subscribed.is_set(), "subscribed")
    )
    try:
        worker.serve(on_ready=on_ready)
    finally:
        store.close()
        if ops is not None:
            ops.close()
    return 0
