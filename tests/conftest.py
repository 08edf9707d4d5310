"""Shared fixtures: the cluster a test session runs against, and a fresh namespace per test.

Only tests that ask for `cluster` (directly or through `namespace`/`kube_api`) start one,
so unit tests never pay for it. AIROLLOUT_CLUSTER picks the cluster:

- `local` (default): hack/localcluster starts etcd, kube-apiserver, controller-manager,
  scheduler, kwok and Prometheus on loopback ports for the session, from the binaries that
  `make tools` caches, and stops them at the end.
- `existing`: the cluster of the current kubeconfig ($KUBECONFIG or ~/.kube/config) and the
  Prometheus at $PROMETHEUS_URL; scrape targets can be added only when
  $AIROLLOUT_SCRAPE_TARGETS_DIR names a file_sd directory that Prometheus reads.
- `kind`: a kind cluster through pytest-kind (needs Docker; untested on the project's
  machines, which have no container engine). No Prometheus unless $PROMETHEUS_URL is set.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, config
from kubernetes.config import kube_config

import localcluster
from airollout.core.resource.crd import CRD_FILE_NAME, GROUP, PLURAL
from localcluster.layout import bin_dir_from_env
from tests.support.compiled_core import stale_sources

REPO_ROOT = Path(__file__).resolve().parents[1]

NAMESPACE_READY_SECONDS = 30.0
CRD = REPO_ROOT / "crds" / CRD_FILE_NAME
CRD_NAME = f"crd/{PLURAL}.{GROUP}"
T = TypeVar("T")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test a compiled decision core older than its sources: Python would import
    the old extension, not the edited source."""
    stale = stale_sources()
    if stale:
        pytest.exit(
            f"compiled modules are older than their sources {stale}: run `make compile`",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


@dataclasses.dataclass(frozen=True)
class ClusterAccess:
    """How a test reaches the session's cluster and its Prometheus."""

    mode: str
    kubeconfig: Path
    prometheus_url: str | None
    scrape_targets: Path | None

    def api_client(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def require_prometheus(self) -> str:
        if self.prometheus_url is None:
            pytest.skip(f"AIROLLOUT_CLUSTER={self.mode} without PROMETHEUS_URL: no Prometheus")
        return self.prometheus_url

    def add_scrape_target(
        self, job: str, addresses: Sequence[str], labels: Mapping[str, str] | None = None
    ) -> None:
        """Have Prometheus scrape http://<address>/metrics every second as job `job`."""
        if self.scrape_targets is None:
            pytest.skip(
                f"AIROLLOUT_CLUSTER={self.mode}: set AIROLLOUT_SCRAPE_TARGETS_DIR to a file_sd "
                "directory your Prometheus reads to let tests add scrape targets"
            )
        localcluster.write_scrape_target(self.scrape_targets, job, addresses, labels or {})

    def remove_scrape_target(self, job: str) -> None:
        if self.scrape_targets is not None:
            (self.scrape_targets / f"{job}.json").unlink(missing_ok=True)


def _local_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterAccess]:
    state_dir = tmp_path_factory.mktemp("cluster")
    try:
        info = localcluster.up(state_dir, bin_dir_from_env(), die_with_parent=True)
    except localcluster.ClusterError as error:
        pytest.fail(f"local cluster did not start: {error}", pytrace=False)
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PATH", f"{info.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
            yield ClusterAccess("local", info.kubeconfig, info.prometheus_url, info.scrape_targets)
    finally:
        localcluster.down(state_dir)


def _existing_cluster() -> Iterator[ClusterAccess]:
    kubeconfigs = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    targets = os.environ.get("AIROLLOUT_SCRAPE_TARGETS_DIR")
    yield ClusterAccess(
        "existing",
        Path(kubeconfigs.split(os.pathsep)[0]),
        os.environ.get("PROMETHEUS_URL"),
        Path(targets) if targets else None,
    )


def _kind_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterAccess]:
    pytest_kind = pytest.importorskip(
        "pytest_kind", reason="AIROLLOUT_CLUSTER=kind needs pytest-kind"
    )
    if shutil.which("docker") is None:
        pytest.skip("AIROLLOUT_CLUSTER=kind needs Docker, and `docker` is not on PATH")
    kind = pytest_kind.KindCluster("airollout-test")
    kind.create()
    try:
        yield ClusterAccess(
            "kind", Path(kind.kubeconfig_path), os.environ.get("PROMETHEUS_URL"), None
        )
    finally:
        kind.delete()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterAccess]:
    """The session's cluster; KUBECONFIG and PROMETHEUS_URL point at it while tests run, so
    kubectl and kopf (which read them) reach it too."""
    mode = os.environ.get("AIROLLOUT_CLUSTER", "local")
    if mode == "local":
        clusters = _local_cluster(tmp_path_factory)
    elif mode == "existing":
        clusters = _existing_cluster()
    elif mode == "kind":
        clusters = _kind_cluster(tmp_path_factory)
    else:
        pytest.fail(f"AIROLLOUT_CLUSTER={mode!r}: expected local, existing or kind", pytrace=False)
    for access in clusters:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("KUBECONFIG", str(access.kubeconfig))
            # The client reads $KUBECONFIG once, at import: point its default at the cluster
            # too, so in-process code calling load_kube_config() (kopf's login) finds it.
            env.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(access.kubeconfig))
            if access.prometheus_url:
                env.setenv("PROMETHEUS_URL", access.prometheus_url)
            yield access


