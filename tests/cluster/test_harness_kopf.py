"""A kopf operator runs against the cluster and reacts to objects, as the real one will."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import kopf
import pytest
from kopf.testing import KopfRunner
from kubernetes import client

pytestmark = [pytest.mark.cluster, pytest.mark.harness]

# Its own module file: `kopf run` imports handlers from a path, as `airollout operator` will.
OPERATOR = textwrap.dedent(
    """
    import kopf

    @kopf.on.create("v1", "configmaps", labels={"airollout.dev/kopf-smoke": "yes"})
    def answer(body, patch, **_):
        patch.setdefault("data", {})["answer"] = body["data"]["question"].upper()
    """
)


def test_kopf_handler_answers_a_configmap_created_in_the_cluster(
    kube_api: client.ApiClient, namespace: str, tmp_path: Path, eventually: Any
) -> None:
    operator_file = tmp_path / "smoke_operator.py"
    operator_file.write_text(OPERATOR)
    settings = kopf.OperatorSettings()
    settings.posting.enabled = False
    core = client.CoreV1Api(kube_api)
    configmap = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="ask", labels={"airollout.dev/kopf-smoke": "yes"}),
        data={"question": "ready?"},
    )
    args = ["run", "--standalone", "--namespace", namespace, str(operator_file)]

    with KopfRunner(args, timeout=60, settings=settings) as runner:
        core.create_namespaced_config_map(namespace, configmap)
        answered = eventually(
            lambda: (core.read_namespaced_config_map("ask", namespace).data or {}).get("answer"),
            30.0,
            "kopf's answer in the ConfigMap",
        )

    assert answered == "READY?"
    assert runner.exception is None
    assert runner.exit_code == 0
