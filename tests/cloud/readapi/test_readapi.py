"""The read API over both backends: bearer token per tenant, and a tenant never sees another's
data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from labcal_cloud.ingest.core import Incoming, build_batch
from labcal_cloud.readapi import create_app
from labcal_cloud.readapi.auth import token_digest
from labcal_cloud.storage.ports import StationRecord

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def ingest(store, messages, envs):
    lookup = {messages.station: messages.tenant}.get
    store.write_batch(build_batch([Incoming(*messages.wire(e), NOW) for e in envs], lookup)[0])


@pytest.fixture
def api(store, messages, tenant_id):
    """Two tenants with data; returns a client and each tenant's auth header."""
    ingest(
        store,
        messages,
        [
            messages.reading(1.0),
            messages.batch(2),
            messages.usage(10),
            messages.usage(25),
            messages.run(),
        ],
    )
    other_tenant = f"{tenant_id}-b"
    store.add_station(StationRecord("other-st", other_tenant, "$7$1$a$b"))
    other = type(messages)(other_tenant, "other-st")
    ingest(store, other, [other.reading(666.0), other.usage(999), other.run()])
    store.add_api_token(tenant_id, token_digest("token-a"), "")
    store.add_api_token(other_tenant, token_digest("token-b"), "")
    client = TestClient(create_app(store))
    yield client, {"Authorization": "Bearer token-a"}, {"Authorization": "Bearer token-b"}
    client.close()


def test_requests_without_a_valid_token_are_refused(api):
    client, _, _ = api
    assert client.get("/v1/readings").status_code == 401
    r = client.get("/v1/readings", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/readings", headers={"Authorization": "Basic token-a"}).status_code == 401


def test_readings_runs_and_usage_of_own_tenant(api, messages):
    client, a, _ = api
    readings = client.get("/v1/readings", headers=a).json()
    assert [r["value"] for r in readings] == [1.0, 0.0, 1.0]
    assert {r["station"] for r in readings} == {messages.station}
    assert client.get("/v1/readings", headers=a, params={"limit": 1}).json()[0]["value"] == 1.0
    runs = client.get("/v1/runs", headers=a).json()
    assert len(runs) == 1
    assert runs[0]["payload"]["operator"] == "A. Operator"
    usage = client.get("/v1/devices/P0001/usage", headers=a).json()
    assert [u["cycles_total"] for u in usage["reports"]] == [10, 25]
    assert usage["daily"] == [
        {"day": "2026-11-23", "cycles_min": 10, "cycles_max": 25, "reports": 2}
    ]


def test_a_tenant_never_sees_another_tenants_data(api):
    client, a, b = api
    a_values = {r["value"] for r in client.get("/v1/readings", headers=a).json()}
    b_values = {r["value"] for r in client.get("/v1/readings", headers=b).json()}
    assert 666.0 not in a_values
    assert b_values == {666.0}
    # the same device serial exists in both tenants: each sees only its own reports
    assert [
        u["cycles_total"]
        for u in client.get("/v1/devices/P0001/usage", headers=b).json()["reports"]
    ] == [999]
    assert client.get("/v1/readings", headers=a, params={"station": "other-st"}).json() == []
    assert len(client.get("/v1/runs", headers=b).json()) == 1


def test_bad_query_parameters_are_422(api):
    client, a, _ = api
    assert client.get("/v1/readings", headers=a, params={"limit": 0}).status_code == 422
    assert client.get("/v1/readings", headers=a, params={"since": "yesterday"}).status_code == 422
