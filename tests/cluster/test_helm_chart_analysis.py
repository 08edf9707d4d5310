"""The chart's analysis endpoint values with the real `helm` and apiserver: the token's
Secret (generated once, kept by upgrades, or the user's own), the port, the arguments."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

pytestmark = pytest.mark.cluster

CHART = Path(__file__).resolve().parents[2] / "charts" / "airollout"
ENABLED = ("--set", "analysis.enabled=true")


def helm(*args: str) -> str:
    result = subprocess.run(
        ["helm", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stderr}{result.stdout}"
    return result.stdout


@pytest.fixture
def release(crd_installed: Path, namespace: str) -> Iterator[str]:
    name = f"air-{secrets.token_hex(3)}"
    yield name
    subprocess.run(["helm", "uninstall", name, "-n", namespace], capture_output=True, check=False)


def _container(apps: client.AppsV1Api, namespace: str, release: str) -> Any:
    (deployment,) = apps.list_namespaced_deployment(
        namespace, label_selector=f"app.kubernetes.io/instance={release}"
    ).items
    return deployment.spec.template.spec.containers[0]


def test_a_generated_token_survives_an_upgrade_and_reaches_the_operator(
    release: str, namespace: str, kube_api: client.ApiClient
) -> None:
    core, apps = client.CoreV1Api(kube_api), client.AppsV1Api(kube_api)
    notes = helm("install", release, str(CHART), "-n", namespace, *ENABLED)
    secret_name = f"{release}-airollout-analysis"
    assert f"Secret {namespace}/{secret_name}" in notes
    token = core.read_namespaced_secret(secret_name, namespace).data["token"]
    assert token

    helm("upgrade", release, str(CHART), "-n", namespace, *ENABLED, "--set", "operator.tick=2")

    assert core.read_namespaced_secret(secret_name, namespace).data["token"] == token
    container = _container(apps, namespace, release)
    assert "--analysis-port=8090" in container.args
    assert {(port.name, port.container_port) for port in container.ports} >= {("analysis", 8090)}
    (env,) = [e for e in container.env if e.name == "AIROLLOUT_ANALYSIS_TOKEN"]
    assert (env.value_from.secret_key_ref.name, env.value_from.secret_key_ref.key) == (
        secret_name,
        "token",
    )
    (service,) = core.list_namespaced_service(
        namespace, label_selector=f"app.kubernetes.io/instance={release}"
    ).items
    assert ("analysis", 8090) in {(port.name, port.port) for port in service.spec.ports}


def test_an_existing_secret_is_used_and_none_is_generated() -> None:
    text = helm(
        "template",
        "air",
        str(CHART),
        "-n",
        "ops",
        *ENABLED,
        "--set",
        "analysis.existingSecret=my-token",
    )
    documents = [doc for doc in yaml.safe_load_all(text) if doc]
    assert not [doc for doc in documents if doc["kind"] == "Secret"]
    (deployment,) = [doc for doc in documents if doc["kind"] == "Deployment"]
    (env,) = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "my-token", "key": "token"}


def test_off_by_default_with_no_port_no_secret_and_no_flag() -> None:
    text = helm("template", "air", str(CHART), "-n", "ops")
    assert "analysis" not in text.replace("analysis.enabled", "")
