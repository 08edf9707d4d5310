"""The lifecycle on a real cluster: deletion that completes, finished rollouts left alone,
requests never wiped, and Events aggregated rather than repeated."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.kubernetes.clients import KubeClients
from airollout.adapters.kubernetes.events import AGGREGATE_SECONDS, EventRecorder, InvolvedRollout
from airollout.controller.app import build_reconciler
from airollout.core.resource.names import ACTION_ANNOTATION, GROUP, PLURAL, VERSION
from airollout_tools.bench.scale.idle import REFUSED_METRIC
from tests.e2e.operator_harness import (
    create_rollout,
    create_target,
    deployment_or_none,
    read_rollout,
    rollout_events,
    rollout_manifest,
    scrape,
    status_of,
)

pytestmark = pytest.mark.e2e

# Well under the operator's 60 s release deadline: a target that is gone releases at once.
RELEASED_SECONDS = 30.0


def rollout_gone(api: client.ApiClient, namespace: str, name: str) -> bool:
    try:
        read_rollout(api, namespace, name)
    except client.ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def test_deleting_the_target_and_its_rollout_together_mid_rollout_completes(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    create_rollout(kube_api, namespace, rollout_manifest("web-v2"))
    eventually(
        lambda: (
            deployment_or_none(kube_api, namespace, "web-canary") is not None
            and status_of(kube_api, namespace, "web-v2").get("weight", 0) > 0
        ),
        60,
        "the canary to take traffic",
    )

    # What `kubectl delete -f app.yaml` does with a file holding both.
    client.AppsV1Api(kube_api).delete_namespaced_deployment("web", namespace)
    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "web-v2"
    )

    eventually(
        lambda: rollout_gone(kube_api, namespace, "web-v2"), RELEASED_SECONDS, "the rollout gone"
    )
    eventually(
        lambda: deployment_or_none(kube_api, namespace, "web-canary") is None,
        RELEASED_SECONDS,
        "the canary gone",
    )


def ticks(operator: Any) -> float:
    return scrape(operator.metrics_url)["airollout_reconcile_ticks_total"]


def test_a_failed_rollout_runs_no_timer_yet_still_answers_a_request(
    kube_api: client.ApiClient, namespace: str, operator: Any, eventually: Any
) -> None:
    # Failed (InvalidSpec) at once: its query names a variable the operator does not know.
    manifest = rollout_manifest(
        "web-v2", traffic={"slices": [10, 100]}, analysis={"metrics": [REFUSED_METRIC]}
    )
    create_rollout(kube_api, namespace, manifest)
    eventually(
        lambda: status_of(kube_api, namespace, "web-v2").get("phase") == "Failed", 30, "Failed"
    )
    time.sleep(2)  # the status write's watch event reaches the operator and stops the timer
    before = ticks(operator)
    time.sleep(5)  # ten ticks of 0.5 s, had the timer kept running
    assert ticks(operator) == before, "a finished rollout is not reconciled"

    client.CustomObjectsApi(kube_api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "web-v2",
        {"metadata": {"annotations": {ACTION_ANNOTATION: "resume"}}},
    )  # fmt: skip
    eventually(
        lambda: (
            ACTION_ANNOTATION
            not in (
                read_rollout(kube_api, namespace, "web-v2")["metadata"].get("annotations") or {}
            )
        ),
        30,
        "the request to be answered and removed",
    )
    reasons = [event.reason for event in rollout_events(kube_api, namespace, "web-v2")]
    assert "RequestRefused" in reasons
    time.sleep(2)
    answered = ticks(operator)
    time.sleep(5)
    assert ticks(operator) == answered, "at rest again once answered"


def test_repeated_events_are_aggregated_and_a_state_change_is_posted_once(
    kube_api: client.ApiClient, namespace: str
) -> None:
    now = [0.0]
    recorder = EventRecorder(client.CoreV1Api(kube_api), clock=lambda: now[0])
    ref = InvolvedRollout(namespace, "web-v2", "uid-events")

    for _ in range(3):  # a router error met on three ticks, the last past the interval
        recorder.emit(ref, "router-x", "RouterError", "router down", True, repeated=True)
        now[0] += AGGREGATE_SECONDS / 2 + 1
    recorder.emit(ref, "g1-s0-weight-event", "Started", "Traffic starts moving.", False)
    recorder.emit(ref, "g1-s0-weight-event", "Started", "Traffic starts moving.", False)
    restarted = EventRecorder(client.CoreV1Api(kube_api))  # a new operator process
    restarted.emit(ref, "router-x", "RouterError", "router down", True, repeated=True)

    events = client.CoreV1Api(kube_api).list_namespaced_event(namespace).items
    by_reason = {event.reason: event for event in events}
    assert sorted(event.reason for event in events) == ["RouterError", "Started"]
    assert by_reason["RouterError"].count == 4, "3 counted here, 1 after the restart"
    assert by_reason["Started"].count == 1, "a replayed state change adds nothing"


def test_a_request_written_while_the_last_one_is_answered_survives(
    kube_api: client.ApiClient, namespace: str, crd_installed: Path
) -> None:
    custom = client.CustomObjectsApi(kube_api)
    manifest = rollout_manifest("web-v2")  # no Deployment `web`: Pending (TargetMissing)
    manifest["metadata"]["annotations"] = {ACTION_ANNOTATION: "resume"}
    create_rollout(kube_api, namespace, manifest)
    reconciler = build_reconciler(KubeClients.of(kube_api), "http://127.0.0.1:9")

    class NewRequestMeanwhile(EventRecorder):
        """Between the reconcile's read and its clear, a person asks for an abort."""

        def emit(self, ref: InvolvedRollout, *args: Any, **kwargs: Any) -> None:
            patch = {"metadata": {"annotations": {ACTION_ANNOTATION: "abort"}}}
            custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, ref.name, patch
            )
            super().emit(ref, *args, **kwargs)

    reconciler.actor.events = NewRequestMeanwhile(client.CoreV1Api(kube_api))
    reconciler.reconcile(read_rollout(kube_api, namespace, "web-v2"), lambda ns, name: None)

    after = read_rollout(kube_api, namespace, "web-v2")
    assert after["status"]["reason"] == "TargetMissing", "the reconcile did its work"
    assert after["metadata"]["annotations"][ACTION_ANNOTATION] == "abort"
