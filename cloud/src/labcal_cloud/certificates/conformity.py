"""The statement of conformity a certificate prints (ISO/IEC 17025 §7.8.6): the one verdict of
the record, worded as everywhere else (:func:`labcal_shared.iso8655.verdict_label`), the decision
rule it was made by and its guard band, and the reasons when it is not "conforming".

Pure: built from the engine's record only, so the certificate cannot say something the record
(and so the portal, the API and the webhooks) does not.
"""

from __future__ import annotations

from labcal_cloud.engine.records import CalibrationRecord
from labcal_shared.iso8655.verdict import (
    DECISION_RULE_DESCRIPTIONS,
    DecisionRule,
    verdict_statement,
)

__all__ = ["conformity_rows", "guard_band_text", "volume_decision"]


def guard_band_text(record: CalibrationRecord) -> str:
    """The guard band w per test volume (``none`` under simple acceptance)."""
    if record.decision_rule is DecisionRule.SIMPLE:
        return "none (w = 0): the uncertainty is not deducted from the limits"
    parts = [
        f"{v.volume_ul:g} µL ch {v.channel}: w = U = {v.guard_band_ul:.4f} µL, accept "
        f"|e_s| <= {v.mpe_systematic_ul - v.guard_band_ul:.4f} µL"
        for v in record.volumes
    ]
    return "; ".join(parts)


def volume_decision(passed: bool, record: CalibrationRecord) -> str:
    """One result's decision in the rule's words."""
    if passed:
        return "accepted"
    return "not accepted" if record.decision_rule is DecisionRule.GUARDED else "outside limit"


def conformity_rows(record: CalibrationRecord) -> list[tuple[str, str]]:
    """(label, text) rows of the certificate's conclusion."""
    rows = [
        ("Statement", verdict_statement(record.verdict, record.decision_rule)),
        ("Decision rule", DECISION_RULE_DESCRIPTIONS[record.decision_rule]),
        ("Guard band", guard_band_text(record)),
    ]
    rows.extend(("Reason", reason) for reason in record.verdict_reasons)
    return rows
