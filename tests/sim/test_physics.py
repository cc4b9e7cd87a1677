"""Pure physics: balance noise by readability, drift, evaporation, settling; pipette wear."""

from __future__ import annotations

import random
import statistics

import pytest

from labcal_sim.physics.balance import BalanceModel, BalanceSpec, Range
from labcal_sim.physics.bench import Bench
from labcal_sim.physics.pipette import PipetteModel, PipetteSpec, WearParams


@pytest.mark.parametrize("readability", ["0.001mg", "0.01mg", "0.1mg"])
def test_stable_noise_scales_with_the_readability_class(readability):
    spec = BalanceSpec.for_class(readability)
    model = BalanceModel(spec, 0.0)
    model.place(1_000.0, 0.0)
    rng = random.Random(4)
    values = [model.sample(10.0 + i, rng).gross_mg for i in range(2000)]
    assert statistics.mean(values) == pytest.approx(1_000.0, abs=4 * spec.readability_mg)
    assert statistics.stdev(values) == pytest.approx(0.8 * spec.readability_mg, rel=0.1)


def test_settling_then_stable():
    model = BalanceModel(BalanceSpec(settle_s=2.0, noise_mg=0.0), 0.0)
    model.place(5_000.0, 10.0)
    rng = random.Random(1)
    assert not model.sample(11.0, rng).stable
    settled = model.sample(12.0, rng)
    assert settled.stable
    assert settled.gross_mg == 5_000.0


def test_drift_and_zero():
    model = BalanceModel(BalanceSpec(noise_mg=0.0, drift_mg_per_h=0.2), 0.0)
    rng = random.Random(1)
    assert model.sample(3600.0, rng).gross_mg == pytest.approx(0.2)
    assert model.zero(model.sample(3600.0, rng)) is Range.OK
    assert model.net_reading(7200.0, rng).value is not None
    assert float(model.net_reading(7200.0, rng).to_mg()) == pytest.approx(0.2, abs=0.01)


def test_evaporation_only_from_liquid_and_never_below_empty():
    model = BalanceModel(BalanceSpec(noise_mg=0.0, evaporation_mg_per_s=0.01), 0.0)
    model.place(10_000.0, 0.0)
    model.add_liquid(1.0, 0.0)
    assert model.true_gross_mg(50.0) == pytest.approx(10_000.5)
    assert model.true_gross_mg(500.0) == pytest.approx(10_000.0)  # the water is gone


def test_overload_underload_and_zero_range():
    model = BalanceModel(BalanceSpec(capacity_g=10.0, noise_mg=0.0, settle_s=0.0), 0.0)
    rng = random.Random(1)
    model.place(11_000.0, 0.0)
    assert model.sample(1.0, rng).range is Range.OVER
    assert model.net_reading(1.0, rng).overload
    model.place(-10_500.0, 1.0)
    assert model.zero(model.sample(2.0, rng)) is Range.OVER  # 500 mg > 2 % of 10 g
    model.set_pan(False, 2.0)
    assert model.net_reading(3.0, rng).underload


def test_unknown_readability_class_is_refused():
    with pytest.raises(ValueError, match="unknown readability class"):
        BalanceSpec.for_class("1mg")


def test_pipette_systematic_error_drifts_and_random_error_grows_with_cycles():
    params = WearParams(systematic_pct=0.2, drift_pct_per_kcycle=-0.05, leak_per_kcycle=0.0)
    model = PipetteModel(PipetteSpec(), params)
    rng = random.Random(3)
    fresh_sys, fresh_cv = model.systematic_pct(), model.cv_pct()
    for _ in range(10_000):
        model.dispense(rng)
    assert model.systematic_pct() == pytest.approx(fresh_sys - 0.5)
    assert model.cv_pct() > fresh_cv
    assert model.state.total == model.state.since_service == 10_000
    model.service()
    assert (model.systematic_pct(), model.cv_pct()) == (fresh_sys, fresh_cv)
    assert model.state.total == 10_000


def test_delivered_volumes_carry_the_true_error():
    params = WearParams(
        systematic_pct=1.0,
        drift_pct_per_kcycle=0.0,
        cv_pct=0.2,
        cv_growth_pct_per_kcycle=0.0,
        leak_per_kcycle=0.0,
    )
    model = PipetteModel(PipetteSpec(nominal_ul=200.0, min_ul=20.0), params)
    rng = random.Random(8)
    volumes = [model.dispense(rng) for _ in range(4000)]
    assert statistics.mean(volumes) == pytest.approx(202.0, abs=0.05)
    assert statistics.stdev(volumes) == pytest.approx(0.4, rel=0.08)


def test_sudden_leak_and_drop():
    params = WearParams(leak_per_kcycle=1000.0, leak_pct=-3.0)  # certain leak on first cycle
    model = PipetteModel(PipetteSpec(), params)
    before = model.systematic_pct()
    model.dispense(random.Random(1))
    assert model.state.leaking
    assert model.systematic_pct() == pytest.approx(before - 3.0, abs=0.01)
    shift = model.drop(random.Random(2))
    assert shift != 0.0
    assert model.state.shift_pct == shift
    assert [h.split()[0] for h in model.state.history] == ["leak", "drop"]


def test_bench_converts_volume_to_mass_with_z():
    model = BalanceModel(BalanceSpec(noise_mg=0.0), 0.0)
    bench = Bench(model)
    mass = bench.receive("P1", 100.0, 100.5, 0.0)
    assert mass == pytest.approx(100.5 / bench.z(0.0))
    assert 1.002 < bench.z(0.0) < 1.004  # ≈ 21 °C, 101.3 kPa
    assert model.liquid_mg == pytest.approx(mass)
    assert bench.truth[0].delivered_ul == 100.5
