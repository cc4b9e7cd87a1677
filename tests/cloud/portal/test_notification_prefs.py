"""A user's own reminder preferences: ``/api/v1/me/reminder-preferences`` and the ``/me/reminders``
page, on SQLite and PostgreSQL; the planner (``scheduler plan``) reads what they saved.

Validation is the planner's own (``notify.recipients``) plus what a person must be told instead
of a channel being skipped silently: at least one channel, none twice, SMS needs a phone number,
push a push token.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from labcal_cloud.accounts.model import User
from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.due import DueBasis, DueState, DueStatus
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.notify.recipients import StoredPreferences, recipient_for
from labcal_cloud.scheduler.due_planning import plan_due_reminder_steps

from .helpers import World, api_token, client_for, login

URL = "/api/v1/me/reminder-preferences"
PAGE = "/me/reminders"
DEFAULTS = {
    "channels": ["email", "inbox"],
    "phone": "",
    "push_token": "",
    "time_zone": "UTC",
    "quiet_start": "21:00",
    "quiet_end": "08:00",
    "stored": False,
    "problem": None,
}
BERLIN = {
    "channels": ["sms", "email", "inbox"],
    "phone": "+49 170 1234567",
    "time_zone": "Europe/Berlin",
    "quiet_start": "22:00",
    "quiet_end": "07:00",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_world(request: pytest.FixtureRequest) -> World:
    world: World = request.getfixturevalue("world" if request.param == "sqlite" else "pg_world")
    return world


def _row(world: World, user: User) -> tuple[Any, ...] | None:
    return world.services.db.one(
        "SELECT channels, phone, push_token, time_zone, quiet_start, quiet_end"
        " FROM portal_notification_prefs WHERE user_id = ?",
        (user.id,),
    )


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


# -- API --------------------------------------------------------------------------------------


def test_defaults_until_saved_then_put_replaces_them(any_world: World) -> None:
    w = any_world
    client = client_for(w)
    csrf = login(client, w.a.user)
    assert client.get(URL).json() == DEFAULTS
    assert _row(w, w.a.user) is None

    r = client.put(URL, json=BERLIN, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    saved = {**BERLIN, "push_token": "", "stored": True, "problem": None}
    assert r.json() == saved
    assert client.get(URL).json() == saved
    assert _row(w, w.a.user) == (
        "sms,email,inbox", "+49 170 1234567", "", "Europe/Berlin", "22:00", "07:00"
    )  # fmt: skip

    # PUT replaces: what is left out goes back to its default, no quiet hours when both empty
    body = {"channels": [" push ", "inbox"], "push_token": "tok-1", "time_zone": "Asia/Tokyo"}
    r = client.put(URL, json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert _row(w, w.a.user) == ("push,inbox", "", "tok-1", "Asia/Tokyo", None, None)
    assert client.get(URL).json()["quiet_start"] is None


def test_session_put_needs_csrf_and_a_bearer_token_does_not(world: World) -> None:
    client = client_for(world)
    login(client, world.a.user)
    assert client.put(URL, json=BERLIN).status_code == 403
    assert client.put(URL, json=BERLIN, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert _row(world, world.a.user) is None
    assert client_for(world).get(URL).status_code == 401  # not signed in
    token = api_token(world, world.a.admin)
    assert client_for(world).put(URL, json=BERLIN, headers=token).status_code == 200
    assert _row(world, world.a.admin) is not None


BAD = [
    pytest.param({"channels": []}, "choose at least one reminder channel", id="no-channel"),
    pytest.param({"channels": ["", " "]}, "choose at least one reminder channel", id="blank"),
    pytest.param({"channels": ["email", "inbox", "email"]}, "'email' is chosen more", id="twice"),
    pytest.param({"channels": ["pigeon"]}, "unknown reminder channel 'pigeon'", id="unknown"),
    pytest.param({"channels": ["EMAIL"]}, "unknown reminder channel 'EMAIL'", id="case"),
    pytest.param({"channels": ["email,sms"]}, "unknown reminder channel", id="comma"),
    pytest.param({"channels": ["sms"], "phone": ""}, "SMS reminders need", id="sms"),
    pytest.param({"channels": ["sms"], "phone": "  "}, "need a phone number", id="sms-blank"),
    pytest.param({"channels": ["push"]}, "push reminders need a push token", id="push"),
    pytest.param({"time_zone": "Mars/Olympus_Mons"}, "unknown time zone", id="zone"),
    pytest.param({"time_zone": ""}, "unknown time zone", id="no-zone"),
    pytest.param({"time_zone": "europe/berlin"}, "unknown time zone", id="zone-case"),
    pytest.param({"quiet_end": None}, "both a start and an end", id="start-only"),
    pytest.param({"quiet_start": ""}, "both a start and an end", id="end-only"),
    pytest.param({"quiet_start": "25:00", "quiet_end": "08:00"}, "HH:MM", id="hour"),
    pytest.param({"quiet_start": "21:00", "quiet_end": "08:61"}, "HH:MM", id="minute"),
    pytest.param({"quiet_start": "9:00", "quiet_end": "08:00"}, "HH:MM", id="one-digit"),
    pytest.param({"quiet_start": "21:00:00", "quiet_end": "08:00"}, "HH:MM", id="seconds"),
    pytest.param({"quiet_start": "21:00Z", "quiet_end": "08:00"}, "HH:MM", id="offset"),
    pytest.param({"quiet_start": "late", "quiet_end": "08:00"}, "HH:MM", id="word"),
    pytest.param({"channels": ["sms"], "phone": "+49\x00170"}, "control char", id="nul"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_each_invalid_input_is_a_422_with_a_message_and_changes_nothing(
    world: World, change: dict[str, Any], message: str
) -> None:
    client = client_for(world)
    headers = api_token(world, world.a.user)
    assert client.put(URL, json=BERLIN, headers=headers).status_code == 200
    before = _row(world, world.a.user)
    r = client.put(URL, json={**BERLIN, **change}, headers=headers)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str)  # a sentence for a person, not a schema error list
    assert message in detail
    assert _row(world, world.a.user) == before


@pytest.mark.postgres
def test_invalid_input_is_refused_on_postgresql_too(pg_world: World) -> None:
    client = client_for(pg_world)
    headers = api_token(pg_world, pg_world.a.user)
    for change, message in (
        ({"channels": ["push"]}, "push token"),
        ({"channels": ["sms"], "phone": "+49\x00170"}, "control characters"),
        ({"time_zone": "Nowhere/City"}, "unknown time zone"),
    ):
        r = client.put(URL, json={**BERLIN, **change}, headers=headers)
        assert (r.status_code, message in r.json()["detail"]) == (422, True), r.text
    assert _row(pg_world, pg_world.a.user) is None


def test_unusable_row_written_in_sql_is_reported_as_the_planner_sees_it(world: World) -> None:
    world.services.db.execute(
        "INSERT INTO portal_notification_prefs (user_id, channels) VALUES (?, 'pigeon')",
        (world.a.user.id,),
    )
    got = client_for(world).get(URL, headers=api_token(world, world.a.user)).json()
    assert got["stored"] is True
    assert got["channels"] == ["pigeon"]
    assert "unknown reminder channel 'pigeon'" in got["problem"]
    client = client_for(world)
    login(client, world.a.user)
    page = client.get(PAGE).text
    assert "cannot be used" in page
    assert "pigeon" in page


def test_each_user_reads_and_writes_only_their_own_row(any_world: World) -> None:
    w = any_world
    client = client_for(w)
    a_admin, a_user, b_admin = (api_token(w, u) for u in (w.a.admin, w.a.user, w.b.admin))
    # extra fields cannot address another user: the row is always the caller's
    body = {**BERLIN, "user_id": w.a.user.id}
    assert client.put(URL, json=body, headers=a_admin).status_code == 200
    other = {"channels": ["push"], "push_token": "b-token", "user_id": w.a.admin.id}
    assert client.put(URL, json=other, headers=b_admin).status_code == 200

    assert client.get(URL, headers=a_admin).json()["phone"] == BERLIN["phone"]
    assert client.get(URL, headers=a_user).json() == DEFAULTS  # same tenant, other user
    b = client.get(URL, headers=b_admin).json()
    assert (b["channels"], b["push_token"], b["phone"]) == (["push"], "b-token", "")
    assert _row(w, w.a.user) is None
    assert _row(w, w.a.admin) == (
        "sms,email,inbox", "+49 170 1234567", "", "Europe/Berlin", "22:00", "07:00"
    )  # fmt: skip
    assert _row(w, w.b.admin) == ("push", "", "b-token", "UTC", None, None)
    assert _row(w, w.b.user) is None


def test_gdpr_export_includes_and_erasure_removes_the_preferences(world: World) -> None:
    client = client_for(world)
    csrf = login(client, world.a.user)
    assert client.get("/api/v1/me/export").json()["reminder_preferences"] is None
    client.put(URL, json=BERLIN, headers={"X-CSRF-Token": csrf})
    exported = client.get("/api/v1/me/export").json()["reminder_preferences"]
    assert exported["phone"] == BERLIN["phone"]
    assert exported["channels"] == "sms,email,inbox"
    assert client.delete("/api/v1/me", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert _row(world, world.a.user) is None


# -- page -------------------------------------------------------------------------------------


def _selected(page: str) -> list[str]:
    """The channel chosen in each of the page's channel selects ('' for none)."""
    selects = re.findall(r'<select id="channel\d" name="channel">(.*?)</select>', page, re.S)
    assert len(selects) == 4
    return [(re.findall(r'value="(\w*)" selected', s) or [""])[0] for s in selects]


