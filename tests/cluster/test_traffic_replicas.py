"""The replica-ratio router against a real control plane, with kwok playing the kubelet."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.traffic.replica_ratio import ReplicaRatioRouter
from airollout.adapters.traffic.router import RolloutTarget, TargetChangedError, TargetMissingError
from airollout.core.analysis.types import Version
from airollout.core.resource.spec import AIRolloutSpec, PodTemplate
from airollout_tools.bench.scale.workloads import pause_deployment

pytestmark = pytest.mark.cluster

STABLE_IMAGE = "registry.k8s.io/pause:3.10"
CANARY_IMAGE = "registry.k8s.io/pause:3.9"
READY_SECONDS = 60.0
REPLICAS = 10
Eventually = Callable[..., Any]


class Cluster:
    """The test's view of one namespace: make the target and the rollout, read them back."""

    def __init__(self, api: client.ApiClient, namespace: str, eventually: Eventually) -> None:
        self.apps = client.AppsV1Api(api)
        self.objects = client.CustomObjectsApi(api)
        self.namespace = namespace
        self.eventually = eventually

    def create_target(self, name: str = "web", replicas: int = REPLICAS) -> None:
        self.apps.create_namespaced_deployment(
            self.namespace, pause_deployment(name, replicas, STABLE_IMAGE)
        )
        self.eventually(
            lambda: (self.read(name).status.ready_replicas or 0) == replicas,
            READY_SECONDS,
            f"{replicas} ready pods of {name}",
        )

    def create_rollout(self, target: str = "web", name: str = "web-2") -> RolloutTarget:
        spec = {
            "targetRef": {"name": target},
            "template": {"image": CANARY_IMAGE},
            "analysis": {"metrics": [{"name": "cpu", "query": "q", "max": 1}]},
        }
        body = {
            "apiVersion": "airollout.dev/v1alpha1",
            "kind": "AIRollout",
            "metadata": {"name": name},
            "spec": spec,
        }
        created = self.objects.create_namespaced_custom_object(
            "airollout.dev", "v1alpha1", self.namespace, "airollouts", body
        )
        uid = created["metadata"]["uid"]
        return RolloutTarget(self.namespace, name, uid, AIRolloutSpec.model_validate(spec))

    def start(self) -> tuple[RolloutTarget, ReplicaRatioRouter]:
        """A ready target `web` of REPLICAS pods, its rollout, and a router to move it."""
        self.create_target()
        return self.create_rollout(), ReplicaRatioRouter(self.apps.api_client)

    def read(self, name: str) -> client.V1Deployment:
        return self.apps.read_namespaced_deployment(name, self.namespace)

    def exists(self, name: str) -> bool:
        try:
            self.read(name)
        except client.ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    def replicas(self) -> tuple[int, int]:
        """(stable, canary) spec.replicas."""
        return self.read("web").spec.replicas, self.read("web-canary").spec.replicas

    def router_annotations(self, name: str = "web") -> dict[str, str]:
        annotations = self.read(name).metadata.annotations or {}
        return {k: v for k, v in annotations.items() if k.startswith("airollout.dev/")}


@pytest.fixture
def cluster_ns(
    crd_installed: Path, kube_api: client.ApiClient, namespace: str, eventually: Eventually
) -> Cluster:
    return Cluster(kube_api, namespace, eventually)


def _reach(eventually: Eventually, step: Callable[[], bool], what: str) -> None:
    """Call a level-based router method until it says its state is reached."""
    eventually(step, READY_SECONDS, what, poll=0.5)


