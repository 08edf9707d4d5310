"""The Prometheus provider against a loopback stand-in that answers as Prometheus's API does.

Each test sets what the stand-in answers per PromQL text and checks what reached the
Observation and the problems: the provider's whole contract with the controller.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airollout.adapters.metrics.prometheus import QUERY_SECONDS, PrometheusProvider
from airollout.adapters.metrics.source import WindowQuery
from airollout.core.analysis.types import Histogram, Sample, Version
from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.spec import MetricSpec
from localcluster.ports import free_loopback_ports

pytestmark = pytest.mark.unit

END = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
START = END - timedelta(seconds=60)
SLICE_START = START - timedelta(seconds=45)

ERRORS = 'sum(increase(errors{d="{{ workload }}"}[{{ window }}]))'
TOTAL = 'sum(increase(total{d="{{ workload }}"}[{{ window }}]))'
BUCKETS = 'sum by (le) (increase(bucket{d="{{ workload }}"}[{{ window }}]))'
GAUGE = 'avg(mem{ns="{{ namespace }}",v="{{ version }}",r="{{ rollout }}"})'

ERROR_RATE = MetricSpec(
    name="error-rate", kind=MetricKind.ERROR_RATE, error_query=ERRORS, total_query=TOTAL, max=0.01
)
LATENCY = MetricSpec(name="latency", kind=MetricKind.LATENCY, buckets_query=BUCKETS, max=0.5)
MEMORY = MetricSpec(name="memory", query=GAUGE, max=1e9)


def _vector(*values: tuple[dict[str, str], str]) -> dict[str, Any]:
    result = [{"metric": labels, "value": [END.timestamp(), text]} for labels, text in values]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


@dataclass
class _Answer:
    status: int = 200
    body: Any = field(default_factory=lambda: _vector())  # JSON, or bytes sent as they are
    delay_s: float = 0.0


class _FakePrometheus(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, _Answer] = {}
        self.received: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, promql: str, answer: _Answer | dict[str, Any]) -> None:
        self.answers[promql] = answer if isinstance(answer, _Answer) else _Answer(body=answer)


class _Handler(BaseHTTPRequestHandler):
    server: _FakePrometheus

    def do_GET(self) -> None:
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        self.server.received.append(params)
        answer = self.server.answers.get(params.get("query", ""), _Answer())
        time.sleep(answer.delay_s)
        body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the provider gave up waiting: that is what the slow tests want

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@pytest.fixture
def prometheus() -> Iterator[_FakePrometheus]:
    server = _FakePrometheus()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _window(*metrics: MetricSpec, start: datetime = START, end: datetime = END) -> WindowQuery:
    return WindowQuery(
        namespace="shop",
        workloads={Version.CANARY: "checkout-canary", Version.STABLE: "checkout"},
        metrics=metrics,
        start=start,
        end=end,
        slice_started_at=SLICE_START,
        rollout="checkout-4f2a1c",
    )


def _rendered(template: str, workload: str) -> str:
    return template.replace("{{ workload }}", workload).replace("{{ window }}", "60s")


def _query_count(outcome: str) -> float:
    return sum(
        sample.value
        for metric in QUERY_SECONDS.collect()
        for sample in metric.samples
        if sample.name.endswith("_count") and sample.labels.get("outcome") == outcome
    )


def test_error_counts_of_both_versions_become_requests_and_errors(
    prometheus: _FakePrometheus,
) -> None:
    for workload, errors, total in (("checkout-canary", "3", "120"), ("checkout", "5", "900")):
        prometheus.answer(_rendered(ERRORS, workload), _vector(({}, errors)))
        prometheus.answer(_rendered(TOTAL, workload), _vector(({}, total)))
    data = PrometheusProvider(prometheus.url).read_window(_window(ERROR_RATE))
    assert data.problems == ()
    assert data.observation.canary == {"error-rate": Sample(requests=120.0, errors=3.0)}
    assert data.observation.stable == {"error-rate": Sample(requests=900.0, errors=5.0)}


def test_the_window_is_timed_from_the_slice_start_and_queried_at_its_end(
    prometheus: _FakePrometheus,
) -> None:
    data = PrometheusProvider(prometheus.url).read_window(_window(MEMORY))
    assert data.observation.start_s == 45.0
    assert data.observation.duration_s == 60.0
    assert {float(params["time"]) for params in prometheus.received} == {END.timestamp()}


def test_every_template_variable_reaches_prometheus_filled_in(
    prometheus: _FakePrometheus,
) -> None:
    PrometheusProvider(prometheus.url).read_window(_window(MEMORY))
    assert [params["query"] for params in prometheus.received] == [
        'avg(mem{ns="shop",v="canary",r="checkout-4f2a1c"})',
        'avg(mem{ns="shop",v="stable",r="checkout-4f2a1c"})',
    ]


def test_cumulative_buckets_become_the_histogram_and_the_inf_count_the_requests(
    prometheus: _FakePrometheus,
) -> None:
    prometheus.answer(
        _rendered(BUCKETS, "checkout-canary"),
        _vector(({"le": "+Inf"}, "50"), ({"le": "0.1"}, "30"), ({"le": "0.5"}, "45")),
    )
    data = PrometheusProvider(prometheus.url).read_window(_window(LATENCY))
    assert data.observation.canary["latency"] == Sample(
        requests=50.0, histogram=Histogram(edges=(0.1, 0.5, math.inf), counts=(30.0, 15.0, 5.0))
    )


def test_a_gauge_gives_its_value(prometheus: _FakePrometheus) -> None:
    query = 'avg(mem{ns="shop",v="stable",r="checkout-4f2a1c"})'
    prometheus.answer(query, _vector(({}, "7.5e8")))
    data = PrometheusProvider(prometheus.url).read_window(_window(MEMORY))
    assert data.observation.stable["memory"] == Sample(value=7.5e8)


def test_an_empty_result_is_no_data_with_a_problem_naming_metric_version_and_field(
    prometheus: _FakePrometheus,
) -> None:
    prometheus.answer(_rendered(TOTAL, "checkout"), _vector(({}, "10")))
    prometheus.answer(_rendered(ERRORS, "checkout"), _vector(({}, "0")))
    empty_before = _query_count("empty")
    data = PrometheusProvider(prometheus.url).read_window(_window(ERROR_RATE))
    assert data.observation.canary["error-rate"] == Sample()
    assert data.observation.stable["error-rate"] == Sample(requests=10.0, errors=0.0)
    assert len(data.problems) == 2
    assert data.problems[0].startswith(
        "Metric 'error-rate' for canary: errorQuery returned no series (no data);"
    )
    assert "or vector(0)" in data.problems[0]
    assert data.problems[1] == (
        "Metric 'error-rate' for canary: totalQuery returned no series (no data)."
    )
    assert _query_count("empty") == empty_before + 2


@pytest.mark.parametrize(
    ("result", "cause"),
    [
        (_vector(({}, "NaN")), "NaN"),
        (_vector(({}, "+Inf")), "infinite"),
        (_vector(({"pod": "a"}, "1"), ({"pod": "b"}, "2")), "aggregate them"),
    ],
)
def test_a_value_analysis_could_misread_is_no_data_with_its_cause(
    prometheus: _FakePrometheus, result: dict[str, Any], cause: str
) -> None:
    prometheus.answer('avg(mem{ns="shop",v="canary",r="checkout-4f2a1c"})', result)
    data = PrometheusProvider(prometheus.url).read_window(_window(MEMORY))
    assert data.observation.canary["memory"].value is None
    [problem] = [p for p in data.problems if "canary" in p]
    assert problem.startswith("Metric 'memory' for canary: query returned")
    assert cause in problem


def test_a_bad_query_reports_prometheus_own_error_and_the_window_goes_on(
    prometheus: _FakePrometheus,
) -> None:
    rejection = {"status": "error", "errorType": "bad_data", "error": "parse error at char 7"}
    prometheus.answer(_rendered(ERRORS, "checkout-canary"), _Answer(400, rejection))
    prometheus.answer(_rendered(TOTAL, "checkout-canary"), _vector(({}, "40")))
    errors_before = _query_count("error")
    data = PrometheusProvider(prometheus.url).read_window(_window(ERROR_RATE))
    assert data.observation.canary["error-rate"] == Sample(requests=40.0)
    assert data.problems[0] == (
        "Metric 'error-rate' for canary: errorQuery was rejected (HTTP 400: parse error at char 7)."
    )
    assert len(prometheus.received) == 4
    assert _query_count("error") == errors_before + 1


def test_a_server_error_without_json_is_reported_with_its_status(
    prometheus: _FakePrometheus,
) -> None:
    query = 'avg(mem{ns="shop",v="canary",r="checkout-4f2a1c"})'
    prometheus.answer(query, _Answer(503, b"upstream overloaded"))
    data = PrometheusProvider(prometheus.url).read_window(_window(MEMORY))
    assert "query was rejected (HTTP 503: upstream overloaded)" in data.problems[0]


def test_a_refused_connection_is_one_problem_and_no_data_without_waiting() -> None:
    address = f"http://127.0.0.1:{free_loopback_ports(1)[0]}"
    data = PrometheusProvider(address).read_window(_window(ERROR_RATE, LATENCY, MEMORY))
    [problem] = data.problems
    assert problem.startswith(f"Metric 'error-rate' for canary: Prometheus at {address}")
    assert "refused" in problem
    assert "the window's 7 other queries were skipped" in problem
    for samples in (data.observation.canary, data.observation.stable):
        assert samples == {"error-rate": Sample(), "latency": Sample(), "memory": Sample()}


def test_a_prometheus_slower_than_the_timeout_costs_one_timeout_per_window(
    prometheus: _FakePrometheus,
) -> None:
    prometheus.answer(_rendered(ERRORS, "checkout-canary"), _Answer(delay_s=2.0))
    data = PrometheusProvider(prometheus.url, timeout_s=0.3).read_window(
        _window(ERROR_RATE, MEMORY)
    )
    assert len(prometheus.received) == 1  # no retry, and the window's other queries skipped
    [problem] = data.problems
    assert "did not answer within 0.3s" in problem
    assert data.observation.stable["memory"] == Sample()


def test_an_answer_that_is_not_prometheus_json_is_a_problem_not_an_exception(
    prometheus: _FakePrometheus,
) -> None:
    prometheus.answer(_rendered(ERRORS, "checkout-canary"), _Answer(body=b"<html>login</html>"))
    data = PrometheusProvider(prometheus.url).read_window(_window(ERROR_RATE))
    [problem] = data.problems
    assert "gave no query result" in problem
    assert data.observation.canary["error-rate"] == Sample()


def test_credentials_in_the_address_never_reach_the_problems() -> None:
    address = f"http://reader:s3cret@127.0.0.1:{free_loopback_ports(1)[0]}"
    data = PrometheusProvider(address).read_window(_window(MEMORY))
    assert data.problems
    assert not any("s3cret" in problem for problem in data.problems)


def test_an_unknown_template_variable_is_a_problem_and_no_query_is_sent(
    prometheus: _FakePrometheus,
) -> None:
    metric = MetricSpec(name="memory", query="avg(mem{d='{{ deployment }}'})", max=1.0)
    data = PrometheusProvider(prometheus.url).read_window(_window(metric))
    assert prometheus.received == []
    assert data.problems[0].startswith("Metric 'memory' for canary: query unknown template")
    assert "'deployment'" in data.problems[0]


def test_a_version_without_a_workload_cannot_fill_workload(prometheus: _FakePrometheus) -> None:
    query = WindowQuery(
        namespace="shop",
        workloads={Version.STABLE: "checkout"},
        metrics=[ERROR_RATE],
        start=START,
        end=END,
        slice_started_at=SLICE_START,
    )
    data = PrometheusProvider(prometheus.url).read_window(query)
    assert data.observation.canary["error-rate"] == Sample()
    assert any("for canary" in p and "'workload' has no value" in p for p in data.problems)


def test_an_empty_window_reads_nothing(prometheus: _FakePrometheus) -> None:
    data = PrometheusProvider(prometheus.url).read_window(_window(MEMORY, start=END, end=END))
    assert prometheus.received == []
    assert data.observation.canary == {"memory": Sample()}
    assert "is empty" in data.problems[0]
