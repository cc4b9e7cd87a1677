from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..portal.helpers import World, build_world, make_signing_pair


@pytest.fixture(scope="session")
def signing_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_signing_pair(tmp_path_factory.mktemp("signing"))


@pytest.fixture(params=["sqlite", "postgres"])
def any_world(
    request: pytest.FixtureRequest, tmp_path: Path, signing_pair: tuple[Path, Path]
) -> Iterator[World]:
    """The portal's test world on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'labcal.sqlite3'}"
    else:
        url = str(request.getfixturevalue("fresh_database_url"))
    key, cert = signing_pair
    w = build_world(url, signing_key=key, signing_cert=cert, link_secret="k" * 40)
    yield w
    w.services.db.close()
