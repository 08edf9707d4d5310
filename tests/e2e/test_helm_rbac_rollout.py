"""A whole rollout with the operator authenticating as the Helm chart's ServiceAccount.

The chart is installed with the real `helm`; a token for its ServiceAccount comes from the
TokenRequest API (`kubectl create token`); `airollout operator` runs as a local process with
a kubeconfig holding only that token, under leader election in the release namespace. If
the chart's RBAC lacked anything the operator uses, the rollout would not succeed.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from localcluster.ports import free_loopback_ports
from tests.e2e.operator_harness import (
    AIROLLOUT,
    NEW_IMAGE,
    Process,
    create_rollout,
    create_target,
    decision_log,
    deployment_or_none,
    rollout_events,
    rollout_manifest,
    status_of,
)

pytestmark = pytest.mark.e2e

CHART = Path(__file__).resolve().parents[2] / "charts" / "airollout"
FINISHED = {"Succeeded", "RolledBack", "Failed"}
ROLLOUT_SECONDS = 240.0
LEASE = "airollout-operator"


def ok(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


@pytest.fixture
def release_namespace(kube_api: client.ApiClient) -> Iterator[str]:
    """Where the chart goes: apart from the namespace the rollout runs in."""
    core = client.CoreV1Api(kube_api)
    name = f"t-helm-ops-{secrets.token_hex(3)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def chart(crd_installed: Path, release_namespace: str) -> Iterator[Callable[..., None]]:
    """`chart(*values)`: `helm install` into the release namespace, uninstalled afterwards."""
    release = f"air-{secrets.token_hex(3)}"

    def install(*values: str) -> None:
        ok(["helm", "install", release, str(CHART), "-n", release_namespace, *values])

    yield install
    subprocess.run(["helm", "uninstall", release, "-n", release_namespace], timeout=120)


def service_account_kubeconfig(admin_kubeconfig: Path, namespace: str, path: Path) -> Path:
    """The admin kubeconfig's cluster, with a TokenRequest token of the chart's account."""
    token = ok(["kubectl", "create", "token", "airollout", "-n", namespace, "--duration=1h"])
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    cluster = admin["clusters"][0]
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "airollout", "user": {"token": token.strip()}}],
        "contexts": [{"name": "sa", "context": {"cluster": cluster["name"], "user": "airollout"}}],
        "current-context": "sa",
    }
    path.write_text(yaml.safe_dump(document))
    path.chmod(0o600)
    return path


def operator_as(kubeconfig: Path, release_namespace: str, log_dir: Path, *flags: str) -> Process:
    port, health_port = free_loopback_ports(2)
    argv = [*AIROLLOUT, "operator", "--kubeconfig", str(kubeconfig), "--tick", "0.5"]
    argv += ["--metrics-port", str(port), "--metrics-address", "127.0.0.1"]
    argv += ["--health-port", str(health_port), "--health-address", "127.0.0.1"]
    argv += ["--leader-elect", "--leader-elect-namespace", release_namespace]
    argv += ["--leader-elect-id", LEASE, *flags]
    # Only the token's identity: nothing of the admin's may leak in through the environment.
    env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    return Process("operator-as-serviceaccount", argv, log_dir, env).start()


def finished(api: client.ApiClient, namespace: str, name: str) -> Callable[[], Any]:
    def check() -> dict[str, Any] | None:
        status = status_of(api, namespace, name)
        return status if status.get("phase") in FINISHED and not status.get("awaiting") else None

    return check


@pytest.mark.parametrize("scope", ["cluster", "namespaces"])
def test_a_rollout_succeeds_with_the_operator_running_as_the_charts_service_account(
    scope: str,
    cluster: Any,
    kube_api: client.ApiClient,
    namespace: str,
    release_namespace: str,
    chart: Callable[..., None],
    workload: Any,
    processes: list[Process],
    tmp_path: Path,
    eventually: Any,
) -> None:
    values = ["--set", "replicaCount=1", "--set", "podDisruptionBudget.enabled=false"]
    flags: list[str] = []
    if scope == "namespaces":
        values += ["--set", "rbac.scope=namespaces", "--set", f"watchNamespaces={{{namespace}}}"]
        flags = ["--namespace", namespace]
    chart(*values)
    kubeconfig = service_account_kubeconfig(
        cluster.kubeconfig, release_namespace, tmp_path / "sa.kubeconfig"
    )
    prometheus = cluster.require_prometheus()
    processes.append(
        operator_as(kubeconfig, release_namespace, tmp_path, "--prometheus-url", prometheus, *flags)
    )
    create_target(kube_api, namespace)
    workload("steady-twins")
    create_rollout(kube_api, namespace, rollout_manifest("web-v2"))

    status = eventually(finished(kube_api, namespace, "web-v2"), ROLLOUT_SECONDS, "the end")

    assert status["phase"] == "Succeeded", status["message"]
    web = deployment_or_none(kube_api, namespace, "web")
    assert web.spec.template.spec.containers[0].image == NEW_IMAGE
    assert deployment_or_none(kube_api, namespace, "web-canary") is None
    assert set(decision_log(kube_api, namespace, "web-v2")) == {
        d["key"] for d in status["decisions"]
    }, "the decision log (configmaps) was written as the ServiceAccount"
    assert "Succeeded" in [e.reason for e in rollout_events(kube_api, namespace, "web-v2")]
    lease = client.CoordinationV1Api(kube_api).read_namespaced_lease(LEASE, release_namespace)
    assert lease.spec.holder_identity, "the Lease was taken as the ServiceAccount"
    log = processes[-1].log_tail(2000)
    # An HTTP 403 stands alone; the same digits inside a logged number (0.8327340399) do not.
    forbidden = re.findall(r"(?<![\w.])403(?![\w.])", log.replace("Not enough permissions", ""))
    assert forbidden == [], log
