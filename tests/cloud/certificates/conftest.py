from __future__ import annotations

# the pipeline tests' fixtures: the signing pair and the portal's world on both backends
from ..pipeline.conftest import any_world, signing_pair

__all__ = ["any_world", "signing_pair"]
