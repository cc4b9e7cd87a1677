"""The ingest's read API router mounts in the portal app beside the portal's own API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from labcal_cloud.portal.app import create_app
from labcal_cloud.readapi.auth import token_digest
from labcal_cloud.readapi.router import router as read_router
from labcal_cloud.storage.factory import open_store

from .helpers import World, api_token


def test_read_api_router_is_served_by_the_portal_app(world: World) -> None:
    store = open_store(world.services.settings.database_url)
    try:
        store.add_api_token(world.a.tenant.id, token_digest("read-token-a"), "test")
        app = create_app(
            world.services.settings,
            services=world.services,
            extra_routers=[read_router],
            extra_state={"labcal_store": store},
        )
        client = TestClient(app)
        r = client.get("/v1/runs", headers={"Authorization": "Bearer read-token-a"})
        assert r.status_code == 200
        assert r.json() == []
        assert client.get("/v1/runs").status_code == 401
        # the portal API still answers in the same app
        assert client.get("/api/v1/me", headers=api_token(world, world.a.user)).status_code == 200
        assert "/v1/runs" in client.get("/openapi.json").json()["paths"]
    finally:
        store.close()
