"""Every deployment runs every step of the pipeline, each with the settings it needs.

One table (:data:`ROLES`) says which ``labcal-cloud`` command runs a step, the environment it
needs, which of those variables name a mounted secret file, and how many replicas a cluster runs;
the same table is checked against deploy/compose/compose.yaml and deploy/k8s/. The single-lab
systemd unit runs ``labcal-cloud serve``, which runs every step in one supervised set.
Docs: docs/architecture.md ("Which process runs which stage").
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from .deploy_files import (
    DEPLOY,
    K8S_DIR,
    env_example,
    interpolate,
    k8s_documents,
    load_all,
    load_compose,
    split_command,
)

DB = "LABCAL_DATABASE_URL"
LINK = "LABCAL_LINK_SECRET"
KEY, CERT = "LABCAL_SIGNING_KEY", "LABCAL_SIGNING_CERT"
BASE = "LABCAL_BASE_URL"


@dataclass(frozen=True)
class Role:
    command: tuple[str, ...]  # the first words of the labcal-cloud command line
    env: frozenset[str]
    files: frozenset[str] = frozenset()  # variables of ``env`` that name a mounted secret file
    replicas: dict[str, int] = field(default_factory=lambda: {"compose": 1, "k8s": 1})
    one_shot: bool = False


ROLES: dict[str, Role] = {
    "migrate": Role(("migrate",), frozenset({DB}), one_shot=True),
    "api": Role(
        ("portal-serve",),
        frozenset({DB, LINK, KEY, CERT, BASE}),
        frozenset({KEY, CERT}),
        {"compose": 1, "k8s": 2},
    ),
    "ingest": Role(
        ("ingest",), frozenset({DB, "LABCAL_MQTT_URL"}), replicas={"compose": 2, "k8s": 2}
    ),
    "pipeline": Role(
        ("pipeline", "run"), frozenset({DB, LINK, KEY, CERT, BASE}), frozenset({KEY, CERT})
    ),
    "scheduler": Role(
        ("scheduler", "run"),
        frozenset({DB, LINK, BASE, "LABCAL_SMTP_HOST"}),
        replicas={"compose": 2, "k8s": 2},
    ),
}
BROKER_IMAGES = ("eclipse-mosquitto:", "emqx/emqx:")
REQUIRED = "<required: compose refuses to start without it>"


# --- compose -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    """One place a role runs: a compose service or a Kubernetes workload's container."""

    name: str
    words: list[str]
    env: dict[str, str]  # "" when it may be empty at run time
    files: dict[str, str]  # mount path → what provides it (a secret's name)
    replicas: int
    long_running: bool


def _compose_words(service: dict[str, Any]) -> list[list[str]]:
    """The labcal-cloud command lines a compose service runs (its command, or a shell loop's)."""
    if not str(service.get("image", "")).startswith("labcal-cloud"):
        return []
    entrypoint = service.get("entrypoint")
    if entrypoint is None or entrypoint == ["labcal-cloud"]:
        return [split_command(service.get("command", []))]
    if entrypoint == ["sh", "-c"]:
        script = " ".join(split_command(service["command"]))
        return [c.split() for c in re.findall(r"labcal-cloud ([a-z][a-z -]*[a-z])", script)]
    return []


def compose_processes(doc: dict[str, Any]) -> list[Process]:
    example = env_example()
    out = []
    for name, service in doc["services"].items():
        if service.get("profiles"):
            continue  # not started by a plain `docker compose up`
        raw = service.get("environment", {})
        if isinstance(raw, list):
            raw = dict(item.partition("=")[::2] for item in raw)
        env: dict[str, str] = {}
        for key, value in raw.items():
            try:
                env[str(key)] = interpolate("" if value is None else str(value), example)
            except ValueError:  # ${VAR:?...}: compose refuses to start while it is empty
                env[str(key)] = REQUIRED
        files = {f"/run/secrets/{s}": s for s in service.get("secrets", [])}
        replicas = int(service.get("deploy", {}).get("replicas", 1))
        long_running = service.get("restart", "no") != "no"
        out += [
            Process(name, words, env, files, replicas, long_running)
            for words in _compose_words(service)
        ]
    return out


