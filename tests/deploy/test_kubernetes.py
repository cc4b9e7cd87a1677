"""deploy/k8s: every manifest against the Kubernetes OpenAPI schemas shipped by the
kubernetes-validate package (offline, strict: unknown fields are errors), plus the cross-references
a schema cannot see (selectors, Secrets and keys, probes, resources, the real CLI options)."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest

from .deploy_files import K8S_DIR, check_cloud_args, k8s_documents, load_all

VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job", "CronJob"}
BATCH_KINDS = {"Job", "CronJob"}


def _docs(kind: str | None = None) -> list[dict[str, Any]]:
    return [d for _, d in k8s_documents() if kind is None or d["kind"] == kind]


def _named(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in _docs(kind) if d["metadata"]["name"] == name]
    return doc


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = _pod(doc)["containers"]
    return containers


def _ids() -> list[str]:
    return [f"{p.name}:{d['kind']}/{d['metadata']['name']}" for p, d in k8s_documents()]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("doc", [d for _, d in k8s_documents()], ids=_ids())
def test_manifest_is_valid_for_kubernetes(doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_an_unknown_field() -> None:
    doc = copy.deepcopy(_named("Deployment", "labcal-api"))
    doc["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)


def test_the_validator_rejects_a_wrong_type() -> None:
    doc = copy.deepcopy(_named("Deployment", "labcal-api"))
    _containers(doc)[0]["ports"][0]["containerPort"] = "eight thousand"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    (kustomization,) = load_all(K8S_DIR / "kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {"secret.example.yaml"}
    images = {i["name"] for i in kustomization["images"]}
    for doc in _docs():
        if doc["kind"] in WORKLOAD_KINDS:
            assert {c["image"] for c in _containers(doc)} <= images


def test_the_cloud_is_all_there_with_replicas() -> None:
    assert _named("Deployment", "labcal-api")["spec"]["replicas"] == 2
    assert _named("StatefulSet", "labcal-ingest")["spec"]["replicas"] == 2
    assert _named("Deployment", "labcal-scheduler")["spec"]["replicas"] >= 2
    job = _named("Job", "labcal-migrate")
    assert _containers(job)[0]["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    pipeline = _named("Deployment", "labcal-pipeline")
    assert _containers(pipeline)[0]["args"] == ["pipeline", "run"]
    assert pipeline["spec"]["replicas"] >= 1
    # the pipeline replaced the engine's batch CronJobs (records, due, forecast)
    assert [d["metadata"]["name"] for d in _docs("CronJob")] == []


def test_long_running_containers_have_probes_and_resources() -> None:
    for doc in _docs():
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        for c in _containers(doc):
            resources = c["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), c["name"]
            assert {"cpu", "memory"} <= set(resources["limits"]), c["name"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            if doc["kind"] in BATCH_KINDS:
                continue
            assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", c["name"]
            assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", c["name"]
            ports = {p["name"] for p in c["ports"]}
            assert c["livenessProbe"]["httpGet"]["port"] in ports
            assert c["readinessProbe"]["httpGet"]["port"] in ports


def _matches(selector: dict[str, str], doc: dict[str, Any]) -> bool:
    labels = doc["spec"]["template"]["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in selector.items())


def test_services_and_budgets_select_a_workload() -> None:
    workloads = [d for d in _docs() if d["kind"] in {"Deployment", "StatefulSet"}]
    for svc in _docs("Service"):
        (target,) = [w for w in workloads if _matches(svc["spec"]["selector"], w)]
        names = {p["name"] for c in _containers(target) for p in c.get("ports", [])}
        for port in svc["spec"]["ports"]:
            assert port["targetPort"] in names, f"{svc['metadata']['name']}: {port}"
    for pdb in _docs("PodDisruptionBudget"):
        selector = pdb["spec"]["selector"]["matchLabels"]
        (target,) = [w for w in workloads if _matches(selector, w)]
        assert target["spec"]["replicas"] >= 2, "a PDB on a single replica blocks node drains"
    for w in workloads:
        assert _matches(w["spec"]["selector"]["matchLabels"], w)
    ingest = _named("StatefulSet", "labcal-ingest")
    assert _named("Service", ingest["spec"]["serviceName"])["spec"]["clusterIP"] == "None"


def test_secret_and_configmap_references_exist() -> None:
    examples = load_all(K8S_DIR / "secret.example.yaml")
    secrets = {d["metadata"]["name"]: set(d["stringData"]) for d in examples}
    configmaps = {d["metadata"]["name"]: set(d["data"]) for d in _docs("ConfigMap")}
    for doc in _docs():
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        pod = _pod(doc)
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets
        for c in pod["containers"]:
            for source in c.get("envFrom", []):
                assert source["configMapRef"]["name"] in configmaps
            for var in c.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]], f"{ref}"


def test_container_args_parse_with_the_real_cli() -> None:
    configmap = _named("ConfigMap", "labcal-config")["data"]
    for doc in _docs():
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        for c in _containers(doc):
            env = {**configmap, "POD_NAME": "pod-0"}
            args = [_expand(a, env) for a in c["args"]]
            check_cloud_args(args)


def _expand(arg: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion in container args."""
    for name, value in env.items():
        arg = arg.replace(f"$({name})", value)
    assert "$(" not in arg, f"undefined variable in {arg!r}"
    return arg


