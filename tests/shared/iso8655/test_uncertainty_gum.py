"""GUM budget: k from ν_eff (Welch–Satterthwaite, Student t without scipy), the evaporation
term when evaporation was not measured, the handling term, the balance's own certified value."""

from __future__ import annotations

import math

import pytest

from labcal_shared.errors import MeasurementInputError
from labcal_shared.iso8655 import (
    BalanceSpec,
    Environment,
    EvaporationWeighings,
    GravimetricRun,
    PipetteSpec,
    TestSeries,
    UncertaintyAssumptions,
    evaluate_run,
)
from labcal_shared.iso8655.student_t import coverage_factor, t_quantile, welch_satterthwaite

from .t_reference import GUM_G2_95, GUM_G2_9545, reference_k

MASSES = [99.62, 99.71, 99.80, 99.68, 99.75, 99.59, 99.83, 99.70, 99.66, 99.77]


@pytest.mark.parametrize(("table", "p"), [(GUM_G2_95, 0.95), (GUM_G2_9545, 0.9545)])
def test_t_quantiles_match_gum_table_g2(table: dict[int, float], p: float) -> None:
    for nu, printed in table.items():
        decimals = 3 if nu == 100 else 2
        assert round(t_quantile(p, nu), decimals) == pytest.approx(printed, abs=1e-9), nu
    assert t_quantile(0.9545, math.inf) == pytest.approx(2.0, abs=1e-3)
    assert t_quantile(0.95, math.inf) == pytest.approx(1.959964, abs=1e-6)


def test_coverage_factor_truncates_nu_eff_as_gum_g64_says() -> None:
    """The issue's case: ν_eff 12.3 at 1000 µL → k 2.23 (not 2; U was 11 % too small)."""
    assert coverage_factor(12.3) == pytest.approx(t_quantile(0.9545, 12))
    assert round(coverage_factor(12.3), 2) == 2.23
    assert coverage_factor(0.4) == t_quantile(0.9545, 1)  # at least one degree of freedom
    for nu in (3.7, 9.0, 27.5):
        assert coverage_factor(nu) == pytest.approx(reference_k(nu), abs=1e-6)


def test_welch_satterthwaite() -> None:
    assert welch_satterthwaite([(1.0, 9.0), (1.0, math.inf)]) == pytest.approx(36.0)
    assert welch_satterthwaite([(0.5, math.inf)]) == math.inf
    assert welch_satterthwaite([(0.0, 9.0)]) == math.inf


def _run(series: TestSeries, balance: BalanceSpec | None = None, **assume: float) -> GravimetricRun:
    return GravimetricRun(
        PipetteSpec(100.0),
        balance or BalanceSpec(0.01),
        Environment.single(20.0, 101.3),
        (series,),
        assumptions=UncertaintyAssumptions(**assume),
    )


def test_knowing_less_about_evaporation_never_gives_a_smaller_u() -> None:
    measured = TestSeries(
        100.0, MASSES, evaporation_weighings=EvaporationWeighings(1000.0, 999.99, 2000.0, 1999.99)
    )
    unmeasured = TestSeries(100.0, MASSES)
    u_measured = evaluate_run(_run(measured)).volumes[0].uncertainty
    u_unmeasured = evaluate_run(_run(unmeasured)).volumes[0].uncertainty
    z = evaluate_run(_run(unmeasured)).z_factor
    evap = {c.name: c for c in u_unmeasured.components}["evaporation"]
    assert evap.standard_uncertainty_ul == pytest.approx(z * 0.02 / math.sqrt(3), rel=1e-12)
    assert "not measured" in evap.description
    assert "0 ± 0.02 mg" in evap.description
    assert u_unmeasured.expanded_ul > u_measured.expanded_ul
    bigger = evaluate_run(_run(unmeasured, unmeasured_evaporation_mg=0.05)).volumes[0]
    assert bigger.uncertainty.expanded_ul > u_unmeasured.expanded_ul


def test_handling_term_and_its_assumption_are_in_the_budget() -> None:
    budget = evaluate_run(_run(TestSeries(100.0, MASSES), handling_rel=0.001)).volumes[0]
    handling = {c.name: c for c in budget.uncertainty.components}["handling"]
    assert handling.standard_uncertainty_ul == pytest.approx(0.1)
    assert "assumed 0.1 % of the test volume" in handling.description
    assert math.isinf(handling.degrees_of_freedom)


def test_the_balances_certified_value_is_used_and_named_else_the_table_is_stated() -> None:
    table = evaluate_run(_run(TestSeries(100.0, MASSES))).volumes[0].uncertainty
    own = evaluate_run(
        _run(TestSeries(100.0, MASSES), BalanceSpec(0.01, standard_uncertainty_mg=0.004))
    ).volumes[0]
    text = {c.name: c.description for c in table.components}["balance"]
    assert "requirement table's maximum" in text
    assert "0.02 mg" in text
    own_text = {c.name: c.description for c in own.uncertainty.components}["balance"]
    assert "certified standard uncertainty 0.004 mg" in own_text
    assert own.uncertainty.expanded_ul < table.expanded_ul


def test_repeatability_carries_n_minus_1_degrees_of_freedom() -> None:
    budget = evaluate_run(_run(TestSeries(100.0, MASSES))).volumes[0].uncertainty
    dofs = {c.name: c.degrees_of_freedom for c in budget.components}
    assert dofs.pop("repeatability") == 9
    assert all(math.isinf(d) for d in dofs.values())
    assert budget.coverage_factor == pytest.approx(coverage_factor(budget.effective_dof))
    assert budget.coverage_factor > 2.0  # finite ν_eff


def test_bad_assumptions_are_refused() -> None:
    with pytest.raises(MeasurementInputError, match="coverage probability"):
        UncertaintyAssumptions(coverage_probability=1.0)
    with pytest.raises(MeasurementInputError, match="handling_rel"):
        UncertaintyAssumptions(handling_rel=-0.1)
