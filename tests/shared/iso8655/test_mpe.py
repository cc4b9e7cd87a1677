"""MPE tables: shipped 2002 rows, nominal-volume rule, multichannel, refusals."""

from __future__ import annotations

import pytest

from labcal_shared.iso8655 import (
    MeasurementInputError,
    Mpe,
    UnknownEditionError,
    available_editions,
    load_mpe_table,
    mpe_for,
)
from labcal_shared.iso8655.mpe import mpe_arrays

# ISO 8655-2:2002, single-channel air displacement, reference table 1.1 (µL).
TABLE_1_1 = [
    (1, 0.05, 0.05),
    (2, 0.08, 0.04),
    (5, 0.125, 0.075),
    (10, 0.12, 0.08),
    (20, 0.2, 0.1),
    (50, 0.5, 0.2),
    (100, 0.8, 0.3),
    (200, 1.6, 0.6),
    (500, 4.0, 1.5),
    (1000, 8.0, 3.0),
    (2000, 16.0, 6.0),
    (5000, 40.0, 15.0),
    (10000, 60.0, 30.0),
]


def test_shipped_editions() -> None:
    assert available_editions() == ("ISO 8655-2:2002",)


def test_table_has_exactly_the_reference_rows() -> None:
    table = load_mpe_table("ISO 8655-2:2002")
    assert table.nominal_ul == tuple(float(r[0]) for r in TABLE_1_1)
    assert table.systematic_ul == tuple(r[1] for r in TABLE_1_1)
    assert table.random_ul == tuple(r[2] for r in TABLE_1_1)
    assert table.multichannel_factor == 2.0


@pytest.mark.parametrize(("nominal", "systematic", "random"), TABLE_1_1)
def test_single_channel_row(nominal: float, systematic: float, random: float) -> None:
    assert mpe_for(nominal) == Mpe(systematic, random)


@pytest.mark.parametrize(("nominal", "systematic", "random"), TABLE_1_1)
def test_multichannel_doubled(nominal: float, systematic: float, random: float) -> None:
    assert mpe_for(nominal, channels=8) == Mpe(2 * systematic, 2 * random)


def test_vectorised_lookup_matches_scalar() -> None:
    nominal = [float(r[0]) for r in TABLE_1_1]
    channels = [1, 8] * 6 + [12]
    sys_arr, rand_arr = mpe_arrays(nominal, channels)
    for i, (v, ch) in enumerate(zip(nominal, channels, strict=True)):
        assert (sys_arr[i], rand_arr[i]) == (
            mpe_for(v, ch).systematic_ul,
            mpe_for(v, ch).random_ul,
        )


@pytest.mark.parametrize("nominal", [0.5, 3.0, 300.0, 1200.0, 20000.0])
def test_nominal_between_rows_refused(nominal: float) -> None:
    with pytest.raises(MeasurementInputError, match=r"is not a row .*refuses to judge") as exc:
        mpe_for(nominal)
    assert f"{nominal:g} µL" in str(exc.value)
    assert "rows: 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000 µL" in str(exc.value)


def test_vectorised_lookup_refuses_between_rows() -> None:
    with pytest.raises(MeasurementInputError, match="nominal volume 300 µL is not a row"):
        mpe_arrays([100.0, 300.0], [1, 1])


@pytest.mark.parametrize("edition", ["ISO 8655-2:2022", "ISO 8655-2", "iso 8655-2:2002", ""])
def test_unknown_edition_refused_with_available_list(edition: str) -> None:
    with pytest.raises(UnknownEditionError) as exc:
        mpe_for(100.0, edition=edition)
    text = str(exc.value)
    assert repr(edition) in text
    assert "available editions: ISO 8655-2:2002" in text
    assert "never falls back" in text


def test_positive_displacement_refused() -> None:
    with pytest.raises(UnknownEditionError, match=r"positive-displacement pipettes .*type D"):
        mpe_for(100.0, kind="positive_displacement")


def test_channels_below_one_refused() -> None:
    with pytest.raises(MeasurementInputError, match="channels must be at least 1, got 0"):
        mpe_for(100.0, channels=0)
