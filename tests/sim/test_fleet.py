"""Fleet simulation: deterministic from a seed, usage patterns, ground truth consistent with MPE."""

from __future__ import annotations

import csv
import datetime as dt
import json

import numpy as np
import pytest

from labcal_shared.iso8655.mpe import mpe_for
from labcal_sim.fleet.export import fleet_document, to_json, write_csv
from labcal_sim.fleet.model import FleetSpec, simulate_fleet

SPEC = FleetSpec(pipettes=60, days=500)


@pytest.fixture(scope="module")
def fleet():
    return simulate_fleet(SPEC, seed=5)


def test_same_seed_same_fleet_other_seed_other_fleet(fleet):
    assert to_json(simulate_fleet(SPEC, seed=5)) == to_json(fleet)
    assert to_json(simulate_fleet(SPEC, seed=6)) != to_json(fleet)


def test_pipettes_have_models_profiles_and_iso_limits(fleet):
    assert len(fleet.pipettes) == 60
    assert len({p.serial for p in fleet.pipettes}) == 60
    assert {p.profile for p in fleet.pipettes} == {"light", "regular", "heavy"}
    for p in fleet.pipettes:
        mpe = mpe_for(p.nominal_ul)
        assert (p.mpe_systematic_ul, p.mpe_random_ul) == (mpe.systematic_ul, mpe.random_ul)


def test_usage_follows_profiles_weekends_and_counters(fleet):
    by_serial: dict[str, list] = {}
    for row in fleet.usage:
        by_serial.setdefault(row.serial, []).append(row)
    profiles = {p.serial: p.profile for p in fleet.pipettes}
    yearly = {"light": [], "regular": [], "heavy": []}
    for serial, rows in by_serial.items():
        totals = [r.total for r in rows]
        assert totals == sorted(totals)  # the lifetime counter never goes back
        assert sum(r.cycles for r in rows) == totals[-1]
        yearly[profiles[serial]].append(totals[-1])
        if profiles[serial] != "heavy":
            assert all(r.date.weekday() < 5 for r in rows if r.cycles)  # idle weekends
    assert np.median(yearly["light"]) < np.median(yearly["regular"]) < np.median(yearly["heavy"])


def test_services_reset_the_since_service_counter(fleet):
    services = {(e.serial, e.date) for e in fleet.events if e.kind == "service"}
    assert services
    last_since: dict[str, int] = {}
    for row in sorted(fleet.usage, key=lambda r: (r.serial, r.date)):
        if row.serial in last_since and row.since_service < last_since[row.serial]:
            # a drop in the counter only happens across a service
            assert any(s == row.serial and d <= row.date for s, d in services)
        last_since[row.serial] = row.since_service


def test_truth_episodes_agree_with_the_recorded_errors(fleet):
    assert fleet.truth, "a 500-day fleet of 60 pipettes has pipettes leaving tolerance"
    pipettes = {p.serial: p for p in fleet.pipettes}
    usage = {(r.serial, r.date): r for r in fleet.usage}
    services = {(e.serial, e.date) for e in fleet.events if e.kind == "service"}
    checked = 0
    for episode in fleet.truth:
        p = pipettes[episode.serial]
        assert episode.reason in ("systematic", "random", "both")
        assert episode.cause in ("wear", "leak", "drop")
        if episode.back_on is not None:
            assert episode.back_on > episode.left_on
        assert (episode.back_on is None) == (episode.ended_by is None)
        if episode.ended_by == "service":
            assert (episode.serial, episode.back_on) in services
        else:
            assert episode.ended_by in (None, "recovered")
        row = usage.get((episode.serial, episode.left_on))
        if row is None:
            continue  # left tolerance on a day without use (only at day 0)
        checked += 1
        rounding_ul = 0.5e-6 / 100 * p.nominal_ul  # the export keeps 6 decimals of the %
        sys_ul = abs(row.systematic_pct) / 100 * p.nominal_ul + rounding_ul
        rand_ul = row.cv_pct / 100 * p.nominal_ul + rounding_ul
        assert sys_ul > p.mpe_systematic_ul or rand_ul > p.mpe_random_ul
    assert checked > 0


def test_causes_include_wear_leaks_and_drops():
    result = simulate_fleet(FleetSpec(pipettes=300, days=730), seed=1)
    causes = {t.cause for t in result.truth}
    assert causes == {"wear", "leak", "drop"}
    assert {t.ended_by for t in result.truth} == {"service", "recovered", None}
    assert {e.kind for e in result.events} == {"service", "leak", "drop"}


def test_json_and_csv_exports(fleet, tmp_path):
    document = json.loads(to_json(fleet))
    assert document == json.loads(json.dumps(fleet_document(fleet)))
    assert document["format"] == "labcal.sim.fleet/1"
    assert document["seed"] == 5
    assert len(document["truth"]) == len(fleet.truth)
    paths = write_csv(fleet, tmp_path / "out")
    assert [p.name for p in paths] == ["pipettes.csv", "usage.csv", "events.csv", "truth.csv"]
    with (tmp_path / "out" / "truth.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(fleet.truth)
    assert rows[0]["left_on"] == fleet.truth[0].left_on.isoformat()
    with (tmp_path / "out" / "usage.csv").open() as handle:
        assert sum(1 for _ in handle) == len(fleet.usage) + 1


def test_spec_refuses_nonsense():
    with pytest.raises(ValueError, match="at least one pipette"):
        FleetSpec(pipettes=0)
    with pytest.raises(ValueError, match="service_interval_days"):
        FleetSpec(service_interval_days=0)
    assert FleetSpec().start == dt.date(2025, 1, 1)
