"""The demo's API process: the portal app with the inbox and the ops routes (health, readiness,
metrics), served by uvicorn until SIGINT/SIGTERM (uvicorn finishes open requests, then exits)."""

from __future__ import annotations

from fastapi import FastAPI

from labcal_cloud.demo import inbox_api
from labcal_cloud.ops import router as ops
from labcal_cloud.portal.app import create_app
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.settings import PortalSettings

__all__ = ["build_app", "serve"]


def build_app(settings: PortalSettings, services: Services | None = None) -> FastAPI:
    app = create_app(
        settings,
        services=services,
        extra_routers=[inbox_api.router, inbox_api.page_router, ops.router],
    )
    ops.install(app)
    return app


def serve(settings: PortalSettings, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        build_app(settings),
        host=host,
        port=port,
        log_config=None,  # keep the process's own (plain or JSON) logging
        access_log=False,
        timeout_graceful_shutdown=5,
    )
