"""The cluster side of the benchmark: the local cluster, the operator process, one run per size."""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from prometheus_client import CollectorRegistry, start_http_server

import localcluster
from airollout.core.resource.crd import GROUP, PLURAL, VERSION
from airollout_tools.bench.scale.report import (
    DelaySummary,
    SliceReport,
    cpu_seconds_from_stat,
    operator_histograms,
    peak_rss_bytes_from_status,
)
from airollout_tools.bench.scale.settings import (
    CRD_FILE,
    PODS_PER_NODE,
    PODS_PER_ROLLOUT,
    REPO_ROOT,
    TARGET_REPLICAS,
    ScaleSettings,
    config,
)
from airollout_tools.bench.scale.watching import DecisionWatch, watch_rollouts
from airollout_tools.bench.scale.workloads import SteadyExporter, pause_deployment, rollout_manifest
from airollout_tools.sim.workload import (
    REQUESTS_METRIC,
)
from localcluster.layout import bin_dir_from_env


class ProcessProbe:
    """CPU, peak RSS and allowed cores of the process `pid`, from /proc."""

    @property
    def pid(self) -> int:
        raise NotImplementedError

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        return cpu_seconds_from_stat(stat, os.sysconf("SC_CLK_TCK"))

    def peak_rss_bytes(self) -> int:
        return peak_rss_bytes_from_status(Path(f"/proc/{self.pid}/status").read_text())

    def pinned_cores(self) -> tuple[int, ...]:
        """The cores any of its threads may run on, as the kernel reports them."""
        cores: set[int] = set()
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError, FileNotFoundError):
                cores |= os.sched_getaffinity(int(task.name))
        return tuple(sorted(cores))


@dataclass
class OperatorProcess(ProcessProbe):
    """`airollout operator` for one namespace, pinned to one core, its log in a file."""

    proc: subprocess.Popen[bytes]
    metrics_url: str
    log_path: Path

    @classmethod
    def start(
        cls, kubeconfig: Path, namespace: str, prometheus_url: str, settings: ScaleSettings
    ) -> OperatorProcess:
        port = _free_port()
        argv = [
            sys.executable,
            "-m",
            "airollout.cli.main",
            "operator",
            "--kubeconfig",
            str(kubeconfig),
        ]
        argv += ["--namespace", namespace, "--prometheus-url", prometheus_url]
        argv += ["--metrics-port", str(port), "--metrics-address", "127.0.0.1"]
        argv += ["--tick", str(settings.tick_seconds), "--health-port", "0"]
        log_path = settings.log_dir / f"operator-{namespace}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        # Popen returns once the child has exec'd, before the interpreter starts any thread;
        # threads inherit the mask, so the whole operator stays on this core.
        os.sched_setaffinity(proc.pid, {settings.core})
        return cls(proc, f"http://127.0.0.1:{port}/metrics", log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the operator exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                self.metrics_text()
                return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"the operator's /metrics did not answer in {timeout:.0f} s")

    def metrics_text(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as answer:
            return str(answer.read().decode())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class BenchError(RuntimeError):
    """The benchmark could not run (cluster, operator or API failure): exit non-zero."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """What the benchmark needs of a running cluster: its API, Prometheus and file_sd dir."""

    kubeconfig: Path
    prometheus_url: str
    scrape_targets: Path
    api: Any
    add_scrape_target: Callable[[Path, str, Sequence[str]], Any]

    @property
    def core(self) -> Any:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> Any:
        return client.AppsV1Api(self.api)

    @property
    def custom(self) -> Any:
        return client.CustomObjectsApi(self.api)

    def install_crd(self) -> None:
        import yaml  # only here: the rest of the benchmark reads no YAML

        extensions = client.ApiextensionsV1Api(self.api)
        document = yaml.safe_load(CRD_FILE.read_text())
        try:
            extensions.create_custom_resource_definition(document)
        except ApiException as error:
            if error.status != 409:
                raise
        name = document["metadata"]["name"]

        def established() -> bool:
            crd = extensions.read_custom_resource_definition(name)
            return any(
                c.type == "Established" and c.status == "True"
                for c in (crd.status and crd.status.conditions) or []
            )

        _wait_for(established, 30, "the AIRollout CRD to be established")

    def prometheus_count(self, query: str) -> float:
        url = f"{self.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": query})
        with urllib.request.urlopen(url, timeout=5) as answer:
            result = json.load(answer)["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0


@contextlib.contextmanager
def local_cluster(state_dir: Path, node_count: int) -> Iterator[Cluster]:
    """The harness's local control plane (hack/localcluster), stopped on the way out."""
    try:
        info = localcluster.up(
            state_dir, bin_dir_from_env(), node_count=node_count, die_with_parent=True
        )
    except localcluster.ClusterError as error:
        raise BenchError(f"the local cluster did not start: {error}") from error
    api = None
    try:
        api = config.new_client_from_config(config_file=str(info.kubeconfig))
        yield Cluster(
            info.kubeconfig,
            info.prometheus_url,
            info.scrape_targets,
            api,
            localcluster.write_scrape_target,
        )
    finally:
        if api is not None:
            api.close()
        localcluster.down(state_dir)


def nodes_for(rollouts: int) -> int:
    """kwok nodes enough for every pod of `rollouts` rollouts at their peak, plus one."""
    return math.ceil(rollouts * PODS_PER_ROLLOUT / PODS_PER_NODE) + 1


def _wait_for(check: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def run_size(
    cluster: Cluster, exporter: SteadyExporter, rollouts: int, settings: ScaleSettings
) -> SliceReport:
    """One size: N targets and N AIRollouts in a namespace of their own, one operator."""
    namespace = f"bench-{rollouts}-{os.getpid()}"
    targets = [f"web-{index}" for index in range(rollouts)]
    _create_namespace(cluster, namespace)
    try:
        _create_targets(cluster, namespace, targets)
        exporter.serve(namespace, targets)
        _wait_for(
            lambda: (
                cluster.prometheus_count(
                    f'count(count_over_time({REQUESTS_METRIC}{{namespace="{namespace}"}}[10s]) > 2)'
                )
                >= 4 * rollouts
            ),
            60,
            "Prometheus to hold a few samples of every target's series",
        )
        operator = OperatorProcess.start(
            cluster.kubeconfig, namespace, cluster.prometheus_url, settings
        )
        try:
            operator.wait_serving(60)
            time.sleep(2)  # kopf lists and starts watching after /metrics is up
            return _measure(cluster, operator, namespace, targets, settings)
        finally:
            _delete_rollouts(cluster, namespace)  # while the operator runs to drop its finalizers
            operator.stop()
    finally:
        _delete_namespace(cluster, namespace)


def _measure(
    cluster: Cluster,
    operator: OperatorProcess,
    namespace: str,
    targets: Sequence[str],
    settings: ScaleSettings,
) -> SliceReport:
    seen, stop = DecisionWatch(), threading.Event()
    watcher = threading.Thread(
        target=watch_rollouts, args=(cluster.custom, namespace, seen, stop), daemon=True
    )
    watcher.start()
    names = [f"{target}-bench" for target in targets]
    cpu_before, started = operator.cpu_seconds(), time.monotonic()
    try:
        for name, target in zip(names, targets, strict=True):
            cluster.custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, rollout_manifest(name, target, settings)
            )
        deadline = started + settings.timeout_seconds
        while not seen.finished(names) and time.monotonic() < deadline:
            if operator.proc.poll() is not None:
                raise BenchError(f"the operator exited: {operator.log_tail()}")
            time.sleep(0.5)
        wall = time.monotonic() - started
        cpu = operator.cpu_seconds() - cpu_before
        peak_rss, cores = operator.peak_rss_bytes(), operator.pinned_cores()
        histograms = operator_histograms(operator.metrics_text())
    finally:
        stop.set()
        watcher.join(10)
    recorded, seen_delays, unmatched = seen.delays()
    phases = seen.phase_counts()
    return SliceReport(
        rollouts=len(names),
        succeeded=phases.get("Succeeded", 0),
        phases=phases,
        timed_out=not seen.finished(names),
        wall_seconds=wall,
        recorded=DelaySummary.of(recorded),
        seen=DelaySummary.of(seen_delays),
        histograms=histograms,
        unmatched_decisions=unmatched,
        cpu_seconds=cpu,
        peak_rss_bytes=peak_rss,
        pinned_cores=cores,
        load_average=os.getloadavg(),
        applied=DelaySummary.of(seen.applied_delays(settings.slices)),
    )


def _create_namespace(cluster: Cluster, namespace: str) -> None:
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    _wait_for(
        lambda: (
            cluster.core.list_namespaced_service_account(
                namespace, field_selector="metadata.name=default"
            ).items
        ),
        30,
        f"the default ServiceAccount of {namespace}",
    )


def _delete_rollouts(cluster: Cluster, namespace: str) -> None:
    with contextlib.suppress(ApiException):
        cluster.custom.delete_collection_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)

    def gone() -> bool:
        listing = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        return not listing.get("items")

    with contextlib.suppress(BenchError, ApiException):
        _wait_for(gone, 120, f"the AIRollouts of {namespace} to be deleted")


