"""Accounts service over SQL: tenants, sites, users, login, sessions and API tokens."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from labcal_cloud.accounts.errors import (
    AuthError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
)
from labcal_cloud.accounts.model import Principal, Role, Site, Tenant, User
from labcal_cloud.accounts.passwords import PasswordHashing
from labcal_cloud.accounts.ratelimit import LoginRateLimiter
from labcal_cloud.db.gateway import Database, Row
from labcal_cloud.portal.runtime import Runtime

__all__ = ["Accounts", "token_digest"]

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 10
_USER_COLS = "id, tenant_id, email, name, role, marketing_consent"


def token_digest(token: str) -> str:
    """What is stored for a session or API token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row: Row) -> User:
    return User(row[0], row[1], row[2], row[3], Role(row[4]), bool(row[5]))


class Accounts:
    def __init__(
        self,
        db: Database,
        runtime: Runtime,
        hashing: PasswordHashing,
        limiter: LoginRateLimiter | None = None,
    ) -> None:
        self._db = db
        self._rt = runtime
        self._hashing = hashing
        self._limiter = limiter or LoginRateLimiter()

    # -- tenants, sites, users -------------------------------------------------------------
    def create_tenant(self, name: str, kind: str = "customer") -> Tenant:
        if kind not in ("customer", "provider"):
            raise InvalidInputError("kind must be 'customer' or 'provider'")
        tenant = Tenant(self._rt.new_id(), name.strip(), kind)
        self._db.execute(
            "INSERT INTO portal_tenants (id, name, kind, created_at) VALUES (?, ?, ?, ?)",
            (tenant.id, tenant.name, kind, self._rt.now().isoformat()),
        )
        return tenant

    def tenant(self, tenant_id: str) -> Tenant:
        row = self._db.one("SELECT id, name, kind FROM portal_tenants WHERE id = ?", (tenant_id,))
        if row is None:
            raise NotFoundError("tenant not found")
        return Tenant(row[0], row[1], row[2])

    def customer_tenants(self) -> list[Tenant]:
        """Every customer organisation, by name (for provider staff)."""
        rows = self._db.query(
            "SELECT id, name, kind FROM portal_tenants WHERE kind = 'customer' ORDER BY name, id"
        )
        return [Tenant(r[0], r[1], r[2]) for r in rows]

    def create_site(self, tenant_id: str, name: str, address: str = "") -> Site:
        if not name.strip():
            raise InvalidInputError("site name must not be empty")
        site = Site(self._rt.new_id(), tenant_id, name.strip(), address.strip())
        self._db.execute(
            "INSERT INTO portal_sites (id, tenant_id, name, address) VALUES (?, ?, ?, ?)",
            (site.id, tenant_id, site.name, site.address),
        )
        return site

    def sites(self, tenant_id: str) -> list[Site]:
        rows = self._db.query(
            "SELECT id, tenant_id, name, address FROM portal_sites WHERE tenant_id = ?"
            " ORDER BY name",
            (tenant_id,),
        )
        return [Site(*r) for r in rows]

    def site(self, tenant_id: str, site_id: str) -> Site:
        row = self._db.one(
            "SELECT id, tenant_id, name, address FROM portal_sites WHERE id = ? AND tenant_id = ?",
            (site_id, tenant_id),
        )
        if row is None:
            raise NotFoundError("site not found")
        return Site(*row)

    def create_user(self, tenant_id: str, email: str, name: str, role: Role, password: str) -> User:
        email = email.strip().lower()
        if "@" not in email:
            raise InvalidInputError("email must be an e-mail address")
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError(f"password must have at least {MIN_PASSWORD} characters")
        if self._db.one("SELECT 1 FROM portal_users WHERE email = ?", (email,)):
            raise ConflictError("a user with this e-mail exists")
        user = User(self._rt.new_id(), tenant_id, email, name.strip(), Role(role))
        self._db.execute(
            "INSERT INTO portal_users (id, tenant_id, email, name, role, password_hash,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                user.id,
                tenant_id,
                email,
                user.name,
                user.role.value,
                self._hashing.hash(password),
                self._rt.now().isoformat(),
            ),
        )
        return user

    def users(self, tenant_id: str) -> list[User]:
        rows = self._db.query(
            f"SELECT {_USER_COLS} FROM portal_users WHERE tenant_id = ? AND deleted_at IS NULL"
            " ORDER BY email",
            (tenant_id,),
        )
        return [_user(r) for r in rows]

    def user(self, tenant_id: str, user_id: str) -> User:
        row = self._db.one(
            f"SELECT {_USER_COLS} FROM portal_users WHERE id = ? AND tenant_id = ?"
            " AND deleted_at IS NULL",
            (user_id, tenant_id),
        )
        if row is None:
            raise NotFoundError("user not found")
        return _user(row)

    def user_by_email(self, tenant_id: str, email: str) -> User:
        row = self._db.one(
            f"SELECT {_USER_COLS} FROM portal_users WHERE email = ? AND tenant_id = ?"
            " AND deleted_at IS NULL",
            (email.strip().lower(), tenant_id),
        )
        if row is None:
            raise AuthError("no account with this e-mail in this organisation")
        return _user(row)

    def set_marketing_consent(self, user: User, consent: bool) -> None:
        self._db.execute(
            "UPDATE portal_users SET marketing_consent = ? WHERE id = ?", (int(consent), user.id)
        )

    def delete_user(self, user: User) -> None:
        """GDPR erasure: anonymise the user and end every session and token."""
        with self._db.transaction():
            self._db.execute(
                "UPDATE portal_users SET email = ?, name = 'deleted user', password_hash = '!',"
                " marketing_consent = 0, deleted_at = ? WHERE id = ?",
                (f"deleted-{user.id}@invalid", self._rt.now().isoformat(), user.id),
            )
            self._db.execute("DELETE FROM portal_sessions WHERE user_id = ?", (user.id,))
            self._db.execute(
                "UPDATE portal_api_tokens SET revoked_at = ? WHERE user_id = ?",
                (self._rt.now().isoformat(), user.id),
            )

    # -- login and sessions ------------------------------------------------------------------
    def login(self, email: str, password: str, client: str) -> tuple[str, Principal]:
        """Check the password; return a new session token and its principal."""
        email = email.strip().lower()
        now = self._rt.now()
        key = f"{email}|{client}"
        wait = self._limiter.retry_after(key, now.timestamp())
        if wait:
            raise RateLimitedError(wait)
        row = self._db.one(
            f"SELECT {_USER_COLS}, password_hash FROM portal_users"
            " WHERE email = ? AND deleted_at IS NULL",
            (email,),
        )
        if row is None or not self._hashing.verify(row[6], password):
            self._limiter.record_failure(key, now.timestamp())
            raise AuthError("wrong e-mail or password")
        self._limiter.reset(key)
        return self.start_session(_user(row))

    def start_session(self, user: User) -> tuple[str, Principal]:
        """A new session for ``user`` (after a password or single sign-on login)."""
        now = self._rt.now()
        token, csrf = self._rt.new_secret(), self._rt.new_secret()
        self._db.execute(
            "INSERT INTO portal_sessions (token_hash, user_id, csrf_token, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                token_digest(token),
                user.id,
                csrf,
                now.isoformat(),
                (now + SESSION_LIFETIME).isoformat(),
            ),
        )
        return token, Principal(user, "session", csrf)

    def session(self, token: str) -> Principal:
        row = self._db.one(
            "SELECT u.id, u.tenant_id, u.email, u.name, u.role, u.marketing_consent,"
            " s.csrf_token, s.expires_at FROM portal_sessions s"
            " JOIN portal_users u ON u.id = s.user_id"
            " WHERE s.token_hash = ? AND u.deleted_at IS NULL",
            (token_digest(token),),
        )
        if row is None or datetime.fromisoformat(row[7]) <= self._rt.now():
            raise AuthError("session expired; please log in")
        return Principal(_user(row), "session", row[6])

    def logout(self, token: str) -> None:
        self._db.execute("DELETE FROM portal_sessions WHERE token_hash = ?", (token_digest(token),))

    # -- API tokens --------------------------------------------------------------------------
    def create_api_token(self, user: User, name: str) -> tuple[str, str]:
        """Return ``(token_id, token)``; the token is shown once and stored only as a digest."""
        token_id = self._rt.new_id()
        token = f"lc_{token_id}_{self._rt.new_secret()}"
        self._db.execute(
            "INSERT INTO portal_api_tokens (id, tenant_id, user_id, name, token_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                token_id,
                user.tenant_id,
                user.id,
                name or "token",
                token_digest(token),
                self._rt.now().isoformat(),
            ),
        )
        return token_id, token

    def revoke_api_token(self, user: User, token_id: str) -> None:
        row = self._db.one(
            "SELECT 1 FROM portal_api_tokens WHERE id = ? AND tenant_id = ?",
            (token_id, user.tenant_id),
        )
        if row is None:
            raise NotFoundError("token not found")
        self._db.execute(
            "UPDATE portal_api_tokens SET revoked_at = ? WHERE id = ?",
            (self._rt.now().isoformat(), token_id),
        )

    def api_tokens_of(self, user: User) -> list[dict[str, str | None]]:
        rows = self._db.query(
            "SELECT id, name, created_at, revoked_at FROM portal_api_tokens WHERE user_id = ?"
            " ORDER BY created_at",
            (user.id,),
        )
        return [{"id": r[0], "name": r[1], "created_at": r[2], "revoked_at": r[3]} for r in rows]

    def api_token(self, token: str) -> Principal:
        row = self._db.one(
            "SELECT u.id, u.tenant_id, u.email, u.name, u.role, u.marketing_consent, t.token_hash"
            " FROM portal_api_tokens t JOIN portal_users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.deleted_at IS NULL",
            (token_digest(token),),
        )
        if row is None or not hmac.compare_digest(row[6], token_digest(token)):
            raise AuthError("invalid API token")
        return Principal(_user(row), "token")
