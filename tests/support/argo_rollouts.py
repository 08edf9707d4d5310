"""The real Argo Rollouts controller for the tests of one module, on the session's cluster.

With the local cluster (AIROLLOUT_CLUSTER=local) the controller that `make tools` builds is
started for the module and stopped after it. A missing binary skips those tests on a
developer's machine, where building it takes minutes, but fails them in CI (CI is set),
where `make tools` must have built it. With AIROLLOUT_CLUSTER=existing the cluster's own
Argo Rollouts runs them; it must serve the Rollout CRD.

A test module starts it with a fixture of its own:

    @pytest.fixture(scope="module")
    def argo(cluster, tmp_path_factory):
        with argo_rollouts_running(cluster, tmp_path_factory.mktemp("argo-rollouts")) as it:
            yield it
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from localcluster import argo_rollouts
from localcluster.layout import bin_dir_from_env

ROLLOUT_CRD = "crd/rollouts.argoproj.io"


class _Cluster(Protocol):
    """What of conftest's ClusterAccess this needs (tests cannot import conftest)."""

    mode: str
    kubeconfig: Path


@dataclasses.dataclass(frozen=True)
class ArgoRolloutsAccess:
    """The controller the tests run against; `metrics_url` is None for a cluster's own."""

    mode: str
    metrics_url: str | None


def _binary_or_skip(bin_dir: Path) -> None:
    missing = argo_rollouts.missing_files(bin_dir)
    if not missing:
        return
    reason = f"no Argo Rollouts controller ({missing[0]}): run `hack/build-tools.sh argo-rollouts`"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; in CI `make tools` must build it", pytrace=False)
    pytest.skip(reason)


def _require_rollout_crd(kubeconfig: Path) -> None:
    shown = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "get", ROLLOUT_CRD, "-o", "name"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if shown.returncode != 0:
        pytest.skip(f"AIROLLOUT_CLUSTER=existing: install Argo Rollouts ({ROLLOUT_CRD} not found)")


@contextlib.contextmanager
def argo_rollouts_running(cluster: _Cluster, state_dir: Path) -> Iterator[ArgoRolloutsAccess]:
    """Argo Rollouts reconciling Rollouts on `cluster` while the block runs; the local
    controller keeps its log under `state_dir`, which a failure message names."""
    if cluster.mode != "local":
        _require_rollout_crd(cluster.kubeconfig)
        yield ArgoRolloutsAccess(cluster.mode, metrics_url=None)
        return
    bin_dir = bin_dir_from_env()
    _binary_or_skip(bin_dir)
    try:
        controller = argo_rollouts.start(
            state_dir, bin_dir, cluster.kubeconfig, die_with_parent=True
        )
    except argo_rollouts.ArgoRolloutsError as error:
        pytest.fail(f"Argo Rollouts did not start: {error}", pytrace=False)
    try:
        yield ArgoRolloutsAccess(cluster.mode, controller.metrics_url)
    finally:
        argo_rollouts.stop(controller)
