"""The production API app (``portal-serve`` / ``app_from_env``) answers the ops probes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labcal_cloud.portal.commands import app_from_env
from labcal_cloud.storage.factory import open_store


def test_portal_app_serves_healthz_readyz_and_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    store = open_store(url)
    store.migrate()
    store.close()
    monkeypatch.setenv("LABCAL_PORTAL_DATABASE_URL", url)
    monkeypatch.setenv("LABCAL_LINK_SECRET", "l" * 32)
    client = TestClient(app_from_env())
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["ready"] is True
    metrics = client.get("/metrics").text.splitlines()
    assert "labcal_metrics_scrape_ok 1" in metrics
    assert 'labcal_http_responses_total{code="2xx"} 2' in metrics
    client.app.state.services.db.close()  # type: ignore[attr-defined]
