"""The roles' names, order, command lines and readiness (pure), and when to restart them."""

from __future__ import annotations

import pytest

from labcal_cloud.serve.backoff import describe_exit, restart_delay
from labcal_cloud.serve.roles import (
    ROLES,
    Readiness,
    RoleError,
    RoleInputs,
    parse_roles,
    role_specs,
)

INPUTS = RoleInputs(
    cloud="/venv/bin/labcal-cloud",
    host="0.0.0.0",
    port=8000,
    broker_argv=("/usr/sbin/mosquitto", "-c", "/d/broker/mosquitto.conf"),
    broker_port=1883,
    ingest_client_id="ingest-1",
    smtp_host="mail.lab",
    smtp_port=2525,
    scheduler_metrics_port=9101,
    scheduler_worker="serve-1",
)


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        (None, ROLES),
        ("", ROLES),
        ("api", ("api",)),
        ("ingest, broker", ("broker", "ingest")),  # start order, whatever the order given
        ("scheduler,pipeline,api,api", ("api", "pipeline", "scheduler")),
    ],
)
def test_parse_roles(text: str | None, roles: tuple[str, ...]) -> None:
    assert parse_roles(text) == roles


@pytest.mark.parametrize(("text", "message"), [("api,web", "unknown role 'web'"), (",", "no role")])
def test_parse_roles_refuses(text: str, message: str) -> None:
    with pytest.raises(RoleError, match=message):
        parse_roles(text)


def test_each_role_runs_the_command_the_deploy_files_use() -> None:
    specs = {s.name: s for s in role_specs(ROLES, INPUTS)}
    assert list(specs) == list(ROLES)
    cloud = INPUTS.cloud
    assert specs["api"].argv == (cloud, "portal-serve", "--host", "0.0.0.0", "--port", "8000")
    assert specs["api"].readiness is Readiness.HTTP
    assert specs["api"].probe == "http://127.0.0.1:8000/readyz"  # 0.0.0.0 is probed on loopback
    assert specs["ingest"].argv == (cloud, "ingest", "--client-id", "ingest-1")
    assert (specs["ingest"].readiness, specs["ingest"].probe) == (Readiness.LINE, "subscribed")
    assert specs["pipeline"].argv == (cloud, "pipeline", "run")
    assert specs["pipeline"].probe == "^pipeline: ready"
    sched = specs["scheduler"]
    assert sched.argv[1:4] == ("scheduler", "run", "--worker")
    assert sched.argv[-4:] == ("--smtp-host", "mail.lab", "--smtp-port", "2525")
    assert dict(sched.env) == {"LABCAL_METRICS_PORT": "9101"}
    assert sched.probe == "http://127.0.0.1:9101/readyz"
    assert specs["broker"].argv == INPUTS.broker_argv
    assert (specs["broker"].readiness, specs["broker"].probe) == (Readiness.PORT, "127.0.0.1:1883")
    assert [s.name for s in role_specs(("scheduler", "api"), INPUTS)] == ["api", "scheduler"]


def test_restart_delay_doubles_up_to_a_cap() -> None:
    assert [restart_delay(n) for n in range(0, 8)] == [0, 1, 2, 4, 8, 16, 30, 30]
    assert restart_delay(10_000) == 30


@pytest.mark.parametrize(
    ("code", "text"),
    [(0, "code 0"), (2, "code 2"), (-9, "code -9 (killed by SIGKILL)"), (None, "no code")],
)
def test_describe_exit(code: int | None, text: str) -> None:
    assert describe_exit(code) == text
