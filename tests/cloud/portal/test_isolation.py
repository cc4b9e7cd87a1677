"""Tenant isolation: every API route with a path parameter, called by tenant B with tenant A's ids.

The routes come from the app's OpenAPI document: a new route is covered without editing this.
"""

from __future__ import annotations

import re

import pytest

from .helpers import World, api_token, client_for, record_calibration

pytestmark = pytest.mark.postgres


def _tenant_a_objects(world: World) -> dict[str, str]:
    client = client_for(world)
    a = api_token(world, world.a.admin)
    device = client.post(
        "/api/v1/devices",
        json={"site_id": world.a.site.id, "serial": "A-1", "make": "Acme", "model": "P100"},
        headers=a,
    )
    assert device.status_code == 201
    token = client.post("/api/v1/tokens", json={"name": "a"}, headers=a).json()
    objects = {
        "device_id": device.json()["id"],
        "token_id": token["id"],
        "site_id": world.a.site.id,
        "week_start": "2026-03-02",
        "user_id": world.a.user.id,
    }
    client.post(
        "/api/v1/technicians",
        headers=api_token(world, world.provider_admin),
        json={"name": "T", "weekdays": [0, 1, 2, 3, 4], "daily_slots": 5},
    )
    booking = client.post(
        "/api/v1/bookings",
        headers=a,
        json={"site_id": world.a.site.id, "day": "2026-03-04", "device_ids": [device.json()["id"]]},
    )
    assert booking.status_code == 201, booking.text
    objects["booking_id"] = booking.json()["id"]
    calibration = record_calibration(world, device.json()["id"], "A-1")
    objects["calibration_id"] = calibration["id"]
    objects["code"] = calibration["verify_url"].rsplit("/", 1)[1]
    return objects


def _check_isolation(world: World) -> int:
    objects = _tenant_a_objects(world)
    client = client_for(world)
    b = api_token(world, world.b.admin)
    checked = 0
    public: set[str] = set()
    paths = client.get("/openapi.json").json()["paths"]
    for template, operations in paths.items():
        params = re.findall(r"{(\w+)}", template)
        if not any(p in objects for p in params):
            continue
        path = template
        for p in params:
            path = path.replace("{" + p + "}", objects.get(p, "x"))
        for method, operation in operations.items():
            if "public" in operation.get("tags", []):
                public.add(f"{method.upper()} {template}")
                continue
            body = {"site_id": world.b.site.id, "cycles": 1, "day": "2026-03-05"}
            r = client.request(method, path, headers=b, json=body)
            assert r.status_code in (403, 404, 422), f"{method} {path}: {r.status_code} {r.text}"
            assert objects["device_id"] not in r.text or r.status_code == 422
            checked += 1
    # public routes are reached by an unguessable code only, and are exactly these
    assert public == {"GET /api/v1/verify/{code}"}
    # the list endpoints answer B with B's data only
    lists = (
        "/api/v1/devices",
        "/api/v1/sites",
        "/api/v1/users",
        "/api/v1/bookings",
        "/api/v1/reports/compliance",
        f"/api/v1/bundles?site_id={world.b.site.id}",
    )
    for path in lists:
        r = client.get(path, headers=b)
        assert r.status_code == 200
        assert objects["device_id"] not in r.text
        assert objects["booking_id"] not in r.text
        assert world.a.site.id not in r.text
        assert world.a.user.id not in r.text
    # and A still sees its device (the probe changed nothing)
    a_device = client.get(
        f"/api/v1/devices/{objects['device_id']}", headers=api_token(world, world.a.user)
    )
    assert a_device.status_code == 200
    return checked


def test_every_tenant_scoped_route_refuses_other_tenant_sqlite(world: World) -> None:
    assert _check_isolation(world) >= 10


def test_every_tenant_scoped_route_refuses_other_tenant_postgresql(pg_world: World) -> None:
    assert _check_isolation(pg_world) >= 10
