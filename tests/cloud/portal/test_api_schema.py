"""schemathesis drives every operation of the OpenAPI document: no input gives a server error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from labcal_cloud.portal.app import create_app

from .helpers import World, api_token, build_world, make_signing_pair

schemathesis.serializer.alias("application/pdf", "application/octet-stream")


@schemathesis.serializer("text/csv")
def _csv(ctx: object, value: object) -> bytes:
    return value.encode("utf-8", "replace") if isinstance(value, str) else str(value).encode()


@pytest.fixture(scope="module")
def schema_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("schema")
    key, cert = make_signing_pair(folder)
    world = build_world(
        f"sqlite:///{folder / 'schema.db'}",
        signing_key=key,
        signing_cert=cert,
        link_secret="S" * 40,
    )
    yield world
    world.services.db.close()


@pytest.fixture(scope="module")
def api_schema(schema_world: World) -> schemathesis.BaseSchema:
    app = create_app(schema_world.services.settings, services=schema_world.services)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _exercise(api_schema: schemathesis.BaseSchema, headers: dict[str, str]) -> int:
    """Generate cases for every operation (schemathesis strategies driven by Hypothesis)."""
    operations, cases = 0, []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            cases.append(response.status_code)

        check()
        operations += 1
    assert len(cases) >= 3 * operations  # several generated cases per operation
    assert any(code < 300 for code in cases)  # and some got through validation
    return operations


@pytest.mark.slow
def test_no_server_errors_as_lab_admin(
    api_schema: schemathesis.BaseSchema, schema_world: World
) -> None:
    assert _exercise(api_schema, api_token(schema_world, schema_world.a.admin)) >= 30


@pytest.mark.slow
def test_no_server_errors_as_provider_admin(
    api_schema: schemathesis.BaseSchema, schema_world: World
) -> None:
    assert _exercise(api_schema, api_token(schema_world, schema_world.provider_admin)) >= 30


def test_openapi_documents_every_api_route(
    api_schema: schemathesis.BaseSchema,
) -> None:
    paths = api_schema.raw_schema["paths"]
    assert all(p.startswith("/api/v1/") for p in paths)
    assert {
        "/api/v1/devices",
        "/api/v1/calibrations",
        "/api/v1/bookings",
        "/api/v1/kpis",
        "/api/v1/planning",
        "/api/v1/orders",
        "/api/v1/me/export",
        "/api/v1/me/reminder-preferences",
    } <= set(paths)