def test_slices_ten_twentyfive_fifty_split_ten_replicas_and_become_ready(
    cluster_ns: Cluster, eventually: Eventually
) -> None:
    rollout, router = cluster_ns.start()

    for weight, expected in [(10, (9, 1)), (25, (8, 2)), (50, (5, 5))]:
        _reach(eventually, lambda w=weight: router.set_weight(rollout, w), f"{weight} % ready")
        assert cluster_ns.replicas() == expected
        assert cluster_ns.read("web").status.ready_replicas == expected[0]
        assert cluster_ns.read("web-canary").status.ready_replicas == expected[1]

    canary = cluster_ns.read("web-canary")
    assert canary.spec.template.spec.containers[0].image == CANARY_IMAGE
    assert canary.spec.template.metadata.labels == {"app": "web", "airollout.dev/version": "canary"}
    assert canary.spec.selector.match_labels == canary.spec.template.metadata.labels
    assert canary.metadata.labels == {
        "airollout.dev/rollout": "web-2",
        "airollout.dev/role": "canary",
    }
    (owner,) = canary.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (
        "AIRollout", "web-2", rollout.rollout_uid, True
    )  # fmt: skip
    assert cluster_ns.router_annotations()["airollout.dev/stable-replicas"] == str(REPLICAS)
    assert router.workloads(rollout) == {Version.CANARY: "web-canary", Version.STABLE: "web"}


def test_repeating_a_weight_that_is_in_effect_writes_nothing(
    cluster_ns: Cluster, eventually: Eventually
) -> None:
    rollout, router = cluster_ns.start()
    _reach(eventually, lambda: router.set_weight(rollout, 25), "25 % ready")
    before = [cluster_ns.read(name).metadata for name in ("web", "web-canary")]

    assert router.set_weight(rollout, 25) is True
    assert ReplicaRatioRouter(cluster_ns.apps.api_client).set_weight(rollout, 25) is True

    after = [cluster_ns.read(name).metadata for name in ("web", "web-canary")]
    assert [(m.generation, m.annotations) for m in after] == [
        (m.generation, m.annotations) for m in before
    ]
    assert [m.resource_version for m in after] == [m.resource_version for m in before]


def test_rollback_restores_all_stable_replicas_and_removes_the_canary(
    cluster_ns: Cluster, eventually: Eventually
) -> None:
    rollout, router = cluster_ns.start()
    _reach(eventually, lambda: router.set_weight(rollout, 50), "50 % ready")

    _reach(eventually, lambda: router.rollback(rollout), "rollback done")

    assert not cluster_ns.exists("web-canary")
    assert cluster_ns.read("web").spec.replicas == REPLICAS
    assert cluster_ns.router_annotations() == {}
    assert router.rollback(rollout) is True, "a second rollback finds nothing left to do"


def test_promote_puts_the_new_image_on_all_target_replicas_and_removes_the_canary(
    cluster_ns: Cluster, eventually: Eventually
) -> None:
    rollout, router = cluster_ns.start()
    for weight in (10, 100):
        _reach(eventually, lambda w=weight: router.set_weight(rollout, w), f"{weight} % ready")
    assert cluster_ns.replicas() == (0, REPLICAS)

    _reach(eventually, lambda: router.promote(rollout), "promotion done")

    target = cluster_ns.read("web")
    assert target.spec.template.spec.containers[0].image == CANARY_IMAGE
    assert "airollout.dev/version" not in target.spec.template.metadata.labels
    assert (target.spec.replicas, target.status.available_replicas) == (REPLICAS, REPLICAS)
    assert target.status.updated_replicas == REPLICAS
    assert not cluster_ns.exists("web-canary")
    assert cluster_ns.router_annotations() == {}
    generation = target.metadata.generation
    # Level-based: asked again it answers from the target's status, which the deployment
    # controller may be rewriting at that moment, so it may take a poll to say done.
    _reach(eventually, lambda: router.promote(rollout), "promote again after it finished")
    assert cluster_ns.read("web").metadata.generation == generation, "and it wrote nothing"


