"""The watch-backed Deployment cache against a real apiserver: what it shows, and what a
stale copy can and cannot make the router write."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.kubernetes.deployments import DeploymentAPI
from airollout.adapters.traffic.replica_ratio import ReplicaRatioRouter
from airollout.adapters.traffic.router import RolloutTarget
from airollout.adapters.traffic.target_annotations import PREFIX
from airollout.core.resource.spec import AIRolloutSpec
from airollout_tools.bench.scale.workloads import pause_deployment

pytestmark = pytest.mark.cluster

SECONDS = 30.0
Eventually = Callable[..., Any]


@pytest.fixture
def cache(kube_api: client.ApiClient) -> Iterator[DeploymentCache]:
    watched = DeploymentCache(kube_api, watch_seconds=5, retry_seconds=0.2)
    yield watched
    watched.close()


def _listed(cache: DeploymentCache, namespace: str, eventually: Eventually) -> None:
    cache.watch(namespace)
    eventually(lambda: cache.synced(namespace), SECONDS, "the namespace listed")


def _replicas(cache: DeploymentCache, namespace: str, name: str) -> int | None:
    known, found = cache.lookup(namespace, name)
    return found["spec"]["replicas"] if known and found is not None else None


def test_the_cache_follows_creation_change_and_deletion(
    kube_api: client.ApiClient, namespace: str, cache: DeploymentCache, eventually: Eventually
) -> None:
    apps = client.AppsV1Api(kube_api)
    assert cache.lookup(namespace, "web") == (False, None)  # not listed yet: callers GET
    eventually(lambda: cache.synced(namespace), SECONDS, "the namespace listed")
    assert cache.lookup(namespace, "web") == (True, None)

    apps.create_namespaced_deployment(namespace, pause_deployment("web", 2))
    eventually(lambda: _replicas(cache, namespace, "web") == 2, SECONDS, "web seen created")
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}})
    eventually(lambda: _replicas(cache, namespace, "web") == 3, SECONDS, "web seen scaled")
    apps.delete_namespaced_deployment("web", namespace)
    eventually(lambda: cache.lookup(namespace, "web") == (True, None), SECONDS, "web seen deleted")


def test_a_copy_handed_out_is_the_callers_and_an_older_version_never_replaces_a_newer(
    kube_api: client.ApiClient, namespace: str, cache: DeploymentCache, eventually: Eventually
) -> None:
    api = DeploymentAPI(kube_api, namespace, cache)
    _listed(cache, namespace, eventually)
    created = api.create(pause_deployment("web", 2))
    first = api.get("web")
    assert first is not None
    first["spec"]["replicas"] = 99  # the router edits what it reads before writing it
    assert _replicas(cache, namespace, "web") == 2

    scaled = api.patch("web", {"spec": {"replicas": 4}})
    assert _replicas(cache, namespace, "web") == 4  # the write's answer, before any event
    cache.store(created)  # an answer older than what the cache holds
    assert _replicas(cache, namespace, "web") == 4
    assert int(scaled["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


def test_copies_leave_managed_fields_out_and_a_write_of_one_keeps_the_servers(
    kube_api: client.ApiClient, namespace: str, cache: DeploymentCache, eventually: Eventually
) -> None:
    apps, api = client.AppsV1Api(kube_api), DeploymentAPI(kube_api, namespace, cache)
    _listed(cache, namespace, eventually)
    api.create(pause_deployment("web", 2))

    def managers() -> set[str]:
        served = apps.read_namespaced_deployment("web", namespace)
        return {entry.manager for entry in served.metadata.managed_fields or []}

    eventually(lambda: "kube-controller-manager" in managers(), SECONDS, "a status update")
    cached = eventually(
        lambda: (found := cache.lookup(namespace, "web")[1]) and found.get("status") and found,
        SECONDS,
        "web seen with a status",
    )
    assert "managedFields" not in cached["metadata"]

    cached["spec"]["replicas"] = 3
    api.replace(cached)  # the router writes what it read, as the canary's template change does
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 3
    assert "kube-controller-manager" in managers(), "the server's managedFields were kept"
    assert "managedFields" not in (api.get("web") or {})["metadata"]


def test_a_deleted_deployment_is_not_brought_back_by_a_late_answer(
    kube_api: client.ApiClient, namespace: str, cache: DeploymentCache, eventually: Eventually
) -> None:
    api = DeploymentAPI(kube_api, namespace, cache)
    _listed(cache, namespace, eventually)
    answer = api.create(pause_deployment("web", 1))
    api.delete("web")
    eventually(lambda: api.get("web") is None, SECONDS, "web seen deleted")
    late = copy.deepcopy(answer)
    late["metadata"]["resourceVersion"] = str(10**12)  # newer than anything, yet gone
    cache.store(late)
    assert api.get("web") is None


def test_a_stale_read_makes_the_router_retry_never_forget_another_rollouts_record(
    kube_api: client.ApiClient, namespace: str, cache: DeploymentCache, eventually: Eventually
) -> None:
    """Rollback forgets the target's record only on the version it read: a cache that still
    shows this rollout's record cannot wipe the record a newer rollout wrote meanwhile."""
    apps = client.AppsV1Api(kube_api)
    _listed(cache, namespace, eventually)
    apps.create_namespaced_deployment(namespace, pause_deployment("web", 4))
    spec = AIRolloutSpec.model_validate(
        {
            "targetRef": {"name": "web"},
            "template": {"image": "registry.k8s.io/pause:3.9"},
            "analysis": {"metrics": [{"name": "cpu", "query": "q", "max": 1}]},
        }
    )
    mine = RolloutTarget(namespace, "first", "uid-first", spec)
    router = ReplicaRatioRouter(kube_api, cache)

    def recorded() -> dict[str, str]:
        # Writes this rollout's record on the target. A write on a version the cache has not
        # caught up on (the controller-manager's first update) loses a 409 and writes no
        # record; the next call carries on, as the operator's next tick would.
        router.set_weight(mine, 50)
        return _ours(apps.read_namespaced_deployment("web", namespace).metadata.annotations)

    annotations = eventually(recorded, SECONDS, "this rollout's record on the target")
    eventually(
        lambda: (
            _ours((cache.lookup(namespace, "web")[1] or {})["metadata"].get("annotations"))
            == annotations
        ),
        SECONDS,
        "the record seen in the cache",
    )
    cache.close()  # a closed cache applies no more events: what it holds goes stale

    # Someone else's record lands, which the cache does not see.
    other = {key: value.replace("first", "second") for key, value in annotations.items()}
    apps.patch_namespaced_deployment("web", namespace, {"metadata": {"annotations": other}})

    assert router.rollback(mine) is False  # 409 on the stale version: try again later
    kept = _ours(apps.read_namespaced_deployment("web", namespace).metadata.annotations)
    assert kept == {**annotations, **other}


