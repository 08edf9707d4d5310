"""Real rollouts: the operator moves a real Deployment's replicas while a real Prometheus
scrapes the simulated workload, and the judge decides from what Prometheus returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.operator_harness import (
    NEW_IMAGE,
    create_rollout,
    create_target,
    decision_log,
    deployment_or_none,
    rollout_events,
    rollout_manifest,
    scrape,
    status_of,
)
from tests.support.fake_openai import FakeOpenAI, answer

pytestmark = pytest.mark.e2e

FINISHED = {"Succeeded", "RolledBack", "Failed"}
ROLLOUT_SECONDS = 240.0


def finished(api: client.ApiClient, namespace: str, name: str) -> Callable[[], Any]:
    def check() -> dict[str, Any] | None:
        status = status_of(api, namespace, name)
        return status if status.get("phase") in FINISHED and not status.get("awaiting") else None

    return check


def assert_back_on_stable(api: client.ApiClient, namespace: str) -> None:
    web = deployment_or_none(api, namespace, "web")
    assert web.spec.replicas == 10, "stable is back at its full replica count"
    assert web.spec.template.spec.containers[0].image != NEW_IMAGE
    assert deployment_or_none(api, namespace, "web-canary") is None


def test_a_healthy_canary_moves_through_every_slice_and_becomes_the_target(
    kube_api: client.ApiClient, namespace: str, operator: Any, workload: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    workload("steady-twins")
    create_rollout(kube_api, namespace, rollout_manifest("web-v2"))

    status = eventually(finished(kube_api, namespace, "web-v2"), ROLLOUT_SECONDS, "the end")

    assert status["phase"] == "Succeeded", status["message"]
    web = deployment_or_none(kube_api, namespace, "web")
    assert web.spec.template.spec.containers[0].image == NEW_IMAGE
    assert web.spec.replicas == 10
    assert deployment_or_none(kube_api, namespace, "web-canary") is None
    proceeds = [d["weight"] for d in status["decisions"] if d["action"] == "proceed"]
    assert proceeds == [10, 25, 50], "one proceed per analysed slice, in order"
    log = decision_log(kube_api, namespace, "web-v2")
    assert set(log) == {d["key"] for d in status["decisions"]}, "every decision is in the log"
    reasons = [event.reason for event in rollout_events(kube_api, namespace, "web-v2")]
    assert reasons.count("AnalysisPassed") == 3
    assert "Succeeded" in reasons
    metrics = scrape(operator.metrics_url)
    assert metrics['airollout_decisions_total{action="proceed"}'] == 3
    assert metrics['airollout_rollouts{phase="Succeeded"}'] == 1
    assert metrics["airollout_reconcile_seconds_count"] > 0
    assert metrics["airollout_decision_delay_seconds_count"] == len(status["decisions"])


def test_a_canary_failing_from_its_first_pod_is_rolled_back_at_the_first_slice(
    kube_api: client.ApiClient, namespace: str, operator: Any, workload: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    workload("broken-from-first-pod")
    create_rollout(kube_api, namespace, rollout_manifest("web-v2"))

    status = eventually(finished(kube_api, namespace, "web-v2"), ROLLOUT_SECONDS, "the end")

    assert status["phase"] == "RolledBack", status["message"]
    assert status["reason"] == "AnalysisRollback"
    last = status["decisions"][-1]
    assert (last["action"], last["slice"], last["weight"]) == ("rollback", 0, 10)
    assert "error-rate" in last["reasoning"]
    assert_back_on_stable(kube_api, namespace)
    warnings = [e for e in rollout_events(kube_api, namespace, "web-v2") if e.type == "Warning"]
    assert [e.reason for e in warnings] == ["AnalysisRollback"]


def test_a_canary_whose_metrics_vanish_holds_then_follows_on_hold_then(
    kube_api: client.ApiClient, namespace: str, operator: Any, workload: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    workload("canary-goes-dark", time_scale=3.0)  # missing from 50 simulated s: 17 s
    manifest = rollout_manifest("web-v2", onHold={"timeout": "20s", "then": "pause"})
    create_rollout(kube_api, namespace, manifest)

    status = eventually(
        lambda: (s := status_of(kube_api, namespace, "web-v2")).get("phase") == "Paused" and s,
        ROLLOUT_SECONDS,
        "the hold to time out into a pause",
    )

    assert status["reason"] == "HoldTimedOut"
    assert status["weight"] > 0, "a pause keeps traffic where it is"
    holds = [d for d in status["decisions"] if d["action"] == "hold"]
    assert holds, "the missing metrics were held on, never proceeded on"
    assert any("no data" in d["reasoning"].lower() or "empty" in d["reasoning"] for d in holds)
    assert deployment_or_none(kube_api, namespace, "web-canary") is not None


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


def test_hybrid_mode_asks_the_llm_each_window_and_records_its_opinion(
    kube_api: client.ApiClient,
    namespace: str,
    operator: Any,
    workload: Any,
    eventually: Any,
    fake_llm: Any,
) -> None:
    fake_llm.script(*[answer("proceed", "latency and errors match stable") for _ in range(40)])
    key = "sk-e2e-secret-4242"
    client.CoreV1Api(kube_api).create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="llm"), string_data={"api-key": key}),
    )
    create_target(kube_api, namespace)
    workload("steady-twins")
    judge = {
        "mode": "hybrid",
        "llm": {
            "model": "fake-model",
            "baseURL": fake_llm.base_url,
            "apiKeySecretRef": {"name": "llm", "key": "api-key"},
            "timeout": "5s",
        },
    }
    create_rollout(kube_api, namespace, rollout_manifest("web-v2", judge=judge))

    status = eventually(finished(kube_api, namespace, "web-v2"), ROLLOUT_SECONDS, "the end")

    assert status["phase"] == "Succeeded", status["message"]
    assert len(fake_llm.requests) == len(status["decisions"])
    for request in fake_llm.requests:
        headers = {name.lower(): value for name, value in request.headers.items()}
        assert headers["authorization"] == f"Bearer {key}", "the key from the Secret is sent"
    for decision in status["decisions"]:
        llm = [o for o in decision["opinions"] if o["judge"] == "llm"]
        assert llm, "every decision carries the LLM's opinion"
        assert (llm[0]["model"], llm[0]["promptTokens"]) == ("fake-model", 120)
    events = " ".join(e.message for e in rollout_events(kube_api, namespace, "web-v2"))
    assert key not in str(status), "the API key never leaves its Secret"
    assert key not in events
