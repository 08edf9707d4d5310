"""AIRollout's judge as an Argo Rollouts analysis step, with the real Argo Rollouts
controller, the real operator's analysis endpoint, Prometheus and the simulated workload.

The AnalysisTemplate is `examples/argo-rollouts/analysistemplate.yaml` as the README shows
it; only its `endpoint` argument is given by the Rollout, to reach the operator here.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from airollout_tools.bench.scale.workloads import pause_deployment
from localcluster.ports import free_loopback_ports
from tests.e2e.operator_harness import (
    AIROLLOUT,
    IMAGE,
    NEW_IMAGE,
    REPO,
    SCENARIOS,
    Process,
    operator_process,
)
from tests.support.argo_rollouts import ArgoRolloutsAccess, argo_rollouts_running

pytestmark = pytest.mark.e2e

GROUP, VERSION = "argoproj.io", "v1alpha1"
TEMPLATE = REPO / "examples/argo-rollouts/analysistemplate.yaml"
TOKEN = "e2e-analysis-token"
REPLICAS = 4
# Each analysis step: initialDelay + (count - 1) intervals, plus Argo's own pace.
STEP_SECONDS = 60.0
DARK_CANARY = """\
version: 1
description: the canary exports no metrics at all
expect: hold
rps: 600
events:
  - {version: canary, from_s: 0, missing: true}
seed: 7
"""


@pytest.fixture(scope="module")
def argo(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArgoRolloutsAccess]:
    with argo_rollouts_running(cluster, tmp_path_factory.mktemp("argo-rollouts")) as running:
        yield running


@pytest.fixture
def endpoint(
    cluster: Any, namespace: str, crd_installed: Path, processes: list[Process], tmp_path: Path
) -> str:
    """The operator with its analysis endpoint; returns the endpoint's URL."""
    cluster.require_prometheus()
    (port,) = free_loopback_ports(1)
    token_file = tmp_path / "analysis-token"
    token_file.write_text(TOKEN)
    extra = ["--analysis-port", str(port), "--analysis-address", "127.0.0.1"]
    extra += ["--analysis-token-file", str(token_file)]
    process = operator_process(
        cluster.kubeconfig, namespace, cluster.prometheus_url, tmp_path, extra
    )
    processes.append(process.start())
    return f"http://127.0.0.1:{port}/v1/analysis"


@pytest.fixture
def argo_workload(
    cluster: Any, namespace: str, processes: list[Process], tmp_path: Path
) -> Iterator[Callable[[Path], None]]:
    """`start(scenario_file)`: the simulated service behind Rollout `web`, scraped."""

    def start(scenario: Path) -> None:
        argv = [*AIROLLOUT, "workload", "--scenario", str(scenario), "--argo-rollout"]
        argv += ["--namespace", namespace, "--target", "web", "--rps", "600", "--port", "0"]
        argv += ["--kubeconfig", str(cluster.kubeconfig), "--host", "127.0.0.1"]
        process = Process(f"workload-{namespace}", argv, tmp_path, os.environ).start()
        processes.append(process)
        address = _listening_address(process)
        cluster.add_scrape_target(f"workload-{namespace}", [address])

    yield start
    cluster.remove_scrape_target(f"workload-{namespace}")


def _listening_address(process: Process) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in process.log_tail(20).splitlines():
            if line.startswith("listening on http://"):
                return line.removeprefix("listening on http://").strip()
        time.sleep(0.2)
    raise AssertionError(f"the workload did not start:\n{process.log_tail()}")


def _analysis_step(endpoint: str) -> dict[str, Any]:
    def field(path: str) -> dict[str, Any]:
        return {"valueFrom": {"fieldRef": {"fieldPath": path}}}

    return {
        "analysis": {
            "templates": [{"templateName": "airollout"}],
            "args": [
                {"name": "namespace", **field("metadata.namespace")},
                {"name": "rollout", **field("metadata.name")},
                {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
                {"name": "stable-hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
                {"name": "endpoint", "value": endpoint},
            ],
        }
    }


def _rollout(image: str, endpoint: str) -> dict[str, Any]:
    steps = [
        {"setWeight": 25},
        _analysis_step(endpoint),
        {"setWeight": 50},
        _analysis_step(endpoint),
    ]
    spec = {**pause_deployment("web", REPLICAS, image)["spec"]}
    spec["strategy"] = {"canary": {"steps": steps}}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Rollout",
        "metadata": {"name": "web"},
        "spec": spec,
    }


class _Argo:
    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.custom, self.core = client.CustomObjectsApi(api), client.CoreV1Api(api)
        self.namespace = namespace

    def setup(self, endpoint: str) -> None:
        """The token Secret and the README's AnalysisTemplate; the Rollout, stable at IMAGE."""
        secret = client.V1Secret(
            metadata=client.V1ObjectMeta(name="airollout-analysis"),
            data={"token": base64.b64encode(TOKEN.encode()).decode()},
        )
        self.core.create_namespaced_secret(self.namespace, secret)
        template = yaml.safe_load(TEMPLATE.read_text())
        self._create("analysistemplates", template)
        self._create("rollouts", _rollout(IMAGE, endpoint))

    def _create(self, plural: str, body: dict[str, Any]) -> None:
        self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, body)

    def status(self) -> dict[str, Any]:
        found: Any = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "rollouts", "web"
        )
        return dict(found.get("status") or {})

    def update(self, image: str, endpoint: str) -> None:
        patch = {"spec": _rollout(image, endpoint)["spec"]}
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "rollouts", "web", patch
        )

    def analysis_runs(self) -> list[dict[str, Any]]:
        found: Any = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "analysisruns"
        )
        return list(found["items"])

    def measurements(self) -> list[dict[str, Any]]:
        return [
            measurement
            for run in self.analysis_runs()
            for result in (run.get("status") or {}).get("metricResults") or []
            for measurement in result.get("measurements") or []
        ]

    def decision_records(self) -> list[dict[str, Any]]:
        maps = self.core.list_namespaced_config_map(
            self.namespace, label_selector="airollout.dev/rollout=argo.web"
        )
        return [json.loads(text) for cm in maps.items for text in (cm.data or {}).values()]


