"""Evaluation of a run: a hand-worked example, MPE verdicts, units and input refusals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from labcal_shared.iso8655 import (
    BalanceSpec,
    Environment,
    EvaporationWeighings,
    GravimetricRun,
    MeasurementInputError,
    PipetteSpec,
    TestSeries,
    UnknownEditionError,
    evaluate_run,
)

from .t_reference import reference_k


def independent_z(t: float, p_kpa: float, rh: float, t_air: float | None = None) -> float:
    """Z from reference §3.1, written separately from the library."""
    ta = t if t_air is None else t_air
    rho_w = 999.85308 + 6.32693e-2 * t - 8.523829e-3 * t**2 + 6.943248e-5 * t**3
    rho_w -= 3.821216e-7 * t**4
    rho_a = (3.4848 * p_kpa - 0.009 * rh * math.exp(0.061 * ta)) / (273.15 + ta)
    return 1000.0 * (1.0 - rho_a / 8000.0) / (rho_w - rho_a)


MASSES_100 = [99.62, 99.71, 99.80, 99.68, 99.75, 99.59, 99.83, 99.70, 99.66, 99.77]
WEIGHINGS = EvaporationWeighings(m00=1000.00, m0=999.98, mn=2000.00, mn1=1999.96)


def make_run(
    series: Sequence[TestSeries],
    *,
    nominal: float = 100.0,
    channels: int = 1,
    readability: float = 0.01,
    env: Environment | None = None,
    edition: str = "ISO 8655-2:2002",
) -> GravimetricRun:
    return GravimetricRun(
        pipette=PipetteSpec(nominal, channels),
        balance=BalanceSpec(readability),
        environment=env or Environment.single(20.0, 101.3, 50.0),
        series=tuple(series),
        mpe_edition=edition,
    )


def test_hand_worked_example() -> None:
    """100 µL pipette at 100 µL, 20 °C, 101.3 kPa, 50 % RH; every number derived here by hand."""
    result = evaluate_run(
        make_run([TestSeries(100.0, MASSES_100, evaporation_weighings=WEIGHINGS)])
    )
    z = independent_z(20.0, 101.3, 50.0)
    evap = ((1000.00 - 999.98) + (2000.00 - 1999.96)) / 2  # 0.03 mg per cycle
    volumes = [(m + evap) * z for m in MASSES_100]
    n = len(volumes)
    mean = sum(volumes) / n
    s = math.sqrt(sum((v - mean) ** 2 for v in volumes) / (n - 1))

    v = result.volumes[0]
    assert v.z_factor == pytest.approx(z, rel=1e-13)
    assert v.evaporation_mg == pytest.approx(0.03, abs=1e-12)
    assert v.volumes_ul == pytest.approx(volumes, rel=1e-12)
    # Mean mass 99.711 mg + 0.03 mg = 99.741 mg; × Z(20 °C) 1.002854 ≈ 100.0257 µL.
    assert v.mean_volume_ul == pytest.approx(mean, rel=1e-12)
    assert v.mean_volume_ul == pytest.approx(99.741 * 1.002854, abs=1e-4)
    assert v.systematic_error_ul == pytest.approx(mean - 100.0, rel=1e-9)
    assert v.systematic_error_pct == pytest.approx(100.0 * (mean - 100.0) / 100.0, rel=1e-9)
    assert v.random_error_ul == pytest.approx(s, rel=1e-12)
    assert v.cv_pct == pytest.approx(100.0 * s / mean, rel=1e-12)
    assert v.mpe.systematic_ul == 0.8
    assert v.mpe.random_ul == 0.3
    assert v.systematic_passed
    assert v.random_passed
    assert v.passed
    assert result.passed
    assert result.findings == ()
    assert result.conformity_claimable


def test_hand_worked_uncertainty_budget() -> None:
    result = evaluate_run(
        make_run([TestSeries(100.0, MASSES_100, evaporation_weighings=WEIGHINGS)])
    )
    v = result.volumes[0]
    z = independent_z(20.0, 101.3, 50.0)
    mass = sum(MASSES_100) / 10 + 0.03
    h = 1e-3
    # u(t) = 0.2 °C applies to the water temperature; the air temperature stays at 20 °C.
    z_up, z_down = (
        independent_z(20 + h, 101.3, 50.0, 20.0),
        independent_z(20 - h, 101.3, 50.0, 20.0),
    )
    dz_dt = (z_up - z_down) / (2 * h)
    dz_dp = (independent_z(20.0, 101.3 + h, 50.0) - independent_z(20.0, 101.3 - h, 50.0)) / (2 * h)
    expected = {
        # d = 0.01 mg; ISO 8655-6:2002 table: standard uncertainty 0.02 mg for 10–100 µL.
        "balance": z * math.sqrt(0.01**2 / 12 + 0.02**2),
        "repeatability": v.random_error_ul / math.sqrt(10),
        "temperature": abs(dz_dt) * 0.2 * mass,
        "pressure": abs(dz_dp) * 0.3 * mass,
        "evaporation": z * 0.03 / (2 * math.sqrt(3)),
        "handling": 0.0002 * 100.0,  # the assumed 0.02 % of the test volume
    }
    budget = v.uncertainty.as_dict()
    assert set(budget) == {*expected, "humidity"}
    for name, value in expected.items():
        assert budget[name] == pytest.approx(value, rel=1e-4), name
    assert 0 < budget["humidity"] < budget["temperature"]
    combined = math.sqrt(sum(x**2 for x in budget.values()))
    assert v.uncertainty.combined_ul == pytest.approx(combined, rel=1e-12)
    # only the repeatability has finite degrees of freedom (n − 1 = 9): Welch–Satterthwaite
    nu_eff = combined**4 / (budget["repeatability"] ** 4 / 9)
    assert v.uncertainty.effective_dof == pytest.approx(nu_eff, rel=1e-9)
    k = reference_k(nu_eff)
    assert v.uncertainty.coverage_factor == pytest.approx(k, abs=1e-6)
    assert v.uncertainty.expanded_ul == pytest.approx(k * combined, rel=1e-6)


def test_balance_uncertainty_from_spec_overrides_table() -> None:
    run = GravimetricRun(
        PipetteSpec(100.0),
        BalanceSpec(0.01, standard_uncertainty_mg=0.005),
        Environment.single(20.0, 101.3),
        (TestSeries(100.0, MASSES_100),),
    )
    v = evaluate_run(run).volumes[0]
    z = independent_z(20.0, 101.3, 50.0)
    assert v.uncertainty.as_dict()["balance"] == pytest.approx(
        z * math.sqrt(0.01**2 / 12 + 0.005**2), rel=1e-12
    )


@pytest.mark.parametrize(
    ("masses", "channels", "sys_ok", "rand_ok"),
    [
        ([100.0] * 10, 1, True, True),  # e_s ≈ +0.29 µL, s = 0
        ([100.6] * 10, 1, False, True),  # e_s ≈ +0.89 µL > 0.8
        ([100.6] * 10, 8, True, True),  # multichannel: limit 1.6 µL
        ([99.0] * 10, 1, True, True),  # e_s ≈ −0.72 µL, inside ±0.8
        ([98.9] * 10, 1, False, True),  # e_s ≈ −0.82 µL, |e_s| > 0.8
        ([99.5, 100.5] * 5, 1, True, False),  # s ≈ 0.53 µL > 0.3
        ([99.5, 100.5] * 5, 2, True, True),  # multichannel: limit 0.6 µL
    ],
)
def test_verdicts(masses: list[float], channels: int, sys_ok: bool, rand_ok: bool) -> None:
    v = evaluate_run(make_run([TestSeries(100.0, masses)], channels=channels)).volumes[0]
    z = independent_z(20.0, 101.3, 50.0)
    e_s = sum(m * z for m in masses) / len(masses) - 100.0
    limit = 0.8 * (2 if channels > 1 else 1)
    assert (abs(e_s) <= limit) == sys_ok  # the table's expectation is itself right
    assert v.systematic_passed == sys_ok
    assert v.random_passed == rand_ok
    assert v.passed == (sys_ok and rand_ok)


def test_nominal_limit_applies_at_every_test_volume() -> None:
    """At 10 µL on a 100 µL pipette the limit stays 0.8 µL (8 %), not 0.12 µL."""
    masses = [10.4] * 10  # ≈ 10.43 µL: +4.3 % — fails any 10 µL pipette, passes 100 µL at 10 µL
    result = evaluate_run(make_run([TestSeries(10.0, masses)], readability=0.001))
    v = result.volumes[0]
    assert v.mpe.systematic_ul == 0.8
    assert v.systematic_passed
    small = evaluate_run(make_run([TestSeries(10.0, masses)], nominal=10.0, readability=0.001))
    assert not small.volumes[0].systematic_passed


def test_overall_verdict_needs_every_volume() -> None:
    result = evaluate_run(
        make_run([TestSeries(100.0, [100.0] * 10), TestSeries(50.0, [52.0] * 10)])
    )
    assert [v.passed for v in result.volumes] == [True, False]
    assert not result.passed


@pytest.mark.parametrize(
    ("unit", "factor"), [("mg", 1.0), ("g", 1e-3), ("µg", 1e3), ("μg", 1e3), ("ug", 1e3)]
)
def test_mass_units(unit: str, factor: float) -> None:
    series = TestSeries(
        100.0,
        [m * factor for m in MASSES_100],
        unit=unit,
        evaporation_weighings=EvaporationWeighings(
            1000.00 * factor, 999.98 * factor, 2000.00 * factor, 1999.96 * factor
        ),
    )
    v = evaluate_run(make_run([series])).volumes[0]
    ref = evaluate_run(
        make_run([TestSeries(100.0, MASSES_100, evaporation_weighings=WEIGHINGS)])
    ).volumes[0]
    assert v.mean_volume_ul == pytest.approx(ref.mean_volume_ul, rel=1e-9)
    assert v.random_error_ul == pytest.approx(ref.random_error_ul, rel=1e-6)
    assert v.evaporation_mg == pytest.approx(0.03, rel=1e-6)


def test_evaporation_given_directly() -> None:
    direct = TestSeries(100.0, MASSES_100, evaporation_per_cycle=0.03)
    weighed = TestSeries(100.0, MASSES_100, evaporation_weighings=WEIGHINGS)
    a = evaluate_run(make_run([direct])).volumes[0]
    b = evaluate_run(make_run([weighed])).volumes[0]
    assert a.mean_volume_ul == pytest.approx(b.mean_volume_ul, rel=1e-12)
    none = evaluate_run(make_run([TestSeries(100.0, MASSES_100)])).volumes[0]
    assert none.evaporation_mg == 0.0
    assert a.mean_volume_ul - none.mean_volume_ul == pytest.approx(0.03 * a.z_factor, rel=1e-9)


def test_environment_means_drive_z() -> None:
    env = Environment(
        (
            Environment.single(20.0, 101.0, 55.0, 20.1).samples[0],
            Environment.single(20.4, 101.6, 57.0, 20.3).samples[0],
        )
    )
    result = evaluate_run(make_run([TestSeries(100.0, MASSES_100)], env=env))
    assert env.water_temp_c == pytest.approx(20.2)
    rho_check = evaluate_run(
        make_run([TestSeries(100.0, MASSES_100)], env=Environment.single(20.2, 101.3, 56.0, 20.2))
    )
    assert result.z_factor == pytest.approx(rho_check.z_factor, rel=1e-12)


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: TestSeries(50.0, [50.0, -0.1, 50.0]),
            r"test volume 50 µL, replicate 2: mass -0\.1 is negative",
        ),
        (
            lambda: TestSeries(50.0, [50.0, 50.0, float("nan")]),
            "test volume 50 µL, replicate 3: mass is nan",
        ),
        (lambda: TestSeries(50.0, []), "test volume 50 µL: the replicate list is empty"),
        (lambda: TestSeries(50.0, [50.0]), "test volume 50 µL: only one replicate"),
        (lambda: TestSeries(50.0, [50.0, 50.0], unit="kg"), "unknown mass unit 'kg'"),
        (lambda: TestSeries(0.0, [50.0, 50.0]), "test volume must be positive"),
        (
            lambda: TestSeries(
                50.0, [50.0, 50.0], evaporation_per_cycle=0.01, evaporation_weighings=WEIGHINGS
            ),
            "not both",
        ),
        (
            lambda: TestSeries(
                50.0,
                [50.0, 50.0],
                evaporation_weighings=EvaporationWeighings(1, float("nan"), 1, 1),
            ),
            "evaporation weighing m0",
        ),
        (lambda: make_run([]), "the run has no test volumes"),
        (lambda: make_run([TestSeries(200.0, [200.0] * 10)]), "exceeds the nominal volume 100 µL"),
        (lambda: Environment(()), "environment has no samples"),
        (lambda: PipetteSpec(float("nan")), "nominal volume must be a finite number"),
        (lambda: PipetteSpec(100.0, channels=0), "channels must be at least 1"),
        (lambda: BalanceSpec(0.0), "balance readability must be positive"),
        (lambda: Environment.single(20.0, float("nan")), "pressure_kpa is NaN"),
    ],
)
def test_bad_input_refused_with_clear_message(build: object, message: str) -> None:
    with pytest.raises(MeasurementInputError, match=message):
        build()  # type: ignore[operator]


def test_all_zero_masses_refused() -> None:
    with pytest.raises(
        MeasurementInputError, match="test volume 100 µL: the mean delivered volume"
    ):
        evaluate_run(make_run([TestSeries(100.0, [0.0] * 10)]))


def test_environment_out_of_range_refused_at_evaluation() -> None:
    run = make_run([TestSeries(100.0, MASSES_100)], env=Environment.single(45.0, 101.3))
    with pytest.raises(MeasurementInputError, match="water temperature 45 °C is outside"):
        evaluate_run(run)


def test_unknown_edition_refused() -> None:
    run = make_run([TestSeries(100.0, MASSES_100)], edition="ISO 8655-2:2022")
    with pytest.raises(UnknownEditionError, match="available editions: ISO 8655-2:2002"):
        evaluate_run(run)


def test_type_d_refused() -> None:
    run = GravimetricRun(
        PipetteSpec(100.0, kind="positive_displacement"),
        BalanceSpec(0.01),
        Environment.single(20.0, 101.3),
        (TestSeries(100.0, MASSES_100),),
    )
    with pytest.raises(UnknownEditionError, match="positive-displacement"):
        evaluate_run(run)


def test_nominal_between_rows_refused() -> None:
    with pytest.raises(MeasurementInputError, match="nominal volume 300 µL is not a row"):
        evaluate_run(make_run([TestSeries(300.0, [300.0] * 10)], nominal=300.0))


def test_negative_evaporation_readings_after_a_tare_are_accepted() -> None:
    """m00 tared to 0, later readings below zero: the balance lost mass, a normal case."""
    series = TestSeries(
        50.0, [50.0, 50.0], evaporation_weighings=EvaporationWeighings(0.0, -0.02, 500.0, 499.98)
    )
    assert series.evaporation_mg() == pytest.approx(0.02)
