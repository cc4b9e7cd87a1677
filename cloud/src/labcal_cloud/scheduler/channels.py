"""Delivery channels: e-mail over SMTP, SMS/push through an HTTP gateway (webhook adapter),
and the portal inbox."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from labcal_cloud.notify.message_html import reminder_html
from labcal_cloud.scheduler.ports import ClaimedStep, DeliveryError, ReminderStore

__all__ = ["EmailSender", "GatewaySender", "InboxSender", "message_id"]


def message_id(step: ClaimedStep) -> str:
    """Stable per step: a repeat after a crash carries the same id."""
    return f"<reminder-{step.id}@labcal>"


class EmailSender:
    """E-mail over SMTP; the connection is kept open between messages (reopened on failure)."""

    def __init__(
        self, host: str, port: int, sender: str, now: Callable[[], datetime], timeout: float = 10
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._now, self._timeout = now, timeout
        self._smtp: smtplib.SMTP | None = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None

    def _message(self, step: ClaimedStep) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = step.address
        msg["Subject"] = step.subject
        msg["Message-ID"] = message_id(step)
        msg["Date"] = format_datetime(self._now())
        msg["X-LabCal-Step"] = f"{step.sequence}/{step.step}"
        if step.variant:
            msg["X-LabCal-Variant"] = step.variant
        msg.set_content(step.body)  # text/plain, then the same message as text/html
        msg.add_alternative(reminder_html(step.subject, step.body), subtype="html")
        return msg

    def send(self, step: ClaimedStep) -> None:
        msg = self._message(step)
        for fresh in (False, True):
            try:
                if self._smtp is None or fresh:
                    self.close()
                    self._smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
                self._smtp.send_message(msg)
                return
            except smtplib.SMTPResponseException as exc:
                text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
                raise DeliveryError(text, permanent=500 <= exc.smtp_code < 600) from exc
            except smtplib.SMTPRecipientsRefused as exc:
                raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._smtp = None
                if fresh:
                    raise DeliveryError(f"SMTP {self._host}:{self._port}: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover


class GatewaySender:
    """SMS or push through an HTTP gateway: a JSON POST signed with HMAC-SHA256
    (``X-LabCal-Signature: sha256=<hex>``); 2xx = delivered, 4xx permanent, others retried."""

    def __init__(self, url: str, key: bytes, channel: str, timeout: float = 10) -> None:
        self._url, self._key, self._channel, self._timeout = url, key, channel, timeout

    def send(self, step: ClaimedStep) -> None:
        body = json.dumps(
            {
                "id": message_id(step),
                "channel": self._channel,
                "to": step.address,
                "text": f"{step.subject}\n{step.body}" if self._channel == "sms" else step.body,
                "title": step.subject,
            }
        ).encode()
        signature = hmac.new(self._key, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self._url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-LabCal-Signature": f"sha256={signature}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(
                f"gateway answered HTTP {exc.code}", permanent=400 <= exc.code < 500
            ) from exc
        except OSError as exc:
            raise DeliveryError(f"gateway {self._url}: {exc}") from exc


class InboxSender:
    def __init__(self, store: ReminderStore, now: Callable[[], datetime]) -> None:
        self._store, self._now = store, now

    def send(self, step: ClaimedStep) -> None:
        self._store.write_inbox(step, self._now())
