"""A laboratory balance as a physical model: load, settling, noise, drift, evaporation, range.

Pure: every method takes ``now`` (seconds, from a :class:`~labcal_sim.ports.Clock`) and, where
noise is involved, a :class:`~labcal_sim.ports.RandomSource`. Masses are floats in mg inside the
model; the display value (:meth:`BalanceModel.display_g`) is a Decimal in g rounded to the
balance's readability, as a real display would show it.

* **Settling**: after a load change the reading is *dynamic* for ``settle_s`` seconds: a decaying
  overshoot plus larger noise; afterwards it is *stable*.
* **Noise** (stable): Gaussian, standard deviation ``noise_mg`` (by default 0.8 × readability,
  i.e. the repeatability class of the readability: 0.001 mg, 0.01 mg, 0.1 mg).
* **Drift**: a slow linear zero drift of ``drift_mg_per_h`` (zeroing removes what accrued so far).
* **Evaporation**: liquid added with :meth:`add_liquid` (an open vessel) loses
  ``evaporation_mg_per_s`` while any is left.
* **Range**: above ``capacity_g`` gross → overload; pan removed → underload.
* **Unstable fault**: ``unstable = True`` keeps every reading dynamic (draught, vibration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from labcal_shared.protocols.reading import WeightReading, decimals_for
from labcal_sim.ports import RandomSource

__all__ = ["READABILITY_CLASSES", "BalanceModel", "BalanceSpec", "Range", "Sample"]

#: Readability classes (mg) with a typical model name and capacity (g).
READABILITY_CLASSES: dict[str, tuple[float, str, float]] = {
    "0.001mg": (0.001, "XPR6U", 6.1),
    "0.01mg": (0.01, "XPR205DU", 220.0),
    "0.1mg": (0.1, "XPR204S", 220.0),
}


@dataclass(frozen=True, slots=True)
class BalanceSpec:
    """Identity and metrology of one simulated balance."""

    model: str = "XPR205DU"
    serial: str = "B123456789"
    capacity_g: float = 220.0
    readability_mg: float = 0.01
    settle_s: float = 1.5
    noise_mg: float | None = None
    drift_mg_per_h: float = 0.0
    evaporation_mg_per_s: float = 0.0
    zero_range_pct: float = 2.0

    @property
    def noise_sd_mg(self) -> float:
        return 0.8 * self.readability_mg if self.noise_mg is None else self.noise_mg

    @property
    def decimals_g(self) -> int:
        """Decimal places printed in grams (0.01 mg → 5)."""
        return decimals_for(Decimal(str(self.readability_mg)) / 1000)

    @classmethod
    def for_class(cls, readability: str, serial: str = "B123456789", **kw: float) -> BalanceSpec:
        """A spec of one readability class (``"0.001mg"``, ``"0.01mg"``, ``"0.1mg"``)."""
        try:
            mg, model, capacity = READABILITY_CLASSES[readability]
        except KeyError:
            raise ValueError(
                f"unknown readability class {readability!r}; choose one of "
                f"{', '.join(READABILITY_CLASSES)}"
            ) from None
        return cls(model=model, serial=serial, capacity_g=capacity, readability_mg=mg, **kw)


class Range(Enum):
    OK = "ok"
    OVER = "over"
    UNDER = "under"


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of the weighing cell: gross mg as displayed before rounding, stable or not."""

    gross_mg: float
    stable: bool
    range: Range


