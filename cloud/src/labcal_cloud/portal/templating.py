"""The Jinja2 environment of the portal's server-rendered pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from labcal_cloud.portal import formatting

__all__ = ["render", "templates"]

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["day"] = formatting.day
templates.env.filters["when"] = formatting.when


def render(
    request: Request,
    name: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("principal", None)
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )
