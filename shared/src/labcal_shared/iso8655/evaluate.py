"""Evaluate one gravimetric run (the scalar path): statistics, verdict, findings, uncertainty."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labcal_shared.errors import MeasurementInputError
from labcal_shared.iso8655.balance import table_standard_uncertainty_mg
from labcal_shared.iso8655.findings import (
    Finding,
    balance_findings,
    environment_findings,
    evaporation_findings,
    replicate_findings,
)
from labcal_shared.iso8655.inputs import BalanceSpec, GravimetricRun, TestSeries
from labcal_shared.iso8655.mpe import Mpe, mpe_for
from labcal_shared.iso8655.results import (
    RunResult,
    UncertaintyBudget,
    UncertaintyComponent,
    VolumeResult,
)
from labcal_shared.iso8655.statistics import series_statistics
from labcal_shared.iso8655.tolerance import ToleranceTable
from labcal_shared.iso8655.uncertainty import (
    COMPONENT_DESCRIPTIONS,
    mean_volume_uncertainty,
    z_sensitivities,
)
from labcal_shared.iso8655.zfactor import WaterDensityModel, z_factor

__all__ = ["evaluate_run"]


def _balance_u_mg(balance: BalanceSpec, volume_ul: float) -> tuple[float, str]:
    """u_bal and what it is: the balance's certified value, else the requirement table's."""
    if balance.standard_uncertainty_mg is not None:
        u = float(balance.standard_uncertainty_mg)
        return u, f"d/√12 and the balance's certified standard uncertainty {u:g} mg, × Z"
    u = float(table_standard_uncertainty_mg(volume_ul))
    return u, (
        f"d/√12 and {u:g} mg, the ISO 8655-6:2002 requirement table's maximum for "
        f"{volume_ul:g} µL (the balance's own certified value is not known), × Z"
    )


def _descriptions(run: GravimetricRun, balance: str, evap: float | None) -> dict[str, str]:
    a = run.assumptions
    out = dict(COMPONENT_DESCRIPTIONS, balance=balance)
    if evap is None:
        out["evaporation"] = (
            f"evaporation not measured, no correction applied: assumed 0 ± "
            f"{a.unmeasured_evaporation_mg:g} mg per cycle (rectangular), × Z"
        )
    out["handling"] = (
        f"operator handling beyond the repeatability: assumed {100 * a.handling_rel:g} % of "
        "the test volume"
    )
    out["temperature"] += f", u(t) = {a.u_temperature_c:g} °C"
    out["pressure"] += f", u(p) = {a.u_pressure_kpa:g} kPa"
    out["humidity"] += f", u(h) = {a.u_humidity_pct:g} % RH"
    return out


def evaluate_run(
    run: GravimetricRun,
    *,
    water_density: WaterDensityModel = "tr20461",
    tolerance: ToleranceTable | None = None,
) -> RunResult:
    """Judge a run against ``tolerance`` (a loaded table), else its shipped MPE edition; the
    result's ``edition`` names the table used.

    Raises :class:`UnknownEditionError` when the edition (or pipette kind) has no shipped table
    and :class:`MeasurementInputError` on bad input (or a volume the table has no row for);
    everything else is reported as findings.
    """
    env = run.environment
    p = run.pipette

    def limits(volume_ul: float) -> Mpe:
        if tolerance is not None:
            return tolerance.limits(p.nominal_volume_ul, volume_ul, p.channels, p.kind)
        return mpe_for(p.nominal_volume_ul, p.channels, p.kind, run.mpe_edition, volume_ul)

    z = z_factor(
        env.water_temp_c,
        env.pressure_kpa,
        env.humidity_pct,
        env.air_temp_c,
        water_density=water_density,
    )
    dz = z_sensitivities(
        env.water_temp_c, env.pressure_kpa, env.humidity_pct, env.air_temp_c, water_density
    )
    findings: list[Finding] = environment_findings(env)
    volumes: list[VolumeResult] = []
    for series in run.series:
        result, series_findings = _evaluate_series(run, series, z, dz, limits(series.volume_ul))
        volumes.append(result)
        findings.extend(series_findings)
    edition = run.mpe_edition if tolerance is None else tolerance.label
    return RunResult(edition, z, tuple(volumes), tuple(findings))


def _evaluate_series(
    run: GravimetricRun,
    series: TestSeries,
    z: float,
    dz: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    mpe: Mpe,
) -> tuple[VolumeResult, list[Finding]]:
    masses = np.asarray(series.masses_mg(), dtype=np.float64)
    evap = series.evaporation_mg()
    evap_used = 0.0 if evap is None else evap
    n = masses.shape[-1]
    stats = series_statistics(
        masses, evap_used, z, series.volume_ul, mpe.systematic_ul, mpe.random_ul
    )
    if float(stats.mean_volume_ul) <= 0:
        raise MeasurementInputError(
            f"test volume {series.volume_ul:g} µL: the mean delivered volume is not positive "
            "(all masses zero?); CV cannot be computed"
        )
    a = run.assumptions
    balance_u, balance_text = _balance_u_mg(run.balance, series.volume_ul)
    unc = mean_volume_uncertainty(
        corrected_mean_mass_mg=stats.mean_volume_ul / z,
        z=z,
        dz=dz,
        random_error_ul=stats.random_error_ul,
        replicates=n,
        readability_mg=run.balance.readability_mg,
        balance_u_mg=balance_u,
        evaporation_mg=evap_used,
        u_temperature_c=a.u_temperature_c,
        u_pressure_kpa=a.u_pressure_kpa,
        u_humidity_pct=a.u_humidity_pct,
        volume_ul=series.volume_ul,
        evaporation_measured=evap is not None,
        unmeasured_evaporation_mg=a.unmeasured_evaporation_mg,
        handling_rel=a.handling_rel,
        coverage_probability=a.coverage_probability,
    )
    texts = _descriptions(run, balance_text, evap)
    budget = UncertaintyBudget(
        components=tuple(
            UncertaintyComponent(
                name, float(value), texts[name], float(unc.degrees_of_freedom[name])
            )
            for name, value in unc.components.items()
        ),
        combined_ul=float(unc.combined_ul),
        coverage_factor=float(unc.coverage_factor),
        expanded_ul=float(unc.expanded_ul),
        effective_dof=float(unc.effective_dof),
        coverage_probability=a.coverage_probability,
    )
    result = VolumeResult(
        volume_ul=series.volume_ul,
        replicates=n,
        z_factor=z,
        evaporation_mg=evap_used,
        volumes_ul=tuple(float(v) for v in stats.volumes_ul),
        mean_volume_ul=float(stats.mean_volume_ul),
        systematic_error_ul=float(stats.systematic_error_ul),
        systematic_error_pct=float(stats.systematic_error_pct),
        random_error_ul=float(stats.random_error_ul),
        cv_pct=float(stats.cv_pct),
        mpe=mpe,
        systematic_passed=bool(stats.systematic_passed),
        random_passed=bool(stats.random_passed),
        uncertainty=budget,
    )
    findings = [
        *replicate_findings(series.volume_ul, n),
        *balance_findings(series.volume_ul, run.balance.readability_mg),
        *evaporation_findings(series.volume_ul, evap),
    ]
    return result, findings
