"""The Helm chart with the real `helm` against the real apiserver: lint, schema, both RBAC
modes accepted by the server, install / upgrade / uninstall, and the ServiceAccount's
permissions proven with `kubectl auth can-i`.

kwok fakes the operator's pods (the image is never pulled or run): the chart's objects are
what is tested here; tests/e2e/test_helm_rbac_rollout.py runs the operator as its identity.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from airollout.core.decision_log_layout import part_labels
from airollout.core.resource.crd import GROUP, PLURAL, VERSION

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "airollout"
SERVICE_ACCOUNT = "airollout"


def run(argv: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A tool of the session's cluster (on PATH, with $KUBECONFIG pointing at it)."""
    return subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return run(["helm", *args])


def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run(["kubectl", *args], stdin)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}: {result.stderr}{result.stdout}"
    return result.stdout


def namespaced_values(*namespaces: str) -> list[str]:
    return [
        "--set",
        "rbac.scope=namespaces",
        "--set",
        f"watchNamespaces={{{','.join(namespaces)}}}",
    ]


def render(release: str, namespace: str, *values: str) -> list[dict[str, Any]]:
    text = ok(helm("template", release, str(CHART), "-n", namespace, *values))
    return [doc for doc in yaml.safe_load_all(text) if doc]


def release_name() -> str:
    return f"air-{secrets.token_hex(3)}"


@pytest.fixture
def other_namespaces(kube_api: client.ApiClient) -> Iterator[list[str]]:
    """Two more namespaces: the watched ones in namespaced mode, apart from the release's."""
    core = client.CoreV1Api(kube_api)
    names = [f"t-helm-watched-{secrets.token_hex(3)}" for _ in range(2)]
    for name in names:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield names
    for name in names:
        core.delete_namespace(name)


@pytest.fixture
def installed(crd_installed: Path, namespace: str) -> Iterator[Callable[..., str]]:
    """`installed(release, *values)` runs `helm install`; every release is uninstalled after."""
    releases: list[str] = []

    def install(release: str, *values: str) -> str:
        out = ok(helm("install", release, str(CHART), "-n", namespace, *values))
        releases.append(release)
        return out

    yield install
    for release in releases:
        helm("uninstall", release, "-n", namespace)


def test_helm_lint_passes_in_both_modes(cluster: Any) -> None:
    ok(helm("lint", "--strict", str(CHART)))
    ok(helm("lint", "--strict", str(CHART), *namespaced_values("shop", "payments")))


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (["--set", "replicaCount=-1"], "/replicaCount"),
        (["--set", "rbac.scope=everywhere"], "/rbac/scope"),
        (["--set", "rbac.scope=namespaces"], "/watchNamespaces"),
        (["--set", "image.pullPolicy=Sometimes"], "/image/pullPolicy"),
        (["--set", "imagee.tag=2"], "'imagee'"),
        (["--set", "replicaCount=2", "--set", "leaderElection.enabled=false"], "leaderElection"),
    ],
)
def test_a_wrong_value_is_refused_with_a_message_naming_it(
    cluster: Any, values: list[str], named: str
) -> None:
    refused = helm("template", "r", str(CHART), *values)

    assert refused.returncode != 0
    assert named in refused.stderr


def test_a_service_monitor_is_rendered_only_when_asked(cluster: Any) -> None:
    kinds = [doc["kind"] for doc in render("r", "ops")]
    asked = [doc["kind"] for doc in render("r", "ops", "--set", "serviceMonitor.enabled=true")]

    assert "ServiceMonitor" not in kinds
    assert "ServiceMonitor" in asked
    assert {"Deployment", "ServiceAccount", "Service", "PodDisruptionBudget"} <= set(kinds)


def dry_run(documents: list[dict[str, Any]]) -> str:
    stream = "\n---\n".join(json.dumps(doc) for doc in documents)
    return ok(kubectl("apply", "--dry-run=server", "-f", "-", stdin=stream))


