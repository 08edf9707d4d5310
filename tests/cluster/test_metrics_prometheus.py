"""The Prometheus provider against the harness's real Prometheus, scraping a test exporter.

The exporter serves request counters and a latency histogram for a stable and a canary
Deployment; the test advances them, waits until Prometheus has scraped the result, and
reads one window with queries written like the example rollout's.
"""

from __future__ import annotations

import json
import math
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from airollout.adapters.metrics.prometheus import PrometheusProvider
from airollout.adapters.metrics.source import WindowQuery
from airollout.core.analysis.types import Sample, Version
from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.spec import MetricSpec
from airollout_tools.sim.workload import QUERIES
from localcluster.ports import free_loopback_ports

pytestmark = pytest.mark.cluster

SCRAPE_SECONDS = 30.0
STABLE, CANARY = "checkout", "checkout-canary"
BUCKETS = (0.1, 0.5, 1.0)
# Per workload: requests by status, and how many took each latency.
TRAFFIC = {
    CANARY: ({"200": 190, "500": 10}, {0.05: 150, 0.3: 40, 2.0: 10}),
    STABLE: ({"200": 995, "500": 5}, {0.05: 1000}),
}
ERROR_RATE = MetricSpec(
    name="error-rate",
    kind=MetricKind.ERROR_RATE,
    error_query=QUERIES["errorQuery"],
    total_query=QUERIES["totalQuery"],
    max=0.005,
)
LATENCY = MetricSpec(
    name="latency", kind=MetricKind.LATENCY, buckets_query=QUERIES["bucketsQuery"], max=0.5
)
SELECTOR = 'namespace="{{ namespace }}",deployment="{{ workload }}"'
REQUESTS_SO_FAR = MetricSpec(
    name="requests-so-far", query=f"sum(http_requests_total{{{SELECTOR}}})", max=1e6
)


@dataclass(frozen=True)
class _Scraped:
    prometheus_url: str
    namespace: str  # a target label of the exporter's job, so no other test's series match
    start: datetime  # before the counters moved from zero
    end: datetime  # after Prometheus scraped their final values

    def window(self, *metrics: MetricSpec) -> WindowQuery:
        return WindowQuery(
            namespace=self.namespace,
            workloads={Version.CANARY: CANARY, Version.STABLE: STABLE},
            metrics=metrics,
            start=self.start,
            end=self.end,
            slice_started_at=self.start - timedelta(seconds=30),
        )


def _query(prometheus_url: str, promql: str) -> list[float]:
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as response:
        result = json.load(response)["data"]["result"]
    return [float(sample["value"][1]) for sample in result]


def _exporter() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    requests = Counter(
        "http_requests", "Requests.", ["deployment", "version", "status"], registry=registry
    )
    durations = Histogram(
        "http_request_duration_seconds",
        "Latency.",
        ["deployment"],
        buckets=BUCKETS,
        registry=registry,
    )
    for workload, (statuses, _) in TRAFFIC.items():
        version = "canary" if workload == CANARY else "stable"
        for status in statuses:
            requests.labels(workload, version, status)  # exported at 0 before any traffic
        durations.labels(workload)
    return registry, requests, durations


def _send_traffic(requests: Counter, durations: Histogram) -> None:
    for workload, (statuses, latencies) in TRAFFIC.items():
        version = "canary" if workload == CANARY else "stable"
        for status, count in statuses.items():
            requests.labels(workload, version, status).inc(count)
        for seconds, count in latencies.items():
            for _ in range(count):
                durations.labels(workload).observe(seconds)


@pytest.fixture(scope="module")
def scraped(cluster: Any, eventually: Any) -> Iterator[_Scraped]:
    """Counters at zero, then traffic, each state scraped by the real Prometheus."""
    prometheus_url = cluster.require_prometheus()
    registry, requests, durations = _exporter()
    server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    job = f"metrics-{secrets.token_hex(3)}"
    namespace = f"ns-{job}"
    cluster.add_scrape_target(job, [f"127.0.0.1:{server.server_port}"], {"namespace": namespace})
    try:
        series = f'http_requests_total{{namespace="{namespace}"}}'
        start = datetime.now(UTC)
        eventually(lambda: len(_query(prometheus_url, series)) == 4, SCRAPE_SECONDS, series)
        time.sleep(2.0)  # a second zero-valued scrape, so increase() starts from zero
        _send_traffic(requests, durations)
        total = f"sum({series})"
        eventually(lambda: _query(prometheus_url, total) == [1200.0], SCRAPE_SECONDS, total)
        time.sleep(1.5)  # the last scrape is now close to the window's end
        yield _Scraped(prometheus_url, namespace, start, datetime.now(UTC))
    finally:
        cluster.remove_scrape_target(job)
        server.shutdown()
        server.server_close()


