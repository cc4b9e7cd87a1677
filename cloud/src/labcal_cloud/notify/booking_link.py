"""Signed, expiring one-click booking links (HMAC-SHA256); key and time are passed in.

Token = ``base64url(payload) "." base64url(hmac)``, payload ``tenant|device|step|expires``.
Verification is constant-time and refuses tampered, expired or malformed tokens with a reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from labcal_cloud.engine.errors import EngineError

__all__ = ["BookingClaim", "BookingLinkError", "sign_booking_token", "verify_booking_token"]


class BookingLinkError(EngineError):
    """A booking token that is malformed, tampered with or expired."""


@dataclass(frozen=True, slots=True)
class BookingClaim:
    tenant: str
    device: str
    step_id: int
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_booking_token(claim: BookingClaim, key: bytes) -> str:
    if len(key) < 16:
        raise BookingLinkError("the booking link key must have at least 16 bytes")
    for part in (claim.tenant, claim.device):
        if "|" in part:
            raise BookingLinkError(f"{part!r} contains '|'")
    payload = (
        f"{claim.tenant}|{claim.device}|{claim.step_id}|{int(claim.expires_at.timestamp())}"
    ).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def verify_booking_token(token: str, key: bytes, now: datetime) -> BookingClaim:
    try:
        payload_text, mac_text = token.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, TypeError) as exc:
        raise BookingLinkError("malformed booking link") from exc
    expected = hmac.new(key, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise BookingLinkError("booking link signature does not match")
    try:
        tenant, device, step, expires = payload.decode().split("|")
        claim = BookingClaim(
            tenant, device, int(step), datetime.fromtimestamp(int(expires), tz=UTC)
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise BookingLinkError("malformed booking link payload") from exc
    if now >= claim.expires_at:
        raise BookingLinkError(f"booking link expired at {claim.expires_at.isoformat()}")
    return claim
