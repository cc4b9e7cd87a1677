"""WeightReading, mg conversion, readability helpers, and the dialect-agnostic entry point."""

from __future__ import annotations

from decimal import Decimal

import pytest

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import (
    Dialect,
    WeightReading,
    decimals_for,
    parse_decimal,
    parse_weight_line,
    quantize,
    to_mg,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "unit", "mg"),
    [
        (D("100.00"), "g", D("100000.00")),
        (D("0.00001"), "g", D("0.01")),
        (D("12.5"), "mg", D("12.5")),
        (D("-0.002"), "kg", D("-2000.000")),
        (D("1.234"), "kg", D("1234000")),
    ],
)
def test_to_mg(value: Decimal, unit: str, mg: Decimal) -> None:
    assert to_mg(value, unit) == mg
    assert WeightReading(value, unit, True).to_mg() == mg


@pytest.mark.parametrize("unit", ["", "G", "lb", "ct", "µg", "pcs"])
def test_to_mg_refuses_unknown_units(unit: str) -> None:
    with pytest.raises(ProtocolError, match="unknown mass unit"):
        to_mg(D(1), unit)


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        (WeightReading(None, "", False, overload=True), "overload"),
        (WeightReading(None, "", False, underload=True), "underload"),
    ],
)
def test_out_of_range_readings_have_no_mass(reading: WeightReading, message: str) -> None:
    assert not reading.in_range
    with pytest.raises(ProtocolError, match=message):
        reading.to_mg()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"value": None},
        {"value": D(1), "overload": True},
        {"value": None, "overload": True, "underload": True},
    ],
)
def test_reading_invariants(kwargs: dict[str, object]) -> None:
    with pytest.raises(ProtocolError, match="reading"):
        WeightReading(unit="g", stable=False, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("readability", "places"),
    [("0.00001", 5), ("0.0001", 4), ("0.01", 2), ("0.05", 2), ("0.1", 1), ("1", 0), ("10", 0),
     (D("0.010"), 2), (D("1E-3"), 3)],
)  # fmt: skip
def test_decimals_for(readability: str | Decimal, places: int) -> None:
    assert decimals_for(readability) == places


@pytest.mark.parametrize("readability", ["0", "-0.01", "abc", D("NaN"), D("Infinity")])
def test_decimals_for_refuses_nonsense(readability: str | Decimal) -> None:
    with pytest.raises(ProtocolError):
        decimals_for(readability)


@pytest.mark.parametrize(
    ("value", "readability", "shown"),
    [
        (D("100"), "0.01", "100.00"),
        (D("1.234565"), "0.00001", "1.23457"),
        (D("0.125"), "0.01", "0.13"),
        (D("-0.125"), "0.01", "-0.13"),
        (D("99.96"), "0.1", "100.0"),
    ],
)
def test_quantize_rounds_half_up_to_readability(
    value: Decimal, readability: str, shown: str
) -> None:
    assert str(quantize(value, readability)) == shown


def test_quantize_refuses_non_finite() -> None:
    with pytest.raises(ProtocolError, match="non-finite"):
        quantize(D("NaN"), "0.01")


@pytest.mark.parametrize("text", ["1e3", "1,5", "", "+", ".", "0x10", " 1"])
def test_parse_decimal_refuses_what_balances_do_not_print(text: str) -> None:
    with pytest.raises(ProtocolError, match="plain decimal"):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("dialect", "line"),
    [
        (Dialect.MT_SICS, b"S S     100.00 g\r\n"),
        (Dialect.SBI, b"+   100.00 g  \r\n"),
        (Dialect.AND, b"ST,+00100.00  g\r\n"),
    ],
)
def test_every_dialect_yields_the_same_reading(dialect: Dialect, line: bytes) -> None:
    assert parse_weight_line(dialect, line) == WeightReading(D("100.00"), "g", True)


@pytest.mark.parametrize(
    ("dialect", "line"),
    [(Dialect.MT_SICS, b"S +\r\n"), (Dialect.SBI, b"+        H    \r\n"),
     (Dialect.AND, b"OL,+9999999E+19\r\n")],
)  # fmt: skip
def test_every_dialect_reports_overload_the_same_way(dialect: Dialect, line: bytes) -> None:
    assert parse_weight_line(dialect, line) == WeightReading(None, "", False, overload=True)


@pytest.mark.parametrize("dialect", list(Dialect))
def test_every_dialect_refuses_garbage(dialect: Dialect) -> None:
    with pytest.raises(ProtocolError):
        parse_weight_line(dialect, b"\x00\xff garbage \x01\r\n")