def _ratios(values: tuple[float, ...], total: float) -> list[float]:
    return [value / total for value in values]


def test_a_window_reads_each_versions_counts_and_histogram(scraped: _Scraped) -> None:
    provider = PrometheusProvider(scraped.prometheus_url)
    data = provider.read_window(scraped.window(ERROR_RATE, LATENCY, REQUESTS_SO_FAR))
    assert data.problems == ()
    canary, stable = data.observation.canary, data.observation.stable
    assert canary["requests-so-far"] == Sample(value=200.0)
    assert stable["requests-so-far"] == Sample(value=1000.0)

    # increase() extrapolates each count to the window's edges by one factor per scrape, so
    # counts come out somewhat above what was sent while their ratios stay exact.
    errors = canary["error-rate"]
    assert errors.requests is not None
    assert errors.errors is not None
    assert 200.0 <= errors.requests <= 300.0
    assert errors.errors / errors.requests == pytest.approx(10 / 200)
    stable_errors = stable["error-rate"]
    assert stable_errors.requests is not None
    assert stable_errors.errors is not None
    assert stable_errors.errors / stable_errors.requests == pytest.approx(5 / 1000)

    histogram = canary["latency"].histogram
    assert histogram is not None
    assert histogram.edges == (*BUCKETS, math.inf)
    assert canary["latency"].requests == pytest.approx(sum(histogram.counts))
    assert _ratios(histogram.counts, sum(histogram.counts)) == pytest.approx(
        [150 / 200, 40 / 200, 0.0, 10 / 200]
    )
    stable_histogram = stable["latency"].histogram
    assert stable_histogram is not None
    assert _ratios(stable_histogram.counts, sum(stable_histogram.counts)) == pytest.approx(
        [1.0, 0.0, 0.0, 0.0]
    )


def test_an_absent_series_is_no_data_and_a_problem(scraped: _Scraped) -> None:
    absent = MetricSpec(
        name="queue-depth", query=f"sum(queue_depth_never_exported{{{SELECTOR}}})", max=10
    )
    data = PrometheusProvider(scraped.prometheus_url).read_window(scraped.window(absent))
    assert data.observation.canary["queue-depth"] == Sample()
    assert data.observation.stable["queue-depth"] == Sample()
    assert data.problems == (
        "Metric 'queue-depth' for canary: query returned no series (no data).",
        "Metric 'queue-depth' for stable: query returned no series (no data).",
    )


def test_several_series_for_one_value_ask_for_sum(scraped: _Scraped) -> None:
    unsummed = MetricSpec(name="requests", query=f"http_requests_total{{{SELECTOR}}}", max=1e6)
    data = PrometheusProvider(scraped.prometheus_url).read_window(scraped.window(unsummed))
    assert data.observation.canary["requests"] == Sample()
    assert "returned 2 series" in data.problems[0]
    assert "sum()" in data.problems[0]


def test_a_bad_query_gives_prometheus_own_error_not_an_exception(scraped: _Scraped) -> None:
    broken = MetricSpec(
        name="broken", query=f"sum(rate(http_requests_total{{{SELECTOR}}}[{{{{ window }}}}])", max=1
    )
    data = PrometheusProvider(scraped.prometheus_url).read_window(scraped.window(broken))
    assert data.observation.canary["broken"] == Sample()
    assert data.problems[0].startswith("Metric 'broken' for canary: query was rejected (HTTP 400")
    assert "parse error" in data.problems[0]


def test_an_unreachable_prometheus_gives_one_problem_and_skips_the_other_queries(
    scraped: _Scraped,
) -> None:
    closed = f"http://127.0.0.1:{free_loopback_ports(1)[0]}"
    data = PrometheusProvider(closed, timeout_s=2.0).read_window(
        scraped.window(ERROR_RATE, LATENCY, REQUESTS_SO_FAR)
    )
    assert len(data.problems) == 1
    assert closed in data.problems[0]
    assert "other queries were skipped" in data.problems[0]
    assert all(sample == Sample() for sample in data.observation.canary.values())
    assert all(sample == Sample() for sample in data.observation.stable.values())
