"""The one error root of the cloud, so a boundary (CLI, worker loop, HTTP) translates them in
one place.

    labcal_shared.errors.LabCalError
    └── CloudError                    every error the cloud raises on purpose
        ├── StorageError              storage (``storage.errors``)
        ├── EngineError               records, due policy, delivery (``engine.errors``)
        └── PortalError               the portal's domain services, with an HTTP status
                                      (``accounts.errors``)
"""

from __future__ import annotations

from labcal_shared.errors import LabCalError

__all__ = ["CloudError"]


class CloudError(LabCalError):
    """Base class of the cloud's errors."""
