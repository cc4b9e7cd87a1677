"""The exception hierarchy of ``labcal_edge``.

EdgeError
├── ConfigError          the TOML configuration is missing, malformed or invalid
├── OutboxFullError      the outbox is full and its policy refuses (or timed out blocking)
├── DeviceUnavailableError    a serial device is gone (unplugged, port closed, I/O error)
├── DeviceTimeoutError        a device did not answer (or not stably) in time
└── RunAbortedError           the operator (or the script) ended a gravimetric run
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DeviceTimeoutError",
    "DeviceUnavailableError",
    "EdgeError",
    "OutboxFullError",
    "RunAbortedError",
]


class EdgeError(Exception):
    """Base class of every error raised by the edge agent."""


class ConfigError(EdgeError):
    """The configuration file is missing, not TOML, or fails validation (message says where)."""


class OutboxFullError(EdgeError):
    """The outbox reached its capacity and the configured policy does not accept more."""


class DeviceUnavailableError(EdgeError):
    """A serial device cannot be used right now (unplugged, closed, I/O error)."""


class DeviceTimeoutError(EdgeError):
    """A device did not answer, or did not settle, within the allowed time."""


class RunAbortedError(EdgeError):
    """A gravimetric run was ended before completion."""