def _ours(annotations: dict[str, str] | None) -> dict[str, str]:
    """The rollouts' records on a Deployment, without what the controller-manager adds (its
    revision annotation lands whenever its watch gets to the Deployment)."""
    return {key: value for key, value in (annotations or {}).items() if key.startswith(PREFIX)}


def test_without_list_and_watch_permission_reads_fall_back_to_gets(
    kube_api: client.ApiClient, namespace: str, eventually: Eventually
) -> None:
    """An operator whose RBAC lacks list/watch on Deployments still works, by GETs."""
    rbac = client.RbacAuthorizationV1Api(kube_api)
    rule = {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "get-only"}, "rules": [rule]})
    user = f"system:serviceaccount:{namespace}:reader"
    binding = {
        "metadata": {"name": "get-only"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "get-only"},
        "subjects": [{"kind": "User", "name": user}],
    }
    rbac.create_namespaced_role_binding(namespace, binding)
    client.AppsV1Api(kube_api).create_namespaced_deployment(namespace, pause_deployment("web", 1))
    reader = client.ApiClient(kube_api.configuration)
    reader.set_default_header("Impersonate-User", user)
    cache = DeploymentCache(reader, watch_seconds=5, retry_seconds=0.2)
    try:
        api = DeploymentAPI(reader, namespace, cache)
        found = eventually(lambda: api.get("web"), SECONDS, "web read as the reader")
        assert found["metadata"]["name"] == "web"
        assert not cache.synced(namespace), "the list was refused"
    finally:
        cache.close()
        reader.close()
