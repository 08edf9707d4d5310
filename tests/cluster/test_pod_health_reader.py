"""Each version's pods as the judge reads them, from a real apiserver (kwok runs the pods)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.kubernetes.pods import PodReader
from airollout.core.resource.names import VERSION_LABEL
from airollout_tools.bench.scale.workloads import pause_deployment

pytestmark = pytest.mark.cluster

READY_SECONDS = 60.0


def _canary_of(stable: dict[str, Any]) -> dict[str, Any]:
    """The shape the replica-ratio router gives a canary: the target's labels plus its own."""
    canary = copy.deepcopy(stable)
    canary["metadata"]["name"] = "web-canary"
    canary["spec"]["selector"]["matchLabels"][VERSION_LABEL] = "canary"
    canary["spec"]["template"]["metadata"]["labels"][VERSION_LABEL] = "canary"
    return canary


def test_a_crash_looping_canary_pod_is_counted_and_stable_pods_are_not_mixed_in(
    kube_api: client.ApiClient, namespace: str, eventually: Any
) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    stable = pause_deployment("web", 3)
    apps.create_namespaced_deployment(namespace, stable)
    apps.create_namespaced_deployment(namespace, _canary_of(stable))
    reader = PodReader(kube_api)

    def read() -> Any:
        return reader.health(namespace, "web-canary", "web")

    eventually(
        lambda: read()[0] is not None and read()[0].ready == 3 and read()[1].ready == 3,
        READY_SECONDS,
        "3 ready pods of each version",
    )
    canary_pod = core.list_namespaced_pod(namespace, label_selector=f"{VERSION_LABEL}=canary")
    name = canary_pod.items[0].metadata.name
    crashed = {
        "name": "main",
        "image": "pause",
        "imageID": "",
        "ready": False,
        "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
    }
    core.patch_namespaced_pod_status(name, namespace, {"status": {"containerStatuses": [crashed]}})

    canary, stable_health = read()
    assert canary is not None
    assert stable_health is not None
    assert (canary.pods, canary.ready, canary.restarts) == (3, 2, 4)
    assert (canary.crash_looping, canary.oom_killed) == (1, 1)
    assert (stable_health.pods, stable_health.failing, stable_health.restarts) == (3, 0, 0)


def test_a_deployment_that_is_not_there_is_no_reading(
    kube_api: client.ApiClient, namespace: str
) -> None:
    assert PodReader(kube_api).health(namespace, "absent-canary", "absent") == (None, None)
