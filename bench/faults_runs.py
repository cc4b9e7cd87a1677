"""The fault benchmark's guided runs: gravimetric runs committed into station outboxes.

Run: python bench/faults_runs.py --tenant T --every-s 2 STATION=OUTBOX_PATH ...

``labcal-edge gravimetric`` commits a finished run into the station's outbox while
``labcal-edge run`` (the agent, which publishes it) keeps going; this does the same for several
stations, one ``gravimetric_run`` message each every ``--every-s`` seconds, until SIGTERM. A run
refused because the outbox is full is counted (printed at the end), not retried.
"""

from __future__ import annotations

import argparse
import signal
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from labcal_edge.emitter import Emitter
from labcal_edge.errors import OutboxFullError
from labcal_edge.messages import StationIdentity
from labcal_edge.ntp import FixedProbe
from labcal_edge.outbox import Outbox
from labcal_shared.contracts import (
    DeviceRef,
    DeviceType,
    EnvironmentSample,
    GravimetricRun,
    RunMode,
    TestVolume,
)


def run_payload(n: int, station: str) -> GravimetricRun:
    now = datetime.now(UTC)
    masses = [997.0 + ((n * 7 + i) % 5) * 0.1 for i in range(10)]
    return GravimetricRun(
        run_id=uuid.uuid4(),
        mode=RunMode.CALIBRATION,
        pipette=DeviceRef(
            type=DeviceType.PIPETTE, make="LabCal", model="LP-1000", serial=f"LP-{station}"
        ),
        nominal_volume_ul=1000.0,
        balance=DeviceRef(
            type=DeviceType.BALANCE, make="Mettler Toledo", model="XPR", serial=f"B-{station}"
        ),
        balance_readability_mg=0.01,
        environment=[EnvironmentSample(air_temp_c=20.5, pressure_kpa=101.3, humidity_pct=50.0)],
        test_volumes=[TestVolume(volume_ul=1000.0, masses_mg=masses)],
        operator="bench",
        started_at=now - timedelta(minutes=5),
        ended_at=now,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--every-s", type=float, default=2.0)
    ap.add_argument("outboxes", nargs="+", help="STATION=OUTBOX_PATH")
    args = ap.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    emitters = []
    for item in args.outboxes:
        station, _, path = item.partition("=")
        outbox = Outbox(Path(path), synchronous="normal")
        emitters.append(
            (station, Emitter(StationIdentity(args.tenant, station), outbox, FixedProbe(True)))
        )
    committed = refused = n = 0
    print("ready", flush=True)
    while not stop.wait(args.every_s):
        n += 1
        for station, emitter in emitters:
            try:
                emitter.emit(run_payload(n, station))
                committed += 1
            except OutboxFullError:
                refused += 1
    print(f"runs committed {committed} refused {refused}", flush=True)


if __name__ == "__main__":
    main()