# --- the EMQX overlay (deploy/k8s/emqx): fleet scale ----------------------------------------

EMQX_DIR = K8S_DIR / "emqx"


def _emqx_docs() -> list[dict[str, Any]]:
    return load_all(EMQX_DIR / "emqx.yaml")


@pytest.mark.parametrize("version", VERSIONS)
def test_emqx_overlay_manifests_are_valid_for_kubernetes(version: str) -> None:
    docs = _emqx_docs() + load_all(EMQX_DIR / "secret.example.yaml")
    assert {d["kind"] for d in docs} >= {"StatefulSet", "Service", "PodDisruptionBudget"}
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_emqx_overlay_builds_on_the_base_and_serves_its_broker_url() -> None:
    (kustomization,) = load_all(EMQX_DIR / "kustomization.yaml")
    assert kustomization["resources"] == ["..", "emqx.yaml"]
    assert kustomization["namespace"] == load_all(K8S_DIR / "kustomization.yaml")[0]["namespace"]
    url = _named("ConfigMap", "labcal-config")["data"]["LABCAL_MQTT_URL"]
    host, port = url.removeprefix("mqtts://").split(":")
    service_name, namespace = host.split(".")[:2]
    assert namespace == kustomization["namespace"]
    services = {d["metadata"]["name"]: d for d in _emqx_docs() if d["kind"] == "Service"}
    (broker,) = [d for d in _emqx_docs() if d["kind"] == "StatefulSet"]
    client = services[service_name]
    assert _matches(client["spec"]["selector"], broker)
    ports = {p["name"]: p["containerPort"] for p in _containers(broker)[0]["ports"]}
    (mqtts,) = [p for p in client["spec"]["ports"] if p["port"] == int(port)]
    assert ports[mqtts["targetPort"]] == int(port)
    headless = services[broker["spec"]["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    assert broker["spec"]["replicas"] >= 3, "a cluster survives the loss of one node"


def test_emqx_overlay_references_exist_and_deny_by_default() -> None:
    secrets = {
        d["metadata"]["name"]: set(d["stringData"])
        for d in load_all(EMQX_DIR / "secret.example.yaml")
    }
    (broker,) = [d for d in _emqx_docs() if d["kind"] == "StatefulSet"]
    pod = _pod(broker)
    (container,) = pod["containers"]
    env = {v["name"]: v for v in container["env"]}
    for var in env.values():
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["key"] in secrets[ref["name"]], ref
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    (tls,) = [v for v in pod["volumes"] if v["name"] == "tls"]
    for name, var in env.items():
        if name.startswith("EMQX_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__"):
            directory, file = var["value"].rsplit("/", 1)
            assert directory == mounts["tls"]
            assert file in secrets[tls["secret"]["secretName"]], file
    assert env["EMQX_AUTHORIZATION__NO_MATCH"]["value"] == "deny"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
