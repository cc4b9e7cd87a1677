"""POST one webhook delivery, signed (see :mod:`labcal_cloud.notify.webhooks`)."""

from __future__ import annotations

import urllib.error
import urllib.request

from labcal_cloud.notify.webhooks import sign_webhook
from labcal_cloud.scheduler.ports import DeliveryError
from labcal_cloud.scheduler.webhook_store import ClaimedDelivery

__all__ = ["post_webhook"]

_RETRYABLE_4XX = {408, 409, 425, 429}


def post_webhook(delivery: ClaimedDelivery, now_unix: int, timeout: float = 10) -> int:
    """The HTTP status of a 2xx answer; :class:`DeliveryError` otherwise (4xx other than
    408/409/425/429 are permanent, everything else is retried)."""
    request = urllib.request.Request(
        delivery.url,
        data=delivery.body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "LabCal-Webhooks/1",
            "X-LabCal-Event": delivery.event_type,
            "X-LabCal-Delivery": f"{delivery.event_id}",
            "X-LabCal-Signature": sign_webhook(delivery.body, delivery.secret.encode(), now_unix),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code not in _RETRYABLE_4XX
        raise DeliveryError(f"HTTP {exc.code}", permanent=permanent) from exc
    except OSError as exc:
        raise DeliveryError(f"{delivery.url}: {exc}") from exc