# --- Kubernetes ----------------------------------------------------------------------------


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def k8s_processes(docs: list[dict[str, Any]]) -> list[Process]:
    configmaps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    out = []
    for doc in docs:
        if doc["kind"] not in {"Deployment", "StatefulSet", "Job", "CronJob"}:
            continue
        pod = _pod(doc)
        secret_volumes = {
            v["name"]: v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v
        }
        for c in pod["containers"]:
            if c.get("image") != "labcal-cloud":
                continue
            env: dict[str, str] = {}
            for source in c.get("envFrom", []):
                env.update(configmaps.get(source.get("configMapRef", {}).get("name"), {}))
            for var in c.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None:
                    # an optional key may be absent: the variable is then unset
                    env[var["name"]] = "" if ref.get("optional") else f"secret:{ref['name']}"
                else:
                    env[var["name"]] = var.get("value", "")
            files = {
                m["mountPath"]: secret_volumes[m["name"]]
                for m in c.get("volumeMounts", [])
                if m["name"] in secret_volumes
            }
            replicas = 1 if doc["kind"] in {"Job", "CronJob"} else int(doc["spec"]["replicas"])
            long_running = doc["kind"] in {"Deployment", "StatefulSet"}
            name = f"{doc['kind']}/{doc['metadata']['name']}"
            out.append(Process(name, list(c["args"]), env, files, replicas, long_running))
    return out


def k8s_docs() -> list[dict[str, Any]]:
    (kustomization,) = load_all(K8S_DIR / "kustomization.yaml")
    listed = set(kustomization["resources"])
    return [d for p, d in k8s_documents() if p.name in listed]


# --- the checks, shared by both deployments --------------------------------------------------


def runs(role: Role, processes: list[Process]) -> list[Process]:
    n = len(role.command)
    return [p for p in processes if tuple(p.words[:n]) == role.command]


def problems(deployment: str, processes: list[Process]) -> list[str]:
    """Every way the deployment's processes fall short of :data:`ROLES` (empty: none)."""
    found = []
    for role_name, role in ROLES.items():
        where = runs(role, processes)
        if not where:
            found.append(f"{role_name}: no process runs labcal-cloud {' '.join(role.command)}")
            continue
        replicas = sum(p.replicas for p in where)
        if replicas < role.replicas[deployment]:
            found.append(f"{role_name}: {replicas} replicas, wants {role.replicas[deployment]}")
        for p in where:
            if p.long_running == role.one_shot:
                kind = "a one-shot" if role.one_shot else "long-running"
                found.append(f"{role_name} ({p.name}) must be {kind}")
            for var in sorted(role.env):
                if var not in p.env:
                    found.append(f"{role_name} ({p.name}) lacks {var}")
                elif p.env[var] == "":
                    found.append(f"{role_name} ({p.name}): {var} may be empty")
            for var in sorted(role.files & set(p.env)):
                path = p.env[var]
                if not any(path.startswith(m.rstrip("/") + "/") or path == m for m in p.files):
                    found.append(f"{role_name} ({p.name}): {var}={path} is not a mounted secret")
    return found


def test_compose_runs_every_step_with_its_settings() -> None:
    processes = compose_processes(load_compose())
    assert problems("compose", processes) == []


def test_kubernetes_runs_every_step_with_its_settings() -> None:
    processes = k8s_processes(k8s_docs())
    assert problems("k8s", processes) == []


def test_compose_has_a_broker_the_ingest_connects_to() -> None:
    services = load_compose()["services"]
    brokers = {
        name
        for name, s in services.items()
        if str(s.get("image", "")).startswith(BROKER_IMAGES) and not s.get("profiles")
    }
    assert brokers, "no MQTT broker in the default compose profile"
    for p in runs(ROLES["ingest"], compose_processes(load_compose())):
        url = p.env["LABCAL_MQTT_URL"]
        host = re.sub(r"^mqtts?://([^:/]+).*$", r"\1", url)
        assert host in brokers, f"{p.name} connects to {url}, not to a broker of the stack"
        assert set(services[p.name]["depends_on"]) & brokers, f"{p.name} starts before the broker"


