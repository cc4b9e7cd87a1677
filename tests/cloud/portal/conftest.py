from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import World, build_world, make_signing_pair


@pytest.fixture(scope="session")
def signing_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_signing_pair(tmp_path_factory.mktemp("signing"))


@pytest.fixture
def world(tmp_path: Path, signing_pair: tuple[Path, Path]) -> Iterator[World]:
    key, cert = signing_pair
    w = build_world(f"sqlite:///{tmp_path / 'portal.db'}", signing_key=key, signing_cert=cert)
    yield w
    w.services.db.close()


@pytest.fixture
def pg_world(fresh_database_url: str, signing_pair: tuple[Path, Path]) -> Iterator[World]:
    key, cert = signing_pair
    w = build_world(fresh_database_url, signing_key=key, signing_cert=cert)
    yield w
    w.services.db.close()