@pytest.fixture(scope="session")
def crd_installed(cluster: ClusterAccess) -> Path:
    """The session cluster's kubeconfig, once `kubectl apply` installed the AIRollout CRD
    and the apiserver serves it."""
    kubeconfig = ["kubectl", "--kubeconfig", str(cluster.kubeconfig)]
    applied = subprocess.run(
        [*kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", str(CRD)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert applied.returncode == 0, applied.stderr
    # Polled rather than `kubectl wait`, which fails outright ("accessor error") when it
    # reads the CRD before the apiserver has written any status condition.
    condition = '{.status.conditions[?(@.type=="Established")].status}'

    def established() -> bool:
        shown = subprocess.run(
            [*kubeconfig, "get", CRD_NAME, "-o", f"jsonpath={condition}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return shown.returncode == 0 and shown.stdout.strip() == "True"

    wait_until(established, 30.0, f"{CRD_NAME} to be Established")
    return cluster.kubeconfig


@pytest.fixture(scope="session")
def kube_api(cluster: ClusterAccess) -> Iterator[client.ApiClient]:
    """A `kubernetes` ApiClient for the session's cluster, as the admin user."""
    client = cluster.api_client()
    yield client
    client.close()


def wait_until(check: Callable[[], T], timeout: float, what: str, poll: float = 0.2) -> T:
    """Poll `check` until it returns something truthy, and return that; fail the test with
    `what` and the last value seen when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {value!r})")
        time.sleep(poll)


@pytest.fixture(scope="session")
def eventually() -> Callable[..., Any]:
    """`eventually(check, timeout, what)`: wait_until for tests, which cannot import conftest."""
    return wait_until


def _namespace_name(test_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"t-{slug}-{secrets.token_hex(3)}"


@pytest.fixture
def namespace(kube_api: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of its own for one test, deleted afterwards (without waiting for it)."""
    core = client.CoreV1Api(kube_api)
    name = _namespace_name(request.node.name)
    labels = {"airollout.dev/test": "true"}
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=labels))
    )
    # Pods are refused until the namespace's default ServiceAccount exists.
    deadline = time.monotonic() + NAMESPACE_READY_SECONDS
    while not core.list_namespaced_service_account(
        name, field_selector="metadata.name=default"
    ).items:
        if time.monotonic() > deadline:
            pytest.fail(
                f"no default ServiceAccount in namespace {name} after {NAMESPACE_READY_SECONDS}s"
            )
        time.sleep(0.2)
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as error:
        if error.status != 404:
            raise
