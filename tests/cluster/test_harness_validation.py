"""The apiserver validates what it stores, as a real cluster does."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

pytestmark = [pytest.mark.cluster, pytest.mark.harness]


def test_negative_replica_count_is_rejected_with_the_apiserver_validation_message(
    kube_api: client.ApiClient, namespace: str
) -> None:
    labels = {"app": "broken"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "broken"},
        "spec": {
            "replicas": -1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]},
            },
        },
    }
    apps = client.AppsV1Api(kube_api)
    with pytest.raises(client.ApiException) as rejected:
        apps.create_namespaced_deployment(namespace, deployment)

    assert rejected.value.status == 422
    status = json.loads(rejected.value.body)
    assert status["reason"] == "Invalid"
    assert "spec.replicas" in status["message"]
    assert "must be greater than or equal to 0" in status["message"]
    assert apps.list_namespaced_deployment(namespace).items == []
