"""The signed-in user's portal inbox (reminders delivered by the scheduler's inbox channel):
``GET /api/v1/inbox`` (JSON) and ``GET /inbox`` (a page in the portal's layout), on SQLite and
PostgreSQL."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from labcal_cloud.db.gateway import Database
from labcal_cloud.portal.auth import CurrentPrincipal, ServicesDep
from labcal_cloud.portal.templating import templates

__all__ = ["InboxMessageOut", "page_router", "router"]

router = APIRouter(prefix="/api/v1", tags=["inbox"])
page_router = APIRouter(include_in_schema=False)

_PAGE = templates.env.from_string(
    """{% extends "base.html" %}{% block title %}Inbox{% endblock %}{% block content %}
<h1>Inbox</h1>
{% if not messages %}<p>No reminders yet.</p>{% endif %}
{% for m in messages %}<article><h2>{{ m.subject }}</h2><p><small>{{ m.created_at }}</small></p>
<pre style="white-space: pre-wrap">{{ m.body }}</pre></article>{% endfor %}
{% endblock %}"""
)


class InboxMessageOut(BaseModel):
    id: int
    subject: str
    body: str
    created_at: str
    read: bool


def _messages(p: CurrentPrincipal, s: ServicesDep, limit: int) -> list[InboxMessageOut]:
    rows = s.db.query(
        "SELECT id, subject, body, created_at, read_at FROM inbox_message"
        " WHERE tenant = ? AND recipient = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        (p.tenant_id, p.user.id, max(1, min(limit, 1000))),
    )
    return [
        InboxMessageOut(
            id=int(r[0]), subject=r[1], body=r[2], created_at=_text(r[3]), read=r[4] is not None
        )
        for r in rows
    ]


def _text(at: object) -> str:
    """A ``TIMESTAMPTZ`` column as ISO text (SQLite stores text, PostgreSQL gives a datetime)."""
    value = Database.read_at(at)
    return "" if value is None else value.isoformat()


@router.get("/inbox")
def inbox(p: CurrentPrincipal, s: ServicesDep, limit: int = 100) -> list[InboxMessageOut]:
    return _messages(p, s, limit)


@page_router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, p: CurrentPrincipal, s: ServicesDep) -> HTMLResponse:
    html = _PAGE.render(request=request, principal=p, messages=_messages(p, s, 100))
    return HTMLResponse(html)
