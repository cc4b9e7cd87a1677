"""The signed-in user's portal inbox (reminders delivered by the scheduler's inbox channel):
``GET /api/v1/inbox`` (JSON) and ``GET /inbox`` (a page in the portal's layout), on SQLite and
PostgreSQL."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from labcal_cloud.db.gateway import Database
from labcal_cloud.notify.messages import message_parts
from labcal_cloud.portal.auth import CurrentPrincipal, ServicesDep
from labcal_cloud.portal.formatting import ago, when
from labcal_cloud.portal.templating import render

__all__ = ["InboxMessageOut", "page_router", "router"]

router = APIRouter(prefix="/api/v1", tags=["inbox"])
page_router = APIRouter(include_in_schema=False)


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
    """Each reminder as a card: subject, when it came (relative and exact), its text and the
    call to action as a button."""
    now = s.runtime.now()
    cards = [
        (m, message_parts(m.body), ago(m.created_at, now), when(m.created_at))
        for m in _messages(p, s, 100)
    ]
    _mark_read(p, s)  # shown once as new, then read (the API's "read" flag follows)
    return render(request, "inbox.html", principal=p, cards=cards)


def _mark_read(p: CurrentPrincipal, s: ServicesDep) -> None:
    s.db.execute(
        "UPDATE inbox_message SET read_at = ? WHERE tenant = ? AND recipient = ?"
        " AND read_at IS NULL",
        (s.db.at(s.runtime.now()), p.tenant_id, p.user.id),
    )
