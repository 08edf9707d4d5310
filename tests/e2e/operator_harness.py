"""Processes and objects the operator's end-to-end tests share: the operator itself, the
simulated workload, a target Deployment and AIRollout manifests with short windows.

The operator and the workload run as real subprocesses (`airollout operator`,
`airollout workload`), as users run them, so a test can SIGKILL the operator mid-rollout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kubernetes import client, watch

from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.core.resource.crd import GROUP, PLURAL, VERSION
from airollout_tools.bench.scale.workloads import pause_deployment
from airollout_tools.sim.workload import QUERIES
from localcluster.ports import free_loopback_ports

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = Path(os.environ.get("AIROLLOUT_SCENARIOS", REPO / "scenarios"))
AIROLLOUT = [sys.executable, "-m", "airollout.cli.main"]
IMAGE = "registry.k8s.io/pause:3.10"
NEW_IMAGE = "registry.k8s.io/pause:3.10-v2"


class Process:
    """A child process whose output goes to a log file the test prints when it fails."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: Mapping[str, str]) -> None:
        self.name, self.argv, self.env = name, argv, dict(env)
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.metrics_url = self.health_url = ""

    def start(self) -> Process:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up, no last status write, exactly like an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def operator_process(
    kubeconfig: Path,
    namespace: str,
    prometheus_url: str | None,
    log_dir: Path,
    extra: Sequence[str] = (),
    name: str = "",
) -> Process:
    """`airollout operator` for one namespace, with `extra` flags; its /metrics is at
    `.metrics_url`, its probes at `.health_url + "/healthz"` (or "/readyz")."""
    port, health_port = free_loopback_ports(2)
    argv = [*AIROLLOUT, "operator", "--kubeconfig", str(kubeconfig), "--namespace", namespace]
    argv += ["--metrics-port", str(port), "--metrics-address", "127.0.0.1", "--tick", "0.5"]
    argv += ["--health-port", str(health_port), "--health-address", "127.0.0.1"]
    if prometheus_url:
        argv += ["--prometheus-url", prometheus_url]
    process = Process(name or f"operator-{namespace}", [*argv, *extra], log_dir, os.environ)
    process.metrics_url = f"http://127.0.0.1:{port}/metrics"
    process.health_url = f"http://127.0.0.1:{health_port}"
    return process


def probe(url: str) -> int:
    """The HTTP status a probe answers with (503 is an answer too); 0 when nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def scrape(url: str) -> dict[str, float]:
    """The samples of a Prometheus text endpoint, keyed by `name{labels}` as written."""
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def workload_process(
    kubeconfig: Path,
    namespace: str,
    scenario: str,
    log_dir: Path,
    rps: float = 600,
    time_scale: float = 1.0,
) -> tuple[Process, str]:
    """Start the workload for `scenario`; returns it and its host:port once it listens."""
    argv = [*AIROLLOUT, "workload", "--scenario", str(SCENARIOS / f"{scenario}.yaml")]
    argv += ["--namespace", namespace, "--target", "web", "--rps", str(rps), "--port", "0"]
    argv += ["--kubeconfig", str(kubeconfig), "--host", "127.0.0.1"]
    argv += ["--time-scale", str(time_scale)]
    process = Process(f"workload-{namespace}", argv, log_dir, os.environ).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in process.log_tail(20).splitlines():
            if line.startswith("listening on http://"):
                return process, line.removeprefix("listening on http://").strip()
        if process.proc is not None and process.proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"the workload did not start:\n{process.log_tail()}")


def create_target(api: client.ApiClient, namespace: str, replicas: int = 10) -> None:
    client.AppsV1Api(api).create_namespaced_deployment(
        namespace, pause_deployment("web", replicas, IMAGE)
    )


def rollout_manifest(name: str, **spec: Any) -> dict[str, Any]:
    """An AIRollout of Deployment `web` to NEW_IMAGE, judged every 5 s on errors and p99."""
    body: dict[str, Any] = {
        "targetRef": {"name": "web"},
        "template": {"image": NEW_IMAGE},
        "revision": "v2",
        "traffic": {"slices": [10, 25, 50, 100]},
        "analysis": {
            "interval": "5s",
            "warmup": "2s",
            "metrics": [
                {
                    "name": "error-rate",
                    "kind": "errorRate",
                    "errorQuery": QUERIES["errorQuery"],
                    "totalQuery": QUERIES["totalQuery"],
                    "max": 0.005,
                },
                {
                    "name": "p99-latency",
                    "kind": "latency",
                    "bucketsQuery": QUERIES["bucketsQuery"],
                    "max": 0.5,
                },
            ],
        },
        "onHold": {"timeout": "60s", "then": "rollback"},
    }
    body.update(spec)
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AIRollout",
        "metadata": {"name": name},
        "spec": body,
    }


def create_rollout(api: client.ApiClient, namespace: str, manifest: dict[str, Any]) -> None:
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, manifest
    )


def read_rollout(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )


def status_of(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return read_rollout(api, namespace, name).get("status") or {}


def deployment_or_none(api: client.ApiClient, namespace: str, name: str) -> Any:
    try:
        return client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise


def decision_log(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    """The logged records of the rollouts named `name`, by window key (one rollout each in
    these tests), read through the API `airollout history` uses."""
    history = DecisionLog(client.CoreV1Api(api)).history(namespace, name)
    return {entry.key: dict(entry.record) for entry in history}


def rollout_events(api: client.ApiClient, namespace: str, name: str) -> list[Any]:
    events = client.CoreV1Api(api).list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={name},involvedObject.kind=AIRollout"
    )
    return list(events.items)


class ReplicaHistory:
    """Every change of each Deployment's spec.replicas in the namespace, in order."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.apps, self.namespace = client.AppsV1Api(api), namespace
        self.changes: dict[str, list[int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def start(self) -> ReplicaHistory:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)

    def of(self, name: str) -> list[int]:
        return list(self.changes.get(name, []))

    def _follow(self) -> None:
        version = None
        while not self._stop.is_set():
            stream = watch.Watch().stream(
                self.apps.list_namespaced_deployment,
                self.namespace,
                resource_version=version,
                timeout_seconds=5,
            )
            for event in stream:
                deployment = event["object"]
                version = deployment.metadata.resource_version
                self._record(deployment.metadata.name, deployment.spec.replicas)

    def _record(self, name: str, replicas: int) -> None:
        seen = self.changes.setdefault(name, [])
        if not seen or seen[-1] != replicas:
            seen.append(replicas)
