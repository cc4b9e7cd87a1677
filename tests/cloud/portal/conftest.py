from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import World, build_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(f"sqlite:///{tmp_path / 'portal.db'}")
    yield w
    w.services.db.close()


@pytest.fixture
def pg_world(fresh_database_url: str) -> Iterator[World]:
    w = build_world(fresh_database_url)
    yield w
    w.services.db.close()
