"""The harness's pod runner (hack/localcluster/podrunner.py) for tests: a Node of the session
cluster whose pods really run, as host processes, and pod specs that land on it.

    @pytest.fixture(scope="module")
    def runner(cluster):
        with pod_runner(cluster) as started:
            yield started
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import pytest

# conftest put hack/ on sys.path before any test module (and so this one) is imported.
import localcluster
from localcluster.podrunner import PodRunner, start_pod_runner
from localcluster.podrunner_node import RUNNER_LABEL

RUNNER_TOLERATION = {"key": RUNNER_LABEL, "operator": "Equal", "value": "true",
                     "effect": "NoSchedule"}  # fmt: skip


@contextlib.contextmanager
def pod_runner(cluster: Any) -> Iterator[PodRunner]:
    """Start the runner against `cluster` (conftest's ClusterAccess); stop it and remove its
    Node afterwards. It needs the local cluster's certificates, so other modes skip."""
    if cluster.mode != "local":
        pytest.skip(f"AIROLLOUT_CLUSTER={cluster.mode}: the pod runner needs the local cluster")
    # The kubeconfig lies at the top of the local cluster's state directory.
    info = localcluster.read_running(cluster.kubeconfig.parent)
    try:
        runner = start_pod_runner(info)
    except localcluster.ClusterError as error:
        pytest.fail(f"pod runner did not start: {error}", pytrace=False)
    try:
        yield runner
    finally:
        runner.stop()


def on_runner(pod_spec: dict[str, Any]) -> dict[str, Any]:
    """`pod_spec` with the toleration and node selector that put a pod on the runner's node."""
    spec = copy.deepcopy(pod_spec)
    spec.setdefault("tolerations", []).append(RUNNER_TOLERATION)
    spec.setdefault("nodeSelector", {})[RUNNER_LABEL] = "true"
    return spec
