"""The fault benchmark's schedule: which fault, on what, when and for how long (pure, seeded).

One fault at a time, in a shuffled order, with a random pause before each; a fault lasts
``hold_s`` (a process killed with SIGKILL stays down that long before it is restarted, the
proxy refuses connections that long after cutting them, the outbox disk stays full that long).
The same seed gives the same schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["KINDS", "Fault", "plan"]

KINDS = (
    "kill_ingest",  # SIGKILL an ingest worker, restart it after hold_s
    "kill_broker",  # SIGKILL Mosquitto, restart it (same persistence file) after hold_s
    "restart_postgres",  # pg_ctl stop -m immediate (a crash), start again after hold_s
    "kill_agent",  # SIGKILL an edge agent, restart it after hold_s
    "cut_tcp",  # the proxy between the agents and the broker drops every connection
    "disk_full",  # fill the file system of one station's outbox; free it after hold_s
)


@dataclass(frozen=True, slots=True)
class Fault:
    at_s: float  # seconds after the start of the fault phase
    kind: str
    target: int  # ingest worker or station index; 0 where there is one
    hold_s: float

    def describe(self) -> str:
        what = {
            "kill_ingest": f"kill -9 ingest worker {self.target}",
            "kill_broker": "kill -9 the broker",
            "restart_postgres": "crash-restart PostgreSQL",
            "kill_agent": f"kill -9 edge agent {self.target}",
            "cut_tcp": "cut every agent's TCP connection",
            "disk_full": f"fill station {self.target}'s outbox disk",
        }[self.kind]
        return f"t={self.at_s:6.1f}s {what}, {self.hold_s:.1f}s"


def plan(
    seed: int,
    *,
    workers: int,
    stations: int,
    disk_station: int,
    kills_per_worker: int = 3,
    broker_kills: int = 2,
    postgres_restarts: int = 2,
    agent_kills: int = 6,
    cuts: int = 4,
    gap_s: tuple[float, float] = (3.0, 8.0),
    hold_s: tuple[float, float] = (1.0, 5.0),
    disk_hold_s: float = 15.0,
) -> list[Fault]:
    """The schedule; agents to kill are drawn among the stations (never ``disk_station``)."""
    if workers < 1 or stations < 2 or not 0 <= disk_station < stations:
        raise ValueError("need >= 1 worker, >= 2 stations and a disk station among them")
    rng = random.Random(seed)
    todo: list[tuple[str, int]] = [
        ("kill_ingest", w) for w in range(workers) for _ in range(kills_per_worker)
    ]
    todo += [("kill_broker", 0)] * broker_kills + [("restart_postgres", 0)] * postgres_restarts
    others = [s for s in range(stations) if s != disk_station]
    todo += [("kill_agent", rng.choice(others)) for _ in range(agent_kills)]
    todo += [("cut_tcp", 0)] * cuts + [("disk_full", disk_station)]
    rng.shuffle(todo)
    faults: list[Fault] = []
    t = 0.0
    for kind, target in todo:
        t += rng.uniform(*gap_s)
        hold = disk_hold_s if kind == "disk_full" else rng.uniform(*hold_s)
        faults.append(Fault(round(t, 1), kind, target, round(hold, 1)))
        t += hold
    return faults
