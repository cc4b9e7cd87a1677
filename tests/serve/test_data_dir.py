"""serve's data dir on the real file system: made when missing, never emptied; the secrets are
made once (0600), read back at every later start, or taken from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from labcal_cloud.serve.data_dir import DataDirError, load_or_create_secrets, prepare_data_dir


def test_secrets_are_made_once_and_read_back(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "records.csv").write_text("kept")
    paths = prepare_data_dir(tmp_path / "d")
    first = load_or_create_secrets(paths, {}, "Test Provider")
    assert len(first.made) == 3
    assert len(first.link_secret) >= 32
    assert (paths.secrets.stat().st_mode & 0o777) == 0o700
    for made in first.made:
        assert (Path(made).stat().st_mode & 0o777) == 0o600
    assert b"BEGIN PRIVATE KEY" in first.signing_key.read_bytes()
    again = load_or_create_secrets(prepare_data_dir(tmp_path / "d"), {}, "Test Provider")
    assert again.made == ()
    assert (again.link_secret, again.signing_key) == (first.link_secret, first.signing_key)
    assert (tmp_path / "d" / "records.csv").read_text() == "kept"  # nothing wiped


def test_configured_secrets_win_and_nothing_is_made(tmp_path: Path) -> None:
    paths = prepare_data_dir(tmp_path / "d")
    env = {
        "LABCAL_LINK_SECRET": "x" * 40,
        "LABCAL_SIGNING_KEY": "/etc/labcal/key.pem",
        "LABCAL_SIGNING_CERT": "/etc/labcal/cert.pem",
    }
    got = load_or_create_secrets(paths, env, "P")
    assert (got.link_secret, str(got.signing_key)) == ("x" * 40, "/etc/labcal/key.pem")
    assert got.made == ()
    assert list(paths.secrets.iterdir()) == []


def test_broken_secrets_are_refused(tmp_path: Path) -> None:
    paths = prepare_data_dir(tmp_path / "d")
    with pytest.raises(DataDirError, match="both LABCAL_SIGNING_KEY and LABCAL_SIGNING_CERT"):
        load_or_create_secrets(paths, {"LABCAL_SIGNING_KEY": "/k.pem"}, "P")
    load_or_create_secrets(paths, {}, "P")
    paths.signing_cert.unlink()  # a half-restored backup: never silently replace the key
    with pytest.raises(DataDirError, match=r"only one of signing-key\.pem and signing-cert\.pem"):
        load_or_create_secrets(paths, {}, "P")
    paths.link_secret.write_text("short\n")
    with pytest.raises(DataDirError, match="fewer than 32 characters"):
        load_or_create_secrets(paths, {}, "P")


def test_a_file_is_not_a_data_dir(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(DataDirError, match="is not a directory"):
        prepare_data_dir(tmp_path / "f")
