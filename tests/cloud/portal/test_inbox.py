"""The portal's inbox (``portal.pages_inbox``, served by every portal app, ``portal-serve``
included): a user sees the reminders the scheduler's inbox channel delivered to them, nobody
else's — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labcal_cloud.scheduler.ports import ClaimedStep
from labcal_cloud.scheduler.reminder_store import SqlReminderStore

from .helpers import World, client_for, login

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_world(request: pytest.FixtureRequest) -> World:
    world: World = request.getfixturevalue("world" if request.param == "sqlite" else "pg_world")
    return world


def _deliver(w: World, tenant: str, user: str, subject: str, step_id: int) -> None:
    store = SqlReminderStore(w.services.db)
    store.write_inbox(
        ClaimedStep(step_id, tenant, "due", "dev", "s", user, "inbox", user, subject, "b", "", 1),
        AT,
    )


def _steps(w: World, n: int) -> list[int]:
    ids = []
    for i in range(n):
        row = w.services.db.one(
            "INSERT INTO reminder_step (tenant, sequence, subject_key, step, recipient, channel,"
            " address, subject, body, send_at, next_attempt_at)"
            " VALUES ('t', 'due', 'dev', ?, 'u', 'inbox', 'u', 's', 'b', ?, ?) RETURNING id",
            (f"s{i}", w.services.db.at(AT), w.services.db.at(AT)),
        )
        assert row is not None
        ids.append(int(row[0]))
    return ids


def test_inbox_shows_only_the_users_own_reminders(any_world: World) -> None:
    w = any_world
    first, second, third = _steps(w, 3)
    _deliver(w, w.a.tenant.id, w.a.admin.id, "P100 due <soon>", first)
    _deliver(w, w.a.tenant.id, w.a.user.id, "for the colleague", second)
    _deliver(w, w.b.tenant.id, w.b.admin.id, "for another lab", third)
    client = client_for(w)  # the portal app alone: the inbox is part of it
    assert client.get("/api/v1/inbox").status_code == 401
    login(client, w.a.admin)
    messages = client.get("/api/v1/inbox").json()
    assert [m["subject"] for m in messages] == ["P100 due <soon>"]
    assert messages[0]["read"] is False
    assert datetime.fromisoformat(messages[0]["created_at"]) == AT
    page = client.get("/inbox")
    assert page.status_code == 200
    assert "P100 due &lt;soon&gt;" in page.text  # escaped
    assert "for the colleague" not in page.text
    assert "for another lab" not in page.text
    assert ">New</span>" in page.text  # unread until shown ...
    assert client.get("/api/v1/inbox").json()[0]["read"] is True  # ... then read
    assert ">New</span>" not in client.get("/inbox").text
