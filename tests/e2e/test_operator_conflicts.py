"""Bad input, people and a changing cluster get a clear phase and message, never a crash loop."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from tests.e2e.operator_harness import (
    GROUP,
    PLURAL,
    VERSION,
    create_rollout,
    create_target,
    deployment_or_none,
    read_rollout,
    rollout_manifest,
    status_of,
)

pytestmark = pytest.mark.e2e

WAIT = 90.0
# No metrics and a window of an hour: the rollout sits at its first slice while the test acts.
IDLE_ANALYSIS = {"interval": "1h", "warmup": "1s", "metrics": []}


def phase_is(api: client.ApiClient, namespace: str, name: str, *phases: str) -> Any:
    def check() -> dict[str, Any] | None:
        status = status_of(api, namespace, name)
        return status if status.get("phase") in phases and not status.get("awaiting") else None

    return check


def idle_rollout(name: str = "web-v2") -> dict[str, Any]:
    return rollout_manifest(name, analysis=IDLE_ANALYSIS)


def canary_ready(api: client.ApiClient, namespace: str) -> bool:
    canary = deployment_or_none(api, namespace, "web-canary")
    return canary is not None and (canary.status.ready_replicas or 0) == 1


def test_a_rollout_waits_pending_for_a_missing_target_and_starts_once_it_exists(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_rollout(kube_api, namespace, idle_rollout())
    status = eventually(phase_is(kube_api, namespace, "web-v2", "Pending"), WAIT, "Pending")
    eventually(
        lambda: status_of(kube_api, namespace, "web-v2").get("reason") == "TargetMissing",
        WAIT,
        "the reason TargetMissing",
    )
    status = status_of(kube_api, namespace, "web-v2")
    assert "Deployment web was not found" in status["message"]

    create_target(kube_api, namespace)
    eventually(phase_is(kube_api, namespace, "web-v2", "Progressing"), WAIT, "Progressing")
    eventually(lambda: canary_ready(kube_api, namespace), WAIT, "one ready canary pod")


def test_a_target_deleted_mid_rollout_fails_the_rollout_and_removes_the_canary(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    create_rollout(kube_api, namespace, idle_rollout())
    eventually(lambda: canary_ready(kube_api, namespace), WAIT, "one ready canary pod")

    client.AppsV1Api(kube_api).delete_namespaced_deployment("web", namespace)

    status = eventually(phase_is(kube_api, namespace, "web-v2", "Failed"), WAIT, "Failed")
    assert status["reason"] == "TargetMissing"
    assert "Deployment web disappeared" in status["message"]
    eventually(
        lambda: deployment_or_none(kube_api, namespace, "web-canary") is None, WAIT, "no canary"
    )


def test_a_target_whose_image_someone_changes_mid_rollout_fails_naming_the_change(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    create_rollout(kube_api, namespace, idle_rollout())
    eventually(lambda: canary_ready(kube_api, namespace), WAIT, "one ready canary pod")

    hotfix = "registry.k8s.io/pause:3.10-hotfix"
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": hotfix}]}}}}
    client.AppsV1Api(kube_api).patch_namespaced_deployment("web", namespace, patch)

    status = eventually(phase_is(kube_api, namespace, "web-v2", "Failed"), WAIT, "Failed")
    assert status["reason"] == "TargetChanged"
    assert "web" in status["message"]
    assert hotfix in status["message"]
    web = deployment_or_none(kube_api, namespace, "web")
    assert web.spec.replicas == 10, "the stable replica count is restored"
    assert deployment_or_none(kube_api, namespace, "web-canary") is None


def test_a_second_rollout_of_the_same_target_is_blocked_until_the_first_ends(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    create_rollout(kube_api, namespace, idle_rollout("web-v2"))
    eventually(phase_is(kube_api, namespace, "web-v2", "Progressing"), WAIT, "first progresses")
    create_rollout(kube_api, namespace, idle_rollout("web-v3"))

    blocked = eventually(phase_is(kube_api, namespace, "web-v3", "Blocked"), WAIT, "Blocked")
    assert "web-v2" in blocked["message"]
    assert blocked["blockedBy"] == "web-v2"

    _annotate(kube_api, namespace, "web-v2", "abort")
    first = eventually(phase_is(kube_api, namespace, "web-v2", "RolledBack"), WAIT, "aborted")
    assert first["reason"] == "Aborted"
    eventually(phase_is(kube_api, namespace, "web-v3", "Progressing"), WAIT, "second starts")


def test_a_query_naming_an_unknown_variable_fails_the_rollout_naming_the_field(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    manifest = rollout_manifest("web-v2")
    metric = manifest["spec"]["analysis"]["metrics"][0]
    metric["errorQuery"] = metric["errorQuery"].replace("{{ workload }}", "{{ deployment }}")
    create_rollout(kube_api, namespace, manifest)

    status = eventually(phase_is(kube_api, namespace, "web-v2", "Failed"), WAIT, "Failed")
    assert status["reason"] == "InvalidSpec"
    assert status["message"].startswith("spec.analysis.metrics[0].errorQuery:")
    assert "deployment" in status["message"]
    assert deployment_or_none(kube_api, namespace, "web-canary") is None, "no traffic moved"


def test_an_unreachable_prometheus_holds_and_the_hold_times_out_into_a_rollback(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    manifest = rollout_manifest("web-v2", onHold={"timeout": "12s", "then": "rollback"})
    manifest["spec"]["analysis"]["prometheus"] = {"address": "http://127.0.0.1:9"}
    create_rollout(kube_api, namespace, manifest)

    status = eventually(phase_is(kube_api, namespace, "web-v2", "RolledBack"), WAIT, "the end")

    assert status["reason"] == "HoldTimedOut"
    actions = {decision["action"] for decision in status["decisions"]}
    assert actions == {"hold"}, "no data is never a proceed"
    assert "Metric source:" in status["decisions"][0]["reasoning"]
    assert deployment_or_none(kube_api, namespace, "web").spec.replicas == 10


def test_an_unreachable_llm_leaves_the_rules_verdict_standing_and_says_so(
    kube_api: client.ApiClient, namespace: str, operator: Any, workload: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    workload("steady-twins")
    llm = {"model": "m", "baseURL": "http://127.0.0.1:9/v1", "timeout": "2s", "maxRetries": 0}
    manifest = rollout_manifest("web-v2", judge={"mode": "hybrid", "llm": llm})
    create_rollout(kube_api, namespace, manifest)

    status = eventually(
        phase_is(kube_api, namespace, "web-v2", "Succeeded", "RolledBack", "Failed"), 240, "end"
    )

    assert status["phase"] == "Succeeded", status["message"]
    for decision in status["decisions"]:
        [opinion] = [o for o in decision["opinions"] if o["judge"] == "llm"]
        assert opinion.get("action") is None
        assert opinion["error"]


def test_pausing_through_the_spec_stops_the_rollout_and_unpausing_resumes_it(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    create_rollout(kube_api, namespace, idle_rollout())
    eventually(phase_is(kube_api, namespace, "web-v2", "Progressing"), WAIT, "Progressing")

    _patch_spec(kube_api, namespace, "web-v2", {"paused": True})
    paused = eventually(phase_is(kube_api, namespace, "web-v2", "Paused"), WAIT, "Paused")
    assert paused["weight"] == 10, "a pause keeps traffic where it is"

    _patch_spec(kube_api, namespace, "web-v2", {"paused": False})
    eventually(phase_is(kube_api, namespace, "web-v2", "Progressing"), WAIT, "resumed")
    annotations = read_rollout(kube_api, namespace, "web-v2")["metadata"].get("annotations", {})
    assert "airollout.dev/action" not in annotations


def _annotate(api: client.ApiClient, namespace: str, name: str, action: str) -> None:
    patch = {"metadata": {"annotations": {"airollout.dev/action": action}}}
    client.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, patch
    )


def _patch_spec(api: client.ApiClient, namespace: str, name: str, spec: dict[str, Any]) -> None:
    client.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, {"spec": spec}
    )


def test_deleting_a_rollout_mid_way_puts_traffic_back_on_stable_before_it_goes(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    create_rollout(kube_api, namespace, idle_rollout())
    eventually(lambda: canary_ready(kube_api, namespace), WAIT, "one ready canary pod")

    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "web-v2"
    )

    eventually(lambda: _gone(kube_api, namespace, "web-v2"), WAIT, "the AIRollout gone")
    web = deployment_or_none(kube_api, namespace, "web")
    assert web.spec.replicas == 10
    eventually(
        lambda: deployment_or_none(kube_api, namespace, "web-canary") is None, WAIT, "no canary"
    )


def _gone(api: client.ApiClient, namespace: str, name: str) -> bool:
    try:
        read_rollout(api, namespace, name)
    except client.ApiException as error:
        return error.status == 404
    return False
