"""Fixtures for the operator's end-to-end tests: the CRD, the operator and the workload,
each scoped to one test's namespace, with their logs shown when the test fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.operator_harness import Process, operator_process, workload_process


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def processes(request: pytest.FixtureRequest) -> Iterator[list[Process]]:
    """Every process a test starts; stopped afterwards, their logs printed on failure."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for process in started:
            print(f"\n===== {process.name} (last lines) =====\n{process.log_tail(80)}")


@pytest.fixture
def operator(
    cluster: Any, namespace: str, crd_installed: Path, processes: list[Process], tmp_path: Path
) -> Process:
    """`airollout operator` watching only this test's namespace."""
    process = operator_process(cluster.kubeconfig, namespace, cluster.prometheus_url, tmp_path)
    processes.append(process.start())
    return process


@pytest.fixture
def workload(
    cluster: Any, namespace: str, processes: list[Process], tmp_path: Path
) -> Iterator[Callable[..., Process]]:
    """`workload(scenario)`: the simulated service for Deployment `web`, scraped by Prometheus."""
    cluster.require_prometheus()

    def start(scenario: str, rps: float = 600, time_scale: float = 1.0) -> Process:
        process, address = workload_process(
            cluster.kubeconfig, namespace, scenario, tmp_path, rps, time_scale
        )
        processes.append(process)
        cluster.add_scrape_target(f"workload-{namespace}", [address])
        return process

    yield start
    cluster.remove_scrape_target(f"workload-{namespace}")
