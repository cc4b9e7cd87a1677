"""Result types of the ISO 8655 core (frozen dataclasses)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from labcal_shared.iso8655.findings import Finding, has_warnings
from labcal_shared.iso8655.mpe import Mpe

__all__ = ["RunResult", "UncertaintyBudget", "UncertaintyComponent", "VolumeResult"]


@dataclass(frozen=True, slots=True)
class UncertaintyComponent:
    """One line of the budget: a standard uncertainty of the mean volume, in µL."""

    name: str
    standard_uncertainty_ul: float
    description: str
    degrees_of_freedom: float = math.inf  # type B: ∞; repeatability: n − 1


@dataclass(frozen=True, slots=True)
class UncertaintyBudget:
    """Budget of the mean delivered volume: components, combined u_c, the effective degrees of
    freedom ν_eff (Welch–Satterthwaite) and expanded U = k·u_c, k = t_p(⌊ν_eff⌋)."""

    components: tuple[UncertaintyComponent, ...]
    combined_ul: float
    coverage_factor: float
    expanded_ul: float
    effective_dof: float = math.inf
    coverage_probability: float = 0.9545

    def as_dict(self) -> dict[str, float]:
        """Component name → standard uncertainty (µL)."""
        return {c.name: c.standard_uncertainty_ul for c in self.components}


@dataclass(frozen=True, slots=True)
class VolumeResult:
    """Evaluation of one test volume."""

    volume_ul: float
    replicates: int
    z_factor: float
    evaporation_mg: float
    volumes_ul: tuple[float, ...]
    mean_volume_ul: float
    systematic_error_ul: float
    systematic_error_pct: float
    random_error_ul: float
    cv_pct: float
    mpe: Mpe
    systematic_passed: bool
    random_passed: bool
    uncertainty: UncertaintyBudget

    @property
    def passed(self) -> bool:
        return self.systematic_passed and self.random_passed


@dataclass(frozen=True, slots=True)
class RunResult:
    """Evaluation of a run. ``passed`` judges the MPE only; ``conformity_claimable`` also needs
    a run without warning-level findings."""

    edition: str
    z_factor: float
    volumes: tuple[VolumeResult, ...]
    findings: tuple[Finding, ...]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.volumes)

    @property
    def conformity_claimable(self) -> bool:
        return self.passed and not has_warnings(self.findings)
