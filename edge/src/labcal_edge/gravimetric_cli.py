"""``labcal-edge gravimetric``: composition root of a guided (or scripted) gravimetric run.

Opens the station's devices, runs the workflow while a publisher drains the outbox, and waits a
little for the run to be delivered (what is not delivered stays in the outbox for the next
``labcal-edge run``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from labcal_edge.agent import open_outbox
from labcal_edge.config import EdgeConfig
from labcal_edge.drivers.balance import BalanceDriver
from labcal_edge.emitter import Emitter
from labcal_edge.errors import DeviceUnavailableError, RunAbortedError
from labcal_edge.gravimetric import GravimetricWorkflow, StationIO
from labcal_edge.messages import StationIdentity, receipt_topic
from labcal_edge.ntp import make_probe
from labcal_edge.operator_io import Operator, ScriptedOperator, TerminalOperator, load_script
from labcal_edge.publisher import Publisher
from labcal_edge.station import Device, build_devices
from labcal_shared.contracts import RunMode

__all__ = ["run_gravimetric"]

log = logging.getLogger("labcal_edge.gravimetric")


def _connect(device: Device[Any] | None) -> bool:
    return device is not None and device.supervised.ensure()


def run_gravimetric(
    config: EdgeConfig, script: Path | None, *, quick: bool, stop: threading.Event
) -> int:
    operator: Operator = ScriptedOperator(load_script(script)) if script else TerminalOperator()
    if not config.balance:
        raise RunAbortedError("the configuration has no [[balance]]")
    outbox = open_outbox(config)
    identity = StationIdentity(config.station.tenant, config.station.id)
    emitter = Emitter(identity, outbox, make_probe(config.clock.ntp))
    devices = build_devices(config)
    balance = devices.balances[0]
    if not balance.supervised.ensure():
        raise DeviceUnavailableError(
            f"balance {balance.config.name} on {balance.config.port} is not available"
        )
    pipette = devices.pipettes[0] if devices.pipettes and _connect(devices.pipettes[0]) else None
    scanner = devices.scanner if _connect(devices.scanner) else None
    sensor = devices.sensor if _connect(devices.sensor) else None
    assert isinstance(balance.driver, BalanceDriver)
    io = StationIO(
        balance=balance.driver,
        balance_ref=balance.ref,
        pipette=pipette.driver if pipette else None,
        scanner=scanner.driver if scanner else None,
        sensor=sensor.driver if sensor else None,
    )
    bcfg = config.balance[0]
    workflow = GravimetricWorkflow(
        io,
        operator,
        emitter,
        stable_timeout_s=config.gravimetric.stable_timeout_s,
        outlier_limit_pct=config.gravimetric.outlier_limit_pct,
        readability_mg=bcfg.readability_mg,
        mpe_edition=config.gravimetric.mpe_edition,
    )
    publisher = Publisher(
        config.mqtt,
        config.client_id + "-grav",
        outbox,
        receipt_topic=receipt_topic(StationIdentity(config.station.tenant, config.station.id)),
    )
    net_stop = threading.Event()
    net = threading.Thread(target=publisher.run, args=(net_stop,), daemon=True)
    net.start()
    try:
        outcome = workflow.run(RunMode.QUICK_CHECK if quick else RunMode.CALIBRATION)
        deadline = time.monotonic() + config.gravimetric.delivery_wait_s
        while outbox.depth and time.monotonic() < deadline and not stop.is_set():
            time.sleep(0.05)
        if outbox.depth:
            operator.say(f"{outbox.depth} message(s) still queued; `labcal-edge run` delivers them")
        else:
            operator.say("All readings and the run were delivered to the broker.")
        return 0 if outcome.passed else 1
    finally:
        net_stop.set()
        net.join(timeout=10)
        devices.close()
        outbox.close()
