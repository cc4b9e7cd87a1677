"""The contract run payload is judged exactly like the equivalent core input."""

from __future__ import annotations

import pytest

from labcal_shared.contracts import EnvironmentSample as SampleMessage
from labcal_shared.errors import MeasurementInputError, UnknownEditionError
from labcal_shared.iso8655 import (
    BalanceSpec,
    Environment,
    EnvironmentSample,
    EvaporationWeighings,
    FindingCode,
    GravimetricRun,
    PipetteSpec,
    TestSeries,
    core_run_from_contract,
    evaluate_contract_run,
    evaluate_run,
    procedure_findings,
)

from ..contracts.factories import run_payload


def test_contract_run_matches_hand_built_core_run() -> None:
    message = run_payload()
    tv = message.test_volumes[0]
    e = tv.evaporation
    assert e is not None
    by_hand = GravimetricRun(
        pipette=PipetteSpec(1000.0),
        balance=BalanceSpec(0.01),
        environment=Environment((EnvironmentSample(20.1, 20.0, 101.3, 55.0),)),
        series=(
            TestSeries(
                1000.0,
                tuple(tv.masses_mg),
                evaporation_weighings=EvaporationWeighings(e.m00_mg, e.m0_mg, e.mn_mg, e.mn1_mg),
            ),
        ),
    )
    judged, expected = evaluate_contract_run(message), evaluate_run(by_hand)
    # the same numbers and findings, then the procedure checks of the contract run (one volume,
    # one environment sample: two volumes missing, no water temperature at the end)
    assert judged.volumes == expected.volumes
    assert judged.findings == expected.findings + tuple(procedure_findings(message))
    assert [f.code for f in judged.findings[len(expected.findings) :]] == [
        FindingCode.TEST_VOLUME_MISSING,
        FindingCode.WATER_TEMP_START_END,
    ]


def test_missing_water_temperature_uses_air_temperature_with_a_warning() -> None:
    message = run_payload().model_copy(
        update={
            "environment": [SampleMessage(air_temp_c=21.0, pressure_kpa=101.3, humidity_pct=55)]
        }
    )
    core, notes = core_run_from_contract(message)
    assert core.environment.water_temp_c == 21.0
    assert [n.code for n in notes] == [FindingCode.WATER_TEMP_ASSUMED]
    result = evaluate_contract_run(message)
    assert result.findings[0].code is FindingCode.WATER_TEMP_ASSUMED
    assert not result.conformity_claimable


def test_unknown_edition_is_refused() -> None:
    message = run_payload().model_copy(update={"mpe_edition": "ISO 8655-2:2022"})
    with pytest.raises(UnknownEditionError, match="available editions: ISO 8655-2:2002"):
        evaluate_contract_run(message)


def test_negative_mass_in_a_message_is_refused_by_the_core() -> None:
    message = run_payload()
    tv = message.test_volumes[0].model_copy(update={"masses_mg": [997.0, -1.0]})
    with pytest.raises(MeasurementInputError, match="replicate 2: mass -1 is negative"):
        evaluate_contract_run(message.model_copy(update={"test_volumes": [tv]}))
