"""The InfluxDB mirror against a real server speaking InfluxDB's v2 write API: Debian's
``victoria-metrics`` (accepts ``/api/v2/write``), started on a free port with a tmp data dir.
Points are written through influxdb-client by the running worker, read back with
victoria-metrics' ``/api/v1/export``, and what the mirror dropped while the server was down is
counted against what is missing there."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcal_cloud.storage import open_store

BINARY = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Overrides the two-backend fixture: the mirror does not depend on the primary backend."""
    url = f"sqlite:///{tmp_path / 'labcal.sqlite3'}"
    store = open_store(url)
    store.migrate()
    store.close()
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class VictoriaMetrics:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                BINARY,
                f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-storageDataPath={self.data}",
                "-retentionPeriod=100y",  # the test readings are dated 2026-11-23
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("victoria-metrics did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def export(self, tenant: str) -> dict[str, dict[int, float]]:
        """Every sample of this tenant's ``reading_*`` series: metric name → {ms: value}."""
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10):
            pass
        match = urllib.request.quote(f'{{__name__=~"reading_.*",tenant="{tenant}"}}')
        out: dict[str, dict[int, float]] = {}
        with urllib.request.urlopen(f"{self.url}/api/v1/export?match[]={match}", timeout=10) as r:
            for line in r.read().decode().splitlines():
                doc = json.loads(line)
                series = out.setdefault(doc["metric"]["__name__"], {})
                series.update(zip(doc["timestamps"], doc["values"], strict=True))
        return out


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    if not Path(BINARY).exists():
        pytest.skip("victoria-metrics is not installed (apt-get install victoria-metrics)")
    server = VictoriaMetrics(tmp_path / "vm-data")
    server.start()
    yield server
    server.stop()


def test_readings_written_through_the_mirror_read_back(
    store, messages, publisher, start_worker, wait, vm
):
    worker = start_worker(influx_url=vm.url, influx_token="t0ken-for-tests")
    envs = [messages.reading(900.0 + i / 8) for i in range(50)]
    publisher.publish([messages.wire(e) for e in envs])
    wait(lambda: worker.metrics.get("mirror_written") == 50, what="50 points mirrored")
    got = vm.export(messages.tenant)
    expected = {int(e.device_time.timestamp() * 1000): e.payload.value for e in envs}
    assert got["reading_value"] == expected
    assert set(got["reading_stable"].values()) == {1.0}
    assert worker.metrics.get("mirror_dropped") == 0


def test_what_the_mirror_dropped_while_the_server_was_down_is_counted(
    store, messages, publisher, start_worker, wait, vm
):
    worker = start_worker(influx_url=vm.url, influx_token="t0ken-for-tests")
    before = [messages.reading(float(i)) for i in range(30)]
    publisher.publish([messages.wire(e) for e in before])
    wait(lambda: worker.metrics.get("mirror_written") == 30, what="first 30 mirrored")

    vm.stop()  # the server goes away mid-run
    during = [messages.reading(100.0 + i) for i in range(40)]
    publisher.publish([messages.wire(e) for e in during])
    wait(lambda: store.count("readings", messages.tenant) == 70, what="primary unharmed")
    wait(lambda: worker.metrics.get("mirror_dropped") == 40, what="drops counted")

    vm.start()  # back, same data dir and port
    after = [messages.reading(200.0 + i) for i in range(20)]
    publisher.publish([messages.wire(e) for e in after])
    wait(lambda: worker.metrics.get("mirror_written") == 50, what="mirroring resumed")

    values = sorted(vm.export(messages.tenant)["reading_value"].values())
    assert values == sorted(e.payload.value for e in before + after)
    missing = len(before) + len(during) + len(after) - len(values)
    assert missing == worker.metrics.get("mirror_dropped") == 40
    assert store.count("readings", messages.tenant) == 90
    assert "labcal_ingest_mirror_dropped_total 40" in worker.metrics.prometheus()
