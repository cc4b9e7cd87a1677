"""The demo's API process: the portal app with the inbox and the ops routes (health, readiness,
metrics), served by uvicorn until SIGINT/SIGTERM (uvicorn finishes open requests, then exits)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from labcal_cloud.db.gateway import connect
from labcal_cloud.ops import router as ops
from labcal_cloud.portal.app import build_services, create_app
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.readapi.router import router as read_router
from labcal_cloud.scheduler.reminder_control import SqlReminderControl
from labcal_cloud.scheduler.reminder_store import SqlReminderStore
from labcal_cloud.storage.factory import open_store
from labcal_cloud.storage.ports import Store

__all__ = ["build_app", "serve"]


def build_app(
    settings: PortalSettings, services: Services | None = None, store: Store | None = None
) -> FastAPI:
    """The portal app plus the inbox, the ops routes and (given the ingest ``store``) the read
    API (``/v1/readings``, ``/v1/runs``, ``/v1/devices/{serial}/usage``, bearer tokens)."""
    extra = [ops.router]  # the inbox is the portal's own (portal.pages_inbox)
    if store is not None:
        extra.append(read_router)
    app = create_app(
        settings,
        services=services,
        extra_routers=extra,
        extra_state={"labcal_store": store} if store is not None else None,
    )
    ops.install(app)
    return app


def serve(settings: PortalSettings, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM: open requests finish, then the process exits 0
    (:mod:`labcal_cloud.ops.http_serve`)."""
    import uvicorn

    from labcal_cloud.ops.http_serve import serve as serve_until_signal

    store = open_store(settings.database_url)
    db = connect(settings.database_url)
    # a booking stops the device's reminder sequence; a cancelled one resumes it
    control = SqlReminderControl(SqlReminderStore(db), lambda: datetime.now(UTC))
    services = build_services(settings, db=db, reminders=control)
    config = uvicorn.Config(
        build_app(settings, services=services, store=store),
        host=host,
        port=port,
        log_config=None,  # keep the process's own (plain or JSON) logging
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    try:
        serve_until_signal(config)
    finally:
        store.close()
        db.close()
