"""``GET /api/v1/inbox``: the signed-in user's portal inbox (reminders delivered by the
scheduler's inbox channel)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from labcal_cloud.portal.auth import CurrentPrincipal, ServicesDep

__all__ = ["InboxMessageOut", "router"]

router = APIRouter(prefix="/api/v1", tags=["inbox"])


class InboxMessageOut(BaseModel):
    id: int
    subject: str
    body: str
    created_at: str
    read: bool


@router.get("/inbox")
def inbox(p: CurrentPrincipal, s: ServicesDep, limit: int = 100) -> list[InboxMessageOut]:
    rows = s.db.query(
        "SELECT id, subject, body, created_at, read_at FROM inbox_message"
        " WHERE tenant = ? AND recipient = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        (p.tenant_id, p.user.id, max(1, min(limit, 1000))),
    )
    return [
        InboxMessageOut(id=r[0], subject=r[1], body=r[2], created_at=r[3], read=r[4] is not None)
        for r in rows
    ]
