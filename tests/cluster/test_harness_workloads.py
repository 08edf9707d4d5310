"""The control plane really schedules and runs workloads: kwok plays the pods' kubelet."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from airollout_tools.bench.scale.workloads import pause_deployment

pytestmark = [pytest.mark.cluster, pytest.mark.harness]

READY_SECONDS = 60.0


def _pods(core: client.CoreV1Api, namespace: str, app: str) -> list[client.V1Pod]:
    return core.list_namespaced_pod(namespace, label_selector=f"app={app}").items


def test_deployment_of_three_becomes_ready_on_the_fake_node_and_scales_down_to_one(
    kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    apps.create_namespaced_deployment(namespace, pause_deployment("web", 3))

    def ready_replicas() -> int:
        status = apps.read_namespaced_deployment_status("web", namespace).status
        return status.ready_replicas or 0

    eventually(lambda: ready_replicas() == 3, READY_SECONDS, "3/3 ready replicas")
    pods = _pods(core, namespace, "web")
    assert len(pods) == 3
    assert {pod.status.phase for pod in pods} == {"Running"}
    assert all(pod.spec.node_name and pod.spec.node_name.startswith("kwok-node-") for pod in pods)
    assert all(pod.status.pod_ip for pod in pods), "kwok gives every running pod an IP"

    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 1}})
    # kwok finalizes deleted pods itself, so the surplus pods disappear entirely.
    eventually(lambda: len(_pods(core, namespace, "web")) == 1, READY_SECONDS, "one pod left")
    eventually(lambda: ready_replicas() == 1, READY_SECONDS, "1/1 ready replica")
