"""Is a role ready, is a port taken, what does a Prometheus text say (small, blocking checks)."""

from __future__ import annotations

import re
import socket
import urllib.request

__all__ = ["http_ok", "http_text", "metric_value", "port_taken"]


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def http_text(url: str, timeout_s: float = 2.0) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as r:
            body: bytes = r.read()
            return body.decode("utf-8", "replace")
    except OSError:
        return None


def port_taken(host: str, port: int) -> bool:
    """True when nothing may listen on ``host:port`` now (another process holds it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and Mosquitto do
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def metric_value(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The value of the sample ``name{labels}`` in a Prometheus text exposition (pure)."""
    for line in text.splitlines():
        found = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})?\s+(\S+)", line)
        if not found:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', found.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            try:
                return float(found.group(2))
            except ValueError:
                return None
    return None
