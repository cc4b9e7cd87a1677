"""JSON form of a :class:`CalibrationRecord` (stored in ``calibration_record.record_json`` and
sent in webhooks), and back.

Records stored before verdicts existed carry no ``verdict``: theirs is read from what they said
(claimable → conforming, passed → conforming with finding, else not conforming), judged by
simple acceptance, which was the only rule then."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from labcal_cloud.engine.records import (
    BudgetLine,
    CalibrationRecord,
    RecordFinding,
    VolumeOutcome,
)
from labcal_shared.contracts import DeviceRef
from labcal_shared.iso8655.verdict import DecisionRule, Verdict

__all__ = ["record_from_json", "record_to_json"]


def record_to_json(record: CalibrationRecord) -> dict[str, Any]:
    data = asdict(record)
    for key in ("record_id", "run_id", "supersedes"):
        data[key] = None if data[key] is None else str(data[key])
    for key in ("started_at", "ended_at", "recorded_at"):
        data[key] = data[key].isoformat()
    data["pipette"] = record.pipette.model_dump(mode="json")
    data["balance"] = record.balance.model_dump(mode="json")
    data["verdict"] = record.verdict.value
    data["decision_rule"] = record.decision_rule.value
    return data


def _verdict(data: dict[str, Any]) -> Verdict:
    if "verdict" in data:
        return Verdict(data["verdict"])
    if data["conformity_claimable"]:
        return Verdict.CONFORMING
    return Verdict.CONFORMING_WITH_FINDING if data["passed"] else Verdict.NOT_CONFORMING


def _volume(v: dict[str, Any]) -> VolumeOutcome:
    budget = tuple(BudgetLine(**line) for line in v.get("budget", ()))
    return VolumeOutcome(**{**v, "volumes_ul": tuple(v.get("volumes_ul", ())), "budget": budget})


def record_from_json(data: dict[str, Any]) -> CalibrationRecord:
    return CalibrationRecord(
        record_id=UUID(data["record_id"]),
        run_id=UUID(data["run_id"]),
        kind=data["kind"],
        phase=data["phase"],
        pipette=DeviceRef.model_validate(data["pipette"]),
        balance=DeviceRef.model_validate(data["balance"]),
        balance_in_calibration=data["balance_in_calibration"],
        operator=data["operator"],
        started_at=datetime.fromisoformat(data["started_at"]),
        ended_at=datetime.fromisoformat(data["ended_at"]),
        recorded_at=datetime.fromisoformat(data["recorded_at"]),
        mpe_edition=data["mpe_edition"],
        z_factor=data["z_factor"],
        volumes=tuple(_volume(v) for v in data["volumes"]),
        findings=tuple(RecordFinding(**f) for f in data["findings"]),
        passed=data["passed"],
        conformity_claimable=data["conformity_claimable"],
        supersedes=None if data["supersedes"] is None else UUID(data["supersedes"]),
        correction_reason=data["correction_reason"],
        verdict=_verdict(data),
        decision_rule=DecisionRule(data.get("decision_rule", DecisionRule.SIMPLE.value)),
        verdict_reasons=tuple(data.get("verdict_reasons", ())),
        tolerance_table=data.get("tolerance_table", ""),
    )
