"""The overview's SQL ranking, counts and paging follow the engine's stored due states (the one
due state), computed by the engine for every registered device; both backends."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from labcal_cloud.registry.model import DueState
from labcal_cloud.registry.store import RANKED, OrderItem

from .engine_due import compute_due_states
from .helpers import World

# (days since calibration or None, usage cycles, cycles limit, the engine's state at 09:00 with
# the default policy: 365-day interval unless the registry says otherwise, due soon 30 days,
# grace 14 days; without usage reports the registry's cycles count, at no known rate)
CASES = [
    (None, 0, 0, DueState.DUE),  # never calibrated: due since registration (now)
    (None, 500, 100, DueState.DUE),
    (10, 0, 0, DueState.OK),
    (334, 0, 0, DueState.OK),  # due in 30.6 days
    (335, 0, 0, DueState.DUE_SOON),
    (336, 0, 0, DueState.DUE_SOON),
    (365, 0, 0, DueState.DUE),  # due at midnight, 9 hours ago
    (366, 0, 0, DueState.DUE),
    (378, 0, 0, DueState.DUE),  # 13.4 days late: within the grace
    (379, 0, 0, DueState.OVERDUE),
    (400, 0, 0, DueState.OVERDUE),
    (10, 99, 100, DueState.OK),
    (10, 100, 100, DueState.DUE),  # the limit reached: due now
    (10, 150, 100, DueState.DUE),
    (400, 10, 100, DueState.OVERDUE),
    (340, 95, 100, DueState.DUE_SOON),
    (0, 0, 0, DueState.OK),
]


def _fill(world: World) -> dict[str, DueState]:
    reg, today = world.services.registry, world.clock().date()
    expected = {}
    for i, (age, used, limit, state) in enumerate(CASES):
        device = reg.add(world.a.tenant.id, world.a.site.id, OrderItem("Acme", "P", f"S{i:02d}"))
        if age is not None:
            at = datetime.combine(today - timedelta(days=age), datetime.min.time(), UTC)
            reg.mark_calibrated(device.id, at, 365)
        world.services.db.execute(
            "UPDATE portal_devices SET usage_cycles = ?, cycles_limit = ? WHERE id = ?",
            (used, limit, device.id),
        )
        expected[device.id] = state
    compute_due_states(world)
    late = reg.add(world.a.tenant.id, world.a.site.id, OrderItem("Acme", "P", "LATE"))
    expected[late.id] = DueState.UNKNOWN  # registered after the engine's pass
    return expected


def _check(world: World) -> None:
    expected = _fill(world)
    reg, today = world.services.registry, world.clock().date()
    stored = dict(world.services.db.query("SELECT device_id, status FROM device_due_state"))
    assert {k: DueState(v) for k, v in stored.items()} == {
        k: s for k, s in expected.items() if s is not DueState.UNKNOWN
    }
    lines, counts = reg.overview_page(world.a.tenant.id, today, limit=1000)
    assert {line.device.id: line.due.state for line in lines} == expected
    for state in DueState:
        assert counts.get(state, 0) == sum(1 for s in expected.values() if s is state)
        page, _ = reg.overview_page(world.a.tenant.id, today, state=state, limit=1000)
        assert {line.device.id for line in page} == {k for k, s in expected.items() if s is state}
    # most urgent first, then the earliest due date; paging splits without loss or doubling
    ranks = [line.due.state for line in lines]
    assert ranks == sorted(ranks, key=RANKED.index)
    for a, b in itertools.pairwise(lines):
        if a.due.state is b.due.state and a.due.due_date and b.due.due_date:
            assert a.due.due_date <= b.due.due_date
    first, _ = reg.overview_page(world.a.tenant.id, today, limit=5)
    rest, _ = reg.overview_page(world.a.tenant.id, today, limit=100, offset=5)
    assert [x.device.id for x in first + rest] == [x.device.id for x in lines]


def test_sql_ranking_follows_the_engine_sqlite(world: World) -> None:
    _check(world)


@pytest.mark.postgres
def test_sql_ranking_follows_the_engine_postgresql(pg_world: World) -> None:
    _check(pg_world)
