"""``labcal-cloud demo up``: bring the whole system up, print where to look, stop on Ctrl-C.

Steps (one progress line when each starts and when it is ready): private broker (Mosquitto when
the binary is present, else the embedded amqtt speaking MQTT 3.1.1) → database
(migrations) → signing key → fleet (labcal-sim fleet export) → demo tenant → API + portal →
ingest → worker → simulated stations (ptys) → edge agent of the bench → scripted gravimetric run
on the balance station, then its edge agent. The gravimetric run goes on in the background
while the portal is already up; the worker reports usage, the certificate and the reminders.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import secrets
import shutil
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from labcal_cloud.demo.broker import find_mosquitto, free_port, mosquitto_path, wait_port
from labcal_cloud.demo.layout import (
    BALANCE_STATION,
    BENCH_STATION,
    DemoPaths,
    SimStation,
    edge_toml,
    gravimetric_script,
    mosquitto_conf,
    station_toml,
)
from labcal_cloud.demo.supervisor import Child, ChildFailedError, Supervisor
from labcal_cloud.demo.world import seed_fleet, seed_world, write_signing_pair
from labcal_cloud.portal.app import build_services
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.storage.factory import open_store

__all__ = ["UpOptions", "demo_up"]

PROVIDER = "LabCal Demo Service"
MARKER = ".labcal-demo"  # a data dir holding it may be wiped; any other non-empty dir may not
TRACEABILITY = "demo balance B-DEMO-0001 (simulated by labcal-sim, not a real calibration)"


@dataclass(frozen=True)
class UpOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    password: str = "demo-password-1"
    demo_devices: int = 40
    fleet_pipettes: int = 12
    fleet_days: int = 400
    json_logs: bool = False
    broker: str = "auto"  # auto | mosquitto | embedded
    volumes_ul: tuple[float, ...] = (1000.0, 500.0, 100.0)


class _StopRequestedError(Exception):
    """SIGINT or SIGTERM arrived."""


class _Progress:
    def __init__(self) -> None:
        self._t0 = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            print(f"[{time.monotonic() - self._t0:6.1f}s] {text}", flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self._t0


def _bin(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _wait(check: Callable[[], bool], timeout: float, what: str, child: Child | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if child is not None and not child.alive():
            raise ChildFailedError(f"{what}: {child.name} exited (log: {child.log_path})")
        if child is not None and child.stopping.is_set():
            raise ChildFailedError(f"{what}: stopped while waiting")
        time.sleep(0.2)
    raise ChildFailedError(f"{what}: not ready within {timeout:.0f} s")


def _count_messages(url: str, station: str) -> int:
    import sqlite3

    path = url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        row = conn.execute("SELECT count(*) FROM messages WHERE station = ?", (station,)).fetchone()
    return int(row[0])


def demo_up(opts: UpOptions) -> int:
    say = _Progress()
    stop_requested = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not stop_requested.is_set():
            received.append(signal.Signals(signum).name)
            stop_requested.set()  # the main loop checks it (if a library swallows the raise)
            raise _StopRequestedError(received[0])

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    paths = DemoPaths(opts.data_dir.resolve())
    marker = paths.root / MARKER
    if paths.root.exists() and any(paths.root.iterdir()) and not marker.exists():
        say(f"demo: {paths.root} is not empty and was not made by the demo; choose --data-dir")
        return 2
    if paths.root.exists():
        shutil.rmtree(paths.root)
    paths.root.mkdir(parents=True)
    marker.write_text("made by labcal-cloud demo up; removed and recreated on every start\n")
    say(f"LabCal demo: data in {paths.root} (recreated on every start; logs in {paths.logs})")

    def on_line(child: Child, line: str) -> None:
        if child.name == "worker" and line.startswith("worker: ") and "ready" not in line:
            say(line)

    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    sup = Supervisor(paths.logs, env, on_line, stop_requested)
    code = 0
    try:
        code = _run(opts, paths, sup, env, say, stop_requested)
    except _StopRequestedError:
        pass
    except (ChildFailedError, OSError, ValueError) as exc:
        if not received:
            say(f"demo failed: {exc}")
            code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if received:
            say(f"{received[0]}: stopping everything")
            code = 0
        sup.stop_all(say=say)
        say("all processes stopped")
    return code


def _run(
    opts: UpOptions,
    paths: DemoPaths,
    sup: Supervisor,
    env: dict[str, str],
    say: _Progress,
    stop: threading.Event,
) -> int:
    cloud, sim, edge = _bin("labcal-cloud"), _bin("labcal-sim"), _bin("labcal-edge")
    # -- broker
    mqtt_port = free_port()
    broker, protocol = _start_broker(opts.broker, mqtt_port, paths, sup, cloud, say)
    # -- database and demo world
    url = paths.database_url
    say(f"database: applying migrations to {paths.database}")
    store = open_store(url)
    try:
        applied = store.migrate()
        say(f"database: ready ({len(applied)} migrations)")
        write_signing_pair(paths.signing_key, paths.signing_cert, PROVIDER)
        fleet_cmd = [
            sim,
            "fleet",
            "export",
            "--pipettes",
            str(opts.fleet_pipettes),
            "--days",
            str(opts.fleet_days),
            "--seed",
            "3",
            "--out",
            str(paths.fleet),
        ]
        say(
            f"fleet: simulating {opts.fleet_pipettes} pipettes x {opts.fleet_days} days "
            "(labcal-sim fleet export, accelerated time)"
        )
        fleet = sup.start("fleet", fleet_cmd)
        if sup.wait_exit(fleet, 120) != 0:
            raise ChildFailedError(f"fleet export failed (log: {fleet.log_path})")
        port = opts.port or free_port(opts.host)
        base_url = f"http://{opts.host}:{port}"
        link_secret = secrets.token_urlsafe(36)
        settings = PortalSettings(
            database_url=url,
            base_url=base_url,
            signing_key=paths.signing_key,
            signing_cert=paths.signing_cert,
            cookie_secure=False,
            provider_name=PROVIDER,
            link_secret=link_secret,
        )
        say("tenant: seeding the demo tenant, its devices and the stations")
        services = build_services(settings)
        world = seed_world(services, store, opts.password, opts.demo_devices)
        summary = seed_fleet(services, world, paths, datetime.now(UTC).date())
        services.db.close()
        say(
            f"tenant: ready (tenant {world.tenant_id}; {opts.demo_devices} portal demo devices, "
            f"{len(world.sim_devices)} simulated pipettes, fleet of {summary.pipettes} with "
            f"{summary.usage_rows} usage days seeded into the registry)"
        )
    finally:
        store.close()
    env.update(
        LABCAL_DATABASE_URL=url,
        LABCAL_PORTAL_DATABASE_URL=url,
        LABCAL_MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}",
        LABCAL_MQTT_PROTOCOL=protocol,
        LABCAL_MQTT_USERNAME="demo-ingest",  # the embedded broker keeps named sessions only
        LABCAL_SIGNING_KEY=str(paths.signing_key),
        LABCAL_SIGNING_CERT=str(paths.signing_cert),
        LABCAL_BASE_URL=base_url,
        LABCAL_COOKIE_SECURE="0",
        LABCAL_LINK_SECRET=link_secret,
        LABCAL_LOG_FORMAT="json" if opts.json_logs else "text",
    )
    sup.set_env(env)
    # -- cloud processes
    say(f"api: starting API + portal on {base_url}")
    api = sup.start("api", [cloud, "demo", "api", "--host", opts.host, "--port", str(port)])
    _wait(lambda: _http_ok(f"{base_url}/readyz"), 60, "api", api)
    say(f"api: ready (pid {api.pid}; {base_url}/healthz, /readyz, /metrics)")
    how = "MQTT 5 shared subscription" if protocol == "5" else "MQTT 3.1.1 subscription"
    say(f"ingest: starting one ingest worker ({how})")
    ingest = sup.start("ingest", [cloud, "ingest", "--client-id", "demo-ingest-1"])
    ingest.wait_for_line(r"subscribed", 60)
    say(f"ingest: ready (pid {ingest.pid})")
    say("worker: starting projector, due states and scheduler (inbox channel)")
    worker = sup.start("worker", [cloud, "demo", "worker", "--tenant", world.tenant_id])
    worker.wait_for_line(r"^worker: ready", 60)
    say(f"worker: ready (pid {worker.pid})")
    # -- simulated stations and edge agents
    sims: dict[str, Child] = {}
    for i, station in enumerate((BALANCE_STATION, BENCH_STATION)):
        paths.station_file(station).write_text(station_toml(paths, station, seed=11 + i))
        paths.edge_file(station).write_text(
            edge_toml(
                paths,
                station,
                world.tenant_id,
                mqtt_port,
                mqtt_protocol=protocol,
                mqtt_username=station.id,
            )
        )
        devices = len(station.pipettes) + bool(station.balance_serial) + bool(station.sensor_serial)
        say(f"sim {station.id}: starting {devices} devices on ptys")
        child = sup.start(
            f"sim-{station.id}", [sim, "station", "--config", str(paths.station_file(station))]
        )
        for _ in range(devices):
            child.wait_for_line(r"^(balance|pipette|sensor)\t", 30)
        say(f"sim {station.id}: ready (pid {child.pid}; ptys under {paths.devices(station)})")
        sims[station.id] = child
    bench = _start_agent(sup, edge, paths, BENCH_STATION, url, say)
    paths.script.write_text(gravimetric_script(opts.volumes_ul))
    quick_pipette = BALANCE_STATION.pipettes[1]
    quick_script = paths.root / "quick-check-script.toml"
    quick_script.write_text(gravimetric_script(()))
    paths.edge_file(BALANCE_STATION, "-quick").write_text(
        edge_toml(
            paths,
            BALANCE_STATION,
            world.tenant_id,
            mqtt_port,
            pipettes=(quick_pipette,),
            mqtt_protocol=protocol,
            mqtt_username=BALANCE_STATION.id,
        )
    )
    runs = [
        (
            f"scripted ISO 8655 calibration of {BALANCE_STATION.pipettes[0].serial} "
            f"({', '.join(f'{v:g}' for v in opts.volumes_ul)} µL x 10)",
            [
                edge,
                "gravimetric",
                "--config",
                str(paths.edge_file(BALANCE_STATION)),
                "--script",
                str(paths.script),
            ],
        ),
        (
            f"scripted quick check of {quick_pipette.serial}",
            [
                edge,
                "gravimetric",
                "--quick",
                "--script",
                str(quick_script),
                "--config",
                str(paths.edge_file(BALANCE_STATION, "-quick")),
            ],
        ),
    ]
    say("")
    say(f"Portal:   {base_url}/login")
    say(f"Login:    {world.login}   password: {world.password}")
    say(f"Provider: {world.provider_login}   password: {world.password}")
    say(f"Inbox:    {base_url}/inbox   (reminders; JSON at /api/v1/inbox)")
    say(f"Ops:      {base_url}/healthz  /readyz  /metrics")
    say(f"Read API: curl -H 'Authorization: Bearer {world.read_token}' {base_url}/v1/runs")
    say(
        f"Started in {say.elapsed():.1f} s. The run, its certificate and the reminders follow. "
        "Ctrl-C stops everything."
    )
    say("")
    watched = [broker, api, ingest, worker, bench, *sims.values()]
    one_shot: Child | None = None
    balance_agent: Child | None = None
    reported: set[str] = set()
    while not stop.is_set():
        if one_shot is not None and not one_shot.alive():
            rc = one_shot.proc.returncode
            verdict = {0: "passed", 1: "done, the pipette did not pass"}.get(rc, f"failed ({rc})")
            say(f"{one_shot.name}: {verdict} (log: {one_shot.log_path})")
            one_shot = None
        if one_shot is None and runs:
            text, argv = runs.pop(0)
            say(f"gravimetric: {text} on {BALANCE_STATION.id}")
            one_shot = sup.start(f"gravimetric-{2 - len(runs)}", argv)
        if one_shot is None and not runs and balance_agent is None:
            balance_agent = _start_agent(sup, edge, paths, BALANCE_STATION, url, say)
            watched.append(balance_agent)
        for child in watched:
            if not child.alive() and child.name not in reported:
                reported.add(child.name)
                say(f"{child.name} exited with {child.proc.returncode} (log: {child.log_path})")
        time.sleep(0.5)
    return 0


def _start_broker(
    choice: str, port: int, paths: DemoPaths, sup: Supervisor, cloud: str, say: _Progress
) -> tuple[Child, str]:
    """Start the broker ``choice`` asks for (auto: Mosquitto if the binary is present, else the
    embedded amqtt); return it and the MQTT protocol version its clients must speak."""
    embedded = choice == "embedded" or (choice == "auto" and mosquitto_path() is None)
    if embedded:
        say(f"broker: starting the embedded amqtt broker (MQTT 3.1.1) on 127.0.0.1:{port}")
        argv = [cloud, "demo", "broker", "--host", "127.0.0.1", "--port", str(port)]
        protocol = "3.1.1"
    else:
        say(f"broker: starting a private Mosquitto on 127.0.0.1:{port}")
        paths.broker_conf.write_text(mosquitto_conf(port, paths.logs, getpass.getuser()))
        argv = [str(find_mosquitto()), "-c", str(paths.broker_conf)]
        protocol = "5"
    broker = sup.start("broker", argv)
    _wait(lambda: wait_port("127.0.0.1", port, 0.5), 30, "broker", broker)
    say(f"broker: ready (pid {broker.pid})")
    return broker, protocol


def _start_agent(
    sup: Supervisor, edge: str, paths: DemoPaths, station: SimStation, url: str, say: _Progress
) -> Child:
    say(f"edge {station.id}: starting the agent ({len(station.pipettes)} pipettes)")
    before = _count_messages(url, station.id)
    child = sup.start(
        f"edge-{station.id}", [edge, "run", "--config", str(paths.edge_file(station))]
    )
    _wait(lambda: _count_messages(url, station.id) > before, 60, f"edge {station.id}", child)
    say(f"edge {station.id}: ready (pid {child.pid}; its messages are arriving)")
    return child
