"""One rule for the reminders' link secret (``LABCAL_LINK_SECRET``, portal.settings): at least 32
characters and no placeholder; the API refuses to start without it, like the planner."""

from __future__ import annotations

from pathlib import Path

import pytest

from labcal_cloud.cli import main
from labcal_cloud.portal.commands import app_from_env
from labcal_cloud.portal.settings import (
    LinkSecretError,
    PortalSettings,
    check_link_secret,
    link_secret_from_env,
)


@pytest.mark.parametrize(
    ("value", "problem"),
    [("", "is not set"), ("s" * 31, "too short"), ("changeme", "placeholder")],
)
def test_unusable_secrets_are_refused_with_the_rule(value: str, problem: str) -> None:
    with pytest.raises(LinkSecretError, match=problem) as refused:
        link_secret_from_env({"LABCAL_LINK_SECRET": value})
    assert "at least 32 characters" in str(refused.value)
    if value:
        with pytest.raises(LinkSecretError):
            PortalSettings(database_url="sqlite:///x.db", link_secret=value)


def test_a_long_random_secret_is_used_as_it_is() -> None:
    secret = "Zq0" * 11
    assert link_secret_from_env({"LABCAL_LINK_SECRET": secret}) == secret
    assert check_link_secret(secret) == secret
    settings = PortalSettings(database_url="sqlite:///x.db", link_secret=secret)
    assert settings.require_link_secret() == secret
    with pytest.raises(LinkSecretError):
        PortalSettings(database_url="sqlite:///x.db").require_link_secret()


def test_portal_serve_refuses_to_start_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    monkeypatch.setenv("LABCAL_PORTAL_DATABASE_URL", url)
    monkeypatch.delenv("LABCAL_LINK_SECRET", raising=False)
    assert main(["--database-url", url, "portal-serve", "--port", "1"]) == 2
    out = capsys.readouterr().out
    assert "portal-serve: LABCAL_LINK_SECRET is not set" in out
    with pytest.raises(LinkSecretError, match="LABCAL_LINK_SECRET"):
        app_from_env()
    monkeypatch.setenv("LABCAL_LINK_SECRET", "short")
    assert main(["--database-url", url, "portal-serve", "--port", "1"]) == 2
    assert "too short" in capsys.readouterr().out
