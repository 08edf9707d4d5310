"""Chaos: SIGKILL the operator at random moments of a healthy and of a failing rollout.

The moments are drawn from a seeded generator ($AIROLLOUT_CHAOS_SEED, printed, so a failure
can be replayed): some while the operator is still starting, most while it reconciles. After
every kill a fresh process takes over. Each rollout must end as it would undisturbed
(Succeeded; RolledBack), with exactly one record per window, every replica step applied
once, and never a rise of the canary after the rollback.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.operator_harness import (
    Process,
    ReplicaHistory,
    create_rollout,
    create_target,
    decision_log,
    probe,
    rollout_manifest,
    status_of,
)

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("AIROLLOUT_CHAOS_SEED", "20261201"))
KILLS_PER_ROLLOUT = 10
# Each slice has its own replica count on 10 pods, so a step applied twice shows in the
# history. Holds may last: a killed operator judges no window, and the hold timeout runs on.
SLICES = [10, 25, 50, 100]
ON_HOLD = {"timeout": "600s", "then": "rollback"}
FINISHED = ("Succeeded", "RolledBack", "Failed")


def kill_at_random_moments(
    operator: Process, rng: random.Random, ended: Any, eventually: Any
) -> int:
    """Kill and restart `operator` until `ended()`; at least KILLS_PER_ROLLOUT times, so a
    rollout that ends sooner gets its remaining kills while at rest. Returns the count."""
    kills = 0
    while kills < KILLS_PER_ROLLOUT or not ended():
        if rng.random() < 0.25:  # during start-up: the list, the first reconciles
            time.sleep(rng.uniform(0.2, 2.0))
        else:
            eventually(lambda: probe(operator.health_url + "/readyz") == 200, 60, "ready")
            time.sleep(rng.uniform(0.0, 2.5))
        operator.kill()
        operator.start()
        kills += 1
        assert kills < 60, "the rollout made no progress between kills"
    return kills


def finished(api: client.ApiClient, namespace: str, name: str) -> Any:
    def check() -> dict[str, Any] | None:
        status = status_of(api, namespace, name)
        return status if status.get("phase") in FINISHED and not status.get("awaiting") else None

    return check


def assert_one_record_per_window(api: client.ApiClient, namespace: str, name: str) -> None:
    status = status_of(api, namespace, name)
    keys = [decision["key"] for decision in status["decisions"]]
    assert len(keys) == len(set(keys)), f"{name}: one record per window in the status"
    assert set(decision_log(api, namespace, name)) == set(keys), f"{name}: and in the log"


CASES = {
    # scenario, rollout, final phase, canary and stable replica histories on 10 pods
    "healthy": ("steady-twins", "Succeeded", [1, 2, 5, 10], [10, 9, 8, 5, 0, 10]),
    "failing": ("falls-over-at-half", "RolledBack", [1, 2, 5], [10, 9, 8, 5, 10]),
}


# Each rollout gets a namespace, a workload and an operator of its own, so the second never
# reads the first's series; the seed is offset per case, so each is replayable on its own.
@pytest.mark.parametrize("case", list(CASES))
def test_random_sigkills_change_no_outcome(
    kube_api: client.ApiClient,
    namespace: str,
    operator: Process,
    workload: Any,
    eventually: Any,
    case: str,
) -> None:
    scenario, phase, canary_steps, stable_steps = CASES[case]
    seed = SEED + list(CASES).index(case)
    print(f"chaos seed {seed} for {case} (replay with AIROLLOUT_CHAOS_SEED={SEED})")
    rng = random.Random(seed)
    create_target(kube_api, namespace)
    history = ReplicaHistory(kube_api, namespace).start()
    workload(scenario)
    create_rollout(
        kube_api, namespace, rollout_manifest("web-v2", traffic={"slices": SLICES}, onHold=ON_HOLD)
    )
    done = finished(kube_api, namespace, "web-v2")
    kills = kill_at_random_moments(operator, rng, done, eventually)
    final = eventually(done, 120, f"the {case} rollout's end")
    history.stop()
    assert final["phase"] == phase, final["message"]
    assert_one_record_per_window(kube_api, namespace, "web-v2")
    assert history.of("web-canary") == canary_steps, "each canary step once, none after rollback"
    assert history.of("web") == stable_steps, "each stable step once"
    assert kills >= KILLS_PER_ROLLOUT