def test_the_apiserver_accepts_what_cluster_mode_renders(
    crd_installed: Path, namespace: str
) -> None:
    documents = render(release_name(), namespace)

    applied = dry_run(documents)

    assert "clusterrole.rbac.authorization.k8s.io" in applied
    deployment = next(doc for doc in documents if doc["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--leader-elect" in args
    assert not [arg for arg in args if arg.startswith("--namespace")], "cluster mode: all"


def test_namespaced_mode_renders_a_role_per_namespace_and_nothing_cluster_wide(
    crd_installed: Path, namespace: str, other_namespaces: list[str]
) -> None:
    documents = render(release_name(), namespace, *namespaced_values(*other_namespaces))

    dry_run(documents)

    kinds = {doc["kind"] for doc in documents}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    roles = {doc["metadata"]["namespace"] for doc in documents if doc["kind"] == "Role"}
    assert roles == {*other_namespaces, namespace}, "one per watched namespace, one for the Lease"
    deployment = next(doc for doc in documents if doc["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert [a for a in args if a.startswith("--namespace=")] == [
        f"--namespace={name}" for name in other_namespaces
    ]


def decision_log_part(core: client.CoreV1Api, namespace: str) -> str:
    name = "web-v2-decisions"
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=name, labels=part_labels("web-v2", "uid-1", 0)),
            data={"g1-s0-w1.json": "{}"},
        ),
    )
    return name


def operator_args(apps: client.AppsV1Api, namespace: str, release: str) -> list[str]:
    deployment = apps.read_namespaced_deployment(f"{release}-airollout", namespace)
    return list(deployment.spec.template.spec.containers[0].args)


def test_install_upgrade_and_uninstall_keep_the_crd_and_the_decision_logs(
    crd_installed: Path, namespace: str, kube_api: client.ApiClient, installed: Any
) -> None:
    core, apps = client.CoreV1Api(kube_api), client.AppsV1Api(kube_api)
    release = release_name()
    notes = installed(release, "--set", "operator.tick=1")
    assert "kubectl airollout status" in notes, "NOTES.txt says what to do next"
    assert "--tick=1" in operator_args(apps, namespace, release)
    log_part = decision_log_part(core, namespace)

    ok(helm("upgrade", release, str(CHART), "-n", namespace, "--set", "operator.tick=2"))

    assert "--tick=2" in operator_args(apps, namespace, release)
    history = json.loads(ok(helm("history", release, "-n", namespace, "-o", "json")))
    assert [entry["revision"] for entry in history] == [1, 2]

    ok(helm("uninstall", release, "-n", namespace))

    assert not apps.list_namespaced_deployment(namespace).items
    assert (
        not client.RbacAuthorizationV1Api(kube_api)
        .list_cluster_role(label_selector=f"app.kubernetes.io/instance={release}")
        .items
    )
    crd = client.ApiextensionsV1Api(kube_api).read_custom_resource_definition(f"{PLURAL}.{GROUP}")
    assert crd.spec.group == GROUP
    assert core.read_namespaced_config_map(log_part, namespace).data == {"g1-s0-w1.json": "{}"}


def can_i(namespace: str, verb: str, resource: str, where: Sequence[str]) -> bool:
    """`kubectl auth can-i` as the chart's ServiceAccount (exit 0 yes, 1 no)."""
    subject = f"system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"
    answer = kubectl("auth", "can-i", verb, resource, "--as", subject, *where)
    assert answer.returncode in (0, 1), answer.stderr
    return answer.returncode == 0


