"""The roles ``serve`` runs, each a child OS process started with the same ``labcal-cloud``
command the deploy files use (pure: names, order, command lines, readiness; no I/O).

Start order is the list order (stop order its reverse): the broker first, then the API (the
portal, the read API and the inbox), the ingest, the pipeline (stored runs → records → signed
certificates → due states → forecasts → planned reminders), the scheduler (delivery).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ROLES",
    "Readiness",
    "RoleError",
    "RoleInputs",
    "RoleSpec",
    "command_of",
    "parse_roles",
    "role_specs",
]

ROLES: tuple[str, ...] = ("broker", "api", "ingest", "pipeline", "scheduler")
_COMMAND = {
    "api": "portal-serve",
    "ingest": "ingest",
    "pipeline": "pipeline",
    "scheduler": "scheduler",
}


class RoleError(ValueError):
    """An unknown role, or a role this installation cannot run."""


class Readiness(Enum):
    PORT = "port"  # the broker listens on its port
    HTTP = "http"  # GET <url> answers 200 (the API's /readyz, the scheduler's /readyz)
    LINE = "line"  # a line on its standard output matches


@dataclass(frozen=True, slots=True)
class RoleSpec:
    name: str
    argv: tuple[str, ...]
    readiness: Readiness
    probe: str  # PORT: "host:port"; HTTP: the URL; LINE: the regular expression
    env: tuple[tuple[str, str], ...] = ()  # added to the environment of this role only


def parse_roles(text: str | None) -> tuple[str, ...]:
    """``"broker,api"`` → the roles in start order; None or "" → every role."""
    if not text:
        return ROLES
    asked = [r.strip() for r in text.split(",") if r.strip()]
    unknown = [r for r in asked if r not in ROLES]
    if unknown:
        raise RoleError(f"unknown role {unknown[0]!r} (roles: {', '.join(ROLES)})")
    if not asked:
        raise RoleError(f"no role given (roles: {', '.join(ROLES)})")
    return tuple(r for r in ROLES if r in asked)


def command_of(role: str) -> str | None:
    """The ``labcal-cloud`` subcommand a role runs (None: the broker, not a subcommand)."""
    return _COMMAND.get(role)


@dataclass(frozen=True, slots=True)
class RoleInputs:
    cloud: str  # the labcal-cloud executable
    host: str
    port: int
    broker_argv: tuple[str, ...]
    broker_port: int
    ingest_client_id: str
    smtp_host: str
    smtp_port: int
    scheduler_metrics_port: int
    scheduler_worker: str


def _probe_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)


def role_specs(roles: Iterable[str], i: RoleInputs) -> list[RoleSpec]:
    """The command line and readiness of each role in ``roles`` (start order kept)."""
    specs: dict[str, RoleSpec] = {
        "broker": RoleSpec("broker", i.broker_argv, Readiness.PORT, f"127.0.0.1:{i.broker_port}"),
        "api": RoleSpec(
            "api",
            (i.cloud, "portal-serve", "--host", i.host, "--port", str(i.port)),
            Readiness.HTTP,
            f"http://{_probe_host(i.host)}:{i.port}/readyz",
        ),
        "ingest": RoleSpec(
            "ingest",
            (i.cloud, "ingest", "--client-id", i.ingest_client_id),
            Readiness.LINE,
            r"subscribed",
        ),
        "pipeline": RoleSpec(
            "pipeline", (i.cloud, "pipeline", "run"), Readiness.LINE, r"^pipeline: ready"
        ),
        "scheduler": RoleSpec(
            "scheduler",
            (
                i.cloud,
                "scheduler",
                "run",
                "--worker",
                i.scheduler_worker,
                "--smtp-host",
                i.smtp_host,
                "--smtp-port",
                str(i.smtp_port),
            ),
            Readiness.HTTP,
            f"http://127.0.0.1:{i.scheduler_metrics_port}/readyz",
            (("LABCAL_METRICS_PORT", str(i.scheduler_metrics_port)),),
        ),
    }
    return [specs[r] for r in ROLES if r in set(roles)]
