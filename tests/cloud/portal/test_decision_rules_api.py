"""``PUT /api/v1/decision-rules``: who may set which lab's rule, and the rule reaching the record
and the certificate (the rule named, the guard band given, the verdict worded the same)."""

from __future__ import annotations

from labcal_cloud.engine.decision_rules import SqlDecisionRules
from labcal_shared.iso8655 import DecisionRule

from .helpers import World, api_token, client_for, record_calibration
from .test_certificates import _device, _pdf, _pdf_text


def test_a_lab_admin_sets_their_labs_rule_and_no_one_elses(world: World) -> None:
    client = client_for(world)
    admin = api_token(world, world.a.admin)
    r = client.put("/api/v1/decision-rules", json={"rule": "guarded_acceptance"}, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["tenant_id"], r.json()["device_serial"]) == (world.a.tenant.id, "")
    assert "|systematic error| + U <= MPE" in r.json()["description"]
    assert SqlDecisionRules(world.services.db).rule_for(world.a.tenant.id, "X") is (
        DecisionRule.GUARDED
    )
    other = {"rule": "simple_acceptance", "tenant_id": world.b.tenant.id}
    assert client.put("/api/v1/decision-rules", json=other, headers=admin).status_code == 403
    user = api_token(world, world.a.user)
    body = {"rule": "simple_acceptance"}
    assert client.put("/api/v1/decision-rules", json=body, headers=user).status_code == 403
    bad = client.put("/api/v1/decision-rules", json={"rule": "shared_risk"}, headers=admin)
    assert bad.status_code == 422
    listed = client.get("/api/v1/decision-rules", headers=user).json()
    assert [(x["device_serial"], x["rule"]) for x in listed] == [("", "guarded_acceptance")]


def test_a_devices_guarded_rule_reaches_its_record_and_certificate(world: World) -> None:
    device_id = _device(world)
    provider = api_token(world, world.provider_admin)
    r = client_for(world).put(
        "/api/v1/decision-rules",
        json={"rule": "guarded", "device_id": device_id},
        headers=provider,
    )
    assert r.status_code == 422  # the API takes the rule's name, not its short form
    r = client_for(world).put(
        "/api/v1/decision-rules",
        json={"rule": "guarded_acceptance", "device_id": device_id},
        headers=provider,
    )
    assert r.status_code == 200, r.text
    assert r.json()["device_serial"] == "C-1"
    c = record_calibration(world, device_id, "C-1")
    assert c["verdict"] == "conforming"  # far from the limits: the guard band does not bite
    text = _pdf_text(_pdf(world, c["id"]))
    assert "Decision rule: guarded acceptance" in text
    assert "w = U =" in text  # the guard band per test volume
    failing = record_calibration(world, device_id, "C-1", bias_mg=0.78)  # e ~ 0.78 % of V
    assert (failing["verdict"], failing["verdict_label"]) == ("not_conforming", "Not conforming")
    page = client_for(world).get(
        f"/api/v1/devices/{device_id}/calibrations", headers=api_token(world, world.a.user)
    )
    assert [x["verdict"] for x in page.json()] == ["conforming", "not_conforming"]
    [(reasons,)] = world.services.db.query(
        "SELECT record_json FROM calibration_record WHERE verdict = 'not_conforming'"
    )
    assert "inside the guard band" in reasons  # within the MPE: only the guard band rejects it
