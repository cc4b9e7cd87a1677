"""``labcal-cloud demo up``: the same ``serve`` session on a fresh data dir, plus the demo.

Steps (one progress line when each starts and when it is ready): the data dir is recreated
(only one the demo made: it holds the marker file) → serve prepares it (secrets, migrations) →
fleet (labcal-sim fleet export) → demo tenant, devices, stations seeded → serve starts its roles
(broker, API + portal, ingest, pipeline, scheduler) → simulated stations (ptys) → edge agent of
the bench → scripted gravimetric run on the balance station, a quick check, then its agent.
The pipeline's lines (``pipeline: certificate … signed for …``) and the scheduler's deliveries
show on the console while the runs go on.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from labcal_cloud.demo.layout import DemoPaths
from labcal_cloud.demo.stations import DemoStations, MqttTarget
from labcal_cloud.demo.world import DemoWorld, seed_fleet, seed_world
from labcal_cloud.serve.console import Console
from labcal_cloud.serve.data_dir import ServePaths, holder_of_lock
from labcal_cloud.serve.lifecycle import ServeStartError, run_supervised
from labcal_cloud.serve.options import ServeInputError, ServeOptions
from labcal_cloud.serve.session import ServeSession, labcal_bin

__all__ = ["MARKER", "PROVIDER", "DemoOptions", "demo_up"]

PROVIDER = "LabCal Demo Service"
MARKER = ".labcal-demo"  # a data dir holding it may be wiped; any other non-empty dir may not


@dataclass(frozen=True)
class DemoOptions:
    serve: ServeOptions
    password: str = "demo-password-1"
    demo_devices: int = 40
    fleet_pipettes: int = 12
    fleet_days: int = 400
    volumes_ul: tuple[float, ...] = (1000.0, 500.0, 100.0)


def _fresh_data_dir(opts: DemoOptions, say: Console) -> DemoPaths | None:
    root = opts.serve.data_dir.expanduser().resolve()
    marker = root / MARKER
    if root.exists() and not root.is_dir():
        say(f"demo: {root} is not a directory; choose --data-dir")
        return None
    if root.exists() and any(root.iterdir()) and not marker.exists():
        say(f"demo: {root} is not empty and was not made by the demo; choose --data-dir")
        return None
    holder = holder_of_lock(ServePaths(root).lock)
    if holder is not None:
        say(f"demo: {root} is in use by a running demo (pid {holder}); choose --data-dir")
        return None
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    marker.write_text("made by labcal-cloud demo up; removed and recreated on every start\n")
    say(f"LabCal demo: data in {root} (recreated on every start; logs in {root / 'logs'})")
    return DemoPaths(root)


def demo_up(opts: DemoOptions) -> int:
    say = Console()
    paths = _fresh_data_dir(opts, say)
    if paths is None:
        return 2
    stop = threading.Event()
    session = ServeSession(replace(opts.serve, data_dir=paths.root), say, stop)

    def stop_all() -> None:
        session.stop_all()
        say("all processes stopped")

    return run_supervised(
        lambda: _run(opts, paths, session, say, stop),
        stop=stop,
        stop_all=stop_all,
        say=say,
        name="demo",
        stopping_text="stopping everything",
    )


def _mqtt_target(session: ServeSession) -> MqttTarget:
    protocol = session.env.get("LABCAL_MQTT_PROTOCOL", "5")
    if session.mqtt_port:
        return MqttTarget("127.0.0.1", session.mqtt_port, protocol)
    if session.opts.mqtt_url:
        url = urlsplit(session.opts.mqtt_url)
        return MqttTarget(url.hostname or "127.0.0.1", url.port or 1883, protocol)
    raise ServeInputError("the demo's stations need a broker: the broker role or --mqtt-url")


def _seed(opts: DemoOptions, paths: DemoPaths, session: ServeSession, say: Console) -> DemoWorld:
    from labcal_cloud.portal.app import build_services
    from labcal_cloud.portal.settings import PortalSettings
    from labcal_cloud.storage.factory import open_store

    sup, secrets = session.supervisor, session.secrets
    assert sup is not None
    assert secrets is not None
    say(
        f"fleet: simulating {opts.fleet_pipettes} pipettes x {opts.fleet_days} days "
        "(labcal-sim fleet export, accelerated time)"
    )
    fleet_argv = [
        labcal_bin("labcal-sim"),
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
    fleet = sup.start("fleet", fleet_argv)
    if sup.wait_exit(fleet, 120) != 0:
        raise ServeStartError(f"fleet export failed (log: {fleet.log_path})")
    say("tenant: seeding the demo tenant, its devices and the stations")
    settings = PortalSettings(
        database_url=session.database_url,
        base_url=session.base_url,
        signing_key=secrets.signing_key,
        signing_cert=secrets.signing_cert,
        cookie_secure=False,
        provider_name=PROVIDER,
        link_secret=secrets.link_secret,
    )
    store = open_store(session.database_url)
    services = build_services(settings)
    try:
        world = seed_world(services, store, opts.password, opts.demo_devices)
        summary = seed_fleet(services, world, paths, datetime.now(UTC).date())
    finally:
        services.db.close()
        store.close()
    say(
        f"tenant: ready (tenant {world.tenant_id}; {opts.demo_devices} portal demo devices, "
        f"{len(world.sim_devices)} simulated pipettes, fleet of {summary.pipettes} with "
        f"{summary.usage_rows} usage days seeded into the registry)"
    )
    return world


def _run(
    opts: DemoOptions,
    paths: DemoPaths,
    session: ServeSession,
    say: Console,
    stop: threading.Event,
) -> int:
    session.prepare()
    mqtt = _mqtt_target(session)
    world = _seed(opts, paths, session, say)
    session.start_roles()
    sup = session.supervisor
    assert sup is not None
    stations = DemoStations(
        sup,
        paths,
        say,
        sim=labcal_bin("labcal-sim"),
        edge=labcal_bin("labcal-edge"),
        tenant=world.tenant_id,
        mqtt=mqtt,
        database_url=session.database_url,
        wait_for_ingest="ingest" in session.opts.roles,
        volumes_ul=opts.volumes_ul,
    )
    stations.start()
    base = session.base_url
    say("")
    say(f"Portal:   {base}/login")
    say(f"Login:    {world.login}   password: {world.password}")
    say(f"Provider: {world.provider_login}   password: {world.password}")
    for line in session.banner()[1:]:  # inbox, ops (the portal line is above)
        if not line.startswith("First admin"):
            say(line)
    say(f"Read API: curl -H 'Authorization: Bearer {world.read_token}' {base}/v1/runs")
    say(
        f"Started in {say.elapsed():.1f} s. The run, its certificate and the reminders follow. "
        "Ctrl-C stops everything."
    )
    say("")
    while not stop.is_set():
        session.tick()
        stations.tick()
        stop.wait(0.5)
    return 0
