from __future__ import annotations

import argparse

import pytest

from labcal_cloud.cli import SUBCOMMAND_MODULES, build_parser, main
from labcal_cloud.settings import Settings, SettingsError

from .tenants import add_lab_tenant


def test_settings_from_environment():
    s = Settings.from_env(
        {"LABCAL_DATABASE_URL": "postgresql://x/y", "LABCAL_INGEST_MAX_BATCH": "100", "OTHER": "1"}
    )
    assert s.database_url == "postgresql://x/y"
    assert s.ingest_max_batch == 100
    assert s.ingest_group == "ingest"
    assert s.override(ingest_group="g2", mqtt_url=None).ingest_group == "g2"


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"LABCAL_INGEST_MAX_BATCH": "lots"}, "must be an integer"),
        ({"LABCAL_INGEST_MAX_BATCH": "0"}, ">= 1"),
        ({"LABCAL_MQTT_PASSWORD": "changeme"}, "placeholder"),
        ({"LABCAL_INFLUX_URL": "http://influx:8086"}, "LABCAL_INFLUX_TOKEN"),
    ],
)
def test_bad_settings_are_refused(env, match):
    with pytest.raises(SettingsError, match=match):
        Settings.from_env(env)


def test_subcommands_come_from_modules_with_register():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"migrate", "ingest", "station", "token", "serve-api"} <= set(sub.choices)
    assert "labcal_cloud.storage.commands" in SUBCOMMAND_MODULES


def test_migrate_command_and_duplicate_station(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert main(["--database-url", db, "migrate"]) == 0
    assert "applied 0001_core" in capsys.readouterr().out
    assert main(["--database-url", db, "migrate"]) == 0
    assert "(0 applied)" in capsys.readouterr().out
    args = ["--database-url", db, "station", "add", "--tenant", "t1", "--station", "s1"]
    assert main(args) == 2  # no such lab in the portal
    assert "no lab tenant 't1' in the portal" in capsys.readouterr().out
    add_lab_tenant(db, "prov", kind="provider")
    assert main([*args[:5], "prov", *args[6:]]) == 2
    assert "is the provider, not a lab" in capsys.readouterr().out
    add_lab_tenant(db, "t1")
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 1
    assert "already registered" in capsys.readouterr().out
    assert main(["--database-url", db, "station", "list"]) == 0
    assert capsys.readouterr().out == "t1\ts1\n"


def test_bad_station_id_is_a_clear_error(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    main(["--database-url", db, "migrate"])
    add_lab_tenant(db, "t1")
    capsys.readouterr()
    assert main(["--database-url", db, "station", "add", "--tenant", "t1", "--station", "a/b"]) == 2
    assert "invalid station 'a/b'" in capsys.readouterr().out
    assert main(["--database-url", db, "station", "list"]) == 0
    assert capsys.readouterr().out == ""
