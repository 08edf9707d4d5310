"""Each version's pods as the judge reads them, from a real apiserver (kwok runs the pods)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.kubernetes.pod_cache import PodCache
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


@pytest.fixture
def pod_cache(kube_api: client.ApiClient) -> Iterator[PodCache]:
    watched = PodCache(kube_api, watch_seconds=5, retry_seconds=0.2)
    yield watched
    watched.close()


def _two_versions(kube_api: client.ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(kube_api)
    stable = pause_deployment("web", 3)
    apps.create_namespaced_deployment(namespace, stable)
    apps.create_namespaced_deployment(namespace, _canary_of(stable))


def _all_ready(reader: PodReader, namespace: str, eventually: Any) -> None:
    def ready() -> bool:
        canary, stable = reader.health(namespace, "web-canary", "web")
        return canary is not None and stable is not None and canary.ready == stable.ready == 3

    eventually(ready, READY_SECONDS, "3 ready pods of each version")


def _crash_one_canary_pod(kube_api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(kube_api)
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


@pytest.mark.parametrize("source", ["list", "watch"])
def test_a_crash_looping_canary_pod_is_counted_and_stable_pods_are_not_mixed_in(
    kube_api: client.ApiClient, namespace: str, eventually: Any, pod_cache: PodCache, source: str
) -> None:
    _two_versions(kube_api, namespace)
    reader = PodReader(kube_api, pods=pod_cache if source == "watch" else None)
    _all_ready(reader, namespace, eventually)
    _crash_one_canary_pod(kube_api, namespace)

    def crashed() -> Any:
        found = reader.health(namespace, "web-canary", "web")
        return found if found[0] is not None and found[0].restarts else None

    canary, stable_health = eventually(crashed, READY_SECONDS, "the crash read")
    assert canary is not None
    assert stable_health is not None
    assert (canary.pods, canary.ready, canary.restarts) == (3, 2, 4)
    assert (canary.crash_looping, canary.oom_killed) == (1, 1)
    assert (stable_health.pods, stable_health.failing, stable_health.restarts) == (3, 0, 0)


def test_with_a_cache_the_pods_are_read_from_its_watch_not_listed(
    kube_api: client.ApiClient, namespace: str, eventually: Any, pod_cache: PodCache
) -> None:
    _two_versions(kube_api, namespace)
    cached, listed = PodReader(kube_api, pods=pod_cache), PodReader(kube_api)
    _all_ready(cached, namespace, eventually)
    assert pod_cache.synced(namespace)
    pod_cache.close()  # a closed cache applies no more events: what it holds goes stale

    _crash_one_canary_pod(kube_api, namespace)

    def crash_listed() -> bool:
        canary = listed.health(namespace, "web-canary", "web")[0]
        return canary is not None and canary.crash_looping == 1

    eventually(crash_listed, READY_SECONDS, "the crash listed")
    canary = cached.health(namespace, "web-canary", "web")[0]
    assert canary is not None
    assert (canary.pods, canary.ready, canary.crash_looping) == (3, 3, 0)


def test_a_deployment_that_is_not_there_is_no_reading(
    kube_api: client.ApiClient, namespace: str
) -> None:
    assert PodReader(kube_api).health(namespace, "absent-canary", "absent") == (None, None)
