"""Structured logs: one JSON object per line for log collectors, plain text for a terminal.

``configure_logging("json")`` (or ``LABCAL_LOG_FORMAT=json``) makes every cloud process log
``{"ts", "level", "logger", "msg", "process", ...extra}``; ``exc`` holds a formatted traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["TEXT_FORMAT", "JsonFormatter", "configure_logging", "log_format_from_env"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# attributes every LogRecord has; anything else was passed with ``extra=`` and is kept
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_STANDARD |= {"color_message"}  # uvicorn's copy of the message with terminal colours


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class JsonFormatter(logging.Formatter):
    def __init__(self, static: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "process": record.process,
            **self._static,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = _plain(value)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def log_format_from_env(env: Mapping[str, str] | None = None) -> str:
    value = (env if env is not None else os.environ).get("LABCAL_LOG_FORMAT", "text").lower()
    if value not in ("text", "json"):
        raise ValueError(f"LABCAL_LOG_FORMAT must be 'text' or 'json', got {value!r}")
    return value


def configure_logging(
    fmt: str = "text",
    level: int = logging.INFO,
    *,
    stream: TextIO | None = None,
    static: Mapping[str, str] | None = None,
    force: bool = False,
) -> None:
    """One root handler writing ``fmt`` to ``stream``. Like ``logging.basicConfig``, it leaves
    a root logger configured by someone else (a test runner, an embedding app) alone unless
    ``force``; a handler it installed before is replaced."""
    root = logging.getLogger()
    foreign = [h for h in root.handlers if not getattr(h, "_labcal", False)]
    if foreign and not force:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._labcal = True  # type: ignore[attr-defined]
    if fmt == "json":
        handler.setFormatter(JsonFormatter(static))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