def test_compose_steps_start_after_the_migration() -> None:
    services = load_compose()["services"]
    (migrate,) = runs(ROLES["migrate"], compose_processes(load_compose()))
    for role_name, role in ROLES.items():
        if role.one_shot:
            continue
        for p in runs(role, compose_processes(load_compose())):
            dep = services[p.name].get("depends_on", {}).get(migrate.name, {})
            assert dep.get("condition") == "service_completed_successfully", role_name


# --- the checks can fail -------------------------------------------------------------------


@pytest.mark.parametrize("role_name", list(ROLES))
def test_a_missing_compose_step_is_reported(role_name: str) -> None:
    doc = copy.deepcopy(load_compose())
    for p in runs(ROLES[role_name], compose_processes(doc)):
        del doc["services"][p.name]
    assert any(
        m.startswith(f"{role_name}: no process")
        for m in problems("compose", compose_processes(doc))
    )


@pytest.mark.parametrize("role_name", list(ROLES))
def test_a_missing_k8s_step_is_reported(role_name: str) -> None:
    docs = copy.deepcopy(k8s_docs())
    names = {p.name for p in runs(ROLES[role_name], k8s_processes(docs))}
    docs = [d for d in docs if f"{d['kind']}/{d['metadata'].get('name')}" not in names]
    assert any(
        m.startswith(f"{role_name}: no process") for m in problems("k8s", k8s_processes(docs))
    )


@pytest.mark.parametrize(
    ("role_name", "var"),
    [(r, v) for r, role in ROLES.items() for v in sorted(role.env)],
)
def test_a_missing_variable_is_reported(role_name: str, var: str) -> None:
    for deployment, processes in (
        ("compose", compose_processes(load_compose())),
        ("k8s", k8s_processes(k8s_docs())),
    ):
        broken = [replace(p, env={k: v for k, v in p.env.items() if k != var}) for p in processes]
        assert f"{role_name} ({runs(ROLES[role_name], broken)[0].name}) lacks {var}" in problems(
            deployment, broken
        )


def test_an_unmounted_signing_key_and_too_few_replicas_are_reported() -> None:
    processes = k8s_processes(k8s_docs())
    unmounted = [replace(p, files={}, replicas=1) for p in processes]
    found = problems("k8s", unmounted)
    assert any("LABCAL_SIGNING_KEY=" in m and "not a mounted secret" in m for m in found)
    assert any(m.startswith("ingest: 1 replicas") for m in found)


def test_an_optional_secret_is_reported() -> None:
    doc = copy.deepcopy(load_compose())
    doc["services"]["api"]["environment"][LINK] = "${LABCAL_LINK_SECRET:-}"
    assert "api (api): LABCAL_LINK_SECRET may be empty" in problems(
        "compose", compose_processes(doc)
    )
    docs = copy.deepcopy(k8s_docs())
    for p in docs:
        if p["kind"] == "Deployment" and p["metadata"]["name"] == "labcal-pipeline":
            for var in _pod(p)["containers"][0]["env"]:
                if var["name"] == LINK:
                    var["valueFrom"]["secretKeyRef"]["optional"] = True
    assert "pipeline (Deployment/labcal-pipeline): LABCAL_LINK_SECRET may be empty" in problems(
        "k8s", k8s_processes(docs)
    )


# --- systemd: one machine, every step in one supervised set ---------------------------------

UNIT = DEPLOY / "systemd" / "labcal.service"


def _directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith(("#", ";", "[")):
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_single_lab_unit_runs_every_step_in_one_serve() -> None:
    assert UNIT.is_file(), f"{UNIT.relative_to(DEPLOY.parent)} is missing"
    unit = _directives(UNIT.read_text(encoding="utf-8"))
    (start,) = unit["ExecStart"]
    words = split_command(start)
    assert Path(words[0]).name == "labcal-cloud"
    assert words[1:2] == ["serve"], "the single-lab unit runs `labcal-cloud serve` (every step)"
    data_dir = words[words.index("--data-dir") + 1]
    assert unit["StateDirectory"] == ["labcal"]
    assert data_dir == "/var/lib/labcal"
    assert unit["User"] == ["labcal"]
    assert unit["KillSignal"] == ["SIGTERM"]
    assert unit["Restart"] in (["on-failure"], ["always"])
