"""The InfluxDB mirror against a real HTTP endpoint: it writes line protocol, and when InfluxDB
fails or is unreachable, primary storage goes on unharmed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from labcal_cloud.ingest.influx_lines import reading_lines
from labcal_cloud.storage import open_store


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Overrides the two-backend fixture: the mirror does not depend on the primary backend."""
    url = f"sqlite:///{tmp_path / 'labcal.sqlite3'}"
    store = open_store(url)
    store.migrate()
    store.close()
    return url


class FakeInflux:
    """A tiny HTTP server standing in for InfluxDB's /api/v2/write."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.bodies: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding") == "gzip":
                    import gzip

                    body = gzip.decompress(body)
                outer.bodies.append(f"{self.path}\n{body.decode()}")
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def influx_ok() -> Iterator[FakeInflux]:
    s = FakeInflux(204)
    yield s
    s.close()


@pytest.fixture
def influx_failing() -> Iterator[FakeInflux]:
    s = FakeInflux(500)
    yield s
    s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readings_are_mirrored_as_line_protocol(
    store, messages, publisher, start_worker, wait, influx_ok
):
    worker = start_worker(influx_url=influx_ok.url, influx_token="t0ken-for-tests")
    publisher.publish([messages.wire(messages.batch(3)), messages.wire(messages.reading(5.5))])
    wait(lambda: worker.metrics.get("mirror_written") == 4, what="four points mirrored")
    text = "\n".join(influx_ok.bodies)
    assert "/api/v2/write?org=labcal&bucket=readings" in text
    assert f"reading,tenant={messages.tenant},station={messages.station},device=B0001" in text
    assert "value=5.5,stable=true,idx=0i" in text
    assert store.count("readings", messages.tenant) == 4


@pytest.mark.parametrize("where", ["failing", "unreachable"])
def test_a_failing_mirror_never_blocks_primary_storage(
    where, store, messages, publisher, start_worker, wait, influx_failing
):
    url = influx_failing.url if where == "failing" else f"http://127.0.0.1:{free_port()}"
    worker = start_worker(influx_url=url, influx_token="t0ken-for-tests")
    publisher.publish([messages.wire(messages.reading(float(i))) for i in range(50)])
    wait(lambda: store.count("readings", messages.tenant) == 50, what="primary has everything")
    wait(lambda: worker.metrics.get("mirror_dropped") == 50, what="mirror gave up and counted")
    assert worker.metrics.get("mirror_failures") >= 3
    assert worker.metrics.get("mirror_written") == 0


def test_line_protocol_escapes_tags_and_omits_missing_values(msgs):
    from datetime import UTC, datetime
    from uuid import uuid4

    from labcal_cloud.storage.rows import ReadingRow

    t = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        ReadingRow(uuid4(), 0, "a b", "s,1", "d=1", t, None, "g", False, "overload", None),
        ReadingRow(uuid4(), 1, "t", "s", "d", t, 1.25, "mg", True, "ok", None),
    ]
    assert reading_lines(rows) == [
        r"reading,tenant=a\ b,station=s\,1,device=d\=1,unit=g,status=overload "
        "stable=false,idx=0i 1767225600000000000",
        "reading,tenant=t,station=s,device=d,unit=mg,status=ok "
        "value=1.25,stable=true,idx=1i 1767225600000000001",  # idx ns later: its own point
    ]
