"""Typed portal settings from the environment; placeholder secrets are refused."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PortalSettings"]

PLACEHOLDERS = {"changeme", "secret", "change-me", "changethis"}


@dataclass(frozen=True)
class PortalSettings:
    database_url: str
    base_url: str = "http://127.0.0.1:8000"
    signing_key: Path | None = None  # PEM private key of the provider (certificate signing)
    signing_cert: Path | None = None  # PEM certificate matching signing_key
    cookie_secure: bool = False
    fast_password_hashing: bool = False  # tests and benchmarks only
    provider_name: str = "LabCal Service"
    link_secret: str = ""  # HMAC key of reminder booking links (>= 32 characters)
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "LabCal <noreply@labcal.invalid>"

    def __post_init__(self) -> None:
        if self.link_secret and (
            len(self.link_secret) < 32 or self.link_secret.lower() in PLACEHOLDERS
        ):
            raise ValueError("link_secret must be a random string of at least 32 characters")

    @classmethod
    def from_env(cls) -> PortalSettings:
        url = os.environ.get("LABCAL_PORTAL_DATABASE_URL") or os.environ.get("DATABASE_URL")
        if not url:
            raise ValueError(
                "set LABCAL_PORTAL_DATABASE_URL (sqlite:///portal.db or postgresql://…)"
            )
        key, cert = os.environ.get("LABCAL_SIGNING_KEY"), os.environ.get("LABCAL_SIGNING_CERT")
        return cls(
            database_url=url,
            base_url=os.environ.get("LABCAL_BASE_URL", cls.base_url).rstrip("/"),
            signing_key=Path(key) if key else None,
            signing_cert=Path(cert) if cert else None,
            cookie_secure=os.environ.get("LABCAL_COOKIE_SECURE", "1") != "0",
            link_secret=os.environ.get("LABCAL_LINK_SECRET", ""),
            smtp_host=os.environ.get("LABCAL_SMTP_HOST", ""),
            smtp_port=int(os.environ.get("LABCAL_SMTP_PORT", "25")),
        )
