"""The certificate's content, built purely from the run, the engine's record and registry facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from labcal_cloud.certificates.conformity import conformity_rows
from labcal_cloud.certificates.pdf_budget import BudgetTable, budget_table
from labcal_cloud.engine.records import CalibrationRecord
from labcal_shared.contracts import GravimetricRun

__all__ = ["CertificateDocument", "EnvironmentRow", "VolumeRow", "build_document"]


@dataclass(frozen=True)
class VolumeRow:
    volume_ul: float
    channel: int
    replicates_ul: tuple[float, ...]
    mean_ul: float
    systematic_error_ul: float
    systematic_error_pct: float
    cv_pct: float
    random_error_ul: float
    mpe_systematic_ul: float
    mpe_random_ul: float
    uncertainty_ul: float
    passed: bool
    coverage_factor: float = 2.0  # k of uncertainty_ul


@dataclass(frozen=True)
class EnvironmentRow:
    air_temp_c: float
    water_temp_c: float | None
    pressure_kpa: float
    humidity_pct: float


@dataclass(frozen=True)
class CertificateDocument:
    number: str
    provider: str
    customer: str
    site: str
    device: str  # make model
    serial: str
    nominal_volume_ul: float
    kind: str
    performed_at: datetime
    operator: str
    balance: str
    balance_serial: str
    balance_readability_mg: float
    balance_traceability: str
    balance_in_calibration: bool | None
    z_factor: float
    mpe_edition: str
    environment: tuple[EnvironmentRow, ...]
    volumes: tuple[VolumeRow, ...]
    findings: tuple[str, ...]
    passed: bool
    conformity_claimable: bool
    next_due: date
    verify_url: str
    conformity: tuple[tuple[str, str], ...] = ()  # the statement of conformity (conformity.py)
    budget: BudgetTable | None = None  # the uncertainty budget (pdf_budget.py)


def build_document(
    run: GravimetricRun,
    record: CalibrationRecord,
    *,
    number: str,
    provider: str,
    customer: str,
    site: str,
    balance_traceability: str,
    next_due: date,
    verify_url: str,
) -> CertificateDocument:
    """Replicate volumes are the record's: (mass + evaporation per cycle) × Z, as its means are
    (records stored before they kept them: mass × Z)."""
    z = record.z_factor
    volumes = tuple(
        VolumeRow(
            volume_ul=o.volume_ul,
            channel=o.channel,
            replicates_ul=tuple(round(v, 4) for v in o.volumes_ul)
            or tuple(round(m * z, 4) for m in tv.masses_mg),
            mean_ul=o.mean_volume_ul,
            systematic_error_ul=o.systematic_error_ul,
            systematic_error_pct=o.systematic_error_pct,
            cv_pct=o.cv_pct,
            random_error_ul=o.random_error_ul,
            mpe_systematic_ul=o.mpe_systematic_ul,
            mpe_random_ul=o.mpe_random_ul,
            uncertainty_ul=o.expanded_uncertainty_ul,
            passed=o.passed,
            coverage_factor=o.coverage_factor,
        )
        for o, tv in zip(record.volumes, run.test_volumes, strict=True)
    )
    environment = tuple(
        EnvironmentRow(e.air_temp_c, e.water_temp_c, e.pressure_kpa, e.humidity_pct)
        for e in run.environment
    )
    return CertificateDocument(
        number=number,
        provider=provider,
        customer=customer,
        site=site,
        device=f"{run.pipette.make} {run.pipette.model}",
        serial=run.pipette.serial,
        nominal_volume_ul=run.nominal_volume_ul,
        kind=record.kind if record.phase is None else f"{record.kind} ({record.phase})",
        performed_at=record.ended_at,
        operator=record.operator,
        balance=f"{run.balance.make} {run.balance.model}",
        balance_serial=run.balance.serial,
        balance_readability_mg=run.balance_readability_mg,
        balance_traceability=balance_traceability,
        balance_in_calibration=record.balance_in_calibration,
        z_factor=z,
        mpe_edition=record.tolerance_table or record.mpe_edition,  # the table judged by
        environment=environment,
        volumes=volumes,
        findings=tuple(f.message for f in record.findings),
        passed=record.passed,
        conformity_claimable=record.conformity_claimable,
        next_due=next_due,
        verify_url=verify_url,
        conformity=tuple(conformity_rows(record)),
        budget=budget_table(record),
    )
