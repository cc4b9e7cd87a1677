import uuid
from datetime import UTC, datetime
from pathlib import Path

from labcal_edge.emitter import Emitter, Outgoing
from labcal_edge.messages import StationIdentity
from labcal_edge.ntp import FixedProbe
from labcal_edge.outbox import Outbox
from labcal_shared.contracts import (
    ClockQuality,
    DeviceRef,
    DeviceType,
    MassUnit,
    Reading,
    decode,
)

BAL = DeviceRef(type=DeviceType.BALANCE, make="MT", model="XS", serial="1")


def reading(v: float) -> Reading:
    return Reading(value=v, unit=MassUnit.G, stable=True)


def test_envelopes_carry_clock_quality_seq_and_are_stored_as_sent(tmp_path: Path) -> None:
    clock = [datetime(1970, 1, 1, 0, 5, tzinfo=UTC)]  # a board without RTC, just booted
    probe = FixedProbe(True)
    ids = iter(uuid.UUID(int=i) for i in range(1, 100))
    outbox = Outbox(tmp_path / "o.sqlite3")
    emitter = Emitter(
        StationIdentity("acme", "st1"), outbox, probe, lambda: clock[0], lambda: next(ids)
    )
    first = emitter.emit(reading(1.0), device=BAL)
    assert first.clock is ClockQuality.INVALID
    clock[0] = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    second, third = emitter.emit_many([Outgoing(reading(2.0), BAL), Outgoing(reading(3.0), BAL)])
    assert second.clock is ClockQuality.SYNCED
    assert [first.seq, second.seq, third.seq] == [0, 1, 2]  # order from seq, whatever the clock
    stored = [decode(m.payload, topic=m.topic) for m in outbox.peek(-1, 10)]
    assert stored == [first, second, third]
    assert outbox.peek(-1, 10)[0].topic == "labcal/v1/acme/st1/reading"
    unsynced = Emitter(StationIdentity("acme", "st1"), outbox, FixedProbe(None), lambda: clock[0])
    assert unsynced.emit(reading(4.0), device=BAL).clock is ClockQuality.UNSYNCED
