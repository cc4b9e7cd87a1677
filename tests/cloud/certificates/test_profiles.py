"""The issuing laboratory and customer settings a certificate states, stored on both backends and
set through the API by the roles that own them; bad input is refused with a clear message."""

from __future__ import annotations

import pytest

from labcal_cloud.accounts.errors import InvalidInputError, NotFoundError
from labcal_cloud.certificates.profiles import CustomerProfile, Laboratory

from ..portal.helpers import World, api_token, client_for
from .pipeline_runs import LAB


def test_laboratory_and_customer_are_stored_and_updated(any_world: World) -> None:
    profiles = any_world.services.certificates.profiles
    provider, lab_a = any_world.provider.id, any_world.a.tenant.id
    assert profiles.laboratory(provider) is None
    assert profiles.issuer_for(lab_a, "LabCal Service") == Laboratory("LabCal Service")
    profiles.set_laboratory(provider, LAB)
    assert profiles.issuer_for(lab_a, "ignored") == LAB
    moved = Laboratory(LAB.name, "New address\n 2nd line ", LAB.accreditation_id, "A B", "QA", "fr")
    assert profiles.set_laboratory(provider, moved).address == "New address, 2nd line"
    assert profiles.laboratory(provider) == Laboratory(
        LAB.name, "New address, 2nd line", LAB.accreditation_id, "A B", "QA", "FR"
    )
    # a customer lab that calibrates in house issues its own certificates
    own = Laboratory("Lab A in-house lab", "A street", "", "C D", "Lab manager")
    profiles.set_laboratory(lab_a, own)
    assert profiles.issuer_for(lab_a, "ignored") == own
    assert profiles.issuer_for(any_world.b.tenant.id, "ignored").name == LAB.name

    assert profiles.customer(lab_a) == CustomerProfile("", False)  # default: no next-due date
    profiles.set_customer(lab_a, CustomerProfile("4 Assay Road", True))
    assert profiles.customer(lab_a) == CustomerProfile("4 Assay Road", True)
    profiles.set_customer(lab_a, CustomerProfile("4 Assay Road", False))
    assert profiles.customer(lab_a).next_due_on_certificate is False


@pytest.mark.parametrize(
    ("lab", "message"),
    [
        (Laboratory("  "), "name must not be empty"),
        (Laboratory("L", signatory_name="Only A Name"), "signatory's name and role together"),
        (Laboratory("L", address="x" * 501), "address is longer than 500 characters"),
        (Laboratory("L", country_code="D1"), "country_code must be two letters"),
    ],
)
def test_bad_laboratory_settings_are_refused(
    any_world: World, lab: Laboratory, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        any_world.services.certificates.profiles.set_laboratory(any_world.provider.id, lab)


def test_settings_of_an_unknown_tenant_are_refused(any_world: World) -> None:
    profiles = any_world.services.certificates.profiles
    with pytest.raises(NotFoundError):
        profiles.set_laboratory("no-such-tenant", LAB)
    with pytest.raises(NotFoundError):
        profiles.set_customer("no-such-tenant", CustomerProfile())


def test_api_roles(any_world: World) -> None:
    w, client = any_world, client_for(any_world)
    body = {
        "name": LAB.name,
        "address": LAB.address,
        "accreditation_id": LAB.accreditation_id,
        "signatory_name": LAB.signatory_name,
        "signatory_role": LAB.signatory_role,
        "country_code": "DE",
    }
    url = "/api/v1/certificate-settings"
    r = client.put(f"{url}/laboratory", json=body, headers=api_token(w, w.provider_admin))
    assert r.status_code == 200, r.text
    r = client.get(f"{url}/laboratory", headers=api_token(w, w.planner))
    assert r.json() == {**body, "stored": True}
    assert (
        client.put(f"{url}/laboratory", json=body, headers=api_token(w, w.a.user)).status_code
        == 403
    )

    customer = {"address": "4 Assay Road", "next_due_on_certificate": True}
    assert (
        client.put(f"{url}/customer", json=customer, headers=api_token(w, w.a.user)).status_code
        == 403
    )
    r = client.put(f"{url}/customer", json=customer, headers=api_token(w, w.a.admin))
    assert r.json() == {**customer, "tenant_id": w.a.tenant.id}
    # provider staff set a customer's settings; a lab may not touch another lab's
    r = client.put(
        f"{url}/customer?tenant_id={w.b.tenant.id}", json=customer, headers=api_token(w, w.planner)
    )
    assert r.status_code == 200
    assert r.json()["tenant_id"] == w.b.tenant.id
    r = client.get(f"{url}/customer?tenant_id={w.b.tenant.id}", headers=api_token(w, w.a.admin))
    assert r.status_code == 403
    r = client.get(f"{url}/customer?tenant_id=nope", headers=api_token(w, w.planner))
    assert r.status_code == 404
    admin = api_token(w, w.provider_admin)
    r = client.put(f"{url}/laboratory", json={**body, "name": ""}, headers=admin)
    assert r.status_code == 422
