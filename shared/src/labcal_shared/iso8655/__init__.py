"""ISO 8655 gravimetric calibration core: Z factor, MPE tables, run evaluation, uncertainty.

Pure functions on frozen dataclasses and numpy arrays: no clock, IO (except reading the shipped
MPE data file) or randomness. See ``docs/iso8655.md`` for the method, sources and open points.
"""

from __future__ import annotations

from labcal_shared.errors import Iso8655Error, MeasurementInputError, UnknownEditionError
from labcal_shared.iso8655.balance import BalanceRequirement, balance_requirement
from labcal_shared.iso8655.batch import BatchResult, evaluate_batch
from labcal_shared.iso8655.evaluate import evaluate_run
from labcal_shared.iso8655.findings import Finding, FindingCode, Severity
from labcal_shared.iso8655.from_contract import core_run_from_contract, evaluate_contract_run
from labcal_shared.iso8655.inputs import (
    BalanceSpec,
    Environment,
    EnvironmentSample,
    EvaporationWeighings,
    GravimetricRun,
    PipetteKind,
    PipetteSpec,
    TestSeries,
    UncertaintyAssumptions,
)
from labcal_shared.iso8655.mpe import (
    DEFAULT_EDITION,
    Mpe,
    MpeTable,
    available_editions,
    load_mpe_table,
    mpe_for,
)
from labcal_shared.iso8655.procedure import procedure_findings
from labcal_shared.iso8655.results import (
    RunResult,
    UncertaintyBudget,
    UncertaintyComponent,
    VolumeResult,
)
from labcal_shared.iso8655.verdict import (
    DecisionRule,
    Judgement,
    LimitCheck,
    Verdict,
    decision_rule,
    judge,
    verdict_label,
    verdict_statement,
)
from labcal_shared.iso8655.zfactor import (
    WaterDensityModel,
    air_density,
    water_density,
    z_factor,
    z_factor_array,
)

__all__ = [
    "DEFAULT_EDITION",
    "BalanceRequirement",
    "BalanceSpec",
    "BatchResult",
    "DecisionRule",
    "Environment",
    "EnvironmentSample",
    "EvaporationWeighings",
    "Finding",
    "FindingCode",
    "GravimetricRun",
    "Iso8655Error",
    "Judgement",
    "LimitCheck",
    "MeasurementInputError",
    "Mpe",
    "MpeTable",
    "PipetteKind",
    "PipetteSpec",
    "RunResult",
    "Severity",
    "TestSeries",
    "UncertaintyAssumptions",
    "UncertaintyBudget",
    "UncertaintyComponent",
    "UnknownEditionError",
    "Verdict",
    "VolumeResult",
    "WaterDensityModel",
    "air_density",
    "available_editions",
    "balance_requirement",
    "core_run_from_contract",
    "decision_rule",
    "evaluate_batch",
    "evaluate_contract_run",
    "evaluate_run",
    "judge",
    "load_mpe_table",
    "mpe_for",
    "procedure_findings",
    "verdict_label",
    "verdict_statement",
    "water_density",
    "z_factor",
    "z_factor_array",
]