def _value(page: str, name: str) -> str:
    found = re.search(rf'<input id="{name}" name="{name}"[^>]* value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def _page_form(client: TestClient, **fields: Any) -> dict[str, Any]:
    page = client.get(PAGE)
    assert page.status_code == 200
    return {"csrf_token": _csrf(page.text), **fields}


def test_page_is_linked_from_the_navigation_and_shows_the_defaults(world: World) -> None:
    client = client_for(world)
    login(client, world.a.user)
    assert 'href="/me/reminders"' in client.get("/devices").text
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "You have the defaults" in page.text
    assert _selected(page.text) == ["email", "inbox", "", ""]
    assert _value(page.text, "time_zone") == "UTC"
    assert (_value(page.text, "quiet_start"), _value(page.text, "quiet_end")) == ("21:00", "08:00")
    anonymous = client_for(world).get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/me/reminders"


def test_page_form_saves_and_shows_the_saved_preferences(any_world: World) -> None:
    w = any_world
    client = client_for(w)
    login(client, w.a.admin)
    form = _page_form(
        client,
        channel=["push", "", "sms", ""],  # a gap in the selects is fine
        phone=" +1 212 555 0100 ",
        push_token="tok-42",
        time_zone="America/New_York",
        quiet_start="20:30",
        quiet_end="06:45",
    )
    r = client.post(PAGE, data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/me/reminders?saved=1"
    assert _row(w, w.a.admin) == (
        "push,sms", "+1 212 555 0100", "tok-42", "America/New_York", "20:30", "06:45"
    )  # fmt: skip
    page = client.get(r.headers["location"]).text
    assert "are saved" in page
    assert "You have the defaults" not in page
    assert _selected(page) == ["push", "sms", "", ""]
    assert _value(page, "phone") == "+1 212 555 0100"
    assert _value(page, "time_zone") == "America/New_York"
    assert (_value(page, "quiet_start"), _value(page, "quiet_end")) == ("20:30", "06:45")
    # no quiet hours: both fields empty
    form = _page_form(client, channel=["inbox"], time_zone="UTC", quiet_start="", quiet_end="")
    assert client.post(PAGE, data=form, follow_redirects=False).status_code == 303
    assert _row(w, w.a.admin) == ("inbox", "", "", "UTC", None, None)


def test_page_form_needs_the_csrf_token(world: World) -> None:
    client = client_for(world)
    login(client, world.a.user)
    fields = {"channel": ["inbox"], "time_zone": "UTC"}
    assert client.post(PAGE, data=fields).status_code == 403
    assert client.post(PAGE, data={**fields, "csrf_token": "forged"}).status_code == 403
    assert _row(world, world.a.user) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"channel": ["sms", "email"], "phone": ""}, "SMS reminders need a phone number"),
        ({"channel": ["email", "email"]}, "is chosen more than once"),
        ({"channel": ["", ""]}, "choose at least one reminder channel"),
        ({"channel": ["fax"]}, "unknown reminder channel &#39;fax&#39;"),
        ({"channel": ["email"], "time_zone": "Berlin"}, "unknown time zone"),
        ({"channel": ["email"], "quiet_start": "22:00"}, "both a start and an end"),
    ],
)
def test_page_shows_form_errors_and_keeps_what_was_entered(
    world: World, fields: dict[str, Any], message: str
) -> None:
    client = client_for(world)
    login(client, world.a.user)
    form = _page_form(client, **{"time_zone": "Europe/Vienna", **fields})
    r = client.post(PAGE, data=form)
    assert r.status_code == 422
    assert "text/html" in r.headers["content-type"]
    assert 'role="alert">Not saved: ' in r.text
    assert message in r.text
    assert _value(r.text, "time_zone") == form["time_zone"]  # what was typed stays
    assert _row(world, world.a.user) is None


