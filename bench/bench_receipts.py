"""What the storage receipts cost ingest: the commit listener's CPU and the receipt bytes.

Run: .venv/bin/python bench/bench_receipts.py [--messages 5000] [--stations 10] [--rounds 20]

Builds one committed batch of single-reading message rows (as ingest does after a commit) and
times :class:`~labcal_cloud.ingest.receipts.StorageReceipts` on it, publishing into a list (no
broker): µs a message (median of the rounds), receipts a batch and receipt bytes a message.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime

from labcal_cloud.ingest.metrics import IngestMetrics
from labcal_cloud.ingest.receipts import StorageReceipts
from labcal_cloud.storage.ports import WriteResult
from labcal_cloud.storage.rows import Batch, MessageRow


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--stations", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    now = datetime.now(UTC)
    batch = Batch()
    for i in range(args.messages):
        batch.messages.append(
            MessageRow(
                uuid.uuid4(), "bench", f"st-{i % args.stations:02d}", i, "reading", "reading",
                "balance", "MT", "XS205", "B1", now, now, "synced", now, b"d" * 32, None,
            )
        )  # fmt: skip
    result = WriteResult(args.messages, 0, 0)
    sizes: list[int] = []
    listener = StorageReceipts(lambda _topic, payload: sizes.append(len(payload)), IngestMetrics())
    times = []
    for _ in range(args.rounds):
        sizes.clear()
        t0 = time.perf_counter()
        listener(batch, result)
        times.append((time.perf_counter() - t0) / args.messages * 1e6)
    print(
        f"storage receipts, batch of {args.messages} messages from {args.stations} stations: "
        f"{statistics.median(times):.2f} µs a message (median of {args.rounds}), "
        f"{len(sizes)} receipts, {sum(sizes) / args.messages:.1f} bytes a message"
    )


if __name__ == "__main__":
    main()
