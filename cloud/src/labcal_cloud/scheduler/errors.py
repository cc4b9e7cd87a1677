"""The scheduler's errors, under the cloud's one root.

CloudError
└── SchedulerError        planning and delivery of reminders and webhooks
    └── DeliveryError     a channel could not deliver (``permanent``: not retried)
"""

from __future__ import annotations

from labcal_cloud.errors import CloudError

__all__ = ["DeliveryError", "SchedulerError"]


class SchedulerError(CloudError):
    """Base class of the scheduler's errors."""


class DeliveryError(SchedulerError):
    """A channel could not deliver; ``permanent`` errors are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
