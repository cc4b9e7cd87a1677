"""The services one portal process uses, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from labcal_cloud.accounts.oidc import OidcLogin
from labcal_cloud.accounts.store import Accounts
from labcal_cloud.booking.store import Bookings
from labcal_cloud.certificates.store import Certificates
from labcal_cloud.db.gateway import Database
from labcal_cloud.portal.notification_prefs import NotificationPrefs
from labcal_cloud.portal.runtime import Runtime
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.registry.store import Registry
from labcal_cloud.reports.store import Reports

__all__ = ["Services"]


@dataclass
class Services:
    settings: PortalSettings
    db: Database
    runtime: Runtime
    accounts: Accounts
    registry: Registry
    certificates: Certificates
    bookings: Bookings
    reports: Reports
    oidc: OidcLogin
    notification_prefs: NotificationPrefs
    link_secret: bytes
