"""The one verdict of a calibration: results, uncertainty, decision rule and findings → one state.

Four states, worded once here (:data:`VERDICT_LABELS`) so the certificate, the portal, the API
and the webhooks say the same:

- ``conforming``: every result accepted under the decision rule, the procedure complete, no
  finding that limits the statement;
- ``not_conforming``: at least one result outside its limit (with guarded acceptance: outside
  the limit reduced by the guard band) — a measured failure is a failure whatever else is wrong;
- ``conforming_with_finding``: every result accepted, but a finding (environment, balance,
  replicates…) means conformity cannot be stated;
- ``not_evaluated``: the procedure was incomplete (a channel or a required test volume missing,
  no results), so no statement is made.

Decision rules (ILAC-G8:09/2019, "Guidelines on decision rules and statements of conformity"):

- *simple acceptance* (guard band w = 0): a systematic error is accepted when ``|e_s| ≤ MPE_s``;
- *guarded acceptance* with w = U: accepted only when ``|e_s| + U ≤ MPE_s``, U being the expanded
  uncertainty of the mean volume. A result inside the limit but within the guard band is not
  accepted (binary statement: there is no "conditional pass").

The random error is compared with its limit directly (``s ≤ MPE_r``) under both rules: U is the
uncertainty of the mean volume, not of s. A value exactly on an acceptance limit is accepted.
Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from labcal_shared.errors import MeasurementInputError
from labcal_shared.iso8655.findings import Finding, Severity

__all__ = [
    "DECISION_RULE_DESCRIPTIONS",
    "VERDICT_LABELS",
    "DecisionRule",
    "Judgement",
    "LimitCheck",
    "Verdict",
    "VolumeJudgement",
    "decision_rule",
    "judge",
    "verdict_label",
    "verdict_statement",
]


class Verdict(StrEnum):
    CONFORMING = "conforming"
    NOT_CONFORMING = "not_conforming"
    CONFORMING_WITH_FINDING = "conforming_with_finding"
    NOT_EVALUATED = "not_evaluated"


class DecisionRule(StrEnum):
    SIMPLE = "simple_acceptance"
    GUARDED = "guarded_acceptance"


VERDICT_LABELS: Final[dict[Verdict, str]] = {
    Verdict.CONFORMING: "Conforming",
    Verdict.NOT_CONFORMING: "Not conforming",
    Verdict.CONFORMING_WITH_FINDING: "Within limits, conformity not stated (finding)",
    Verdict.NOT_EVALUATED: "Not evaluated",
}

DECISION_RULE_DESCRIPTIONS: Final[dict[DecisionRule, str]] = {
    DecisionRule.SIMPLE: (
        "simple acceptance (ILAC-G8:09/2019, guard band w = 0): a result is accepted when "
        "|systematic error| <= MPE and random error <= MPE; the expanded uncertainty U is "
        "stated but not deducted from the limit"
    ),
    DecisionRule.GUARDED: (
        "guarded acceptance (ILAC-G8:09/2019, guard band w = U): a result is accepted only when "
        "|systematic error| + U <= MPE, U being the expanded uncertainty of the mean volume, "
        "and random error <= MPE"
    ),
}


def decision_rule(value: str) -> DecisionRule:
    """Parse a rule name (``simple_acceptance`` / ``guarded_acceptance``; also ``simple`` /
    ``guarded``); anything else is refused naming the rules."""
    text = value.strip().lower().replace("-", "_")
    aliases = {"simple": DecisionRule.SIMPLE, "guarded": DecisionRule.GUARDED}
    if text in aliases:
        return aliases[text]
    try:
        return DecisionRule(text)
    except ValueError:
        known = ", ".join(r.value for r in DecisionRule)
        raise MeasurementInputError(
            f"unknown decision rule {value!r}; use one of {known}"
        ) from None


def verdict_label(verdict: Verdict) -> str:
    """The short wording every surface uses for the verdict."""
    return VERDICT_LABELS[verdict]


def verdict_statement(verdict: Verdict, rule: DecisionRule) -> str:
    """The sentence a certificate states (the label, what it means, the rule it was made by)."""
    meaning = {
        Verdict.CONFORMING: "conformity with the stated limits is declared",
        Verdict.NOT_CONFORMING: "at least one result is outside its limit",
        Verdict.CONFORMING_WITH_FINDING: (
            "every result is within its limit, but conformity cannot be stated because of the "
            "findings listed"
        ),
        Verdict.NOT_EVALUATED: "the procedure was incomplete; no statement of conformity is made",
    }[verdict]
    return f"{verdict_label(verdict)}: {meaning}. Decision rule: {rule.value.replace('_', ' ')}."


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One result to judge: a test volume (and channel) with its limits and uncertainty (µL)."""

    volume_ul: float
    channel: int
    systematic_error_ul: float
    mpe_systematic_ul: float
    random_error_ul: float
    mpe_random_ul: float
    expanded_uncertainty_ul: float


