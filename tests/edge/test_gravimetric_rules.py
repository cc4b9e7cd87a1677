from decimal import Decimal

import pytest

from labcal_edge.gravimetric import default_volumes, is_outlier, readability_mg_of
from labcal_shared.contracts import RunMode


@pytest.mark.parametrize(
    ("nominal", "mode", "expected"),
    [
        (1000, RunMode.CALIBRATION, [1000, 500, 100]),
        (1000, RunMode.QUICK_CHECK, [1000, 100]),
        (10, RunMode.CALIBRATION, [10, 5, 1]),
        (2.5, RunMode.QUICK_CHECK, [2.5, 0.25]),
    ],
)
def test_default_test_volumes(nominal: float, mode: RunMode, expected: list[float]) -> None:
    assert default_volumes(nominal, mode) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "unit", "mg"),
    [
        ("100.00", "g", 10.0),
        ("0.12345", "g", 0.01),
        ("12.3456", "mg", 0.0001),
        ("1", "kg", 1_000_000.0),
    ],
)
def test_readability_from_printed_decimals(value: str, unit: str, mg: float) -> None:
    assert readability_mg_of(Decimal(value), unit) == pytest.approx(mg)


@pytest.mark.parametrize(
    ("mass_mg", "volume_ul", "limit_pct", "outlier"),
    [
        (998.2, 1000, 5, False),
        (1040.0, 1000, 5, False),  # +4.2 %
        (1060.0, 1000, 5, True),  # +6.2 %
        (90.0, 100, 5, True),  # -9.8 %
        (99.0, 100, 1, False),
    ],
)
def test_outlier_rule(mass_mg: float, volume_ul: float, limit_pct: float, outlier: bool) -> None:
    assert is_outlier(mass_mg, volume_ul, limit_pct) is outlier
