import pytest

from labcal_edge.usage import UsageState, assess_usage
from labcal_shared.contracts import UsageTrigger

LAST = UsageState(total=1000, since_service=200, reported_at=100.0)


@pytest.mark.parametrize(
    ("last", "total", "since", "now", "expected"),
    [
        (None, 5, 5, 0.0, UsageTrigger.CHANGE),  # first report
        (LAST, 1000, 200, 101.0, None),  # nothing moved, heartbeat not due
        (LAST, 1001, 201, 101.0, UsageTrigger.CHANGE),
        (LAST, 1000, 200, 100.0 + 3600, UsageTrigger.PERIODIC),
        (LAST, 1003, 0, 101.0, UsageTrigger.RESET),  # service reset
        (LAST, 1000, 0, 101.0, UsageTrigger.RESET),
        (LAST, 3, 203, 101.0, UsageTrigger.ROLLOVER),  # lifetime counter wrapped
        (LAST, 3, 0, 101.0, UsageTrigger.ROLLOVER),  # wrap wins over reset
    ],
)
def test_usage_triggers(
    last: UsageState | None, total: int, since: int, now: float, expected: UsageTrigger | None
) -> None:
    assert assess_usage(last, total, since, now, periodic_s=3600.0) is expected
