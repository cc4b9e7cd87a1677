"""Observations since the last service and per-model priors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from labcal_cloud.engine.forecast import WearObservation
from labcal_cloud.engine.maintenance import (
    DEFAULT_PRIOR,
    SD_CALIBRATION,
    SD_QUICK_CHECK,
    days_since_service,
    model_between,
    model_priors,
    observations_by_service,
    observations_since_service,
)
from labcal_cloud.engine.records import record_from_run
from labcal_shared.contracts import RunMode

from .runs import make_run

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def rec(at: datetime, bias: float, **kw: object):  # type: ignore[no-untyped-def]
    return record_from_run(
        make_run(at, bias_ul=bias, **kw),  # type: ignore[arg-type]
        record_id=uuid.uuid4(),
        recorded_at=at,
        balance_valid_until=at + DAY,
    )


def test_only_records_after_the_last_service_count() -> None:
    counter = [(T0 + d * DAY, 1000 * d) for d in range(0, 50)]
    counter += [(T0 + (50 + d) * DAY, 1000 * d) for d in range(1, 30)]  # reset after day 49
    records = [
        rec(T0 + 20 * DAY, 0.2),  # before the service
        rec(T0 + 49.5 * DAY, 0.9, phase="as_found"),  # the service's as found
        rec(T0 + 49.6 * DAY, 0.1, phase="as_left"),  # the service's as left
        rec(T0 + 70 * DAY, 0.3, mode=RunMode.QUICK_CHECK),
    ]
    obs = observations_since_service(records, counter)
    assert [(o.cycles, o.sd) for o in obs] == [(0.0, SD_CALIBRATION), (20_000.0, SD_QUICK_CHECK)]
    assert obs[1].ratio == pytest.approx(0.3 / 0.8, rel=1e-3)


def test_model_priors_fall_back_without_a_fleet() -> None:
    line = [WearObservation(0, 0.2, 0.05), WearObservation(10_000, 0.3, 0.05)]
    steeper = [WearObservation(0, 0.2, 0.05), WearObservation(10_000, 0.4, 0.05)]
    priors = model_priors({"P100": [line, steeper, line, [line[0]]], "P10": [line]})
    assert priors["P10"] == DEFAULT_PRIOR
    assert priors["P100"].mean[1] == pytest.approx(0.01)  # median of 0.01, 0.02, 0.01


def test_every_wear_cycle_gets_its_own_observations() -> None:
    counter = [(T0 + d * DAY, 1000 * d) for d in range(0, 50)]
    counter += [(T0 + (50 + d) * DAY, 1000 * d) for d in range(1, 30)]  # reset after day 49
    records = [
        rec(T0 + 20 * DAY, 0.2),
        rec(T0 + 49.5 * DAY, 0.9, phase="as_found"),  # ends the first cycle at 49,000
        rec(T0 + 49.6 * DAY, 0.1, phase="as_left"),  # starts the second at 0
        rec(T0 + 70 * DAY, 0.3, mode=RunMode.QUICK_CHECK),
    ]
    first, current = observations_by_service(records, counter)
    assert [o.cycles for o in first] == [20_000.0, 49_000.0]
    assert first[1].ratio == pytest.approx(0.9 / 0.8, rel=1e-3)
    # the current cycle is what observations_since_service sees
    assert current == observations_since_service(records, counter)
    assert observations_by_service(records, []) == [observations_since_service(records, [])]
    assert days_since_service(counter, T0 + 79 * DAY) == pytest.approx(28.0)
    assert days_since_service([], T0) == 0.0


def test_cycle_to_cycle_spread_needs_pipettes_with_two_completed_cycles() -> None:
    def cycle(slope: float) -> list[WearObservation]:
        return [WearObservation(c, 0.2 + slope * c / 1000, 0.05) for c in (0, 10_000)]

    prior = model_priors({"P": [cycle(0.01), cycle(0.02), cycle(0.015)]})["P"]
    few = [[cycle(0.01), cycle(0.02), []]]  # one pipette only
    assert model_between(prior, few) == prior.cov
    steady = [[cycle(s), cycle(s), []] for s in (0.01, 0.02, 0.015, 0.012)]
    varying = [
        [cycle(s), cycle(k * s), []] for s, k in ((0.01, 3), (0.02, 0.5), (0.015, 1), (0.012, 4))
    ]
    assert model_between(prior, steady)[1][1] < model_between(prior, varying)[1][1]
