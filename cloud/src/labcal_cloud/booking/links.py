"""Signed booking links for reminders: ``tenant.device.expiry.mac`` with HMAC-SHA256 (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

__all__ = ["BookingLink", "LinkError", "sign_booking_link", "verify_booking_link"]


class LinkError(ValueError):
    """The link is malformed, forged or expired."""


@dataclass(frozen=True)
class BookingLink:
    tenant_id: str
    device_id: str
    expires: date


def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def sign_booking_link(secret: bytes, link: BookingLink) -> str:
    payload = f"{link.tenant_id}.{link.device_id}.{link.expires.isoformat()}"
    return f"{payload}.{_mac(secret, payload)}"


def verify_booking_link(secret: bytes, token: str, today: date) -> BookingLink:
    parts = token.split(".")
    if len(parts) != 4:
        raise LinkError("this booking link is incomplete")
    tenant_id, device_id, expires_text, mac = parts
    if not hmac.compare_digest(mac, _mac(secret, ".".join(parts[:3]))):
        raise LinkError("this booking link is not valid")
    try:
        expires = date.fromisoformat(expires_text)
    except ValueError as exc:
        raise LinkError("this booking link is not valid") from exc
    if expires < today:
        raise LinkError("this booking link has expired; open the portal to book")
    return BookingLink(tenant_id, device_id, expires)
