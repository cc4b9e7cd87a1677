"""Calibration records from runs: verdicts, balance validity, corrections, due facts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from labcal_cloud.engine.device_facts import device_facts
from labcal_cloud.engine.due import DueBasis, DuePolicy, DueStatus, compute_due
from labcal_cloud.engine.errors import RecordRejectedError
from labcal_cloud.engine.records import current_records, record_from_run, wear_ratio
from labcal_shared.contracts import RunMode

from .runs import make_run

T = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
VALID = T + timedelta(days=200)


def record(run_end: datetime = T, **kw: object):  # type: ignore[no-untyped-def]
    run_kw = {k: kw.pop(k) for k in list(kw) if k in {"bias_ul", "spread_ul", "mode", "phase"}}
    run = make_run(run_end, **run_kw)  # type: ignore[arg-type]
    kw.setdefault("balance_valid_until", VALID)
    return record_from_run(run, record_id=uuid.uuid4(), recorded_at=run_end, **kw)  # type: ignore[arg-type]


def test_passing_run_becomes_a_claimable_record() -> None:
    r = record(bias_ul=0.2, spread_ul=1.0)
    assert r.passed
    assert r.conformity_claimable
    assert r.kind == "calibration"
    assert r.balance_in_calibration is True
    assert [v.volume_ul for v in r.volumes] == [100.0, 50.0, 10.0]
    v100 = r.volumes[0]
    assert v100.systematic_error_ul == pytest.approx(0.2, abs=1e-3)
    assert (v100.mpe_systematic_ul, v100.mpe_random_ul) == (0.8, 0.3)
    assert v100.expanded_uncertainty_ul > 0
    assert r.operator == "ana"
    assert r.mpe_edition == "ISO 8655-2:2002"


def test_systematic_error_beyond_mpe_fails() -> None:
    r = record(bias_ul=1.0)
    assert not r.passed
    assert not r.conformity_claimable
    assert wear_ratio(r) == pytest.approx(1.0 / 0.8, rel=1e-3)


def test_balance_out_of_its_calibration_is_a_finding() -> None:
    r = record(balance_valid_until=T - timedelta(days=1))
    assert r.passed
    assert r.balance_in_calibration is False
    assert not r.conformity_claimable
    codes = {f.code: f.message for f in r.findings}
    assert "was calibrated only until 2026-05-31" in codes["balance_out_of_calibration"]


def test_balance_without_calibration_and_unknown_balance() -> None:
    none = record(balance_valid_until=None)
    assert none.balance_in_calibration is False
    assert any("has no calibration on record" in f.message for f in none.findings)
    unknown = record(balance_valid_until=None, balance_known=False)
    assert unknown.balance_in_calibration is None


def test_missing_water_temperature_is_assumed_with_a_warning() -> None:
    run = make_run(T, water_temp_c=None)
    r = record_from_run(run, record_id=uuid.uuid4(), recorded_at=T, balance_valid_until=VALID)
    assert r.passed
    assert not r.conformity_claimable
    assert any(f.code == "water_temp_assumed" for f in r.findings)


def test_unknown_edition_is_rejected_with_reason() -> None:
    run = make_run(T, edition="ISO 8655-2:2022")
    with pytest.raises(RecordRejectedError, match="2022"):
        record_from_run(run, record_id=uuid.uuid4(), recorded_at=T, balance_valid_until=VALID)


def test_correction_supersedes_and_keeps_history() -> None:
    original = record(bias_ul=1.0)
    with pytest.raises(RecordRejectedError, match="say why"):
        record(supersedes=original.record_id)
    fixed = record(supersedes=original.record_id, correction_reason="wrong balance entered")
    assert current_records([original, fixed]) == [fixed]
    assert fixed.supersedes == original.record_id


def test_as_left_after_failed_as_found_unblocks() -> None:
    found = record(bias_ul=1.5, phase="as_found")
    left = record(T + timedelta(hours=2), bias_ul=0.1, phase="as_left")
    facts = device_facts(
        registered_at=T - timedelta(days=400),
        records=[left, found],
        usage=[],
        drops=[],
        policy=DuePolicy(),
        now=T + timedelta(days=1),
    )
    assert facts.last_calibration_passed
    assert facts.last_calibration_at == left.ended_at
    only_found = device_facts(
        registered_at=T - timedelta(days=400),
        records=[found],
        usage=[],
        drops=[],
        policy=DuePolicy(),
        now=T + timedelta(days=1),
    )
    state = compute_due(only_found, DuePolicy(), T + timedelta(days=1))
    assert state.status is DueStatus.BLOCKED


def test_failed_quick_check_makes_the_device_due_now() -> None:
    cal = record()
    qc = record(T + timedelta(days=60), bias_ul=1.0, mode=RunMode.QUICK_CHECK)
    assert qc.kind == "quick_check"
    now = T + timedelta(days=61)
    facts = device_facts(
        registered_at=T - timedelta(days=400),
        records=[cal, qc],
        usage=[(T - timedelta(days=1), 5000), (now - timedelta(days=10), 9000), (now, 13000)],
        drops=[],
        policy=DuePolicy(),
        now=now,
    )
    assert facts.cycles_since_calibration == 8000
    state = compute_due(facts, DuePolicy(), now)
    assert state.basis is DueBasis.EVENT
    assert (
        state.reason == "due 1 day ago: failed quick check on 2026-07-31 (worst error 125% of MPE)"
    )


def test_record_json_round_trip() -> None:
    from labcal_cloud.engine.record_codec import record_from_json, record_to_json

    original = record(bias_ul=0.3, supersedes=uuid.uuid4(), correction_reason="typo")
    assert record_from_json(record_to_json(original)) == original
