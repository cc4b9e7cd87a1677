"""Findings on a run: replicates, balance resolution, room conditions, evaporation."""

from __future__ import annotations

import pytest

from labcal_shared.iso8655 import (
    BalanceSpec,
    Environment,
    EnvironmentSample,
    FindingCode,
    GravimetricRun,
    PipetteSpec,
    Severity,
    TestSeries,
    balance_requirement,
    evaluate_run,
)

GOOD = EnvironmentSample(air_temp_c=20.0, water_temp_c=20.2, pressure_kpa=101.3, humidity_pct=55.0)


def run_with(
    *,
    samples: tuple[EnvironmentSample, ...] = (GOOD,),
    replicates: int = 10,
    volume: float = 100.0,
    nominal: float = 100.0,
    readability: float = 0.01,
    evaporation: float | None = 0.0,
) -> GravimetricRun:
    return GravimetricRun(
        PipetteSpec(nominal),
        BalanceSpec(readability),
        Environment(samples),
        (TestSeries(volume, [volume] * replicates, evaporation_per_cycle=evaporation),),
    )


def codes(run: GravimetricRun) -> list[FindingCode]:
    return [f.code for f in evaluate_run(run).findings]


def test_clean_run_has_no_findings() -> None:
    result = evaluate_run(run_with())
    assert result.findings == ()
    assert result.conformity_claimable


@pytest.mark.parametrize(
    ("replicates", "expected", "severity"),
    [
        (10, [], None),
        (4, [FindingCode.TOO_FEW_REPLICATES], Severity.WARNING),
        (9, [FindingCode.TOO_FEW_REPLICATES], Severity.WARNING),
        (12, [FindingCode.EXTRA_REPLICATES], Severity.INFO),
    ],
)
def test_replicate_count(
    replicates: int, expected: list[FindingCode], severity: Severity | None
) -> None:
    result = evaluate_run(run_with(replicates=replicates))
    assert [f.code for f in result.findings] == expected
    if severity is not None:
        assert result.findings[0].severity is severity
        assert result.findings[0].volume_ul == 100.0
        assert f"{replicates} replicates" in result.findings[0].message
    if severity is Severity.WARNING:
        assert "conformity cannot be claimed" in result.findings[0].message
        assert result.passed
        assert not result.conformity_claimable


# (selected volume µL, readability mg, too coarse?) — ISO 8655-6:2002 balance table, reference §2.1
BALANCE_CASES = [
    (1.0, 0.001, False),
    (10.0, 0.001, False),
    (10.0, 0.01, True),
    (10.5, 0.01, False),
    (100.0, 0.01, False),
    (100.0, 0.1, True),
    (101.0, 0.1, False),
    (1000.0, 0.1, False),
    (1001.0, 0.1, False),
    (1001.0, 1.0, True),
    (10000.0, 0.1, False),
    (10000.0, 1.0, True),
]


@pytest.mark.parametrize(("volume", "readability", "coarse"), BALANCE_CASES)
def test_balance_resolution(volume: float, readability: float, coarse: bool) -> None:
    result = evaluate_run(run_with(volume=volume, nominal=10000.0, readability=readability))
    found = [f for f in result.findings if f.code is FindingCode.BALANCE_TOO_COARSE]
    assert bool(found) == coarse
    if coarse:
        assert found[0].severity is Severity.WARNING
        assert f"{readability:g} mg is coarser" in found[0].message


@pytest.mark.parametrize(
    ("volume", "resolution"),
    [
        (1.0, 0.001),
        (10.0, 0.001),
        (10.01, 0.01),
        (100.0, 0.01),
        (1000.0, 0.1),
        (10000.0, 0.1),
        (10000.5, 1.0),
        (200000.0, 1.0),
    ],
)
def test_balance_table_rows(volume: float, resolution: float) -> None:
    req = balance_requirement(volume)
    assert req is not None
    assert req.resolution_mg == resolution


@pytest.mark.parametrize("volume", [0.5, 200001.0])
def test_balance_table_has_no_row(volume: float) -> None:
    assert balance_requirement(volume) is None


def sample(air: float, water: float | None = None, rh: float = 55.0) -> EnvironmentSample:
    return EnvironmentSample(air, air if water is None else water, 101.3, rh)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ((sample(20.0), sample(20.5)), []),
        ((sample(14.9),), [FindingCode.ROOM_TEMP_OUT_OF_RANGE]),
        ((sample(30.1),), [FindingCode.ROOM_TEMP_OUT_OF_RANGE]),
        ((sample(20.0), sample(20.6)), [FindingCode.ROOM_TEMP_UNSTABLE]),
        ((sample(20.0, 20.6),), [FindingCode.WATER_AIR_TEMP_DIFFERENCE]),
        ((sample(20.0, 19.5),), []),
        ((sample(20.0, rh=49.0),), [FindingCode.HUMIDITY_LOW]),
        ((sample(20.0, rh=50.0),), []),
        (
            (sample(29.8, 31.0, rh=40.0), sample(30.5, 31.0)),
            [
                FindingCode.ROOM_TEMP_OUT_OF_RANGE,
                FindingCode.ROOM_TEMP_UNSTABLE,
                FindingCode.WATER_AIR_TEMP_DIFFERENCE,
                FindingCode.HUMIDITY_LOW,
            ],
        ),
    ],
)
def test_environment_findings(
    samples: tuple[EnvironmentSample, ...], expected: list[FindingCode]
) -> None:
    result = evaluate_run(run_with(samples=samples))
    assert [f.code for f in result.findings] == expected
    assert all(f.severity is Severity.WARNING and f.volume_ul is None for f in result.findings)


def test_no_evaporation_data_is_an_info_finding() -> None:
    result = evaluate_run(run_with(evaporation=None))
    assert [(f.code, f.severity) for f in result.findings] == [
        (FindingCode.NO_EVAPORATION_DATA, Severity.INFO)
    ]
    assert result.volumes[0].evaporation_mg == 0.0
    assert result.conformity_claimable


def test_negative_evaporation_is_a_warning() -> None:
    assert codes(run_with(evaporation=-0.02)) == [FindingCode.NEGATIVE_EVAPORATION]