def _delete_namespace(cluster: Cluster, namespace: str) -> None:
    """Delete and wait (a while) until it is gone, so its pods load no later size."""
    with contextlib.suppress(ApiException):
        cluster.core.delete_namespace(namespace)

    def gone() -> bool:
        try:
            cluster.core.read_namespace(namespace)
        except ApiException as error:
            return bool(error.status == 404)
        return False

    with contextlib.suppress(BenchError):
        _wait_for(gone, 180, f"namespace {namespace} to be deleted")


def _create_targets(cluster: Cluster, namespace: str, targets: Sequence[str]) -> None:
    for target in targets:
        cluster.apps.create_namespaced_deployment(
            namespace, pause_deployment(target, TARGET_REPLICAS)
        )

    def all_ready() -> bool:
        deployments = cluster.apps.list_namespaced_deployment(namespace).items
        ready = [d for d in deployments if (d.status.ready_replicas or 0) >= d.spec.replicas]
        return len(ready) >= len(targets)

    _wait_for(all_ready, 120 + len(targets), f"{len(targets)} target Deployments to be ready")


def serve_exporter(cluster: Cluster, settings: ScaleSettings) -> SteadyExporter:
    """The steady exporter, served on a free loopback port and scraped by the Prometheus."""
    exporter = SteadyExporter(settings)
    registry = CollectorRegistry()
    registry.register(exporter)
    port = _free_port()
    start_http_server(port, addr="127.0.0.1", registry=registry)
    cluster.add_scrape_target(cluster.scrape_targets, "bench-exporter", [f"127.0.0.1:{port}"])
    return exporter


def run_benchmark(
    settings: ScaleSettings, progress: Callable[[SliceReport], None] = lambda _: None
) -> list[SliceReport]:
    """Every size in turn on one local cluster; `progress` sees each report as it is made."""
    reports: list[SliceReport] = []
    with (
        tempfile.TemporaryDirectory(prefix="airollout-bench-operator-") as state,
        local_cluster(Path(state), nodes_for(max(settings.sizes))) as cluster,
    ):
        cluster.install_crd()
        exporter = serve_exporter(cluster, settings)
        for size in settings.sizes:
            report = run_size(cluster, exporter, size, settings)
            progress(report)
            reports.append(report)
    return reports
