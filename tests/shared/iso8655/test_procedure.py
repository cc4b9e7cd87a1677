"""Procedure checks: every channel, the 100/50/10 % test volumes, water temperature at start
and end — and what they do to the verdict of a record."""

from __future__ import annotations

from labcal_shared.contracts import EnvironmentSample, GravimetricRun, RunMode, TestVolume
from labcal_shared.iso8655 import FindingCode, Severity, procedure_findings

from ..contracts.factories import run_payload

START = EnvironmentSample(air_temp_c=20.0, water_temp_c=20.0, pressure_kpa=101.3, humidity_pct=55)


def _run(
    channels: int = 1,
    tested: tuple[int, ...] = (1,),
    shares: tuple[float, ...] = (1.0, 0.5, 0.1),
    environment: tuple[EnvironmentSample, ...] = (START, START),
    mode: RunMode = RunMode.CALIBRATION,
) -> GravimetricRun:
    volumes = [
        TestVolume(volume_ul=1000.0 * share, channel=ch, masses_mg=[997.0 * share] * 10)
        for ch in tested
        for share in shares
    ]
    return run_payload().model_copy(
        update={
            "channels": channels,
            "test_volumes": volumes,
            "environment": list(environment),
            "mode": mode,
        }
    )


def _codes(run: GravimetricRun) -> list[tuple[FindingCode, Severity]]:
    return [(f.code, f.severity) for f in procedure_findings(run)]


def test_a_complete_single_channel_calibration_has_no_gap() -> None:
    assert procedure_findings(_run()) == []


def test_an_eight_channel_pipette_with_channels_1_and_9_tested() -> None:
    """The issue's case: stated conforming before; now no statement, with the reason."""
    findings = procedure_findings(_run(channels=8, tested=(1, 9)))
    assert [(f.code, f.severity) for f in findings] == [
        (FindingCode.CHANNEL_OUT_OF_RANGE, Severity.GAP),
        (FindingCode.CHANNEL_NOT_TESTED, Severity.GAP),
    ]
    assert "channel(s) 9 tested, but the pipette has 8" in findings[0].message
    assert "channel(s) 2-8 of 8 not tested" in findings[1].message


def test_every_channel_tested_is_complete() -> None:
    assert procedure_findings(_run(channels=8, tested=tuple(range(1, 9)))) == []


def test_a_missing_test_volume_is_a_gap_naming_it() -> None:
    [finding] = procedure_findings(_run(shares=(1.0, 0.1)))
    assert (finding.code, finding.severity) == (FindingCode.TEST_VOLUME_MISSING, Severity.GAP)
    assert "50% = 500 µL" in finding.message


def test_a_low_point_above_10_percent_is_taken_as_the_range_limit() -> None:
    [finding] = procedure_findings(_run(shares=(1.0, 0.5, 0.2)))
    assert finding.severity is Severity.INFO
    assert "lower limit" in finding.message
    assert "200 µL" in finding.message


def test_water_temperature_only_at_the_start_limits_the_statement() -> None:
    end_without_water = EnvironmentSample(air_temp_c=20.0, pressure_kpa=101.3, humidity_pct=55)
    for environment in ((START,), (START, end_without_water)):
        assert _codes(_run(environment=environment)) == [
            (FindingCode.WATER_TEMP_START_END, Severity.WARNING)
        ]


def test_a_quick_check_is_not_held_to_the_calibration_procedure() -> None:
    assert (
        procedure_findings(_run(shares=(1.0,), environment=(START,), mode=RunMode.QUICK_CHECK))
        == []
    )
