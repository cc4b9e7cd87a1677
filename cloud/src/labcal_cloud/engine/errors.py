"""Errors of the engine, translated at the boundary (CLI, workers) into quarantine rows or
messages.

    EngineError
    ├── RecordRejectedError      a run cannot become a calibration record (reason says why)
    └── PolicyError         a due policy or forecast setting that makes no sense
"""

from __future__ import annotations

from labcal_cloud.errors import CloudError

__all__ = ["EngineError", "PolicyError", "RecordRejectedError"]


class EngineError(CloudError):
    """Base class of the engine's errors."""


class RecordRejectedError(EngineError, ValueError):
    """A gravimetric run that cannot be turned into a calibration record."""


class PolicyError(EngineError, ValueError):
    """A due policy or forecaster setting that is out of range."""
