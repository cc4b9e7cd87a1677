"""The demo's simulated stations and edge agents, started under serve's supervisor (so they stop
before the roles): two ``labcal-sim station`` on ptys, the bench's ``labcal-edge run``, then on
the balance station a scripted gravimetric calibration, a scripted quick check, and its agent."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from labcal_cloud.db.gateway import connect
from labcal_cloud.demo.layout import (
    BALANCE_STATION,
    BENCH_STATION,
    DemoPaths,
    SimPipette,
    SimStation,
    edge_toml,
    gravimetric_script,
    station_toml,
)
from labcal_cloud.serve.backoff import describe_exit
from labcal_cloud.serve.supervisor import Child, ChildFailedError, Supervisor

__all__ = ["DemoStations", "MqttTarget"]


@dataclass(frozen=True, slots=True)
class MqttTarget:
    host: str
    port: int
    protocol: str  # "5" or "3.1.1" (the embedded amqtt broker)


def _count_messages(url: str, station: str) -> int:
    db = connect(url, pool_size=1)
    try:
        row = db.one("SELECT count(*) FROM messages WHERE station = ?", (station,))
    finally:
        db.close()
    return int(row[0]) if row is not None else 0


class DemoStations:
    def __init__(
        self,
        sup: Supervisor,
        paths: DemoPaths,
        say: Callable[[str], None],
        *,
        sim: str,
        edge: str,
        tenant: str,
        mqtt: MqttTarget,
        database_url: str,
        wait_for_ingest: bool,
        volumes_ul: tuple[float, ...],
    ) -> None:
        self._sup, self._paths, self._say = sup, paths, say
        self._sim, self._edge, self._tenant, self._mqtt = sim, edge, tenant, mqtt
        self._url, self._wait_for_ingest = database_url, wait_for_ingest
        self._volumes = volumes_ul
        self._watched: list[Child] = []
        self._reported: set[str] = set()
        self._runs: list[tuple[str, list[str]]] = []
        self._one_shot: Child | None = None
        self._balance_agent: Child | None = None

    def _edge_file(
        self,
        station: SimStation,
        variant: str = "",
        pipettes: tuple[SimPipette, ...] | None = None,
    ) -> str:
        path = self._paths.edge_file(station, variant)
        path.write_text(
            edge_toml(
                self._paths,
                station,
                self._tenant,
                self._mqtt.port,
                mqtt_host=self._mqtt.host,
                mqtt_protocol=self._mqtt.protocol,
                pipettes=pipettes,
                mqtt_username=station.id,  # the embedded broker keeps named sessions only
            )
        )
        return str(path)

    def start(self) -> None:
        """Both simulated stations, then the bench's agent; the balance station's runs are
        queued (the first starts at the next :meth:`tick`)."""
        for i, station in enumerate((BALANCE_STATION, BENCH_STATION)):
            self._paths.station_file(station).write_text(
                station_toml(self._paths, station, seed=11 + i)
            )
            self._edge_file(station)
            devices = (
                len(station.pipettes) + bool(station.balance_serial) + bool(station.sensor_serial)
            )
            self._say(f"sim {station.id}: starting {devices} devices on ptys")
            child = self._sup.start(
                f"sim-{station.id}",
                [self._sim, "station", "--config", str(self._paths.station_file(station))],
            )
            for _ in range(devices):
                child.wait_for_line(r"^(balance|pipette|sensor)\t", 30)
            where = self._paths.devices(station)
            self._say(f"sim {station.id}: ready (pid {child.pid}; ptys under {where})")
            self._watched.append(child)
        self._watched.append(self._start_agent(BENCH_STATION))
        self._queue_runs()

    def _queue_runs(self) -> None:
        paths = self._paths
        paths.script.write_text(gravimetric_script(self._volumes))
        quick = BALANCE_STATION.pipettes[1]
        quick_script = paths.root / "quick-check-script.toml"
        quick_script.write_text(gravimetric_script(()))
        quick_config = self._edge_file(BALANCE_STATION, "-quick", pipettes=(quick,))
        volumes = ", ".join(f"{v:g}" for v in self._volumes)
        calibrated = BALANCE_STATION.pipettes[0].serial
        self._runs = [
            (
                f"scripted ISO 8655 calibration of {calibrated} ({volumes} µL x 10)",
                [
                    self._edge,
                    "gravimetric",
                    "--config",
                    str(paths.edge_file(BALANCE_STATION)),
                    "--script",
                    str(paths.script),
                ],
            ),
            (
                f"scripted quick check of {quick.serial}",
                [
                    self._edge,
                    "gravimetric",
                    "--quick",
                    "--script",
                    str(quick_script),
                    "--config",
                    quick_config,
                ],
            ),
        ]

    def _start_agent(self, station: SimStation) -> Child:
        self._say(f"edge {station.id}: starting the agent ({len(station.pipettes)} pipettes)")
        before = _count_messages(self._url, station.id) if self._wait_for_ingest else 0
        config = str(self._paths.edge_file(station))
        child = self._sup.start(f"edge-{station.id}", [self._edge, "run", "--config", config])
        if not self._wait_for_ingest:
            self._say(f"edge {station.id}: started (pid {child.pid}; no ingest role to wait for)")
            return child
        deadline = time.monotonic() + 60
        while _count_messages(self._url, station.id) <= before:
            if not child.alive():
                raise ChildFailedError(f"edge {station.id} exited (log: {child.log_path})")
            if self._sup.stopping.is_set():
                raise ChildFailedError(f"edge {station.id}: stopped while waiting")
            if time.monotonic() > deadline:
                raise ChildFailedError(f"edge {station.id}: no message stored within 60 s")
            time.sleep(0.3)
        self._say(f"edge {station.id}: ready (pid {child.pid}; its messages are arriving)")
        return child

    def tick(self) -> None:
        """The next scripted run when the previous one is done; then the balance agent; say
        once when a station process exits."""
        one_shot = self._one_shot
        if one_shot is not None and not one_shot.alive():
            rc = one_shot.proc.returncode
            verdict = {0: "passed", 1: "done, the pipette did not pass"}.get(
                rc, f"failed ({describe_exit(rc)})"
            )
            self._say(f"{one_shot.name}: {verdict} (log: {one_shot.log_path})")
            self._one_shot = None
        if self._one_shot is None and self._runs:
            text, argv = self._runs.pop(0)
            self._say(f"gravimetric: {text} on {BALANCE_STATION.id}")
            self._one_shot = self._sup.start(f"gravimetric-{2 - len(self._runs)}", argv)
        if self._one_shot is None and not self._runs and self._balance_agent is None:
            self._balance_agent = self._start_agent(BALANCE_STATION)
            self._watched.append(self._balance_agent)
        for child in self._watched:
            if not child.alive() and child.name not in self._reported:
                self._reported.add(child.name)
                code = describe_exit(child.proc.returncode)
                self._say(f"{child.name} exited with {code} (log: {child.log_path})")
