"""deploy/k8s: every manifest valid against the Kubernetes schemas (kubernetes-validate ships
them), a Deployment per role with the probes and replica rules the README promises."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
VERSION = "1.33.0"


def documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def by_component(kind: str) -> dict[str, dict]:
    return {
        doc["metadata"]["labels"]["app.kubernetes.io/component"]: doc
        for _, doc in documents()
        if doc["kind"] == kind
    }


@pytest.mark.parametrize(
    ("name", "doc"), documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_manifest_is_valid_against_the_schemas(name, doc):
    kubernetes_validate.validate(doc, VERSION, strict=True)


def test_a_broken_manifest_is_caught():
    _, web = next(d for d in documents() if d[1]["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(web))
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSION, strict=True)


def container(deployment: dict) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def test_a_deployment_per_role_and_exactly_one_beat():
    deployments = by_component("Deployment")
    assert set(deployments) == {"web", "live", "worker", "beat"}
    beat = deployments["beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert "beat" in container(beat)["command"]
    for role in ("web", "worker"):
        assert "beat" not in container(deployments[role])["command"]
        assert "-B" not in container(deployments[role])["command"]
    assert "worker" in container(deployments["worker"])["command"]


def test_web_probes_use_healthz_and_readyz_and_a_service_selects_it():
    web = by_component("Deployment")["web"]
    spec = container(web)
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    service = by_component("Service")["web"]
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]
    assert web["spec"]["template"]["metadata"]["labels"] == web["spec"]["selector"]["matchLabels"]


def test_config_and_secrets_are_references():
    names = {
        doc["kind"]: doc["metadata"]["name"]
        for _, doc in documents()
        if doc["kind"] in ("ConfigMap", "Secret")
    }
    for role, deployment in by_component("Deployment").items():
        refs = container(deployment)["envFrom"]
        assert {"configMapRef": {"name": names["ConfigMap"]}} in refs, role
        assert {"secretRef": {"name": names["Secret"]}} in refs, role
        env = {e["name"] for e in container(deployment).get("env", [])}
        assert not env & {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN"}, role
    config = next(doc for _, doc in documents() if doc["kind"] == "ConfigMap")
    assert not set(config["data"]) & {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN"}


def test_commands_match_the_compose_file():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    deployments = by_component("Deployment")
    assert container(deployments["web"])["command"] == compose["web"]["command"]
    assert container(deployments["worker"])["command"] == compose["worker"]["command"]
    assert container(deployments["live"])["command"] == compose["live"]["command"]


def test_the_stream_path_reaches_the_live_service():
    from django.conf import settings

    ingress = by_component("Ingress")["live"]
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == (settings.LIVE_STREAM_PATH, "Exact")
    service = by_component("Service")["live"]
    assert path["backend"]["service"]["name"] == service["metadata"]["name"]
    live = by_component("Deployment")["live"]
    assert service["spec"]["selector"] == live["spec"]["selector"]["matchLabels"]
    assert (
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    )
