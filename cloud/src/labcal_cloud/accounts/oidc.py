"""Single sign-on per tenant with OpenID Connect (authorization code flow, authlib + joserfc).

``start`` stores a random state and nonce and returns the provider's authorization URL;
``finish`` exchanges the code, validates the ID token (signature from the provider's JWKS, issuer,
audience, expiry, nonce) and opens a session for the tenant's user with that e-mail. No account is
created implicitly: the lab admin invites users first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from labcal_cloud.accounts.errors import AuthError, InvalidInputError, NotFoundError
from labcal_cloud.accounts.model import Principal
from labcal_cloud.accounts.store import Accounts
from labcal_cloud.db.gateway import Database
from labcal_cloud.portal.runtime import Runtime

__all__ = ["OidcLogin", "OidcProvider"]

STATE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class OidcProvider:
    tenant_id: str
    issuer: str
    client_id: str
    client_secret: str


class OidcLogin:
    def __init__(
        self, db: Database, runtime: Runtime, accounts: Accounts, base_url: str,
        timeout_s: float = 10.0,
    ) -> None:  # fmt: skip
        self._db, self._rt, self._accounts = db, runtime, accounts
        self._redirect = f"{base_url}/sso/callback"
        self._timeout = timeout_s

    def configure(self, tenant_id: str, issuer: str, client_id: str, client_secret: str) -> None:
        if not issuer.startswith(("https://", "http://")) or not client_id:
            raise InvalidInputError("issuer must be an http(s) URL and client_id must be set")
        with self._db.transaction():
            self._db.execute("DELETE FROM portal_oidc_providers WHERE tenant_id = ?", (tenant_id,))
            self._db.execute(
                "INSERT INTO portal_oidc_providers (tenant_id, issuer, client_id, client_secret)"
                " VALUES (?, ?, ?, ?)",
                (tenant_id, issuer.rstrip("/"), client_id, client_secret),
            )

    def provider(self, tenant_id: str) -> OidcProvider:
        row = self._db.one(
            "SELECT tenant_id, issuer, client_id, client_secret FROM portal_oidc_providers"
            " WHERE tenant_id = ?",
            (tenant_id,),
        )
        if row is None:
            raise NotFoundError("single sign-on is not set up for this organisation")
        return OidcProvider(*row)

    def _discover(self, issuer: str) -> dict[str, Any]:
        try:
            r = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=self._timeout)
            r.raise_for_status()
            meta: dict[str, Any] = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise AuthError(f"the sign-on provider cannot be reached: {exc}") from exc
        if meta.get("issuer", "").rstrip("/") != issuer:
            raise AuthError("the sign-on provider announces another issuer")
        return meta

    def start(self, tenant_id: str, next_url: str) -> str:
        """The authorization URL to redirect the browser to."""
        p = self.provider(tenant_id)
        meta = self._discover(p.issuer)
        state, nonce = self._rt.new_secret(), self._rt.new_secret()
        self._db.execute(
            "INSERT INTO portal_oidc_states (state, tenant_id, nonce, next_url, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (state, tenant_id, nonce, next_url, self._rt.now().isoformat()),
        )
        with OAuth2Client(p.client_id, p.client_secret, scope="openid email",
                          redirect_uri=self._redirect) as client:  # fmt: skip
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"], state=state, nonce=nonce
            )
        return str(url)

    def finish(self, code: str, state: str) -> tuple[str, Principal, str]:
        """``(session token, principal, next URL)`` for a successful sign-on."""
        with self._db.transaction():
            row = self._db.one(
                "SELECT tenant_id, nonce, next_url, created_at FROM portal_oidc_states"
                " WHERE state = ?",
                (state,),
            )
            self._db.execute("DELETE FROM portal_oidc_states WHERE state = ?", (state,))
        now = self._rt.now()
        if row is None or datetime.fromisoformat(row[3]) + STATE_LIFETIME < now:
            raise AuthError("this sign-on attempt is unknown or expired; please start again")
        tenant_id, nonce, next_url = row[0], row[1], row[2]
        p = self.provider(tenant_id)
        meta = self._discover(p.issuer)
        try:
            with OAuth2Client(p.client_id, p.client_secret, redirect_uri=self._redirect,
                              timeout=self._timeout) as client:  # fmt: skip
                token = client.fetch_token(meta["token_endpoint"], code=code,
                                           grant_type="authorization_code")  # fmt: skip
            keys = httpx.get(meta["jwks_uri"], timeout=self._timeout).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise AuthError(f"the sign-on provider refused the login: {exc}") from exc
        claims = self._validate(str(token.get("id_token", "")), keys, p, nonce, now)
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is False:
            raise AuthError("the sign-on provider gave no verified e-mail address")
        session, principal = self._accounts.start_session(
            self._accounts.user_by_email(tenant_id, email)
        )
        return session, principal, next_url

    @staticmethod
    def _validate(id_token: str, keys: dict[str, Any], p: OidcProvider, nonce: str,
                  now: datetime) -> dict[str, Any]:  # fmt: skip
        try:
            token = jwt.decode(id_token, KeySet.import_key_set(keys))  # type: ignore[arg-type]
            registry = jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": p.issuer},
                aud={"essential": True, "value": p.client_id},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise AuthError(f"the ID token is not valid: {exc}") from exc
        claims: dict[str, Any] = token.claims
        return claims
