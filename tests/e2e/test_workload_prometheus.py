"""The simulated workload on the real cluster: real ready replicas split its traffic, and a
real Prometheus scrapes it, so the operator's queries see what a real service would give."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from airollout_tools.bench.scale.workloads import pause_deployment
from tests.e2e.operator_harness import SCENARIOS

pytestmark = pytest.mark.e2e

READY_SECONDS = 60.0
TRAFFIC_SECONDS = 90.0
RPS = 300
CANARY_REQUESTS_WANTED = 600


def _query(prometheus_url: str, promql: str) -> dict[str, float]:
    """An instant query's samples keyed by their `version` label."""
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as response:
        result = json.load(response)["data"]["result"]
    return {sample["metric"].get("version", ""): float(sample["value"][1]) for sample in result}


@pytest.fixture
def workload_url(cluster: Any, namespace: str, tmp_path: Path) -> Iterator[str]:
    """`airollout workload` for broken-from-first-pod, run as the separate process it is."""
    scenario = SCENARIOS / "broken-from-first-pod.yaml"
    command = [
        sys.executable,
        "-m",
        "airollout_tools.sim.workload_cli",
        "--scenario",
        str(scenario),
    ]
    options = ["--namespace", namespace, "--target", "web", "--rps", str(RPS)]
    log = (tmp_path / "workload.log").open("w")
    process = subprocess.Popen(
        [*command, *options, "--kubeconfig", str(cluster.kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://"), f"workload said {line!r}; see {log.name}"
        yield line.removeprefix("listening on ")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def web_nine_and_canary_one(kube_api: client.ApiClient, namespace: str, eventually: Any) -> None:
    apps = client.AppsV1Api(kube_api)
    apps.create_namespaced_deployment(namespace, pause_deployment("web", 9))
    apps.create_namespaced_deployment(namespace, pause_deployment("web-canary", 1))

    def ready(name: str) -> int:
        status = apps.read_namespaced_deployment_status(name, namespace).status
        return (status.ready_replicas or 0) if status else 0

    eventually(lambda: (ready("web"), ready("web-canary")) == (9, 1), READY_SECONDS, "9 + 1 ready")


@pytest.mark.usefixtures("web_nine_and_canary_one")
def test_canary_gets_its_replica_share_and_a_higher_error_rate_through_prometheus(
    cluster: Any, namespace: str, workload_url: str, eventually: Any
) -> None:
    prometheus_url = cluster.require_prometheus()
    job = f"workload-{secrets.token_hex(3)}"
    cluster.add_scrape_target(job, [workload_url.removeprefix("http://")])
    selector = f'job="{job}", namespace="{namespace}"'
    totals = f"sum by (version) (http_requests_total{{{selector}}})"

    def enough_canary_requests() -> dict[str, float] | None:
        found = _query(prometheus_url, totals)
        return found if found.get("canary", 0) >= CANARY_REQUESTS_WANTED else None

    try:
        served = eventually(
            enough_canary_requests,
            TRAFFIC_SECONDS,
            f"{CANARY_REQUESTS_WANTED} canary requests in Prometheus",
        )
        errors = _query(
            prometheus_url, f'sum by (version) (http_requests_total{{{selector}, status=~"5.."}})'
        )
        latency_p99_s = _query(
            prometheus_url,
            "histogram_quantile(0.99, sum by (version, le) "
            f"(rate(http_request_duration_seconds_bucket{{{selector}}}[30s])))",
        )
    finally:
        cluster.remove_scrape_target(job)

    assert set(served) == {"stable", "canary"}
    # 9 stable pods and 1 canary pod: a tenth of the requests, binomial noise well inside 3 %.
    assert served["canary"] / (served["canary"] + served["stable"]) == pytest.approx(0.10, abs=0.03)
    canary_error_rate = errors["canary"] / served["canary"]
    stable_error_rate = errors.get("stable", 0.0) / served["stable"]
    assert canary_error_rate == pytest.approx(0.08, abs=0.03), "the scenario's 8 % failures"
    assert stable_error_rate < 0.01
    # Seconds, not milliseconds: the scenario's default p99 is 200 ms.
    assert 0.1 < latency_p99_s["stable"] < 0.4
