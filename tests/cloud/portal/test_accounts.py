"""Login, sessions, CSRF, rate limiting, API tokens and roles through the real app on SQLite."""

from __future__ import annotations

from labcal_cloud.accounts.ratelimit import LoginRateLimiter

from .helpers import PASSWORD, World, api_token, client_for, login


def test_login_sets_httponly_session_cookie_and_me_answers(world: World) -> None:
    client = client_for(world)
    r = client.post("/api/v1/session", json={"email": world.a.admin.email, "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "labcal_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    me = client.get("/api/v1/me").json()
    assert me["email"] == world.a.admin.email
    assert me["role"] == "lab_admin"


def test_wrong_password_is_refused_and_stored_hash_is_argon2(world: World) -> None:
    client = client_for(world)
    r = client.post(
        "/api/v1/session", json={"email": world.a.admin.email, "password": "nope-nope-nope"}
    )
    assert r.status_code == 401
    stored = world.services.db.one(
        "SELECT password_hash FROM portal_users WHERE id = ?", (world.a.admin.id,)
    )
    assert stored is not None
    assert stored[0].startswith("$argon2id$")
    assert PASSWORD not in stored[0]


def test_unauthenticated_api_gets_401_and_page_redirects_to_login(world: World) -> None:
    client = client_for(world)
    assert client.get("/api/v1/devices").status_code == 401
    r = client.get("/devices?site_id=x", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=/devices")


def test_unsafe_request_with_session_needs_csrf_token(world: World) -> None:
    client = client_for(world)
    csrf = login(client, world.a.admin)
    body = {"name": "Annex"}
    assert client.post("/api/v1/sites", json=body).status_code == 403
    assert (
        client.post("/api/v1/sites", json=body, headers={"X-CSRF-Token": "forged"}).status_code
        == 403
    )
    r = client.post("/api/v1/sites", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    assert [s["name"] for s in client.get("/api/v1/sites").json()] == ["A Main building", "Annex"]


def test_login_is_rate_limited_after_repeated_failures(world: World) -> None:
    client = client_for(world)
    bad = {"email": world.a.user.email, "password": "wrong-password-x"}
    statuses = [client.post("/api/v1/session", json=bad).status_code for _ in range(6)]
    assert statuses == [401, 401, 401, 401, 401, 429]
    # even the right password is refused while limited
    good = {"email": world.a.user.email, "password": PASSWORD}
    r = client.post("/api/v1/session", json=good)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    world.clock.advance(minutes=6)
    assert client.post("/api/v1/session", json=good).status_code == 200


def test_rate_limiter_window_slides() -> None:
    limiter = LoginRateLimiter(max_failures=2, window_s=10)
    limiter.record_failure("k", 0.0)
    limiter.record_failure("k", 4.0)
    assert limiter.retry_after("k", 5.0) == 5
    assert limiter.retry_after("k", 10.5) == 0  # the first failure left the window
    assert limiter.retry_after("other", 5.0) == 0


def test_session_expires_and_logout_ends_it(world: World) -> None:
    client = client_for(world)
    login(client, world.a.user)
    world.clock.advance(hours=13)
    assert client.get("/api/v1/me").status_code == 401
    csrf = login(client, world.a.user)
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_api_token_works_without_csrf_and_can_be_revoked(world: World) -> None:
    client = client_for(world)
    csrf = login(client, world.a.admin)
    created = client.post("/api/v1/tokens", json={"name": "erp"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    token = created.json()["token"]
    bare = client_for(world)
    headers = {"Authorization": f"Bearer {token}"}
    assert bare.post("/api/v1/sites", json={"name": "Lab 2"}, headers=headers).status_code == 201
    r = client.delete(f"/api/v1/tokens/{created.json()['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert bare.get("/api/v1/me", headers=headers).status_code == 401
    assert bare.get("/api/v1/me", headers={"Authorization": "Bearer lc_forged"}).status_code == 401


def test_roles_lab_user_cannot_manage_users_or_sites(world: World) -> None:
    client = client_for(world)
    headers = api_token(world, world.a.user)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert client.post("/api/v1/sites", json={"name": "x"}, headers=headers).status_code == 403
    admin = api_token(world, world.a.admin)
    new_user = {
        "email": "new@lab.test",
        "name": "New",
        "role": "provider_admin",
        "password": PASSWORD,
    }
    assert client.post("/api/v1/users", json=new_user, headers=admin).status_code == 403
    new_user["role"] = "lab_user"
    assert client.post("/api/v1/users", json=new_user, headers=admin).status_code == 201


def test_provider_admin_creates_customer_tenant_with_admin(world: World) -> None:
    client = client_for(world)
    body = {
        "name": "Lab C",
        "admin_email": "c@lab.test",
        "admin_name": "C",
        "admin_password": PASSWORD,
    }
    assert (
        client.post(
            "/api/v1/tenants", json=body, headers=api_token(world, world.a.admin)
        ).status_code
        == 403
    )
    r = client.post("/api/v1/tenants", json=body, headers=api_token(world, world.provider_admin))
    assert r.status_code == 201
    assert r.json()["admin"]["role"] == "lab_admin"
    assert (
        client.post(
            "/api/v1/session", json={"email": "c@lab.test", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_html_login_form_and_logout(world: World) -> None:
    client = client_for(world)
    r = client.post(
        "/login",
        data={"email": world.a.user.email, "password": "bad-password-1", "next": "/devices"},
    )
    assert r.status_code == 401
    assert "wrong e-mail or password" in r.text
    r = client.post(
        "/login",
        data={"email": world.a.user.email, "password": PASSWORD, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/"  # the landing page of the role
    assert "Devices" in client.get("/devices").text
