"""Crash safety (invariant 5): SIGKILL the operator at several points of a real rollout.

After each kill a fresh operator process picks the rollout up from its status and the
cluster. The rollout must end as it would have without the kills, with one decision record
per window, and no traffic step applied twice: the canary's and the target's replica
counts change exactly once per slice, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.operator_harness import (
    NEW_IMAGE,
    ReplicaHistory,
    create_rollout,
    create_target,
    decision_log,
    deployment_or_none,
    rollout_manifest,
    status_of,
)

pytestmark = pytest.mark.e2e


def test_sigkill_at_several_points_of_a_rollout_changes_neither_its_end_nor_its_steps(
    kube_api: client.ApiClient, namespace: str, operator: Any, workload: Any, eventually: Any
) -> None:
    create_target(kube_api, namespace)
    history = ReplicaHistory(kube_api, namespace).start()
    workload("steady-twins")
    create_rollout(kube_api, namespace, rollout_manifest("web-v2"))

    def status() -> dict[str, Any]:
        return status_of(kube_api, namespace, "web-v2")

    kill_points: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
        ("the first traffic change", lambda s: s.get("weight") == 10),
        ("the first decision", lambda s: len(s.get("decisions") or []) >= 1),
        ("the second slice", lambda s: (s.get("weight") or 0) >= 25),
        ("promotion", lambda s: s.get("phase") in ("Promoting", "Succeeded")),
    ]
    for what, reached in kill_points:
        eventually(lambda reached=reached: reached(status()), 180, what)
        operator.kill()
        operator.start()

    final = eventually(
        lambda: (
            (s := status()).get("phase") in ("Succeeded", "RolledBack", "Failed")
            and not s.get("awaiting")
            and s
        ),
        240,
        "the end of the rollout",
    )
    history.stop()

    assert final["phase"] == "Succeeded", final["message"]
    keys = [decision["key"] for decision in final["decisions"]]
    assert len(keys) == len(set(keys)), "one record per window in the status"
    assert set(decision_log(kube_api, namespace, "web-v2")) == set(keys), "and in the log"
    assert history.of("web-canary") == [1, 2, 5, 10], "each slice's canary size set once"
    assert history.of("web") == [10, 9, 8, 5, 0, 10], "each slice's stable size set once"
    web = deployment_or_none(kube_api, namespace, "web")
    assert web.spec.template.spec.containers[0].image == NEW_IMAGE
    assert deployment_or_none(kube_api, namespace, "web-canary") is None
