"""A stand-alone FastAPI app serving the read API (the portal mounts :data:`router` itself)."""

from __future__ import annotations

from fastapi import FastAPI

from labcal_cloud.readapi.router import router
from labcal_cloud.storage.ports import Store

__all__ = ["create_app"]


def create_app(store: Store) -> FastAPI:
    app = FastAPI(title="LabCal read API", version="1")
    app.state.labcal_store = store
    app.include_router(router)
    return app
