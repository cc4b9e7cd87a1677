"""Typed portal settings from the environment; placeholder secrets are refused.

The link secret (``LABCAL_LINK_SECRET``: the HMAC key of the one-click booking links in reminders)
has one rule, here: at least 32 characters, not a placeholder. The API (``portal-serve``) and the
planner (``scheduler plan``) both need it and read it through :func:`link_secret_from_env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LINK_SECRET_ENV",
    "LinkSecretError",
    "PortalSettings",
    "check_link_secret",
    "link_secret_from_env",
]

PLACEHOLDERS = {"changeme", "secret", "change-me", "changethis"}
LINK_SECRET_ENV = "LABCAL_LINK_SECRET"
_LINK_SECRET_RULE = (
    f"{LINK_SECRET_ENV} must hold the key of the reminders' booking links: a random string of"
    " at least 32 characters, the same for the API (portal-serve) and the planner (scheduler"
    " plan), e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)


class LinkSecretError(ValueError):
    """The link secret is missing, too short or a placeholder."""


def check_link_secret(value: str) -> str:
    """``value`` when it is a usable link secret; :class:`LinkSecretError` otherwise."""
    if len(value) < 32 or value.lower() in PLACEHOLDERS:
        problem = "is not set" if not value else "is too short or a placeholder"
        raise LinkSecretError(f"{LINK_SECRET_ENV} {problem}. {_LINK_SECRET_RULE}")
    return value


def link_secret_from_env(env: Mapping[str, str] | None = None) -> str:
    """The required link secret from the environment (checked)."""
    return check_link_secret((os.environ if env is None else env).get(LINK_SECRET_ENV, ""))


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
        if self.link_secret:  # empty: tests and tools that build services directly
            check_link_secret(self.link_secret)

    def require_link_secret(self) -> str:
        """The link secret a serving process must have (:class:`LinkSecretError` if none)."""
        return check_link_secret(self.link_secret)

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
            link_secret=os.environ.get(LINK_SECRET_ENV, ""),
            smtp_host=os.environ.get("LABCAL_SMTP_HOST", ""),
            smtp_port=int(os.environ.get("LABCAL_SMTP_PORT", "25")),
        )
