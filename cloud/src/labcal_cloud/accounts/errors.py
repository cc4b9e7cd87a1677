"""Errors of the portal's domain services, translated to HTTP status codes at the boundary.

PortalError
├── NotFoundError          the object does not exist *for this tenant* (404, never 403: no probing)
├── ForbiddenError         the role may not do this (403)
├── ConflictError          duplicate serial, already claimed, slot taken (409)
├── InvalidInputError      a field is wrong; the message names it (422)
└── AuthError         bad credentials or session (401)
    └── RateLimitedError   too many failed logins; retry later (429)
"""

from __future__ import annotations

from labcal_cloud.errors import CloudError

__all__ = [
    "AuthError",
    "ConflictError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "PortalError",
    "RateLimitedError",
]


class PortalError(CloudError):
    status_code = 400


class NotFoundError(PortalError):
    status_code = 404


class ForbiddenError(PortalError):
    status_code = 403


class ConflictError(PortalError):
    status_code = 409


class InvalidInputError(PortalError):
    status_code = 422


class AuthError(PortalError):
    status_code = 401


class RateLimitedError(AuthError):
    status_code = 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s
