"""A guided run on a third-party balance whose loads settle like real ones (mt-sics-emulator).

The emulator answers ``S`` at once with ``S D …`` while the water settles (about 4 s for 1 g on a
0.1 mg balance). Replicate masses must come from stable weights only: the run then measures the
pipette's known error; with unstable readings it measured several per cent too little.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcal_edge.config import BalanceConfig, FullPolicy
from labcal_edge.drivers.balance import BalanceDriver
from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.link import PySerialLink
from labcal_edge.emitter import Emitter
from labcal_edge.errors import RunAbortedError
from labcal_edge.gravimetric import GravimetricWorkflow, StationIO
from labcal_edge.messages import StationIdentity
from labcal_edge.ntp import make_probe
from labcal_edge.operator_io import ScriptedOperator
from labcal_edge.outbox import Outbox
from labcal_shared.contracts import DeviceRef, DeviceType, Reading, RunMode, decode
from labcal_shared.iso8655 import z_factor
from labcal_shared.protocols import Dialect

from .emulator import Emulator, emulator

WATER_C, PRESSURE_KPA, HUMIDITY = 20.0, 101.3, 50.0
TRUE_ERROR_PCT = 1.0  # the "pipette" delivers 1 % more than set
VESSEL_G = 20.0


class PouringOperator(ScriptedOperator):
    """A scripted operator who really pours: each delivery adds water to the emulator's pan."""

    def __init__(self, script: dict[str, object], emu: Emulator, volume_ul: float) -> None:
        super().__init__(script, out=io.StringIO())
        self.emu = emu
        z = z_factor(WATER_C, PRESSURE_KPA, HUMIDITY, WATER_C)
        self.dose_g = volume_ul * (1 + TRUE_ERROR_PCT / 100) / z / 1000.0
        self.load_g = VESSEL_G
        self.outbox: Outbox | None = None

    def act(self, key: str, prompt: str) -> None:
        super().act(key, prompt)
        if key == "deliver":
            self.load_g += self.dose_g
            self.emu.place(self.load_g)
            time.sleep(0.2)  # the operator presses Enter after pouring; the pan moves meanwhile

    @property
    def said(self) -> str:
        out = self._out
        assert isinstance(out, io.StringIO)
        return out.getvalue()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with emulator("mt-xs204") as e:
        e.snap(VESSEL_G)
        yield e


def workflow(
    emu: Emulator,
    tmp_path: Path,
    script: dict[str, object],
    stable_timeout_s: float = 30.0,
    capacity: int = 1_000_000,
    operator_type: type[PouringOperator] = PouringOperator,
) -> tuple[GravimetricWorkflow, PouringOperator, BalanceDriver, Outbox]:
    link = PySerialLink(BalanceConfig(name="emu", port=emu.url))
    balance = BalanceDriver(link, GarbageLog("emu"), Dialect.MT_SICS)
    balance.connect()
    outbox = Outbox(tmp_path / "outbox.sqlite3", capacity=capacity, policy=FullPolicy.REFUSE)
    emitter = Emitter(StationIdentity("t-grav", "st1"), outbox, make_probe("none"))
    operator = operator_type(script, emu, float(script["volumes_ul"][0]))  # type: ignore[index]
    operator.outbox = outbox
    ref = DeviceRef(type=DeviceType.BALANCE, make="Mettler Toledo", model="XS204", serial="B2")
    flow = GravimetricWorkflow(
        StationIO(balance=balance, balance_ref=ref),
        operator,
        emitter,
        stable_timeout_s=stable_timeout_s,
    )
    return flow, operator, balance, outbox


SCRIPT: dict[str, object] = {
    "operator": "A. Tester",
    "pipette_make": "Acme",
    "pipette_model": "P1000",
    "pipette_serial": "P-1",
    "nominal_ul": 1000,
    "volumes_ul": [1000],
    "replicates": 4,
    "air_temp_c": WATER_C,
    "water_temp_c": WATER_C,
    "pressure_kpa": PRESSURE_KPA,
    "humidity_pct": HUMIDITY,
}


