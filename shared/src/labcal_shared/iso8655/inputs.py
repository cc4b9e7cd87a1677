"""Input types of the ISO 8655 core: frozen dataclasses that mirror the contract's run payload.

Construction validates: a bad mass, unit or environment value raises
:class:`MeasurementInputError` with a message naming the test volume and replicate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from labcal_shared.errors import MeasurementInputError
from labcal_shared.iso8655.units import mass_factor_to_mg

__all__ = [
    "BalanceSpec",
    "Environment",
    "EnvironmentSample",
    "EvaporationWeighings",
    "GravimetricRun",
    "PipetteKind",
    "PipetteSpec",
    "TestSeries",
    "UncertaintyAssumptions",
]

PipetteKind = Literal["air_displacement", "positive_displacement"]


def _finite(name: str, value: float) -> float:
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        raise MeasurementInputError(f"{name} must be a finite number, got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class PipetteSpec:
    """The pipette model under test: nominal (maximum selectable) volume, channels, kind."""

    nominal_volume_ul: float
    channels: int = 1
    kind: PipetteKind = "air_displacement"

    def __post_init__(self) -> None:
        if not _finite("nominal volume", self.nominal_volume_ul) > 0:
            raise MeasurementInputError(
                f"nominal volume must be positive, got {self.nominal_volume_ul!r} µL"
            )
        if self.channels < 1:
            raise MeasurementInputError(f"channels must be at least 1, got {self.channels}")


@dataclass(frozen=True, slots=True)
class BalanceSpec:
    """The balance: readability d in mg and, if known, its standard uncertainty in mg."""

    readability_mg: float
    standard_uncertainty_mg: float | None = None

    def __post_init__(self) -> None:
        if not _finite("balance readability", self.readability_mg) > 0:
            raise MeasurementInputError(
                f"balance readability must be positive, got {self.readability_mg!r} mg"
            )
        if self.standard_uncertainty_mg is not None and not (
            _finite("balance standard uncertainty", self.standard_uncertainty_mg) >= 0
        ):
            raise MeasurementInputError(
                "balance standard uncertainty must not be negative, "
                f"got {self.standard_uncertainty_mg!r} mg"
            )


@dataclass(frozen=True, slots=True)
class EnvironmentSample:
    """One reading of the environment sensors during a run."""

    air_temp_c: float
    water_temp_c: float
    pressure_kpa: float
    humidity_pct: float

    def __post_init__(self) -> None:
        for name in ("air_temp_c", "water_temp_c", "pressure_kpa", "humidity_pct"):
            value = getattr(self, name)
            if math.isnan(float(value)):
                raise MeasurementInputError(f"environment sample {name} is NaN")


@dataclass(frozen=True, slots=True)
class Environment:
    """The environment samples of a run; Z is computed from their means (one Z per run)."""

    samples: Sequence[EnvironmentSample]  # stored as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", tuple(self.samples))
        if not self.samples:
            raise MeasurementInputError("environment has no samples; at least one is needed")

    @classmethod
    def single(
        cls,
        water_temp_c: float,
        pressure_kpa: float,
        humidity_pct: float = 50.0,
        air_temp_c: float | None = None,
    ) -> Environment:
        """An environment of one sample; air temperature defaults to the water temperature."""
        air = water_temp_c if air_temp_c is None else air_temp_c
        return cls((EnvironmentSample(air, water_temp_c, pressure_kpa, humidity_pct),))

    def _mean(self, name: str) -> float:
        return math.fsum(getattr(s, name) for s in self.samples) / len(self.samples)

    @property
    def water_temp_c(self) -> float:
        return self._mean("water_temp_c")

    @property
    def air_temp_c(self) -> float:
        return self._mean("air_temp_c")

    @property
    def pressure_kpa(self) -> float:
        return self._mean("pressure_kpa")

    @property
    def humidity_pct(self) -> float:
        return self._mean("humidity_pct")


@dataclass(frozen=True, slots=True)
class EvaporationWeighings:
    """Balance readings without delivery (clause 9.1, 2022): m00, m0 at the start, mn, mn1 at
    the end, in the unit of the series they belong to."""

    m00: float
    m0: float
    mn: float
    mn1: float

    def per_cycle(self) -> float:
        """Evaporation loss per cycle, ``((m00 − m0) + (mn − mn1)) / 2``.

        This is the reference's *reading* of ISO 8655-6:2022 clause 9.1 (formula (1) itself was
        not in the available copy) — UNVERIFIED.
        """
        return ((self.m00 - self.m0) + (self.mn - self.mn1)) / 2.0


@dataclass(frozen=True, slots=True)
class TestSeries:
    """Replicate masses at one selected test volume, with optional evaporation data.

    ``unit`` applies to ``masses`` and to the evaporation values. Give either
    ``evaporation_weighings`` or ``evaporation_per_cycle`` (or neither: then 0, with a finding).
    """

    __test__ = False  # not a pytest test class despite the name

    volume_ul: float
    masses: Sequence[float]  # stored as a tuple
    unit: str = "mg"
    evaporation_weighings: EvaporationWeighings | None = None
    evaporation_per_cycle: float | None = None

    def __post_init__(self) -> None:
        if not _finite("test volume", self.volume_ul) > 0:
            raise MeasurementInputError(f"test volume must be positive, got {self.volume_ul!r} µL")
        raw: object = self.masses
        if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
            raise MeasurementInputError(
                f"test volume {self.volume_ul:g} µL: masses must be a sequence of numbers"
            )
        object.__setattr__(self, "masses", tuple(float(m) for m in raw))
        mass_factor_to_mg(self.unit)
        where = f"test volume {self.volume_ul:g} µL"
        if not self.masses:
            raise MeasurementInputError(f"{where}: the replicate list is empty")
        if len(self.masses) < 2:
            raise MeasurementInputError(
                f"{where}: only one replicate; at least 2 are needed for the random error"
            )
        for i, m in enumerate(self.masses, start=1):
            if math.isnan(m) or math.isinf(m):
                raise MeasurementInputError(f"{where}, replicate {i}: mass is {m!r}, not a number")
            if m < 0:
                raise MeasurementInputError(f"{where}, replicate {i}: mass {m:g} is negative")
        if self.evaporation_weighings is not None and self.evaporation_per_cycle is not None:
            raise MeasurementInputError(
                f"{where}: give evaporation weighings or an evaporation per cycle, not both"
            )
        if self.evaporation_weighings is not None:
            for name in ("m00", "m0", "mn", "mn1"):
                value = float(getattr(self.evaporation_weighings, name))
                # Balance readings may be negative after a tare; refuse only non-numbers.
                if math.isnan(value) or math.isinf(value):
                    raise MeasurementInputError(
                        f"{where}: evaporation weighing {name} = {value!r} is not a number"
                    )
        if self.evaporation_per_cycle is not None:
            _finite(f"{where}: evaporation per cycle", self.evaporation_per_cycle)

    def masses_mg(self) -> tuple[float, ...]:
        factor = mass_factor_to_mg(self.unit)
        return tuple(m * factor for m in self.masses)

    def evaporation_mg(self) -> float | None:
        """Evaporation loss per cycle in mg, or None when the series carries no evaporation data."""
        factor = mass_factor_to_mg(self.unit)
        if self.evaporation_weighings is not None:
            return self.evaporation_weighings.per_cycle() * factor
        if self.evaporation_per_cycle is not None:
            return float(self.evaporation_per_cycle) * factor
        return None


@dataclass(frozen=True, slots=True)
class UncertaintyAssumptions:
    """What the budget assumes where nothing was measured (documented defaults; a lab sets its
    own): standard uncertainties of the environment sensors; the bound ``a`` (mg per cycle) of
    an evaporation that was not measured (rectangular, 0 ± a; not from a source: an open
    weighing vessel loses roughly 0.01–0.05 mg a minute at 50 % RH); the operator's handling as
    a relative standard uncertainty of the test volume; the coverage probability of U."""

    u_temperature_c: float = 0.2
    u_pressure_kpa: float = 0.3
    u_humidity_pct: float = 10.0
    unmeasured_evaporation_mg: float = 0.02
    handling_rel: float = 0.0002
    coverage_probability: float = 0.9545

    def __post_init__(self) -> None:
        for name in (
            "u_temperature_c",
            "u_pressure_kpa",
            "u_humidity_pct",
            "unmeasured_evaporation_mg",
            "handling_rel",
        ):
            if not _finite(name, getattr(self, name)) >= 0:
                raise MeasurementInputError(f"{name} must not be negative")
        if not 0.5 <= _finite("coverage probability", self.coverage_probability) < 1:
            raise MeasurementInputError(
                f"coverage probability must be in [0.5, 1), got {self.coverage_probability!r}"
            )


@dataclass(frozen=True, slots=True)
class GravimetricRun:
    """A run: test volumes × replicates + environment, judged against an MPE edition."""

    pipette: PipetteSpec
    balance: BalanceSpec
    environment: Environment
    series: Sequence[TestSeries]  # stored as a tuple
    mpe_edition: str = "ISO 8655-2:2002"
    assumptions: UncertaintyAssumptions = field(default_factory=UncertaintyAssumptions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "series", tuple(self.series))
        if not self.series:
            raise MeasurementInputError("the run has no test volumes; nothing to evaluate")
        for s in self.series:
            if s.volume_ul > self.pipette.nominal_volume_ul:
                raise MeasurementInputError(
                    f"test volume {s.volume_ul:g} µL exceeds the nominal volume "
                    f"{self.pipette.nominal_volume_ul:g} µL of the pipette"
                )
