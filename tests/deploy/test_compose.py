"""deploy/compose: the compose-spec JSON Schema, and what the schema cannot see.

The schema is the compose-spec project's own (Apache-2.0), as vendored by the check-jsonschema
package (``check_jsonschema/builtin_schemas/vendor/compose-spec.json``); no Docker engine runs
here, so every cross-reference (files, mounts, dependencies, variables, CLI options, the
station's configurations) is checked by reading the files.
"""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from .deploy_files import (
    COMPOSE_DIR,
    DEPLOY,
    ROOT,
    check_cloud_args,
    compose_variables,
    env_example,
    interpolate,
    load_compose,
    split_command,
)

LONG_RUNNING = (
    "timescaledb",
    "mosquitto",
    "ingest-1",
    "ingest-2",
    "pipeline",
    "scheduler",
    "api",
    "station",
)
ONE_SHOTS = ("migrate", "provision")


def _schema() -> dict[str, Any]:
    ref = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return schema


def _errors(doc: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def test_compose_file_matches_the_compose_spec_schema() -> None:
    assert _errors(load_compose()) == []


def test_the_schema_rejects_a_misspelt_key() -> None:
    doc = copy.deepcopy(load_compose())
    doc["services"]["api"]["restrat"] = "always"
    assert any("restrat" in e for e in _errors(doc))


def test_the_schema_rejects_a_wrong_type() -> None:
    doc = copy.deepcopy(load_compose())
    doc["services"]["api"]["ports"] = "8000:8000"
    assert _errors(doc) != []


def test_the_system_is_all_there() -> None:
    services = load_compose()["services"]
    assert set(LONG_RUNNING + ONE_SHOTS + ("influxdb",)) <= set(services)
    assert services["influxdb"]["profiles"] == ["influx"]
    assert services["emqx"]["profiles"] == ["emqx"]
    assert services["emqx"]["image"].startswith("emqx/emqx:")
    assert services["backup"]["profiles"] == ["backup"]
    assert services["backup"]["entrypoint"] == ["bash", "/opt/labcal-postgres/backup.sh"]
    assert "../postgres:/opt/labcal-postgres:ro" in services["backup"]["volumes"]
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
        assert services[name].get("restart") == "unless-stopped", name
    for name in ONE_SHOTS:
        assert services[name]["restart"] == "no", name


def test_ingest_runs_two_workers_with_distinct_stable_client_ids() -> None:
    services = load_compose()["services"]
    ids = []
    for name in ("ingest-1", "ingest-2"):
        command = split_command(services[name]["command"])
        assert command[0] == "ingest"
        ids.append(command[command.index("--client-id") + 1])
    assert len(set(ids)) == 2


def test_dependencies_exist_and_start_in_order() -> None:
    services = load_compose()["services"]
    for name, service in services.items():
        for dep, spec in service.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert spec["condition"] in {
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}'s health"
            if spec["condition"] == "service_completed_successfully":
                assert dep in ONE_SHOTS

    def reaches(start: str, seen: tuple[str, ...]) -> None:
        for dep in services[start].get("depends_on", {}):
            assert dep not in seen, f"dependency cycle: {' -> '.join((*seen, dep))}"
            reaches(dep, (*seen, dep))

    for name in services:
        reaches(name, (name,))
    for name in ("ingest-1", "ingest-2", "pipeline", "scheduler", "api"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_every_variable_is_documented_in_env_example() -> None:
    used = compose_variables((COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8"))
    used |= {s["environment"] for s in load_compose()["secrets"].values() if "environment" in s}
    documented = set(env_example())
    assert used - documented == set()
    assert documented - used == set(), "documented but unused"


def test_required_secrets_are_empty_in_the_example_and_enforced() -> None:
    text = (COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    assert {"POSTGRES_PASSWORD", "LABCAL_INGEST_MQTT_PASSWORD"} <= required
    example = env_example()
    for name in required:
        assert example[name] == "", f"{name} must not ship a value"
        with pytest.raises(ValueError, match=name):
            interpolate(f"${{{name}:?set it}}", example)


def test_bind_mounts_build_files_and_secret_files_exist() -> None:
    doc = load_compose()
    for name, service in doc["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE_DIR / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in doc["volumes"], f"{name}: undeclared volume {source}"
        build = service.get("build")
        if build:
            context = (COMPOSE_DIR / build["context"]).resolve()
            assert context == ROOT
            assert (context / build["dockerfile"]).is_file()
        for secret in service.get("secrets", []):
            assert secret in doc["secrets"], f"{name}: undeclared secret {secret}"
    assert (DEPLOY / "mosquitto" / "mosquitto.conf").is_file()


@pytest.mark.parametrize("dockerfile", sorted(COMPOSE_DIR.glob("*.Dockerfile")), ids=str)
def test_dockerfile_copies_exist_and_pass_the_dockerignore(dockerfile: Path) -> None:
    text = dockerfile.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    ignore = (dockerfile.parent / (dockerfile.name + ".dockerignore")).read_text(encoding="utf-8")
    included = [line[1:] for line in ignore.splitlines() if line.startswith("!")]
    copies = re.findall(r"^COPY (?!--from)(.+)$", text, re.M)
    assert copies
    for line in copies:
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source}: no such path"
            assert any(source.startswith(inc) for inc in included), f"{source} is ignored"


def test_cloud_commands_parse_with_the_real_cli() -> None:
    doc = load_compose()
    env = env_example()
    for service in doc["services"].values():
        if not str(service.get("image", "")).startswith("labcal-cloud"):
            continue
        if service.get("entrypoint") == ["sh", "-c"]:
            script = interpolate(service["command"][0], env)
            calls = re.findall(r"labcal-cloud ([a-z][a-z -]*[a-z])", script)
            assert calls, "a shell loop that runs no labcal-cloud command"
            for call in calls:
                check_cloud_args(call.split())
        elif "entrypoint" not in service:  # provision: test_compose_provisioning.py
            check_cloud_args([interpolate(a, env) for a in split_command(service["command"])])


def test_cloud_settings_in_compose_are_accepted_by_the_cloud() -> None:
    from labcal_cloud.settings import Settings

    env = {
        **env_example(),
        "POSTGRES_PASSWORD": "pw-4tests",
        "LABCAL_INGEST_MQTT_PASSWORD": "x9",
        "LABCAL_LINK_SECRET": "k" * 40,
    }
    services = load_compose()["services"]
    for name in ("ingest-1", "api", "pipeline", "scheduler"):
        values = {k: interpolate(v, env) for k, v in _environment(services[name]).items()}
        settings = Settings.from_env(values)
        assert settings.database_url.startswith("postgresql://labcal:pw-4tests@timescaledb:")
        assert settings.mqtt_url == "mqtts://mosquitto:8883"
        assert settings.mqtt_ca_file == "/etc/labcal/tls/ca.crt"


def test_broker_files_the_mosquitto_conf_names_are_mounted() -> None:
    """Every path in deploy/mosquitto/mosquitto.conf lies under a volume of the broker service."""
    conf = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8")
    keys = ("password_file", "acl_file", "certfile", "keyfile", "cafile", "persistence_location")
    paths = [
        line.split(None, 1)[1].strip()
        for line in conf.splitlines()
        if line.split(None, 1)[:1] and line.split(None, 1)[0] in keys
    ]
    assert len(paths) >= 5
    mounts = [v.split(":")[1] for v in load_compose()["services"]["mosquitto"]["volumes"]]
    for path in paths:
        assert any(path.startswith(m.rstrip("/") + "/") for m in mounts), f"{path} not mounted"


def provision_volumes(service: dict[str, Any]) -> list[str]:
    return [str(v) for v in service.get("volumes", [])]


def test_simulated_station_configs_are_valid_and_agree() -> None:
    from labcal_edge.config import load_config
    from labcal_sim.station_config import parse_station_config

    sim = parse_station_config((COMPOSE_DIR / "station" / "sim.toml").read_text(encoding="utf-8"))
    edge = load_config(COMPOSE_DIR / "station" / "edge.toml")
    assert sim.link_dir is not None
    served = {f"{sim.link_dir}/balance-{sim.balance.serial}"} if sim.balance else set()
    served |= {f"{sim.link_dir}/pipette-{p.serial}" for p in sim.pipettes}
    if sim.sensor is not None:
        served.add(f"{sim.link_dir}/sensor-{sim.sensor.serial}")
    read = {d.port for d in (*edge.balance, *edge.pipette)}
    if edge.environment is not None:
        read.add(edge.environment.port)
    assert read == served
    services = load_compose()["services"]
    provision = _environment(services["provision"])
    # edge.toml is the template provision writes the station's configuration from (the tenant
    # id comes from the portal: test_compose_provisioning.py); the station reads that one.
    mounts = dict(v.split(":")[:2][::-1] for v in provision_volumes(services["provision"]))
    assert mounts[provision["EDGE_TEMPLATE"]] == "./station/edge.toml"
    config_dir = str(Path(provision["EDGE_CONFIG"]).parent)
    station_mounts = dict(v.split(":")[:2][::-1] for v in services["station"]["volumes"])
    assert station_mounts[config_dir] == mounts[config_dir], "station reads what provision wrote"
    assert _environment(services["station"])["LABCAL_EDGE_CONFIG"] == provision["EDGE_CONFIG"]
    assert edge.station.id == provision["LABCAL_STATION_ID"] == edge.mqtt.username
    assert edge.mqtt.host == "mosquitto"
    assert edge.mqtt.port == 8883
    assert edge.mqtt.tls is not None
    assert edge.mqtt.password_file == Path("/run/secrets/station_password")
