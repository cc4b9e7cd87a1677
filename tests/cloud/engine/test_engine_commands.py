"""``labcal-cloud engine records|due|forecast`` on SQLite and PostgreSQL, with the publisher the
composition root wires in; and the engine's dependencies point one way."""

from __future__ import annotations

import argparse
import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import labcal_cloud.engine
from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine import commands
from labcal_cloud.settings import Settings
from labcal_shared.contracts import UsageReport

from .runs import make_run
from .test_engine_service import SqlPublisher, ingest

DAY = timedelta(days=1)


def _parser(factory: commands.PublisherFactory | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labcal-cloud")
    commands.register(parser.add_subparsers(dest="command"), publisher_factory=factory)
    return parser


def _run(
    argv: list[str], url: str, factory: commands.PublisherFactory | None = SqlPublisher
) -> int:
    args = _parser(factory).parse_args(argv)
    code: int = args.handler(args, Settings(database_url=url))
    return code


def test_records_due_and_forecast_run_on_both_backends(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    ingest(
        store_url,
        [
            (now - 2 * DAY, make_run(now - 2 * DAY)),
            (now - DAY, UsageReport(cycles_total=100, cycles_since_service=100)),
        ],
    )
    assert _run(["engine", "records"], store_url) == 0
    assert "engine records: 1 recorded, 0 rejected" in capsys.readouterr().out
    assert _run(["engine", "due", "--interval-days", "1"], store_url) == 0
    assert "engine due: 1 due-state changes" in capsys.readouterr().out
    assert _run(["engine", "forecast"], store_url) == 0
    assert "engine forecast: 0 maintenance alerts raised" in capsys.readouterr().out
    db: Database = connect(store_url)
    try:
        # a one-day interval since a calibration two days ago: due, by time
        assert db.query("SELECT status, basis FROM device_due_state") == [("due", "time")]
        assert db.one("SELECT COUNT(*) FROM maintenance_forecast") == (1,)
        kinds = [r[0] for r in db.query("SELECT kind FROM test_event ORDER BY kind")]
        assert kinds == ["CalibrationRecorded", "DueStateChangedEvent"]
    finally:
        db.close()


def test_without_a_wired_publisher_the_commands_refuse(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(store_url, [(datetime.now(UTC), make_run(datetime.now(UTC)))])
    for action in ("records", "due", "forecast"):
        assert _run(["engine", action], store_url, factory=None) == 2
        assert "no event publisher is wired" in capsys.readouterr().out
    db = connect(store_url)
    try:
        assert db.one("SELECT COUNT(*) FROM calibration_record") == (0,)
    finally:
        db.close()


def test_a_bad_policy_is_refused(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["engine", "due", "--interval-days", "0"], store_url) == 2
    assert "interval_days must be positive" in capsys.readouterr().out


FORBIDDEN = ("labcal_cloud.notify", "labcal_cloud.scheduler", "labcal_cloud.portal")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names.update(str(a.value) for a in node.args if isinstance(a, ast.Constant))
    return names


def test_the_engine_imports_nothing_from_notify_scheduler_or_portal() -> None:
    root = Path(labcal_cloud.engine.__file__).parent
    found = {
        f"{path.relative_to(root)}: {name}"
        for path in sorted(root.rglob("*.py"))
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert found == set()
    assert "labcal_cloud.db.gateway" in _imports(Path(__file__))  # the scan sees imports
