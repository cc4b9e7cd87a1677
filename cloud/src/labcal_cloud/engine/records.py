"""Calibration records: a gravimetric run re-evaluated in the cloud (``labcal_shared.iso8655``).

A record is immutable. A correction is a new record whose ``supersedes`` names the old one;
:func:`current_records` drops superseded records, so history is kept and never rewritten.
The record id, the time it is recorded and whether the balance was within its own calibration
are passed in (the shell looks them up).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from labcal_cloud.engine.errors import RecordRejectedError
from labcal_shared.contracts import DeviceRef, GravimetricRun, RunMode
from labcal_shared.errors import Iso8655Error
from labcal_shared.iso8655.findings import Finding, FindingCode, Severity
from labcal_shared.iso8655.from_contract import evaluate_contract_run
from labcal_shared.iso8655.tolerance import ToleranceTable
from labcal_shared.iso8655.verdict import DecisionRule, LimitCheck, Verdict, judge

__all__ = [
    "BudgetLine",
    "CalibrationRecord",
    "RecordFinding",
    "VolumeOutcome",
    "current_records",
    "record_from_run",
    "wear_ratio",
]

RecordKind = Literal["calibration", "quick_check"]
FindingSeverity = Literal["info", "warning", "gap"]


@dataclass(frozen=True, slots=True)
class RecordFinding:
    code: str
    severity: FindingSeverity
    message: str


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One component of the uncertainty budget of a mean volume (µL); ν None = ∞ (type B)."""

    name: str
    standard_uncertainty_ul: float
    degrees_of_freedom: float | None
    description: str


@dataclass(frozen=True, slots=True)
class VolumeOutcome:
    """Result at one test volume (and channel), in µL unless named otherwise."""

    volume_ul: float
    channel: int
    replicates: int
    mean_volume_ul: float
    systematic_error_ul: float
    systematic_error_pct: float
    random_error_ul: float
    cv_pct: float
    mpe_systematic_ul: float
    mpe_random_ul: float
    expanded_uncertainty_ul: float
    passed: bool  # accepted under the record's decision rule
    volumes_ul: tuple[float, ...] = ()  # the replicates as volumes, evaporation and Z applied
    guard_band_ul: float = 0.0  # w of the decision rule (0 under simple acceptance)
    # the GUM budget of the mean volume (records stored before it was kept: empty, k = 2)
    budget: tuple[BudgetLine, ...] = ()
    combined_uncertainty_ul: float = 0.0
    effective_dof: float | None = None  # ν_eff, None = ∞
    coverage_factor: float = 2.0
    coverage_probability: float = 0.9545


@dataclass(frozen=True, slots=True)
class CalibrationRecord:
    record_id: UUID
    run_id: UUID
    kind: RecordKind
    phase: Literal["as_found", "as_left"] | None
    pipette: DeviceRef
    balance: DeviceRef
    balance_in_calibration: bool | None  # None: the balance's calibration is not known
    operator: str
    started_at: datetime
    ended_at: datetime
    recorded_at: datetime
    mpe_edition: str
    z_factor: float
    volumes: tuple[VolumeOutcome, ...]
    findings: tuple[RecordFinding, ...]
    passed: bool  # every result accepted under the decision rule
    conformity_claimable: bool  # verdict is conforming
    supersedes: UUID | None = None
    correction_reason: str = ""
    verdict: Verdict = Verdict.NOT_EVALUATED
    decision_rule: DecisionRule = DecisionRule.SIMPLE
    verdict_reasons: tuple[str, ...] = ()
    tolerance_table: str = ""  # the table judged by: name (version); '' = the shipped edition

    @property
    def conforming(self) -> bool:
        """Only a conforming calibration makes a device calibrated."""
        return self.verdict is Verdict.CONFORMING


_SEVERITY: dict[Severity, FindingSeverity] = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.GAP: "gap",
}


def _finite_or_none(value: float) -> float | None:
    """∞ degrees of freedom as None (JSON, and PostgreSQL's JSONB, have no infinity)."""
    return None if math.isinf(value) else value


