"""Serving the API app with uvicorn until SIGTERM/SIGINT, then exiting 0.

uvicorn finishes the open requests on SIGTERM/SIGINT and then raises the signal again, so that
the process ends by it (exit status -15 for SIGTERM). A server stopped on purpose exits 0 here,
like ``labcal-cloud ingest`` and ``scheduler run``: a supervisor or a test then tells a clean
stop from a crash by the status alone.
"""

from __future__ import annotations

from types import FrameType

import uvicorn

__all__ = ["GracefulServer", "serve"]


class GracefulServer(uvicorn.Server):
    """A uvicorn server that does not re-raise the signal that stopped it."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)  # should_exit (a second SIGINT: force_exit)
        self._captured_signals.clear()  # stopped on purpose: no re-raise after the shutdown


def serve(config: uvicorn.Config) -> None:
    """Serve until SIGTERM/SIGINT; open requests finish, then this returns."""
    GracefulServer(config).run()