def test_replicates_are_stable_weights_and_the_run_measures_the_true_error(
    emu: Emulator, tmp_path: Path
) -> None:
    flow, operator, balance, outbox = workflow(emu, tmp_path, dict(SCRIPT))
    try:
        outcome = flow.run(RunMode.QUICK_CHECK)
        readings = [
            env.payload
            for env in (decode(m.payload, topic=m.topic) for m in outbox.peek(-1, 1000))
            if isinstance(env.payload, Reading)
        ]
    finally:
        balance.link.close()
        outbox.close()
    # tare is not a reading; 4 evaporation weighings, the one before replicate 1, 4 replicates
    assert len(readings) == 9
    assert all(r.stable for r in readings), "an unstable reading was published for the run"
    assert outcome.result is not None
    (volume,) = outcome.result.volumes
    # 0.1 mg readability on 1 g: 0.01 % per digit; the unstable readings gave about -10 %
    assert volume.systematic_error_pct == pytest.approx(TRUE_ERROR_PCT, abs=0.05), operator.said
    unstable = balance.unstable_total + flow.unstable_rejected
    assert unstable > 0, "no S D answer seen: the loads did not settle slowly"


def test_a_balance_that_does_not_settle_in_time_asks_the_operator(
    emu: Emulator, tmp_path: Path
) -> None:
    script = dict(SCRIPT, retry_unstable=False)
    flow, operator, balance, outbox = workflow(emu, tmp_path, script, stable_timeout_s=0.5)
    try:
        with pytest.raises(RunAbortedError, match="no stable weight"):
            flow.run(RunMode.QUICK_CHECK)
    finally:
        balance.link.close()
        outbox.close()
    assert "Weight not stable. Try again?: no" in operator.said
    assert "not stable within 0.5 s" in operator.said


def test_a_full_outbox_refuses_the_reading_and_the_operator_is_told(
    emu: Emulator, tmp_path: Path
) -> None:
    script = dict(SCRIPT, retry_outbox_full=False)
    flow, operator, balance, outbox = workflow(emu, tmp_path, script, capacity=2)
    try:
        with pytest.raises(RunAbortedError, match="the outbox is full"):
            flow.run(RunMode.QUICK_CHECK)
        kept = [decode(m.payload, topic=m.topic).payload for m in outbox.peek(-1, 100)]
        assert outbox.refusing == "capacity"
        assert outbox.refused_total == 1
    finally:
        balance.link.close()
        outbox.close()
    assert len(kept) == 2  # m00 and m0, committed before the outbox filled: kept
    assert all(isinstance(r, Reading) and r.stable for r in kept)
    assert "mn: NOT STORED, outbox full" in operator.said
    assert "Outbox full. Try again?: no" in operator.said


class DeliveringOperator(PouringOperator):
    """Answers "try again" after the agent delivered: the stored messages are acknowledged."""

    delivered: list[str]

    def confirm(self, key: str, prompt: str, default: bool = False) -> bool:
        if key != "retry_outbox_full":
            return super().confirm(key, prompt, default)
        assert self.outbox is not None
        batch = self.outbox.peek(-1, 100)
        self.delivered = [*getattr(self, "delivered", []), *(m.message_id for m in batch)]
        self.outbox.ack(m.seq for m in batch)
        self.say(f"{prompt}: yes (after delivery)")
        return True


def test_the_run_goes_on_once_the_outbox_has_room_again_and_loses_nothing(
    emu: Emulator, tmp_path: Path
) -> None:
    script = dict(SCRIPT, volumes_ul=[100], replicates=2)
    flow, operator, balance, outbox = workflow(
        emu, tmp_path, script, capacity=3, operator_type=DeliveringOperator
    )
    assert isinstance(operator, DeliveringOperator)
    try:
        outcome = flow.run(RunMode.QUICK_CHECK)
        left = [m.message_id for m in outbox.peek(-1, 100)]
    finally:
        balance.link.close()
        outbox.close()
    stored = operator.delivered + left
    # 4 evaporation weighings, the one before replicate 1, 2 replicates, and the run
    assert len(stored) == 8
    assert len(set(stored)) == 8  # each stored once: a refused reading is retried, not doubled
    assert operator.said.count("NOT STORED") >= 2
    assert [len(v.masses_mg) for v in outcome.run.test_volumes] == [2]