def record_from_run(
    run: GravimetricRun,
    *,
    record_id: UUID,
    recorded_at: datetime,
    balance_valid_until: datetime | None,
    balance_known: bool = True,
    supersedes: UUID | None = None,
    correction_reason: str = "",
    rule: DecisionRule = DecisionRule.SIMPLE,
    tolerance: ToleranceTable | None = None,
) -> CalibrationRecord:
    """Evaluate ``run`` into a record, judged by ``rule`` (:func:`labcal_shared.iso8655.judge`)
    against ``tolerance`` (a loaded table; None: the run's shipped MPE edition).

    ``balance_valid_until`` is the end of the balance's own calibration validity (None with
    ``balance_known`` = the balance has no valid calibration; ``balance_known=False`` = unknown).
    Raises :class:`RecordRejectedError` when the ISO 8655 core refuses the run (unknown MPE
    edition, bad masses…); the caller quarantines it with the message.
    """
    if supersedes is not None and not correction_reason:
        raise RecordRejectedError("a correction must say why it replaces the earlier record")
    try:
        result = evaluate_contract_run(run, tolerance)
    except Iso8655Error as exc:
        raise RecordRejectedError(f"run {run.run_id}: {exc}") from exc
    findings: list[Finding] = list(result.findings)
    in_calibration: bool | None = None
    if balance_known:
        in_calibration = balance_valid_until is not None and run.ended_at <= balance_valid_until
        if not in_calibration:
            until = (
                "has no calibration on record"
                if balance_valid_until is None
                else f"was calibrated only until {balance_valid_until.date().isoformat()}"
            )
            findings.append(
                Finding(
                    FindingCode.BALANCE_OUT_OF_CALIBRATION,
                    Severity.WARNING,
                    f"balance {run.balance.make} {run.balance.model} {run.balance.serial} "
                    f"{until}; conformity cannot be claimed",
                )
            )
    checks = [
        LimitCheck(
            v.volume_ul,
            tv.channel,
            v.systematic_error_ul,
            v.mpe.systematic_ul,
            v.random_error_ul,
            v.mpe.random_ul,
            v.uncertainty.expanded_ul,
        )
        for v, tv in zip(result.volumes, run.test_volumes, strict=True)
    ]
    judgement = judge(checks, rule, findings)
    volumes = tuple(
        VolumeOutcome(
            volume_ul=v.volume_ul,
            channel=tv.channel,
            replicates=v.replicates,
            mean_volume_ul=v.mean_volume_ul,
            systematic_error_ul=v.systematic_error_ul,
            systematic_error_pct=v.systematic_error_pct,
            random_error_ul=v.random_error_ul,
            cv_pct=v.cv_pct,
            mpe_systematic_ul=v.mpe.systematic_ul,
            mpe_random_ul=v.mpe.random_ul,
            expanded_uncertainty_ul=v.uncertainty.expanded_ul,
            passed=j.accepted,
            volumes_ul=v.volumes_ul,
            guard_band_ul=j.guard_band_ul,
            budget=tuple(
                BudgetLine(
                    c.name,
                    c.standard_uncertainty_ul,
                    _finite_or_none(c.degrees_of_freedom),
                    c.description,
                )
                for c in v.uncertainty.components
            ),
            combined_uncertainty_ul=v.uncertainty.combined_ul,
            effective_dof=_finite_or_none(v.uncertainty.effective_dof),
            coverage_factor=v.uncertainty.coverage_factor,
            coverage_probability=v.uncertainty.coverage_probability,
        )
        for v, tv, j in zip(result.volumes, run.test_volumes, judgement.volumes, strict=True)
    )
    return CalibrationRecord(
        record_id=record_id,
        run_id=run.run_id,
        kind="quick_check" if run.mode is RunMode.QUICK_CHECK else "calibration",
        phase=run.phase,
        pipette=run.pipette,
        balance=run.balance,
        balance_in_calibration=in_calibration,
        operator=run.operator,
        started_at=run.started_at,
        ended_at=run.ended_at,
        recorded_at=recorded_at,
        mpe_edition=result.edition,
        z_factor=result.z_factor,
        volumes=volumes,
        findings=tuple(
            RecordFinding(f.code.value, _SEVERITY[f.severity], f.message) for f in findings
        ),
        passed=all(v.passed for v in volumes),
        conformity_claimable=judgement.verdict is Verdict.CONFORMING,
        supersedes=supersedes,
        correction_reason=correction_reason,
        verdict=judgement.verdict,
        decision_rule=rule,
        verdict_reasons=judgement.reasons,
        tolerance_table=f"{result.edition} (built in)" if tolerance is None else tolerance.label,
    )


def current_records(records: Iterable[CalibrationRecord]) -> list[CalibrationRecord]:
    """Records not superseded by a correction, oldest run first."""
    all_records = list(records)
    replaced = {r.supersedes for r in all_records if r.supersedes is not None}
    live = [r for r in all_records if r.record_id not in replaced]
    return sorted(live, key=lambda r: (r.ended_at, r.phase == "as_left", r.recorded_at))


def wear_ratio(record: CalibrationRecord) -> float:
    """The worst error as a share of its MPE: ``max(|e_s|/MPE_s, s/MPE_r)`` over volumes.

    1.0 is the tolerance limit; the forecaster tracks this ratio against cycles.
    """
    return max(
        max(abs(v.systematic_error_ul) / v.mpe_systematic_ul, v.random_error_ul / v.mpe_random_ul)
        for v in record.volumes
    )
