"""The analysis endpoint's evidence is deleted once its last window is past retention."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kubernetes import client

from airollout.web.evidence import ConfigMapEvidence, Evidence, config_map_name

pytestmark = pytest.mark.cluster

CUTOFF = datetime(2026, 11, 1, tzinfo=UTC)
OLD = Evidence(3, "2026-10-01T12:00:00Z", "2026-10-01T12:00:30Z", {})
RECENT = Evidence(1, "2026-11-20T12:00:00Z", "2026-11-20T12:00:10Z", {})


def _names(core: client.CoreV1Api, namespace: str) -> set[str]:
    return {m.metadata.name for m in core.list_namespaced_config_map(namespace).items}


def test_evidence_past_retention_goes_and_the_rest_stays(
    kube_api: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(kube_api)
    store = ConfigMapEvidence(core)
    store.save(namespace, "web", "1111aaaa", OLD)
    store.save(namespace, "web", "2222bbbb", RECENT)
    unrelated = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="web-settings"))
    core.create_namespaced_config_map(namespace, unrelated)

    deleted = store.prune([namespace], CUTOFF)

    assert deleted == [f"{namespace}/{config_map_name('web', '1111aaaa')}"]
    left = _names(core, namespace)
    assert config_map_name("web", "1111aaaa") not in left
    assert {config_map_name("web", "2222bbbb"), "web-settings"} <= left
    assert store.prune([namespace], CUTOFF) == []
