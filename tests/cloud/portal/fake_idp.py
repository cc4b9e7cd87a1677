"""A small OpenID Connect provider for tests: discovery, authorize (user already signed in),
token (RS256 ID token) and JWKS. Switches make it misbehave (wrong nonce, audience, key)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


@dataclass
class IdpState:
    issuer: str
    client_id: str
    client_secret: str
    email: str
    wrong_nonce: bool = False
    wrong_audience: bool = False
    foreign_key: bool = False
    codes: dict[str, str] = field(default_factory=dict)  # code -> nonce
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def build_idp(state: IdpState) -> FastAPI:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    foreign = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": state.issuer,
            "authorization_endpoint": f"{state.issuer}/authorize",
            "token_endpoint": f"{state.issuer}/token",
            "jwks_uri": f"{state.issuer}/jwks",
        }

    @app.get("/authorize")
    def authorize(
        client_id: str,
        redirect_uri: str,
        state_: Annotated[str, "state"] = "",
        nonce: str = "",
        request: Request = None,
    ) -> RedirectResponse:  # type: ignore[assignment]
        assert client_id == state.client_id
        code = uuid.uuid4().hex
        state.codes[code] = nonce
        query = urlencode({"code": code, "state": request.query_params["state"]})
        return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)

    @app.post("/token")
    def token(
        request: Request, code: Annotated[str, Form()], grant_type: Annotated[str, Form()]
    ) -> dict[str, Any]:
        import base64

        auth = request.headers.get("authorization", "")
        sent = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth else ""
        if sent != f"{state.client_id}:{state.client_secret}" or code not in state.codes:
            raise HTTPException(400, "invalid_grant")
        nonce = state.codes.pop(code)
        now = int(state.now().timestamp())
        claims = {
            "iss": state.issuer,
            "sub": "user-1",
            "email": state.email,
            "email_verified": True,
            "iat": now,
            "exp": now + 300,
            "aud": "someone-else" if state.wrong_audience else state.client_id,
            "nonce": "forged" if state.wrong_nonce else nonce,
        }
        signer = foreign if state.foreign_key else key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, signer)
        return {"access_token": uuid.uuid4().hex, "token_type": "Bearer", "id_token": id_token}

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return KeySet([key]).as_dict(private=False)

    return app