class BalanceModel:
    """Mutable state of one balance; see the module docstring."""

    def __init__(self, spec: BalanceSpec, now: float = 0.0) -> None:
        self.spec = spec
        self.solid_mg = 0.0
        self.liquid_mg = 0.0
        self.zero_mg = 0.0  # gross reading that displays as zero
        self.tare_mg = 0.0
        self.pan_present = True
        self.unstable = False
        self._origin = now
        self._liquid_at = now
        self._changed_at = now - spec.settle_s
        self._step_mg = 0.0

    # -- load changes -------------------------------------------------------------------------
    def _change(self, delta_mg: float, now: float) -> None:
        self._advance(now)
        self._step_mg = delta_mg
        self._changed_at = now

    def place(self, mass_mg: float, now: float) -> None:
        """Put a solid load (vessel, weight) on the pan; negative removes it."""
        self._change(mass_mg, now)
        self.solid_mg += mass_mg

    def add_liquid(self, mass_mg: float, now: float) -> None:
        """Add liquid to the open vessel (it evaporates)."""
        self._change(mass_mg, now)
        self.liquid_mg += mass_mg

    def set_pan(self, present: bool, now: float) -> None:
        self._change(0.0, now)
        self.pan_present = present

    def _advance(self, now: float) -> None:
        elapsed = max(0.0, now - self._liquid_at)
        self.liquid_mg = max(0.0, self.liquid_mg - self.spec.evaporation_mg_per_s * elapsed)
        self._liquid_at = max(now, self._liquid_at)

    # -- reading --------------------------------------------------------------------------------
    def true_gross_mg(self, now: float) -> float:
        """The physical load plus drift, without noise (the ground truth the display follows)."""
        self._advance(now)
        drift = self.spec.drift_mg_per_h * (now - self._origin) / 3600.0
        return self.solid_mg + self.liquid_mg + drift

    def settling(self, now: float) -> bool:
        return self.unstable or now - self._changed_at < self.spec.settle_s

    def range_at(self, now: float) -> Range:
        """Over/underload state without drawing noise."""
        if not self.pan_present:
            return Range.UNDER
        if self.true_gross_mg(now) > self.spec.capacity_g * 1000.0:
            return Range.OVER
        return Range.OK

    def ready(self, now: float) -> bool:
        """Whether a command waiting for stability can be answered now (stable or out of range).

        Draws no noise, so polling often does not change later readings (determinism per seed).
        """
        return self.range_at(now) is not Range.OK or not self.settling(now)

    def sample(self, now: float, rng: RandomSource) -> Sample:
        gross = self.true_gross_mg(now)
        out_of_range = self.range_at(now)
        if out_of_range is not Range.OK:
            return Sample(gross, False, out_of_range)
        noise = self.spec.noise_sd_mg
        if self.settling(now):
            age = max(0.0, now - self._changed_at)
            settle = max(self.spec.settle_s, 1e-9)
            overshoot = 0.1 * self._step_mg * math.exp(-3.0 * age / settle) * math.cos(9.0 * age)
            extra = 20.0 * noise if self.unstable else 5.0 * noise
            return Sample(gross + overshoot + rng.gauss(0.0, extra), False, Range.OK)
        return Sample(gross + rng.gauss(0.0, noise), True, Range.OK)

    def display_g(self, value_mg: float) -> Decimal:
        """``value_mg`` as the display shows it: grams rounded to the readability."""
        shown = Decimal(f"{value_mg / 1000.0:.{self.spec.decimals_g}f}")
        return shown.copy_abs() if shown.is_zero() else shown  # never "-0.00000"

    def net_reading(self, now: float, rng: RandomSource) -> WeightReading:
        """The net value (gross − zero − tare) in g as a :class:`WeightReading`."""
        sample = self.sample(now, rng)
        if sample.range is Range.OVER:
            return WeightReading(None, "", False, overload=True)
        if sample.range is Range.UNDER:
            return WeightReading(None, "", False, underload=True)
        net = self.display_g(sample.gross_mg - self.zero_mg - self.tare_mg)
        return WeightReading(net, "g", sample.stable)

    # -- zero and tare --------------------------------------------------------------------------
    def zero(self, sample: Sample) -> Range:
        """Zero on ``sample`` if within the zero range (±``zero_range_pct`` of capacity)."""
        if sample.range is not Range.OK:
            return sample.range
        limit = self.spec.zero_range_pct / 100.0 * self.spec.capacity_g * 1000.0
        if sample.gross_mg > limit:
            return Range.OVER
        if sample.gross_mg < -limit:
            return Range.UNDER
        self.zero_mg = sample.gross_mg
        self.tare_mg = 0.0
        return Range.OK

    def tare(self, sample: Sample) -> Range:
        """Store the current weight above zero as tare."""
        if sample.range is not Range.OK:
            return sample.range
        value = sample.gross_mg - self.zero_mg
        if value < -5.0 * self.spec.noise_sd_mg:
            return Range.UNDER
        self.tare_mg = value
        return Range.OK

    def tare_g(self) -> Decimal:
        return self.display_g(self.tare_mg)
