"""``labcal-cloud portal-serve``, ``portal-admin`` (first provider admin) and ``portal-demo``."""

from __future__ import annotations

import argparse
import getpass
import os
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from labcal_cloud.accounts.model import Role
from labcal_cloud.booking.ports import ReminderControl
from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.portal.settings import LinkSecretError, PortalSettings
from labcal_cloud.settings import Settings

__all__ = ["app_from_env", "register"]


def register(subparsers: Any) -> None:
    serve: argparse.ArgumentParser = subparsers.add_parser(
        "portal-serve", help="run the portal, its API (/api/v1) and the read API (/v1)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=serve_portal)
    admin: argparse.ArgumentParser = subparsers.add_parser(
        "portal-admin",
        help="create the provider tenant's first admin (password from "
        "LABCAL_ADMIN_PASSWORD or a prompt)",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Provider admin")
    admin.add_argument("--provider", default="LabCal Service")
    admin.set_defaults(handler=create_admin)
    demo: argparse.ArgumentParser = subparsers.add_parser(
        "portal-demo", help="fill an empty database with demo tenants and devices"
    )
    demo.add_argument("--devices", type=int, default=300)
    demo.add_argument("--password", default="demo-password-1")
    demo.set_defaults(handler=seed)


def _settings(settings: Settings) -> PortalSettings:
    os.environ.setdefault("LABCAL_PORTAL_DATABASE_URL", settings.database_url)
    return replace(PortalSettings.from_env(), database_url=settings.database_url)


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory labcal_cloud.portal.commands:app_from_env``; refuses to build
    without ``LABCAL_LINK_SECRET`` (:class:`LinkSecretError`)."""
    from labcal_cloud.ops import router as ops
    from labcal_cloud.portal.app import build_services, create_app

    settings = PortalSettings.from_env()
    settings.require_link_secret()
    db = connect(settings.database_url)
    app = create_app(
        settings,
        services=build_services(settings, db=db, reminders=reminder_control(db)),
        extra_routers=[ops.router],
    )
    ops.install(app)  # /healthz /readyz /metrics
    return app


def serve_portal(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from labcal_cloud.ops import router as ops
    from labcal_cloud.ops.http_serve import serve
    from labcal_cloud.portal.app import build_services, create_app
    from labcal_cloud.readapi.router import router as read_router
    from labcal_cloud.storage.factory import open_store

    try:
        portal = _settings(settings)
        portal.require_link_secret()
    except LinkSecretError as exc:
        print(f"portal-serve: {exc}")
        return 2
    store = open_store(portal.database_url)
    db = connect(portal.database_url)
    try:
        services = build_services(portal, db=db, reminders=reminder_control(db))
        app = create_app(
            portal,
            services=services,
            extra_routers=[read_router, ops.router],
            extra_state={"labcal_store": store},
        )
        ops.install(app)  # /healthz /readyz /metrics
        serve(uvicorn.Config(app, host=args.host, port=args.port))  # SIGTERM: exit 0
    finally:
        store.close()
        db.close()
    return 0


def reminder_control(db: Database) -> ReminderControl:
    """The scheduler's reminder control on the portal's database (SQLite or PostgreSQL): a
    booking stops the devices' reminder sequences, a cancelled one resumes the steps ahead."""
    from labcal_cloud.scheduler.reminder_control import SqlReminderControl
    from labcal_cloud.scheduler.reminder_store import SqlReminderStore

    return SqlReminderControl(SqlReminderStore(db), lambda: datetime.now(UTC))


def create_admin(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.portal.app import build_services

    password = os.environ.get("LABCAL_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    services = build_services(_settings(settings))
    tenant = services.accounts.create_tenant(args.provider, "provider")
    user = services.accounts.create_user(
        tenant.id, args.email, args.name, Role.PROVIDER_ADMIN, password
    )
    print(f"provider tenant {tenant.id}, admin {user.email}")
    return 0


def seed(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.portal.app import build_services
    from labcal_cloud.portal.demo import seed_demo

    services = build_services(_settings(settings))
    logins = seed_demo(services, args.devices, args.password)
    print(
        f"lab admin {logins.lab_admin}, planner {logins.planner}, "
        f"provider admin {logins.provider_admin}; password {logins.password}"
    )
    return 0
