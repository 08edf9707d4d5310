"""The rollout commands against a real apiserver, with the status written as the operator
writes it (through the status subresource)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.kubernetes import rollout_objects
from airollout.cli.main import main
from airollout.core.resource.crd import GROUP, PLURAL, VERSION
from airollout.core.resource.status import AIRolloutStatus, DecisionRecord, Phase

pytestmark = pytest.mark.cluster

NAME = "checkout-4f2a1c"


@pytest.fixture
def kubeconfig(crd_installed: Path) -> str:
    return str(crd_installed)


@pytest.fixture
def custom(kube_api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube_api)


def create_rollout(custom: client.CustomObjectsApi, namespace: str) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AIRollout",
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": {
            "targetRef": {"name": "checkout"},
            "template": {"image": "registry.example/checkout:4f2a1c"},
            "revision": "4f2a1c",
        },
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def write_status(
    custom: client.CustomObjectsApi,
    namespace: str,
    phase: Phase,
    decisions: Sequence[DecisionRecord] = (),
) -> None:
    """What the operator does: a merge patch of the status subresource."""
    status = AIRolloutStatus(
        phase=phase,
        slice=1,
        weight=25,
        decisions=[r.model_dump(mode="json", by_alias=True, exclude_none=True) for r in decisions],
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, NAME, {"status": status}
    )


def a_decision(key: str, reasoning: str, action: str = "proceed") -> DecisionRecord:
    return DecisionRecord(
        time="2025-03-01T10:02:00Z",
        action=action,
        key=key,
        reasoning=reasoning,
        slice=1,
        weight=25,
        window=1,
    )


def annotations_of(custom: client.CustomObjectsApi, namespace: str) -> dict[str, str]:
    found: Any = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, NAME)
    return dict(found["metadata"].get("annotations") or {})


@pytest.mark.parametrize("action", ["abort", "resume", "promote"])
def test_an_action_annotates_the_rollout(
    action: str, kubeconfig: str, custom: client.CustomObjectsApi, namespace: str
) -> None:
    create_rollout(custom, namespace)
    write_status(custom, namespace, Phase.PROGRESSING)

    code = main([action, NAME, "-n", namespace, "--kubeconfig", kubeconfig, "--by", "ana@ci"])

    assert code == 0
    assert annotations_of(custom, namespace) == {
        "airollout.dev/action": action,
        "airollout.dev/action-by": "ana@ci",
    }


def test_pause_then_resume_flips_spec_paused(
    kubeconfig: str, custom: client.CustomObjectsApi, namespace: str
) -> None:
    create_rollout(custom, namespace)
    write_status(custom, namespace, Phase.PROGRESSING)

    def paused() -> Any:
        found: Any = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, NAME)
        return found["spec"].get("paused")

    assert main(["pause", NAME, "-n", namespace, "--kubeconfig", kubeconfig]) == 0
    assert paused() is True
    assert main(["resume", NAME, "-n", namespace, "--kubeconfig", kubeconfig]) == 0
    assert paused() is False
    assert annotations_of(custom, namespace)["airollout.dev/action"] == "resume"


def test_a_finished_rollout_refuses_and_keeps_no_annotation(
    kubeconfig: str, custom: client.CustomObjectsApi, namespace: str, capsys: Any
) -> None:
    create_rollout(custom, namespace)
    write_status(custom, namespace, Phase.SUCCEEDED)

    code = main(["abort", NAME, "-n", namespace, "--kubeconfig", kubeconfig])

    assert code == 1
    assert "already ended (Succeeded)" in capsys.readouterr().err
    assert "airollout.dev/action" not in annotations_of(custom, namespace)


def test_a_missing_rollout_exits_1_naming_it(kubeconfig: str, namespace: str, capsys: Any) -> None:
    code = main(["abort", "foo", "-n", namespace, "--kubeconfig", kubeconfig])

    assert code == 1
    assert (
        capsys.readouterr().err.strip() == f"airollout abort: AIRollout {namespace}/foo not found"
    )


def test_status_shows_the_decision_reasoning(
    kubeconfig: str, custom: client.CustomObjectsApi, namespace: str, capsys: Any
) -> None:
    create_rollout(custom, namespace)
    reasoning = "Canary error rate 0.2% is within 0.5% and no worse than stable."
    write_status(custom, namespace, Phase.PROGRESSING, [a_decision("g1-s0-w1", reasoning)])

    code = main(["status", NAME, "-n", namespace, "--kubeconfig", kubeconfig])

    out = capsys.readouterr().out
    assert code == 0
    assert "Progressing" in out
    assert " ".join(reasoning.split()) in " ".join(out.split())


def test_watch_prints_a_decision_made_while_watching_and_exits_0_on_success(
    kubeconfig: str,
    custom: client.CustomObjectsApi,
    namespace: str,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One-second watches: the decision arrives after the watch has been re-established.
    monkeypatch.setattr(rollout_objects, "WATCH_CHUNK_S", 1)
    watching = threading.Event()
    real_follow = rollout_objects.Rollouts.follow

    def follow_and_signal(
        self: rollout_objects.Rollouts, *args: Any, **kwargs: Any
    ) -> Iterator[Any]:
        for snapshot in real_follow(self, *args, **kwargs):
            watching.set()  # read once: every later change reaches the watch from here
            yield snapshot

    monkeypatch.setattr(rollout_objects.Rollouts, "follow", follow_and_signal)
    create_rollout(custom, namespace)
    write_status(custom, namespace, Phase.PROGRESSING)
    verdict = a_decision("g1-s1-w1", "Every metric healthy at 25%: promoting.")

    def operator() -> None:
        assert watching.wait(timeout=30)
        time.sleep(2.5)
        write_status(custom, namespace, Phase.PROGRESSING, [verdict])
        time.sleep(1)
        write_status(custom, namespace, Phase.SUCCEEDED, [verdict])

    writer = threading.Thread(target=operator, daemon=True)
    writer.start()
    code = main(["watch", NAME, "-n", namespace, "--kubeconfig", kubeconfig, "--timeout", "60"])
    writer.join(timeout=10)

    out = capsys.readouterr().out
    assert code == 0
    assert out.count("Every metric healthy at 25%: promoting.") == 1
    assert "→ Succeeded" in out


def test_watch_times_out_with_exit_2(
    kubeconfig: str,
    custom: client.CustomObjectsApi,
    namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    create_rollout(custom, namespace)
    write_status(custom, namespace, Phase.PROGRESSING)

    code = main(["watch", NAME, "-n", namespace, "--kubeconfig", kubeconfig, "--timeout", "2"])

    assert code == 2
    assert "timed out after 2s" in capsys.readouterr().err
