"""The certificate's content, built purely from the run, the engine's record and registry facts.

It holds every item ISO/IEC 17025 §7.8 asks of a calibration certificate: the issuing laboratory
(name, address, accreditation), the customer and its address, the item (make, model, serial,
channels) and its tip, the method with its edition, the dates of receipt, calibration and
issue, the traceability of the balance, thermometer, barometer and hygrometer, the results of
every channel (as found and as left where both exist), the uncertainty statement with k and the
coverage probability, the authorised signatory, and a next-due date only when the customer asked.
What the station did not send is ``None`` here and printed as "not stated".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from labcal_cloud.certificates.conformity import conformity_rows
from labcal_cloud.certificates.pdf_budget import BudgetTable, budget_table
from labcal_cloud.certificates.profiles import Laboratory
from labcal_cloud.engine.records import CalibrationRecord, VolumeOutcome
from labcal_shared.contracts import GravimetricRun, InstrumentRole

__all__ = [
    "COVERAGE_PROBABILITY",
    "CertificateDocument",
    "ChannelVerdict",
    "EnvironmentRow",
    "InstrumentRow",
    "PhaseResults",
    "VolumeRow",
    "build_document",
    "channel_verdicts",
]

COVERAGE_PROBABILITY = 0.9545  # the engine's default (labcal_shared.iso8655.student_t)
_ROLES = (
    InstrumentRole.BALANCE,
    InstrumentRole.THERMOMETER,
    InstrumentRole.BAROMETER,
    InstrumentRole.HYGROMETER,
)


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
    coverage_factor: float
    passed: bool

    @property
    def ratio(self) -> float:
        """The larger error as a share of its MPE (1.0 = on the limit)."""
        return max(
            abs(self.systematic_error_ul) / self.mpe_systematic_ul,
            self.random_error_ul / self.mpe_random_ul,
        )


@dataclass(frozen=True)
class EnvironmentRow:
    air_temp_c: float
    water_temp_c: float | None
    pressure_kpa: float
    humidity_pct: float


@dataclass(frozen=True)
class InstrumentRow:
    """One measuring instrument with its traceability; ``None`` fields were not stated."""

    role: str
    identification: str | None  # "make model, serial S"
    certificate: str | None
    calibrated_by: str | None
    valid_until: date | None


@dataclass(frozen=True)
class ChannelVerdict:
    channel: int
    passed: bool
    worst: VolumeRow  # the volume whose error is nearest to (or furthest past) its MPE


@dataclass(frozen=True)
class PhaseResults:
    """The results of one phase (as found / as left) without replicates."""

    phase: str
    performed_at: datetime
    volumes: tuple[VolumeRow, ...]
    passed: bool


@dataclass(frozen=True)
class CertificateDocument:
    number: str
    laboratory: Laboratory
    customer: str
    customer_address: str
    site: str
    site_address: str
    device: str  # make model
    make: str
    model: str
    serial: str
    nominal_volume_ul: float
    channels: int
    pipette_kind: str
    tip: str | None
    kind: str
    phase: str | None
    method: str
    received_at: datetime | None
    started_at: datetime
    performed_at: datetime
    issued_at: datetime
    operator: str
    balance: str
    balance_serial: str
    balance_readability_mg: float
    balance_traceability: str
    balance_in_calibration: bool | None
    instruments: tuple[InstrumentRow, ...]
    z_factor: float
    mpe_edition: str
    environment: tuple[EnvironmentRow, ...]
    volumes: tuple[VolumeRow, ...]
    as_found: PhaseResults | None  # on an as-left certificate whose as-found run is on record
    findings: tuple[str, ...]
    passed: bool
    conformity_claimable: bool
    next_due: date | None  # only when the customer asked for it (§7.8.4.3)
    verify_url: str
    coverage_probability: float = COVERAGE_PROBABILITY
    conformity: tuple[tuple[str, str], ...] = ()  # the statement of conformity (conformity.py)
    verdict: str = ""  # the record's one verdict (labcal_shared.iso8655.verdict.Verdict value)
    budget: BudgetTable | None = None  # the uncertainty budget (pdf_budget.py)

    @property
    def channel_verdicts(self) -> tuple[ChannelVerdict, ...]:
        return channel_verdicts(self.volumes)

    @property
    def worst_channel(self) -> ChannelVerdict:
        return max(self.channel_verdicts, key=lambda c: (not c.passed, c.worst.ratio))

    @property
    def coverage_factors(self) -> tuple[float, ...]:
        """The distinct k of the results, as printed (2 decimals)."""
        return tuple(sorted({round(v.coverage_factor, 2) for v in self.volumes}))

    @property
    def coverage_text(self) -> str:
        """``k = 2.28``, or the range when the results have several (k per result's row)."""
        ks = self.coverage_factors
        if len(ks) == 1:
            return f"k = {ks[0]:.2f}"
        return f"k from {ks[0]:.2f} to {ks[-1]:.2f} (stated with each result)"


def channel_verdicts(volumes: tuple[VolumeRow, ...]) -> tuple[ChannelVerdict, ...]:
    """Per channel: passed when every volume of it passed; its worst volume."""
    out = []
    for channel in sorted({v.channel for v in volumes}):
        rows = [v for v in volumes if v.channel == channel]
        out.append(
            ChannelVerdict(channel, all(v.passed for v in rows), max(rows, key=lambda v: v.ratio))
        )
    return tuple(out)


def _row(o: VolumeOutcome, replicates: tuple[float, ...]) -> VolumeRow:
    return VolumeRow(
        volume_ul=o.volume_ul,
        channel=o.channel,
        replicates_ul=replicates,
        mean_ul=o.mean_volume_ul,
        systematic_error_ul=o.systematic_error_ul,
        systematic_error_pct=o.systematic_error_pct,
        cv_pct=o.cv_pct,
        random_error_ul=o.random_error_ul,
        mpe_systematic_ul=o.mpe_systematic_ul,
        mpe_random_ul=o.mpe_random_ul,
        uncertainty_ul=o.expanded_uncertainty_ul,
        coverage_factor=o.coverage_factor,
        passed=o.passed,
    )


def _replicates(o: VolumeOutcome) -> tuple[float, ...]:
    """The record's replicate volumes, (mass + evaporation per cycle) × Z (empty for records
    stored before records kept them)."""
    return tuple(round(v, 4) for v in o.volumes_ul)


def phase_results(record: CalibrationRecord) -> PhaseResults:
    return PhaseResults(
        (record.phase or "as_found").replace("_", " "),
        record.ended_at,
        tuple(_row(o, ()) for o in record.volumes),
        record.passed,
    )


def _instruments(run: GravimetricRun) -> tuple[InstrumentRow, ...]:
    """The four instruments in a fixed order; the balance is always identified (the run names
    it), the others only when the station sent them."""
    sent = {i.role: i for i in run.instruments}
    rows = []
    for role in _ROLES:
        i = sent.get(role)
        if i is not None:
            ident: str | None = f"{i.make} {i.model}, serial {i.serial}"
            rows.append(
                InstrumentRow(role.value, ident, i.certificate, i.calibrated_by, i.valid_until)
            )
            continue
        ident = None
        if role is InstrumentRole.BALANCE:
            b = run.balance
            ident = f"{b.make} {b.model}, serial {b.serial}"
        rows.append(InstrumentRow(role.value, ident, None, None, None))
    return tuple(rows)


def build_document(
    run: GravimetricRun,
    record: CalibrationRecord,
    *,
    number: str,
    laboratory: Laboratory,
    customer: str,
    customer_address: str,
    site: str,
    site_address: str,
    balance_traceability: str,
    issued_at: datetime,
    next_due: date | None,
    verify_url: str,
    as_found: CalibrationRecord | None = None,
) -> CertificateDocument:
    """Replicate volumes are the record's: (mass + evaporation per cycle) × Z, as its means are
    (records stored before they kept them: mass × Z)."""
    z = record.z_factor
    volumes = tuple(
        _row(
            o,
            tuple(round(v, 4) for v in o.volumes_ul)
            or tuple(round(m * z, 4) for m in tv.masses_mg),
        )
        for o, tv in zip(record.volumes, run.test_volumes, strict=True)
    )
    environment = tuple(
        EnvironmentRow(e.air_temp_c, e.water_temp_c, e.pressure_kpa, e.humidity_pct)
        for e in run.environment
    )
    tip = None
    if run.tip is not None:
        tip = f"{run.tip.make} {run.tip.model}" + (f", lot {run.tip.lot}" if run.tip.lot else "")
    return CertificateDocument(
        number=number,
        laboratory=laboratory,
        customer=customer,
        customer_address=customer_address,
        site=site,
        site_address=site_address,
        device=f"{run.pipette.make} {run.pipette.model}",
        make=run.pipette.make,
        model=run.pipette.model,
        serial=run.pipette.serial,
        nominal_volume_ul=run.nominal_volume_ul,
        channels=run.channels,
        pipette_kind=run.pipette_kind.replace("_", " "),
        tip=tip,
        kind=record.kind,
        phase=record.phase.replace("_", " ") if record.phase else None,
        method=run.method,
        received_at=run.received_at,
        started_at=record.started_at,
        performed_at=record.ended_at,
        issued_at=issued_at,
        operator=record.operator,
        balance=f"{run.balance.make} {run.balance.model}",
        balance_serial=run.balance.serial,
        balance_readability_mg=run.balance_readability_mg,
        balance_traceability=balance_traceability,
        balance_in_calibration=record.balance_in_calibration,
        instruments=_instruments(run),
        z_factor=z,
        mpe_edition=record.tolerance_table or record.mpe_edition,  # the table judged by
        environment=environment,
        volumes=volumes,
        as_found=phase_results(as_found) if as_found is not None else None,
        findings=tuple(f.message for f in record.findings),
        passed=record.passed,
        conformity_claimable=record.conformity_claimable,
        next_due=next_due,
        verify_url=verify_url,
        conformity=tuple(conformity_rows(record)),
        verdict=record.verdict.value,
        budget=budget_table(record),
        coverage_probability=(
            record.volumes[0].coverage_probability if record.volumes else COVERAGE_PROBABILITY
        ),
    )
