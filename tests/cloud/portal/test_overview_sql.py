"""The overview's SQL due-state ranking agrees with the pure ``estimate_due`` on every boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from labcal_cloud.registry.model import DueState, estimate_due
from labcal_cloud.registry.store import OrderItem

from .helpers import World

TODAY = date(2026, 3, 2)
# (days since calibration or None, usage cycles, cycles limit)
CASES = [
    (None, 0, 0),
    (None, 500, 100),
    (10, 0, 0),
    (334, 0, 0),
    (335, 0, 0),
    (336, 0, 0),
    (365, 0, 0),
    (366, 0, 0),
    (400, 0, 0),
    (10, 89, 100),
    (10, 90, 100),
    (10, 99, 100),
    (10, 100, 100),
    (10, 150, 100),
    (400, 10, 100),
    (340, 95, 100),
    (0, 0, 0),
]


def _fill(world: World) -> dict[str, DueState]:
    reg = world.services.registry
    expected = {}
    for i, (age, used, limit) in enumerate(CASES):
        device = reg.add(world.a.tenant.id, world.a.site.id, OrderItem("Acme", "P", f"S{i:02d}"))
        if age is not None:
            at = datetime.combine(TODAY - timedelta(days=age), datetime.min.time(), UTC)
            reg.mark_calibrated(device.id, at, 365)
        world.services.db.execute(
            "UPDATE portal_devices SET usage_cycles = ?, cycles_limit = ? WHERE id = ?",
            (used, limit, device.id),
        )
        expected[device.id] = estimate_due(reg.device(world.a.tenant.id, device.id), TODAY).state
    return expected


def _check(world: World) -> None:
    expected = _fill(world)
    reg = world.services.registry
    lines, counts = reg.overview_page(world.a.tenant.id, TODAY, limit=1000)
    assert {line.device.id: line.due.state for line in lines} == expected
    for state in DueState:
        assert counts.get(state, 0) == sum(1 for s in expected.values() if s is state)
        page, _ = reg.overview_page(world.a.tenant.id, TODAY, state=state, limit=1000)
        assert {line.device.id for line in page} == {k for k, s in expected.items() if s is state}
    # most urgent first, and paging splits the list without loss or doubling
    ranks = [line.due.state for line in lines]
    order = [DueState.OVERDUE, DueState.DUE_SOON, DueState.UNKNOWN, DueState.OK]
    assert ranks == sorted(ranks, key=order.index)
    first, _ = reg.overview_page(world.a.tenant.id, TODAY, limit=5)
    rest, _ = reg.overview_page(world.a.tenant.id, TODAY, limit=100, offset=5)
    assert [x.device.id for x in first + rest] == [x.device.id for x in lines]


def test_sql_ranking_matches_estimate_due_sqlite(world: World) -> None:
    _check(world)


@pytest.mark.postgres
def test_sql_ranking_matches_estimate_due_postgresql(pg_world: World) -> None:
    _check(pg_world)