# What the operator does in a namespace it watches (README "Permissions").
NEEDED = [
    *[(verb, f"airollouts.{GROUP}") for verb in ("get", "list", "watch", "patch")],
    ("patch", f"airollouts.{GROUP}/status"),
    *[
        (verb, "deployments.apps")
        for verb in ("get", "list", "watch", "create", "patch", "update", "delete")
    ],
    *[(verb, "configmaps") for verb in ("get", "list", "create", "patch", "delete")],
    *[(verb, "events") for verb in ("get", "create", "patch")],
    *[(verb, "jobs.batch") for verb in ("get", "create")],
    *[(verb, "pods") for verb in ("list", "watch")],
    ("get", "secrets/llm-key"),
]
# What it must never do where it watches.
FORBIDDEN = [
    ("list", "secrets"),
    ("watch", "secrets"),
    ("get", "secrets/someone-elses"),
    ("create", "pods/exec"),
    ("delete", "pods"),
    ("update", f"airollouts.{GROUP}"),
    ("create", "serviceaccounts/token"),
]


def assert_permissions(watched: str, lease_namespace: str) -> None:
    where = ["-n", watched]
    missing = [need for need in NEEDED if not can_i(lease_namespace, *need, where)]
    granted = [bad for bad in FORBIDDEN if can_i(lease_namespace, *bad, where)]
    assert missing == [], "the operator needs these"
    assert granted == [], "the operator must not have these"
    lease = ["-n", lease_namespace]
    assert can_i(lease_namespace, "create", "leases.coordination.k8s.io", lease)
    for verb in ("get", "update"):
        assert can_i(lease_namespace, verb, "leases.coordination.k8s.io/airollout-operator", lease)
    assert not can_i(lease_namespace, "update", "leases.coordination.k8s.io/kube-scheduler", lease)
    assert not can_i(lease_namespace, "create", "leases.coordination.k8s.io", where)
    assert not can_i(lease_namespace, "list", "secrets", ["--all-namespaces"])


def test_cluster_mode_grants_what_the_operator_needs_and_nothing_more(
    crd_installed: Path, namespace: str, other_namespaces: list[str], installed: Any
) -> None:
    installed(release_name(), "--set", "llm.apiKeySecrets={llm-key}")

    for watched in other_namespaces:
        assert_permissions(watched, namespace)
    subject = ["-A"]
    assert can_i(namespace, "watch", "deployments.apps", subject), "the Deployment cache"
    assert can_i(namespace, "list", f"airollouts.{GROUP}", subject)
    assert not can_i(namespace, "delete", "namespaces", [])


def test_namespaced_mode_grants_nothing_outside_the_watched_namespaces(
    crd_installed: Path, namespace: str, other_namespaces: list[str], installed: Any
) -> None:
    watched, unwatched = other_namespaces
    installed(release_name(), *namespaced_values(watched), "--set", "llm.apiKeySecrets={llm-key}")

    assert_permissions(watched, namespace)
    elsewhere = ["-n", unwatched]
    for verb in ("get", "list", "watch", "create", "patch", "delete"):
        assert not can_i(namespace, verb, "deployments.apps", elsewhere)
    assert not can_i(namespace, "list", f"airollouts.{GROUP}", elsewhere)
    assert not can_i(namespace, "list", f"airollouts.{GROUP}", ["-A"])
    assert not can_i(namespace, "get", "secrets/llm-key", elsewhere)


def test_kubectl_airollout_status_runs_the_cli_as_a_kubectl_plugin(
    crd_installed: Path, namespace: str, kube_api: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(kube_api)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AIRollout",
        "metadata": {"name": "web-v2", "namespace": namespace},
        "spec": {"targetRef": {"name": "web"}, "template": {"image": "registry.example/web:2"}},
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    status = {"status": {"phase": "Progressing", "weight": 25, "slice": 1}}
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "web-v2", status
    )
    venv_bin = Path(sys.executable).parent
    assert (venv_bin / "kubectl-airollout").exists(), "run `make install` for the entry point"
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}"}

    plugins = subprocess.run(
        ["kubectl", "plugin", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    shown = subprocess.run(
        ["kubectl", "airollout", "status", "web-v2", "-n", namespace],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "kubectl-airollout" in plugins.stdout
    assert shown.returncode == 0, shown.stderr
    assert "web-v2" in shown.stdout
    assert "Progressing" in shown.stdout
    assert "25" in shown.stdout
