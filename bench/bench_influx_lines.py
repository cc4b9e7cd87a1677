"""Line protocol for the InfluxDB mirror: influxdb-client's own ``Point`` against the hand-written
``labcal_cloud.ingest.influx_lines.reading_lines``, on the same readings (same output checked).

Run: .venv/bin/python bench/bench_influx_lines.py [--readings 100000] [--runs 5]
Prints the median time of each and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from labcal_cloud.ingest.influx_lines import reading_lines
from labcal_cloud.storage.rows import ReadingRow

T0 = datetime(2026, 11, 23, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def client_lines(rows: list[ReadingRow]) -> list[str]:
    out = []
    for r in rows:
        p = (
            Point("reading")
            .tag("tenant", r.tenant)
            .tag("station", r.station)
            .tag("device", r.device_serial)
            .tag("unit", r.unit)
            .tag("status", r.status)
        )
        if r.value is not None:
            p = p.field("value", r.value)
        delta = r.time - EPOCH
        ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
        p = p.field("stable", r.stable).field("idx", r.idx).time(ns + r.idx, WritePrecision.NS)
        out.append(p.to_line_protocol())
    return out


def _parts(line: str) -> tuple[frozenset[str], frozenset[str], str]:
    """Tags, fields and timestamp of a line (the client sorts tags and fields by name)."""
    series, fields, ts = line.split(" ")
    named = (f.partition("=") for f in fields.split(","))
    # a float field: "997" and "997.0" are the same value in line protocol
    norm = {f"{k}={float(v)!r}" if k == "value" else f"{k}={v}" for k, _, v in named}
    return frozenset(series.split(",")), frozenset(norm), ts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readings", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    m = uuid.uuid4()
    rows = [
        ReadingRow(m, i % 100, "rhein-biolabs", f"st-{i % 10:02d}", "B0001",
                   T0 + timedelta(milliseconds=i), 997.0 + i / 1000, "mg", True, "ok", None)
        for i in range(args.readings)
    ]  # fmt: skip
    a, b = client_lines(rows[:1000]), reading_lines(rows[:1000])
    assert [_parts(x) for x in a] == [_parts(x) for x in b]  # the same points
    times: dict[str, list[float]] = {"client Point": [], "hand-written": []}
    for _ in range(args.runs):
        for name, fn in (("client Point", client_lines), ("hand-written", reading_lines)):
            t = time.perf_counter()
            fn(rows)
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k}: {v * 1000:.0f} ms for {args.readings:,} readings "
              f"({v / args.readings * 1e6:.2f} µs a reading)")  # fmt: skip
    print(f"hand-written is {med['client Point'] / med['hand-written']:.1f}x faster")


if __name__ == "__main__":
    main()
