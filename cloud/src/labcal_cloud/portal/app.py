"""Composition root of the portal process: ``create_app(settings)`` builds the FastAPI app.

Other routers are included with ``extra_routers`` and find what they need on ``app.state``
(``extra_state``); the ingest's read API, for example::

    store = open_store(settings.database_url)
    app = create_app(settings, extra_routers=[readapi.router.router],
                     extra_state={"labcal_store": store})

Portal routes use ``request.app.state.services`` and the dependencies in ``portal.auth``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from labcal_cloud.accounts.oidc import OidcLogin
from labcal_cloud.accounts.passwords import PasswordHashing
from labcal_cloud.accounts.store import Accounts
from labcal_cloud.booking.ports import Mailer, NoReminders, ReminderControl
from labcal_cloud.booking.smtp import LogMailer, SmtpMailer
from labcal_cloud.booking.store import Bookings
from labcal_cloud.certificates.signing import CertificateSigner
from labcal_cloud.certificates.store import Certificates
from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.portal import (
    api_accounts,
    api_booking,
    api_certificate_settings,
    api_certificates,
    api_decision_rules,
    api_devices,
    api_preferences,
    api_reports,
    pages,
    pages_audit,
    pages_booking,
    pages_devices,
    pages_inbox,
    pages_policy_visits,
    pages_preferences,
    pages_provider,
    pages_reports,
    pages_sso,
)
from labcal_cloud.portal.error_pages import install_error_pages
from labcal_cloud.portal.notification_prefs import NotificationPrefs
from labcal_cloud.portal.runtime import Runtime, system_runtime
from labcal_cloud.portal.schema import apply_migrations
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.registry.store import Registry
from labcal_cloud.reports.store import Reports

__all__ = ["build_services", "create_app"]

STATIC = Path(__file__).parent / "static"


def build_services(
    settings: PortalSettings,
    runtime: Runtime | None = None,
    db: Database | None = None,
    *,
    reminders: ReminderControl | None = None,
    mailer: Mailer | None = None,
) -> Services:
    apply_migrations(settings.database_url)
    db = db or connect(settings.database_url)
    rt = runtime or system_runtime()
    hashing = PasswordHashing(fast=settings.fast_password_hashing)
    accounts, registry = Accounts(db, rt, hashing), Registry(db, rt)
    signer = None
    if settings.signing_key and settings.signing_cert:
        signer = CertificateSigner(settings.signing_key, settings.signing_cert)
    certificates = Certificates(
        db, rt, accounts, registry, signer, settings.provider_name, settings.base_url
    )
    if mailer is None:
        mailer = (
            SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)
            if settings.smtp_host
            else LogMailer()
        )
    bookings = Bookings(
        db, rt, accounts, registry, reminders or NoReminders(), mailer, settings.base_url
    )
    secret = (settings.link_secret or rt.new_secret()).encode()
    return Services(
        settings=settings,
        db=db,
        runtime=rt,
        accounts=accounts,
        registry=registry,
        certificates=certificates,
        bookings=bookings,
        reports=Reports(db, rt, registry),
        oidc=OidcLogin(db, rt, accounts, settings.base_url),
        notification_prefs=NotificationPrefs(db),
        link_secret=secret,
    )


def create_app(
    settings: PortalSettings,
    *,
    services: Services | None = None,
    extra_routers: Sequence[APIRouter] = (),
    extra_state: Mapping[str, object] | None = None,
) -> FastAPI:
    services = services or build_services(settings)
    app = FastAPI(
        title="LabCal API",
        version="1.0.0",
        description="Devices, due state, booking and certificates of LabCal. "
        "Authenticate with `Authorization: Bearer <API token>` or the portal session cookie "
        "(unsafe methods then need the `X-CSRF-Token` header).",
    )
    app.state.services = services
    for name, value in (extra_state or {}).items():
        setattr(app.state, name, value)  # e.g. labcal_store for the read API's dependencies
    routers = (
        api_accounts.router,
        api_devices.router,
        api_certificates.router,
        api_decision_rules.router,
        api_certificate_settings.router,
        api_booking.router,
        api_reports.router,
        api_preferences.router,
        pages_inbox.router,
        *extra_routers,
    )
    for router in (
        *routers,
        pages.router,
        pages_devices.router,
        pages_booking.router,
        pages_reports.router,
        pages_provider.router,
        pages_audit.router,
        pages_policy_visits.router,
        pages_preferences.router,
        pages_inbox.page_router,
        pages_sso.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    install_error_pages(app)
    return app
