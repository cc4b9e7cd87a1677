"""``/healthz``, ``/readyz`` and ``/metrics`` for processes without a web app (ingest, scheduler):
a small HTTP server on its own daemon thread, on ``LABCAL_METRICS_PORT`` when that is set."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["OpsServer", "ops_server_from_env"]

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class OpsServer:
    def __init__(
        self,
        host: str,
        port: int,
        metrics: Callable[[], str],
        ready: Callable[[], tuple[bool, str]],
    ) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    outer._send(self, 200, "application/json", b'{"status": "ok"}')
                elif path == "/readyz":
                    try:
                        ok, detail = ready()
                    except Exception as exc:  # a probe must answer, whatever broke
                        ok, detail = False, f"{type(exc).__name__}: {exc}"
                    body = json.dumps({"ready": ok, "detail": detail}).encode()
                    outer._send(self, 200 if ok else 503, "application/json", body)
                elif path == "/metrics":
                    outer._send(self, 200, CONTENT_TYPE, metrics().encode())
                else:
                    outer._send(self, 404, "application/json", b'{"detail": "not found"}')

            def log_message(self, format: str, *args: object) -> None:
                log.debug("ops http: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, ctype: str, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def start(self) -> OpsServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def ops_server_from_env(
    env: Mapping[str, str],
    metrics: Callable[[], str],
    ready: Callable[[], tuple[bool, str]],
) -> OpsServer | None:
    """Started on all interfaces, port ``LABCAL_METRICS_PORT``, if that is set."""
    raw = env.get("LABCAL_METRICS_PORT", "").strip()
    if not raw:
        return None
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"LABCAL_METRICS_PORT must be a port number, got {raw!r}") from None
    server = OpsServer("0.0.0.0", port, metrics, ready).start()
    log.info("ops endpoints on port %d: /healthz /readyz /metrics", server.port)
    return server
