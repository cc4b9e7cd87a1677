"""Readiness verdicts (pure) and the JSON / text log formats."""

from __future__ import annotations

import io
import json
import logging

import pytest

from labcal_cloud.ops.logs import JsonFormatter, configure_logging, log_format_from_env
from labcal_cloud.ops.readiness import judge_readiness


def test_ready_only_with_storage_and_every_migration() -> None:
    assert judge_readiness([1, 2, 100], [1, 2, 100], None).ready
    pending = judge_readiness([1, 2, 100], [1], None)
    assert (pending.ready, pending.pending_migrations) == (False, (2, 100))
    down = judge_readiness([1, 2], None, "OperationalError: connection refused")
    assert not down.ready
    assert down.storage == "OperationalError: connection refused"
    assert down.as_json()["pending_migrations"] == [1, 2]


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("labcal.test", logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_json_formatter_writes_one_object_with_extras_and_traceback() -> None:
    fmt = JsonFormatter({"service": "api"})
    doc = json.loads(fmt.format(_record("stored %d of %s", 3, "batch", station="st1", n=2)))
    assert doc["msg"] == "stored 3 of batch"
    assert (doc["level"], doc["logger"], doc["service"]) == ("WARNING", "labcal.test", "api")
    assert (doc["station"], doc["n"]) == ("st1", 2)
    assert doc["ts"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    doc = json.loads(fmt.format(record))
    assert "ValueError: boom" in doc["exc"]
    assert "\n" not in fmt.format(record)  # one line per record


def test_configure_logging_switches_between_json_and_text() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        out = io.StringIO()
        configure_logging("json", stream=out, force=True)
        logging.getLogger("labcal.x").info("hello")
        assert json.loads(out.getvalue())["msg"] == "hello"
        out = io.StringIO()
        configure_logging("text", stream=out)  # replaces its own handler
        logging.getLogger("labcal.x").info("hello")
        assert out.getvalue().rstrip().endswith("INFO labcal.x: hello")
        foreign = logging.NullHandler()  # configured by someone else (a runner, an app)
        root.handlers[:] = [foreign]
        configure_logging("json", stream=io.StringIO())
        assert root.handlers == [foreign]  # left alone, as logging.basicConfig would
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_log_format_comes_from_the_environment_and_refuses_typos() -> None:
    assert log_format_from_env({}) == "text"
    assert log_format_from_env({"LABCAL_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="LABCAL_LOG_FORMAT"):
        log_format_from_env({"LABCAL_LOG_FORMAT": "yaml"})