Started = tuple[_Argo, str, str]  # the Rollout's API, its stable hash, its canary hash


@pytest.fixture
def rollout_to(
    argo: ArgoRolloutsAccess,
    endpoint: str,
    argo_workload: Callable[[Path], None],
    kube_api: client.ApiClient,
    namespace: str,
    eventually: Any,
) -> Callable[[Path], Started]:
    """`rollout_to(scenario)`: Rollout `web` Healthy at IMAGE, the workload serving it as
    `scenario` says, then the update to NEW_IMAGE started."""

    def start(scenario: Path) -> Started:
        argo_api = _Argo(kube_api, namespace)
        argo_api.setup(endpoint)
        stable = eventually(
            lambda: (
                argo_api.status().get("phase") == "Healthy" and argo_api.status().get("stableRS")
            ),
            60,
            "the first Rollout Healthy",
        )
        argo_workload(scenario)
        argo_api.update(NEW_IMAGE, endpoint)
        canary = eventually(
            lambda: ({argo_api.status().get("currentPodHash")} - {stable, None}) or None,
            30,
            "a canary pod hash",
        ).pop()
        return argo_api, stable, canary

    return start


def test_a_healthy_canary_is_promoted_with_every_verdict_logged(
    rollout_to: Callable[[Path], Started], eventually: Any
) -> None:
    argo_api, _, canary = rollout_to(SCENARIOS / "steady-twins.yaml")

    def promoted() -> bool:
        status = argo_api.status()
        return status.get("phase") == "Healthy" and status.get("stableRS") == canary

    eventually(promoted, 2 * STEP_SECONDS + 60, f"Rollout Healthy at the canary {canary}")
    runs = argo_api.analysis_runs()
    assert len(runs) == 2, [run["metadata"]["name"] for run in runs]
    assert {run["status"]["phase"] for run in runs} == {"Successful"}
    records = argo_api.decision_records()
    assert records, "every verdict goes to the decision log"
    assert {record["revision"] for record in records} == {canary}
    # The second step's windows carry on the first's evidence: windows keep counting.
    assert max(record["window"] for record in records) >= 3
    assert "proceed" in {record["action"] for record in records}


def test_a_failing_canary_is_aborted_with_the_reason_in_the_measurement(
    rollout_to: Callable[[Path], Started], eventually: Any
) -> None:
    argo_api, stable, _ = rollout_to(SCENARIOS / "broken-from-first-pod.yaml")

    def aborted() -> bool:
        status = argo_api.status()
        return status.get("phase") == "Degraded" and bool(status.get("abort"))

    eventually(aborted, STEP_SECONDS + 30, "the Rollout aborted (Degraded)")
    assert argo_api.status()["stableRS"] == stable
    (run,) = argo_api.analysis_runs()
    assert run["status"]["phase"] == "Failed"
    failed = [m for m in argo_api.measurements() if m.get("phase") == "Failed"]
    assert failed, argo_api.measurements()
    result = json.loads(failed[-1]["value"])
    assert result["decision"] == "rollback"
    assert result["summary"].startswith("Rollback: canary error rate"), result["summary"]


def test_a_canary_without_data_is_inconclusive_and_the_rollout_pauses(
    rollout_to: Callable[[Path], Started], eventually: Any, tmp_path: Path
) -> None:
    scenario = tmp_path / "dark-canary.yaml"
    scenario.write_text(DARK_CANARY)
    argo_api, _, _ = rollout_to(scenario)

    def paused_inconclusive() -> bool:
        reasons = {c.get("reason") for c in argo_api.status().get("pauseConditions") or []}
        return "InconclusiveAnalysisRun" in reasons

    eventually(paused_inconclusive, STEP_SECONDS + 30, "the Rollout paused (Inconclusive)")
    assert argo_api.status()["phase"] == "Paused"
    (run,) = argo_api.analysis_runs()
    assert run["status"]["phase"] == "Inconclusive"
    holds = [json.loads(m["value"]) for m in argo_api.measurements() if m.get("value")]
    assert holds
    assert {result["decision"] for result in holds} == {"hold"}
    assert all("canary" in result["reasoning"] for result in holds)
