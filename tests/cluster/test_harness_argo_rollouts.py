"""The real Argo Rollouts controller, built and started by the harness, reconciles a canary
Rollout on the local cluster: kwok runs its pods, so every step completes."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from airollout_tools.bench.scale.settings import IMAGE, NEW_IMAGE
from airollout_tools.bench.scale.workloads import pause_deployment
from tests.support.argo_rollouts import ArgoRolloutsAccess, argo_rollouts_running

pytestmark = [pytest.mark.cluster, pytest.mark.harness]

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "rollouts"
HASH_LABEL = "rollouts-pod-template-hash"
REPLICAS = 4
CANARY_WEIGHT = 50
HEALTHY_SECONDS = 90.0


@pytest.fixture(scope="module")
def argo(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArgoRolloutsAccess]:
    with argo_rollouts_running(cluster, tmp_path_factory.mktemp("argo-rollouts")) as running:
        yield running


def canary_rollout(name: str, image: str) -> dict[str, Any]:
    """The Deployment the tests use, as a Rollout: an update goes to `CANARY_WEIGHT` % for
    two seconds, then all the way."""
    steps = [{"setWeight": CANARY_WEIGHT}, {"pause": {"duration": "2s"}}]
    spec = {
        **pause_deployment(name, REPLICAS, image)["spec"],
        "strategy": {"canary": {"steps": steps}},
    }
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": spec,
    }


class _Observer:
    """Reads the Rollout and its ReplicaSets, and keeps every replica split it saw."""

    def __init__(self, kube_api: client.ApiClient, namespace: str, name: str) -> None:
        self.custom, self.apps = client.CustomObjectsApi(kube_api), client.AppsV1Api(kube_api)
        self.namespace, self.name = namespace, name
        self.splits: set[tuple[str, int, str, int]] = set()

    def status(self) -> dict[str, Any]:
        rollout: Any = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, self.name
        )
        status: dict[str, Any] = rollout.get("status") or {}
        return status

    def replicas_by_hash(self) -> dict[str, int]:
        sets = self.apps.list_namespaced_replica_set(
            self.namespace, label_selector=f"app={self.name}"
        )
        return {_pod_hash(rs): rs.spec.replicas or 0 for rs in sets.items if rs.spec}

    def healthy_at(self, pod_hash: str) -> bool:
        """True once the Rollout is Healthy with `pod_hash` stable; records the split."""
        status, replicas = self.status(), self.replicas_by_hash()
        stable, current = status.get("stableRS", ""), status.get("currentPodHash", "")
        self.splits.add((current, replicas.get(current, 0), stable, replicas.get(stable, 0)))
        return status.get("phase") == "Healthy" and stable == pod_hash == current


def _pod_hash(replica_set: client.V1ReplicaSet) -> str:
    labels = (replica_set.metadata and replica_set.metadata.labels) or {}
    return labels.get(HASH_LABEL, "")


def _metrics(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def test_a_canary_rollout_splits_its_replicas_at_50_percent_then_promotes_the_new_hash(
    argo: ArgoRolloutsAccess, kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    observer = _Observer(kube_api, namespace, "web")
    observer.custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, canary_rollout("web", IMAGE)
    )
    first = eventually(lambda: observer.status().get("currentPodHash"), 30, "a pod hash")
    eventually(lambda: observer.healthy_at(first), HEALTHY_SECONDS, f"Healthy at {first}")

    patch = {"spec": canary_rollout("web", NEW_IMAGE)["spec"]}
    observer.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "web", patch)
    second = eventually(
        lambda: {observer.status().get("currentPodHash")} - {first, None}, 30, "a new pod hash"
    ).pop()
    observer.splits.clear()
    eventually(lambda: observer.healthy_at(second), HEALTHY_SECONDS, f"Healthy at {second}")

    half = REPLICAS * CANARY_WEIGHT // 100
    assert (second, half, first, REPLICAS - half) in observer.splits, observer.splits
    assert observer.replicas_by_hash() == {first: 0, second: REPLICAS}
    if argo.metrics_url is not None:
        url = argo.metrics_url
        available = f'rollout_info_replicas_available{{name="web",namespace="{namespace}"}}'
        sample = f"{available} {REPLICAS}\n"
        eventually(lambda: sample in _metrics(url), 10, f"{sample.strip()} in {url}")
