"""The decision log against a real apiserver: name reuse, rotation, replays and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.core.decision_log_layout import (
    NEWEST_ANNOTATION,
    PART_LABEL,
    data_bytes,
    name_selector,
)
from airollout.core.resource.crd import GROUP, PLURAL, VERSION
from airollout.core.resource.status import DecisionRecord
from airollout.core.rollout.timeline import to_rfc3339

pytestmark = pytest.mark.cluster

NAME = "web-v2"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def core(kube_api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(kube_api)


def a_record(key: str, seconds: float, action: str = "hold", padding: int = 0) -> DecisionRecord:
    return DecisionRecord(
        time=to_rfc3339(START + timedelta(seconds=seconds)),
        action=action,
        key=key,
        reasoning="Not enough requests yet to tell the versions apart. " + "x" * padding,
        slice=0,
        weight=10,
        window=1,
    )


def apply_rollout(custom: client.CustomObjectsApi, namespace: str) -> str:
    """Create the AIRollout NAME and return the UID the apiserver gave it."""
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AIRollout",
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": {"targetRef": {"name": "web"}, "template": {"image": "web:v2"}},
    }
    created: Any = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    return str(created["metadata"]["uid"])


def parts_of(core: client.CoreV1Api, namespace: str) -> list[Any]:
    found = core.list_namespaced_config_map(namespace, label_selector=name_selector(NAME))
    return sorted(found.items, key=lambda item: int(item.metadata.labels[PART_LABEL]))


def test_a_rollout_deleted_and_applied_again_keeps_both_rollouts_records(
    crd_installed: Path, kube_api: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    custom = client.CustomObjectsApi(kube_api)
    decisions = DecisionLog(core)
    first = InvolvedRollout(namespace, NAME, apply_rollout(custom, namespace))
    decisions.write(first, "g1-s0-w1", a_record("g1-s0-w1", 10, "rollback"))
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, NAME)
    second = InvolvedRollout(namespace, NAME, apply_rollout(custom, namespace))
    decisions.write(second, "g1-s0-w1", a_record("g1-s0-w1", 900, "proceed"))

    history = decisions.history(namespace, NAME)

    assert first.uid != second.uid
    assert [(e.uid, e.key, e.action) for e in history] == [
        (first.uid, "g1-s0-w1", "rollback"),
        (second.uid, "g1-s0-w1", "proceed"),
    ]
    assert decisions.records(first)["g1-s0-w1"]["action"] == "rollback"


def test_a_log_past_its_budget_rotates_into_numbered_parts_losing_nothing(
    core: client.CoreV1Api, namespace: str
) -> None:
    budget = 4096
    decisions = DecisionLog(core, budget_bytes=budget)
    ref = InvolvedRollout(namespace, NAME, "0b6a8f7e-1d2c-4e5f-9a8b-7c6d5e4f3a2b")
    keys = [f"g1-s0-w{window}" for window in range(1, 41)]
    for seconds, key in enumerate(keys):
        decisions.write(ref, key, a_record(key, seconds * 10, padding=300))

    parts = parts_of(core, namespace)
    assert len(parts) >= 4
    assert [p.metadata.name for p in parts[:2]] == [
        f"{NAME}-0b6a8f7e-decisions-0001",
        f"{NAME}-0b6a8f7e-decisions-0002",
    ]
    assert all(data_bytes(p.data) <= budget for p in parts), "each part within its budget"
    assert [e.key for e in decisions.history(namespace, NAME)] == keys, "all, oldest first"


def test_a_replay_replaces_its_own_entry_even_after_a_restart_of_the_operator(
    core: client.CoreV1Api, namespace: str
) -> None:
    ref = InvolvedRollout(namespace, NAME, "5d1e0c9a-0000-4000-8000-000000000001")
    before = DecisionLog(core, budget_bytes=4096)
    for window in range(1, 13):
        before.write(ref, f"g1-s0-w{window}", a_record(f"g1-s0-w{window}", window, padding=300))
    parts = len(parts_of(core, namespace))

    after = DecisionLog(core, budget_bytes=4096)  # a new process: nothing remembered
    after.write(ref, "g1-s0-w12", a_record("g1-s0-w12", 12, action="proceed", padding=300))

    history = after.history(namespace, NAME)
    assert len(history) == 12, "replaced, not added"
    assert history[-1].action == "proceed"
    assert len(parts_of(core, namespace)) == parts, "written into the newest part it found"


def test_retention_deletes_every_part_of_a_log_whose_newest_record_is_old(
    core: client.CoreV1Api, namespace: str
) -> None:
    decisions = DecisionLog(core, budget_bytes=2048)
    old = InvolvedRollout(namespace, NAME, "aaaaaaaa-0000-4000-8000-000000000001")
    new = InvolvedRollout(namespace, NAME, "bbbbbbbb-0000-4000-8000-000000000002")
    for window in range(1, 8):
        decisions.write(old, f"g1-s0-w{window}", a_record(f"g1-s0-w{window}", window, padding=300))
    decisions.write(new, "g1-s0-w1", a_record("g1-s0-w1", 86400 * 40))
    newest = {p.metadata.annotations[NEWEST_ANNOTATION] for p in parts_of(core, namespace)}
    assert to_rfc3339(START + timedelta(seconds=7)) in newest

    cutoff = START + timedelta(days=30)
    deleted = decisions.prune([namespace], cutoff)

    remaining = parts_of(core, namespace)
    assert len(deleted) >= 2, "the old rollout had several parts; all went"
    assert all("aaaaaaaa" in name for name in deleted)
    assert [p.metadata.name for p in remaining] == [f"{NAME}-bbbbbbbb-decisions-0001"]
    assert decisions.prune([], START - timedelta(days=1)) == [], "cluster-wide: none older"
