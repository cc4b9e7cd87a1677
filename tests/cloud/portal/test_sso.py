"""Single sign-on per tenant: the real authorization code flow against a small OIDC provider
served over HTTP; ID tokens with a wrong nonce, audience or key, or unknown users, are refused."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .fake_idp import IdpState, build_idp
from .helpers import World, api_token, client_for
from .live_server import free_port, serve


@pytest.fixture
def idp(world: World) -> Iterator[IdpState]:
    port = free_port()
    state = IdpState(
        issuer=f"http://127.0.0.1:{port}",
        client_id="labcal",
        client_secret="s3cr3t",
        email=world.a.user.email,
        now=world.clock,
    )
    with serve(build_idp(state), port):
        r = client_for(world).put(
            "/api/v1/sso",
            headers=api_token(world, world.a.admin),
            json={"issuer": state.issuer, "client_id": "labcal", "client_secret": "s3cr3t"},
        )
        assert r.status_code == 204
        yield state


def _sign_on(world: World) -> tuple[httpx.Response, object]:
    client = client_for(world)
    r = client.get(f"/sso/{world.a.tenant.id}/login?next=/devices", follow_redirects=False)
    assert r.status_code == 303
    at_idp = httpx.get(r.headers["location"], follow_redirects=False)
    assert at_idp.status_code == 302
    back = at_idp.headers["location"]
    assert back.startswith("http://portal.test/sso/callback?code=")
    return client.get(back.removeprefix("http://portal.test"), follow_redirects=False), client


def test_sign_on_opens_a_session_for_the_tenant_user(world: World, idp: IdpState) -> None:
    r, client = _sign_on(world)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/devices"
    me = client.get("/api/v1/me").json()  # type: ignore[attr-defined]
    assert me["id"] == world.a.user.id
    # the state is single use
    again = client.get(str(r.request.url), follow_redirects=False)  # type: ignore[attr-defined]
    assert again.status_code == 401


@pytest.mark.parametrize("switch", ["wrong_nonce", "wrong_audience", "foreign_key"])
def test_invalid_id_tokens_are_refused(world: World, idp: IdpState, switch: str) -> None:
    setattr(idp, switch, True)
    r, client = _sign_on(world)
    assert r.status_code == 401
    assert "ID token is not valid" in r.text
    assert client.get("/api/v1/me").status_code == 401  # type: ignore[attr-defined]


def test_user_of_another_tenant_cannot_sign_on_here(world: World, idp: IdpState) -> None:
    idp.email = world.b.user.email  # exists, but in tenant B
    r, _ = _sign_on(world)
    assert r.status_code == 401
    assert "no account with this e-mail" in r.text


def test_sso_not_configured_is_404(world: World) -> None:
    r = client_for(world).get(f"/sso/{world.b.tenant.id}/login", follow_redirects=False)
    assert r.status_code == 404