def test_a_missing_target_raises_target_missing(cluster_ns: Cluster) -> None:
    rollout = cluster_ns.create_rollout(target="absent")
    router = ReplicaRatioRouter(cluster_ns.apps.api_client)

    with pytest.raises(TargetMissingError, match=f"{cluster_ns.namespace}/absent"):
        router.set_weight(rollout, 10)
    with pytest.raises(TargetMissingError):
        router.promote(rollout)


def test_a_target_whose_image_someone_changed_mid_rollout_raises_target_changed(
    cluster_ns: Cluster, eventually: Eventually
) -> None:
    rollout, router = cluster_ns.start()
    _reach(eventually, lambda: router.set_weight(rollout, 10), "10 % ready")
    hotfix = {
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "hotfix:1"}]}}}
    }
    cluster_ns.apps.patch_namespaced_deployment("web", cluster_ns.namespace, hotfix)

    with pytest.raises(TargetChangedError) as changed:
        router.set_weight(rollout, 25)

    message = str(changed.value)
    assert f"Deployment {cluster_ns.namespace}/web" in message
    assert f"{STABLE_IMAGE} -> hotfix:1" in message
    with pytest.raises(TargetChangedError):
        router.promote(rollout)
    assert cluster_ns.replicas() == (9, 1), "nothing moved after the change was seen"


def test_rollback_by_a_fresh_router_after_a_crash_mid_step_restores_everything(
    cluster_ns: Cluster, eventually: Eventually
) -> None:
    cluster_ns.create_target()
    rollout = cluster_ns.create_rollout()
    # One call, not waited on: the "operator" dies with the canary created and pods starting.
    ReplicaRatioRouter(cluster_ns.apps.api_client).set_weight(rollout, 25)
    assert cluster_ns.exists("web-canary")
    assert cluster_ns.router_annotations()

    restarted = ReplicaRatioRouter(cluster_ns.apps.api_client)
    _reach(eventually, lambda: restarted.rollback(rollout), "rollback after the crash")

    assert not cluster_ns.exists("web-canary")
    assert cluster_ns.read("web").spec.replicas == REPLICAS
    assert cluster_ns.router_annotations() == {}
    eventually(
        lambda: cluster_ns.read("web").status.ready_replicas == REPLICAS,
        READY_SECONDS,
        "all stable pods ready again",
    )


def test_rollback_during_promotion_puts_the_old_template_back(
    cluster_ns: Cluster, eventually: Eventually
) -> None:
    rollout, router = cluster_ns.start()
    _reach(eventually, lambda: router.set_weight(rollout, 100), "100 % ready")
    router.promote(rollout)  # writes the new template; its pods are only starting
    assert cluster_ns.read("web").spec.template.spec.containers[0].image == CANARY_IMAGE

    _reach(eventually, lambda: router.rollback(rollout), "rollback during promotion")

    target = cluster_ns.read("web")
    assert target.spec.template.spec.containers[0].image == STABLE_IMAGE
    assert target.spec.replicas == REPLICAS
    assert not cluster_ns.exists("web-canary")
    assert cluster_ns.router_annotations() == {}
    eventually(
        lambda: cluster_ns.read("web").status.updated_replicas == REPLICAS,
        READY_SECONDS,
        "all target pods back on the stable template",
    )


def test_a_new_image_in_the_rollout_spec_reaches_the_running_canary(
    cluster_ns: Cluster, eventually: Eventually
) -> None:
    rollout, router = cluster_ns.start()
    _reach(eventually, lambda: router.set_weight(rollout, 25), "25 % ready")
    edited = rollout.spec.model_copy(update={"template": PodTemplate(image="fixed:3")})
    edited_rollout = dataclasses.replace(rollout, spec=edited)

    _reach(eventually, lambda: router.set_weight(edited_rollout, 25), "25 % on the new image")

    canary = cluster_ns.read("web-canary")
    assert canary.spec.template.spec.containers[0].image == "fixed:3"
    assert canary.status.updated_replicas == 2
    assert cluster_ns.replicas() == (8, 2)
