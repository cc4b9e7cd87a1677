"""The one verdict: decision rules at their boundaries, and how findings and gaps limit it.

Limits are chosen exactly representable in binary (0.75, 0.25 …) so "on the limit" is exact.
"""

from __future__ import annotations

import pytest

from labcal_shared.errors import MeasurementInputError
from labcal_shared.iso8655 import (
    DecisionRule,
    Finding,
    FindingCode,
    LimitCheck,
    Severity,
    Verdict,
    decision_rule,
    judge,
    verdict_label,
    verdict_statement,
)

MPE_S, MPE_R, U = 0.75, 0.25, 0.25
STEP = 0.01


def _check(e: float, s: float = 0.1, u: float = U, channel: int = 1) -> LimitCheck:
    return LimitCheck(100.0, channel, e, MPE_S, s, MPE_R, u)


# (systematic error, rule, accepted): just inside, on, just outside, for both signs
SYSTEMATIC_CASES = [
    (MPE_S - STEP, DecisionRule.SIMPLE, True),
    (MPE_S, DecisionRule.SIMPLE, True),
    (MPE_S + STEP, DecisionRule.SIMPLE, False),
    (-(MPE_S - STEP), DecisionRule.SIMPLE, True),
    (-MPE_S, DecisionRule.SIMPLE, True),
    (-(MPE_S + STEP), DecisionRule.SIMPLE, False),
    # guarded: the acceptance limit is MPE − U = 0.5
    (MPE_S - U - STEP, DecisionRule.GUARDED, True),
    (MPE_S - U, DecisionRule.GUARDED, True),
    (MPE_S - U + STEP, DecisionRule.GUARDED, False),
    (-(MPE_S - U - STEP), DecisionRule.GUARDED, True),
    (-(MPE_S - U), DecisionRule.GUARDED, True),
    (-(MPE_S - U + STEP), DecisionRule.GUARDED, False),
    # inside the MPE but in the guard band: simple accepts, guarded does not
    (MPE_S - STEP, DecisionRule.GUARDED, False),
]


@pytest.mark.parametrize(("error", "rule", "accepted"), SYSTEMATIC_CASES)
def test_systematic_error_at_the_boundary_of_each_rule(
    error: float, rule: DecisionRule, accepted: bool
) -> None:
    j = judge([_check(error)], rule)
    assert j.volumes[0].accepted is accepted
    assert j.verdict is (Verdict.CONFORMING if accepted else Verdict.NOT_CONFORMING)
    assert j.volumes[0].guard_band_ul == (U if rule is DecisionRule.GUARDED else 0.0)
    assert j.volumes[0].acceptance_limit_ul == MPE_S - j.volumes[0].guard_band_ul
    assert bool(j.reasons) is not accepted


@pytest.mark.parametrize("rule", list(DecisionRule))
@pytest.mark.parametrize(
    ("s", "accepted"), [(MPE_R - STEP, True), (MPE_R, True), (MPE_R + STEP, False)]
)
def test_random_error_at_its_limit_under_both_rules(
    rule: DecisionRule, s: float, accepted: bool
) -> None:
    """U is the uncertainty of the mean volume: no guard band on s under either rule."""
    j = judge([_check(0.0, s)], rule)
    assert j.volumes[0].accepted is accepted
    if not accepted:
        assert "random error" in j.reasons[0]


def test_guard_band_reason_names_the_band() -> None:
    j = judge([_check(0.6)], DecisionRule.GUARDED)
    assert j.verdict is Verdict.NOT_CONFORMING
    assert "guard band" in j.reasons[0]
    assert "0.6" in j.reasons[0]
    assert "outside the MPE" in judge([_check(0.8)], DecisionRule.GUARDED).reasons[0]


def test_a_zero_uncertainty_makes_both_rules_agree() -> None:
    for e in (MPE_S - STEP, MPE_S, MPE_S + STEP):
        simple = judge([_check(e, u=0.0)], DecisionRule.SIMPLE).verdict
        assert judge([_check(e, u=0.0)], DecisionRule.GUARDED).verdict is simple


def _finding(severity: Severity, text: str = "x") -> Finding:
    return Finding(FindingCode.HUMIDITY_LOW, severity, text)


def test_findings_limit_the_statement_and_gaps_prevent_it() -> None:
    ok = [_check(0.1), _check(0.2, channel=2)]
    assert judge(ok, DecisionRule.SIMPLE, [_finding(Severity.INFO)]).verdict is Verdict.CONFORMING
    limited = judge(ok, DecisionRule.SIMPLE, [_finding(Severity.WARNING, "humidity 49.8 %")])
    assert limited.verdict is Verdict.CONFORMING_WITH_FINDING
    assert limited.reasons == ("humidity 49.8 %",)
    gap = judge(
        ok,
        DecisionRule.SIMPLE,
        [_finding(Severity.WARNING), _finding(Severity.GAP, "channel 3 not tested")],
    )
    assert (gap.verdict, gap.reasons) == (Verdict.NOT_EVALUATED, ("channel 3 not tested",))


def test_a_measured_failure_is_not_conforming_whatever_else_is_wrong() -> None:
    j = judge(
        [_check(0.1), _check(0.9, channel=2)],
        DecisionRule.SIMPLE,
        [_finding(Severity.GAP), _finding(Severity.WARNING)],
    )
    assert j.verdict is Verdict.NOT_CONFORMING
    assert [v.accepted for v in j.volumes] == [True, False]
    assert "channel 2" in j.reasons[0]


def test_no_results_is_not_evaluated() -> None:
    assert judge([], DecisionRule.SIMPLE).verdict is Verdict.NOT_EVALUATED


def test_a_negative_uncertainty_is_refused() -> None:
    with pytest.raises(MeasurementInputError, match="expanded uncertainty"):
        judge([_check(0.1, u=-0.1)], DecisionRule.GUARDED)


def test_rule_names_parse_and_bad_ones_are_refused_with_the_choices() -> None:
    assert decision_rule("guarded") is DecisionRule.GUARDED
    assert decision_rule("Simple-Acceptance") is DecisionRule.SIMPLE
    with pytest.raises(MeasurementInputError, match="guarded_acceptance"):
        decision_rule("shared risk")


def test_every_verdict_has_one_wording() -> None:
    labels = {verdict_label(v) for v in Verdict}
    assert len(labels) == len(Verdict)
    text = verdict_statement(Verdict.CONFORMING_WITH_FINDING, DecisionRule.GUARDED)
    assert text.startswith(verdict_label(Verdict.CONFORMING_WITH_FINDING))
    assert "guarded acceptance" in text