# -- the planner reads what the page saved ----------------------------------------------------


def test_recipient_rules_are_the_planners() -> None:
    """The planner's conversion refuses what the page refuses (one rule set), except what it
    skips: a channel without an address."""
    ok = StoredPreferences("sms,email", "+1 555", "", "Europe/Berlin", "22:00", "07:00")
    r = recipient_for("u1", "u1@lab.test", ok)
    assert [c.value for c, _ in r.addresses] == ["sms", "email"]
    skipped = recipient_for("u1", "u1@lab.test", StoredPreferences("sms,email", "", ""))
    assert [c.value for c, _ in skipped.addresses] == ["email"]
    for bad in (
        StoredPreferences("pigeon"),
        StoredPreferences(time_zone="Mars/Base"),
        StoredPreferences(quiet_start="21:00", quiet_end=None),
        StoredPreferences(quiet_start="21:00Z"),  # an offset would break quiet-hour comparison
        StoredPreferences(quiet_start="21:00:00"),
    ):
        with pytest.raises(PolicyError):
            recipient_for("u1", "u1@lab.test", bad)


def test_what_the_page_saved_is_what_the_planner_plans_with(any_world: World) -> None:
    w = any_world
    db = w.services.db
    client = client_for(w)
    device = client.post(
        "/api/v1/devices",
        headers=api_token(w, w.a.admin),
        json={"site_id": w.a.site.id, "make": "Acme", "model": "P100", "serial": "NP-1"},
    ).json()
    login(client, w.a.admin)
    form = _page_form(
        client,
        channel=["sms", "email"],
        phone="+1 212 555 0100",
        time_zone="America/New_York",
        quiet_start="17:00",
        quiet_end="07:00",
    )
    assert client.post(PAGE, data=form, follow_redirects=False).status_code == 303
    due_at = datetime(2026, 4, 10, 22, 0, tzinfo=UTC)
    state = DueState(DueStatus.DUE_SOON, DueBasis.TIME, due_at, "due in 18 days")
    SqlEngineRepository(db).save_due_state(  # the engine's stored due state of the device
        w.a.tenant.id, "NP-1", state, None, device_id=device["id"]
    )

    result = plan_due_reminder_steps(
        db,
        now=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        link_key=b"k" * 32,
        booking_base_url="http://portal.test/book",
    )
    assert result.bad_preferences == ()
    rows = [
        (r[0], r[1], r[2], Database.read_at(r[3]))
        for r in db.query(
            "SELECT recipient, channel, address, send_at FROM reminder_step"
            " WHERE subject_key = ? AND step LIKE ?",
            (device["id"], "initial@%"),
        )
    ]
    steps = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    # initial: 30 days before due = 2026-03-11 22:00 UTC = 18:00 in New York (EDT since 8 March),
    # inside the admin's quiet hours 17:00-07:00 → 07:00 EDT next morning = 11:00 UTC
    morning_ny = datetime(2026, 3, 12, 11, 0, tzinfo=UTC)
    # the lab user kept the defaults: e-mail + inbox, UTC, quiet 21:00-08:00 → 08:00 UTC
    assert steps == {
        (w.a.admin.id, "sms"): ("+1 212 555 0100", morning_ny),
        (w.a.admin.id, "email"): (w.a.admin.email, morning_ny),
        (w.a.user.id, "email"): (w.a.user.email, datetime(2026, 3, 12, 8, 0, tzinfo=UTC)),
        (w.a.user.id, "inbox"): (w.a.user.id, datetime(2026, 3, 11, 22, 0, tzinfo=UTC)),
    }