@dataclass(frozen=True, slots=True)
class VolumeJudgement:
    """The decision on one result. ``guard_band_ul`` is w (0 under simple acceptance);
    ``acceptance_limit_ul`` = MPE_s − w."""

    volume_ul: float
    channel: int
    accepted: bool
    guard_band_ul: float
    acceptance_limit_ul: float
    reason: str  # "" when accepted


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    rule: DecisionRule
    volumes: tuple[VolumeJudgement, ...]
    reasons: tuple[str, ...]  # why the verdict is not "conforming" (empty when it is)

    @property
    def label(self) -> str:
        return verdict_label(self.verdict)


def _judge_one(check: LimitCheck, rule: DecisionRule) -> VolumeJudgement:
    u = check.expanded_uncertainty_ul
    if not u >= 0:
        raise MeasurementInputError(
            f"test volume {check.volume_ul:g} µL: expanded uncertainty must be ≥ 0, got {u!r}"
        )
    w = u if rule is DecisionRule.GUARDED else 0.0
    limit = check.mpe_systematic_ul - w
    where = f"{check.volume_ul:g} µL, channel {check.channel}"
    reasons = []
    e = abs(check.systematic_error_ul)
    if e > check.mpe_systematic_ul:
        reasons.append(
            f"{where}: systematic error {check.systematic_error_ul:+.4g} µL is outside the MPE "
            f"±{check.mpe_systematic_ul:g} µL"
        )
    elif e + w > check.mpe_systematic_ul:
        reasons.append(
            f"{where}: |systematic error| {e:.4g} µL + U {w:.4g} µL exceeds the MPE "
            f"{check.mpe_systematic_ul:g} µL (inside the guard band)"
        )
    if check.random_error_ul > check.mpe_random_ul:
        reasons.append(
            f"{where}: random error {check.random_error_ul:.4g} µL exceeds the MPE "
            f"{check.mpe_random_ul:g} µL"
        )
    return VolumeJudgement(
        check.volume_ul, check.channel, not reasons, w, limit, "; ".join(reasons)
    )


def judge(
    checks: Sequence[LimitCheck], rule: DecisionRule, findings: Sequence[Finding] = ()
) -> Judgement:
    """The verdict of one calibration.

    ``findings`` of severity ``gap`` (procedure incomplete) make it ``not_evaluated``, of
    severity ``warning`` ``conforming_with_finding``; ``info`` findings do not change it. A
    result outside its limit makes it ``not_conforming`` whatever the findings say.
    """
    volumes = tuple(_judge_one(c, rule) for c in checks)
    rejected = tuple(v.reason for v in volumes if not v.accepted)
    gaps = tuple(f.message for f in findings if f.severity is Severity.GAP)
    limiting = tuple(f.message for f in findings if f.severity is Severity.WARNING)
    if rejected:
        return Judgement(Verdict.NOT_CONFORMING, rule, volumes, rejected)
    if not volumes:
        reasons = gaps or ("no results to judge",)
        return Judgement(Verdict.NOT_EVALUATED, rule, volumes, reasons)
    if gaps:
        return Judgement(Verdict.NOT_EVALUATED, rule, volumes, gaps)
    if limiting:
        return Judgement(Verdict.CONFORMING_WITH_FINDING, rule, volumes, limiting)
    return Judgement(Verdict.CONFORMING, rule, volumes, ())
