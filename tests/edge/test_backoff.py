import pytest

from labcal_edge.backoff import Backoff, backoff_delay

POLICY = Backoff(base=0.5, cap=30.0, jitter=0.5)


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 0.0, 0.5),
        (1, 0.0, 1.0),
        (3, 0.0, 4.0),
        (6, 0.0, 30.0),  # 32 capped at 30
        (1000, 0.0, 30.0),  # huge attempt numbers do not overflow
        (3, 0.5, 3.0),  # 4 * (1 - 0.5 * 0.5)
        (6, 0.999, 30.0 * (1 - 0.5 * 0.999)),
    ],
)
def test_delay_grows_capped_and_jittered(attempt: int, rand: float, expected: float) -> None:
    assert backoff_delay(POLICY, attempt, rand) == pytest.approx(expected)


def test_delay_never_exceeds_cap_nor_falls_below_jitter_floor() -> None:
    for attempt in range(0, 80):
        for rand in (0.0, 0.25, 0.5, 0.75, 0.9999):
            d = backoff_delay(POLICY, attempt, rand)
            ceiling = min(30.0, 0.5 * 2.0**attempt) if attempt < 64 else 30.0
            assert ceiling * 0.5 <= d <= ceiling <= 30.0


def test_full_jitter_can_reach_zero_and_no_jitter_is_deterministic() -> None:
    assert backoff_delay(Backoff(1, 8, 1.0), 2, 0.0) == 4.0
    assert backoff_delay(Backoff(1, 8, 1.0), 2, 0.75) == pytest.approx(1.0)
    assert backoff_delay(Backoff(1, 8, 0.0), 2, 0.75) == 4.0


@pytest.mark.parametrize(
    ("kwargs", "attempt", "rand"),
    [
        ({"base": 0}, 0, 0.0),
        ({"base": 5, "cap": 1}, 0, 0.0),
        ({"jitter": 1.5}, 0, 0.0),
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, float], attempt: int, rand: float) -> None:
    with pytest.raises(ValueError, match=r"."):
        Backoff(**kwargs)


@pytest.mark.parametrize(("attempt", "rand"), [(-1, 0.0), (0, 1.0), (0, -0.1)])
def test_invalid_arguments_are_refused(attempt: int, rand: float) -> None:
    with pytest.raises(ValueError, match=r"must be"):
        backoff_delay(POLICY, attempt, rand)
