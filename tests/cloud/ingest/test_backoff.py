from __future__ import annotations

import pytest

from labcal_cloud.ingest.backoff import backoff_delay


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 0.2), (2, 0.4), (3, 0.8), (6, 6.4), (7, 10.0), (50, 10.0), (10_000, 10.0)],
)
def test_ceiling_doubles_then_caps(attempt, expected):
    assert backoff_delay(attempt) == pytest.approx(expected)


def test_jitter_scales_the_ceiling_but_never_below_a_floor():
    assert backoff_delay(4, jitter=0.5) == pytest.approx(0.8)
    assert backoff_delay(4, jitter=0.0) == pytest.approx(0.02)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempt": 0},
        {"attempt": 1, "jitter": 1.5},
        {"attempt": 1, "base_s": 0},
        {"attempt": 1, "cap_s": 0.1},
    ],
)
def test_refuses_nonsense(kwargs):
    with pytest.raises(ValueError, match=r"must be|need"):
        backoff_delay(**kwargs)
