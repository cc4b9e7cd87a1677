"""The portal inbox of the demo API: a user sees the reminders addressed to them, nobody else's;
the app also answers the ops probes."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from labcal_cloud.accounts.model import Role
from labcal_cloud.demo.api import build_app
from labcal_cloud.portal.app import build_services
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.storage.factory import open_store


def test_inbox_shows_only_the_users_own_reminders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inbox.sqlite3'}"
    store = open_store(url)
    store.migrate()
    store.close()
    settings = PortalSettings(database_url=url, cookie_secure=False, fast_password_hashing=True)
    services = build_services(settings)
    acc = services.accounts
    lab, other_lab = acc.create_tenant("Lab A"), acc.create_tenant("Lab B")
    qa = acc.create_user(lab.id, "qa@a.example", "QA", Role.LAB_ADMIN, "pw-long-enough-1")
    colleague = acc.create_user(lab.id, "co@a.example", "Co", Role.LAB_ADMIN, "pw-long-enough-2")
    stranger = acc.create_user(other_lab.id, "x@b.example", "X", Role.LAB_ADMIN, "pw-long-enough-3")
    for tenant, user, subject in (
        (lab.id, qa.id, "P100 due <soon>"),
        (lab.id, colleague.id, "for the colleague"),
        (other_lab.id, stranger.id, "for another lab"),
    ):
        services.db.execute(
            "INSERT INTO inbox_message (tenant, recipient, subject, body, created_at)"
            " VALUES (?, ?, ?, 'body', '2026-11-23T10:00:00+00:00')",
            (tenant, user, subject),
        )
    client = TestClient(build_app(settings, services=services))
    assert client.get("/api/v1/inbox").status_code == 401
    login = client.post("/api/v1/session", json={"email": qa.email, "password": "pw-long-enough-1"})
    assert login.status_code == 200, login.text
    messages = client.get("/api/v1/inbox").json()
    assert [m["subject"] for m in messages] == ["P100 due <soon>"]
    assert messages[0]["read"] is False
    page = client.get("/inbox")
    assert page.status_code == 200
    assert "P100 due &lt;soon&gt;" in page.text  # escaped
    assert "for the colleague" not in page.text
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["ready"] is True
    services.db.close()
