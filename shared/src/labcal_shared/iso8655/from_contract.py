"""Adapter from the MQTT contract's run payload to the ISO 8655 core's input types.

The edge (local result at the end of a run) and the cloud (calibration records) both judge a
``labcal_shared.contracts.GravimetricRun`` through this one function, so they cannot disagree.
"""

from __future__ import annotations

import dataclasses

from labcal_shared.contracts import GravimetricRun as RunMessage
from labcal_shared.iso8655.evaluate import evaluate_run
from labcal_shared.iso8655.findings import Finding, FindingCode, Severity
from labcal_shared.iso8655.inputs import (
    BalanceSpec,
    Environment,
    EnvironmentSample,
    EvaporationWeighings,
    GravimetricRun,
    PipetteSpec,
    TestSeries,
)
from labcal_shared.iso8655.procedure import procedure_findings
from labcal_shared.iso8655.results import RunResult
from labcal_shared.iso8655.tolerance import ToleranceTable

__all__ = ["core_run_from_contract", "evaluate_contract_run"]


def core_run_from_contract(run: RunMessage) -> tuple[GravimetricRun, tuple[Finding, ...]]:
    """The core's input for a contract run, with findings on what had to be assumed.

    Raises :class:`~labcal_shared.errors.MeasurementInputError` for input the core refuses.
    """
    notes: list[Finding] = []
    samples = []
    for sample in run.environment:
        water = sample.water_temp_c
        if water is None:
            water = sample.air_temp_c
            if not notes:
                notes.append(
                    Finding(
                        FindingCode.WATER_TEMP_ASSUMED,
                        Severity.WARNING,
                        "water temperature not recorded; the air temperature was used for the "
                        "water density, so conformity cannot be claimed",
                    )
                )
        samples.append(
            EnvironmentSample(sample.air_temp_c, water, sample.pressure_kpa, sample.humidity_pct)
        )
    series = []
    for tv in run.test_volumes:
        weighings = None
        if tv.evaporation is not None:
            e = tv.evaporation
            weighings = EvaporationWeighings(e.m00_mg, e.m0_mg, e.mn_mg, e.mn1_mg)
        series.append(
            TestSeries(
                volume_ul=tv.volume_ul,
                masses=tuple(tv.masses_mg),
                unit="mg",
                evaporation_weighings=weighings,
                evaporation_per_cycle=tv.evaporation_per_cycle_mg,
            )
        )
    core = GravimetricRun(
        pipette=PipetteSpec(run.nominal_volume_ul, run.channels, run.pipette_kind),
        balance=BalanceSpec(run.balance_readability_mg, run.balance_standard_uncertainty_mg),
        environment=Environment(tuple(samples)),
        series=tuple(series),
        mpe_edition=run.mpe_edition,
    )
    return core, tuple(notes)


def evaluate_contract_run(run: RunMessage, tolerance: ToleranceTable | None = None) -> RunResult:
    """Judge a contract run (against ``tolerance`` when given, else its shipped edition);
    findings about assumed inputs come first in the result, the procedure checks
    (:mod:`labcal_shared.iso8655.procedure`) last."""
    core, notes = core_run_from_contract(run)
    result = evaluate_run(core, water_density=run.water_density, tolerance=tolerance)
    procedure = tuple(procedure_findings(run))
    return dataclasses.replace(result, findings=notes + result.findings + procedure)
