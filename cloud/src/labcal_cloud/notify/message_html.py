"""The HTML part of a reminder e-mail, from the same plain text as its text part (pure)."""

from __future__ import annotations

from html import escape

from labcal_cloud.notify.messages import message_parts

__all__ = ["reminder_html"]

_BUTTON = (
    "display:inline-block;background:#0b5cad;color:#ffffff;padding:12px 20px;"
    "border-radius:6px;text-decoration:none;font-weight:600"
)


def reminder_html(subject: str, body: str) -> str:
    """A small, inline-styled HTML mail: the subject as heading, the paragraphs, and the call to
    action as a button (with the address written out below it for mail readers without HTML
    links)."""
    parts = message_parts(body)
    html = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(subject)}</title></head>",
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#1d1d1f;line-height:1.45">',
        '<div style="max-width:560px;margin:0 auto;padding:16px">',
        f'<h1 style="font-size:20px">{escape(subject)}</h1>',
    ]
    first, rest = parts.paragraphs[:1], parts.paragraphs[1:]
    html += [f"<p>{escape(p)}</p>" for p in first]
    if parts.action_url:
        url = escape(parts.action_url, quote=True)
        label = escape(parts.action_label)
        html.append(f'<p><a href="{url}" style="{_BUTTON}">{label}</a></p>')
        html.append(
            f'<p style="font-size:12px;color:#5a5a5a;word-break:break-all">'
            f"Or open this address: {url}</p>"
        )
    html += [f'<p style="font-size:13px;color:#5a5a5a">{escape(p)}</p>' for p in rest]
    html.append("</div></body></html>")
    return "\n".join(html)
