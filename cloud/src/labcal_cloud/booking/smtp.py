"""SMTP adapter of the :class:`~labcal_cloud.booking.ports.Mailer` port (stdlib smtplib)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

__all__ = ["LogMailer", "SmtpMailer"]


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout_s

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self._sender, to, subject
        msg.set_content(body)
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            smtp.send_message(msg)


class LogMailer:
    """Keeps messages in memory (no SMTP server configured); the portal shows them nowhere."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))
