"""The vectorised fleet path agrees with the scalar path device by device."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labcal_cloud.engine.due import (
    DeviceFacts,
    DuePolicy,
    EventFact,
    EventKind,
    compute_due,
)
from labcal_cloud.engine.due_vector import (
    BASIS_CODES,
    STATUS_CODES,
    FleetFacts,
    compute_fleet_due,
)

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
NOW_DAYS = 2500.0

# whole minutes, so datetimes (µs resolution) and float days denote the same instants
minutes = st.integers(0, 2500 * 1440).map(lambda m: m / 1440)
device = st.fixed_dictionaries(
    {
        "registered": minutes.filter(lambda d: d <= 2400),
        "last_cal": st.one_of(st.none(), minutes),
        "passed": st.booleans(),
        "review": st.booleans(),  # not conforming but within limits: blocked for review
        "cycles": st.integers(0, 200_000),
        "rate": st.one_of(st.just(0.0), st.floats(0.5, 3000)),
        "event": st.one_of(st.none(), minutes),
        "limit": st.one_of(st.none(), st.integers(1000, 150_000)),
    }
)


def to_dt(d: float) -> datetime:
    return EPOCH + timedelta(days=d)


@settings(max_examples=60, deadline=None)
@given(devices=st.lists(device, min_size=1, max_size=40), interval=st.integers(30, 800).map(float))
def test_vector_matches_scalar(devices: list[dict[str, object]], interval: float) -> None:
    now = to_dt(NOW_DAYS)
    n = len(devices)
    limits = np.array([math.nan if d["limit"] is None else d["limit"] for d in devices], np.float64)
    fleet = FleetFacts(
        registered_at=np.array([d["registered"] for d in devices], np.float64),
        last_calibration_at=np.array(
            [math.nan if d["last_cal"] is None else d["last_cal"] for d in devices], float
        ),
        last_calibration_passed=np.array([d["passed"] for d in devices], bool),
        cycles_since_calibration=np.array([d["cycles"] for d in devices], np.float64),
        cycles_per_day=np.array([d["rate"] for d in devices], np.float64),
        event_at=np.array(
            [
                math.nan
                if d["event"] is None or (d["last_cal"] is not None and d["event"] <= d["last_cal"])  # type: ignore[operator]
                else d["event"]
                for d in devices
            ],
            np.float64,
        ),
        interval_days=interval,
        cycle_limit=limits,
        due_soon_days=30.0,
        grace_days=14.0,
        last_calibration_review=np.array([d["review"] for d in devices], bool),
    )
    result = compute_fleet_due(fleet, NOW_DAYS)
    assert result.status.shape == (n,)
    for i, d in enumerate(devices):
        policy = DuePolicy(
            interval_days=interval,
            cycle_limit=None if d["limit"] is None else int(d["limit"]),  # type: ignore[call-overload]
        )
        events = () if d["event"] is None else (EventFact(EventKind.DROP, to_dt(d["event"])),)  # type: ignore[arg-type]
        facts = DeviceFacts(
            registered_at=to_dt(d["registered"]),  # type: ignore[arg-type]
            last_calibration_at=None if d["last_cal"] is None else to_dt(d["last_cal"]),  # type: ignore[arg-type]
            last_calibration_passed=bool(d["passed"]),
            last_calibration_review=bool(d["review"]),
            cycles_since_calibration=int(d["cycles"]),  # type: ignore[call-overload]
            cycles_per_day=float(d["rate"]),  # type: ignore[arg-type]
            events=events,
        )
        scalar = compute_due(facts, policy, now)
        assert STATUS_CODES[result.status[i]] is scalar.status, (d, scalar)
        assert BASIS_CODES[result.basis[i]] is scalar.basis, (d, scalar)
        expected = (scalar.due_at - EPOCH) / timedelta(days=1)
        assert math.isclose(result.due_at[i], expected, rel_tol=0, abs_tol=1e-5)
