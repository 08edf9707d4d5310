"""The analysis endpoint's evidence against a real apiserver: kept, and raced safely."""

from __future__ import annotations

import dataclasses

import pytest
from kubernetes import client

from airollout.web.evidence import (
    ARGO_ROLLOUT_LABEL,
    CANARY_HASH_LABEL,
    ConfigMapEvidence,
    Evidence,
    EvidenceConflictError,
)

pytestmark = pytest.mark.cluster

FIRST = Evidence(1, "2026-12-01T12:00:00Z", "2026-12-01T12:00:10Z", {"rules": {"n": 1}})


def test_evidence_reads_back_as_written_per_rollout_and_canary_hash(
    kube_api: client.ApiClient, namespace: str
) -> None:
    store = ConfigMapEvidence(client.CoreV1Api(kube_api))
    assert store.load(namespace, "web", "6f9c7d8b5") is None
    store.save(namespace, "web", "6f9c7d8b5", FIRST)
    loaded = store.load(namespace, "web", "6f9c7d8b5")
    assert loaded is not None
    assert dataclasses.replace(loaded, version=None) == FIRST
    assert store.load(namespace, "web", "7a7a7a7a7") is None
    maps = client.CoreV1Api(kube_api).list_namespaced_config_map(
        namespace, label_selector=f"{ARGO_ROLLOUT_LABEL}=web,{CANARY_HASH_LABEL}=6f9c7d8b5"
    )
    assert len(maps.items) == 1


def test_only_one_of_two_calls_that_read_the_same_evidence_may_write(
    kube_api: client.ApiClient, namespace: str
) -> None:
    store = ConfigMapEvidence(client.CoreV1Api(kube_api))
    store.save(namespace, "web", "6f9c7d8b5", FIRST)
    read = store.load(namespace, "web", "6f9c7d8b5")
    assert read is not None
    winner = dataclasses.replace(read, windows=2, state={"rules": {"n": 2}})
    loser = dataclasses.replace(read, windows=2, state={"rules": {"n": 99}})
    store.save(namespace, "web", "6f9c7d8b5", winner)
    with pytest.raises(EvidenceConflictError):
        store.save(namespace, "web", "6f9c7d8b5", loser)
    with pytest.raises(EvidenceConflictError):  # a second first call
        store.save(namespace, "web", "6f9c7d8b5", FIRST)
    stored = store.load(namespace, "web", "6f9c7d8b5")
    assert stored is not None
    assert stored.state == {"rules": {"n": 2}}
