"""High availability: two operators with --leader-elect against the real cluster.

One holds the Lease and reconciles; the other stands by, reconciling nothing. SIGKILL the
leader mid-rollout: the standby takes the Lease once it has expired (and not before), and
the rollout ends as an undisturbed one does, with one record per window and each replica
step applied once. A clean stop (SIGTERM) gives the Lease up at once.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.operator_harness import (
    NEW_IMAGE,
    Process,
    ReplicaHistory,
    create_rollout,
    create_target,
    decision_log,
    deployment_or_none,
    operator_process,
    probe,
    rollout_manifest,
    scrape,
    status_of,
)

pytestmark = pytest.mark.e2e

LEASE = "airollout-operator"
LEASE_S, RENEW_S, RETRY_S = 4, 3, 1
RECONCILES = "airollout_reconcile_seconds_count"


def elected(cluster: Any, namespace: str, tmp_path: Path, name: str) -> Process:
    flags = ["--leader-elect", "--leader-elect-namespace", namespace]
    flags += ["--leader-elect-lease-duration", str(LEASE_S)]
    flags += ["--leader-elect-renew-deadline", str(RENEW_S)]
    flags += ["--leader-elect-retry-period", str(RETRY_S)]
    return operator_process(
        cluster.kubeconfig, namespace, cluster.prometheus_url, tmp_path, flags, name
    )


def lease_or_none(api: client.ApiClient, namespace: str) -> client.V1Lease | None:
    try:
        return client.CoordinationV1Api(api).read_namespaced_lease(LEASE, namespace)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise


def lease_spec(api: client.ApiClient, namespace: str) -> client.V1LeaseSpec:
    lease = lease_or_none(api, namespace)
    assert lease is not None, "the Lease exists"
    assert lease.spec is not None
    return lease.spec


def holder(api: client.ApiClient, namespace: str) -> str:
    lease = lease_or_none(api, namespace)
    return (lease and lease.spec and lease.spec.holder_identity) or ""


def test_the_standby_takes_over_a_killed_leaders_rollout_which_ends_as_if_undisturbed(
    cluster: Any,
    kube_api: client.ApiClient,
    namespace: str,
    crd_installed: Path,
    processes: list[Process],
    workload: Any,
    tmp_path: Path,
    eventually: Any,
) -> None:
    first = elected(cluster, namespace, tmp_path, "operator-first")
    processes.append(first.start())
    leader_id = eventually(lambda: holder(kube_api, namespace), 60, "the first to take the Lease")
    second = elected(cluster, namespace, tmp_path, "operator-second")
    processes.append(second.start())
    for process in (first, second):
        eventually(lambda p=process: probe(p.health_url + "/readyz") == 200, 60, "ready")
        assert probe(process.health_url + "/healthz") == 200

    create_target(kube_api, namespace)
    history = ReplicaHistory(kube_api, namespace).start()
    workload("steady-twins")
    create_rollout(kube_api, namespace, rollout_manifest("web-v2"))

    def status() -> dict[str, Any]:
        return status_of(kube_api, namespace, "web-v2")

    eventually(lambda: len(status().get("decisions") or []) >= 1, 180, "the first decision")
    assert scrape(first.metrics_url)[RECONCILES] > 0, "the leader reconciles"
    assert scrape(second.metrics_url)[RECONCILES] == 0, "the standby does not"
    assert holder(kube_api, namespace) == leader_id, "and leaves the Lease alone"

    first.kill()
    before = lease_spec(kube_api, namespace)
    successor = eventually(
        lambda: (h := holder(kube_api, namespace)) != leader_id and h, 30, "a new holder"
    )
    after = lease_spec(kube_api, namespace)
    last_renewal: datetime = before.renew_time
    taken_over: datetime = after.acquire_time
    gap = (taken_over - last_renewal).total_seconds()
    # Timestamps the operators wrote into the Lease, not the test's clock: the standby
    # waited for the lease to expire, and took it at its first retry after that.
    assert LEASE_S <= gap <= LEASE_S + 2 * RETRY_S + 1, gap
    assert after.lease_transitions == (before.lease_transitions or 0) + 1
    assert probe(second.health_url + "/readyz") == 200

    final = eventually(
        lambda: (s := status()).get("phase") in ("Succeeded", "RolledBack", "Failed") and s,
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
    assert scrape(second.metrics_url)[RECONCILES] > 0, "the successor reconciled"

    second.stop()  # SIGTERM: a clean shutdown gives the Lease up
    assert second.proc is not None
    assert second.proc.returncode == 0, second.log_tail()
    assert lease_spec(kube_api, namespace).holder_identity in ("", None), f"{successor} left"
