"""A window's queries run at once (bounded), each answer still lands in its own field, and
bursts of queries keep their connections to Prometheus: the next burst reuses them instead
of opening (and throwing away) one per query beyond requests' default ten."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airollout.adapters.metrics.prometheus import PrometheusProvider
from airollout.adapters.metrics.source import WindowQuery
from airollout.core.analysis.types import Version
from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.spec import MetricSpec

pytestmark = pytest.mark.unit

END = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
# Each metric's query answers a value that names the metric and the workload it was asked.
METRICS = tuple(
    MetricSpec(
        name=f"m{n}", kind=MetricKind.GAUGE, query=f'm{n}{{d="{{{{ workload }}}}"}}', max=1e9
    )
    for n in range(4)
)


# More than requests' default pool of 10, as hundreds of windows ending together are.
AT_ONCE = 30


class _CountingPrometheus(ThreadingHTTPServer):
    """Keep-alive answers after a pause, counting how many are in flight at once and how many
    connections clients opened."""

    daemon_threads = True

    def __init__(self, pause_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pause_s, self.in_flight, self.most, self.connections = pause_s, 0, 0, 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Prometheus answers
    server: _CountingPrometheus

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_GET(self) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))["query"]
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most = max(self.server.most, self.server.in_flight)
        time.sleep(self.server.pause_s)
        with self.server.lock:
            self.server.in_flight -= 1
        metric, workload = int(query[1]), query.split('"')[1]
        value = metric + (0.5 if workload.endswith("-canary") else 0.0)
        result = [{"metric": {}, "value": [END.timestamp(), str(value)]}]
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@pytest.fixture
def prometheus() -> Iterator[_CountingPrometheus]:
    server = _CountingPrometheus(pause_s=0.2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _window() -> WindowQuery:
    return WindowQuery(
        namespace="shop",
        workloads={Version.CANARY: "web-canary", Version.STABLE: "web"},
        metrics=METRICS,
        start=END - timedelta(seconds=60),
        end=END,
        slice_started_at=END - timedelta(seconds=90),
    )


def test_the_queries_after_the_first_run_at_once_within_the_bound(
    prometheus: _CountingPrometheus,
) -> None:
    data = PrometheusProvider(prometheus.url, concurrency=3).read_window(_window())

    assert data.problems == ()
    assert prometheus.most == 3, "seven queries after the first, three at a time"
    for n, metric in enumerate(METRICS):
        assert data.observation.canary[metric.name].value == n + 0.5
        assert data.observation.stable[metric.name].value == n


def test_a_second_burst_of_queries_reuses_the_first_bursts_connections(
    prometheus: _CountingPrometheus,
) -> None:
    provider = PrometheusProvider(prometheus.url)
    with ThreadPoolExecutor(max_workers=AT_ONCE) as callers:
        for _ in range(2):
            answers = list(
                callers.map(lambda _: provider.instant_query('m1{d="web"}', 0.0), range(AT_ONCE))
            )
            assert all(answer[0]["value"][1] == "1.0" for answer in answers)
    assert prometheus.connections <= AT_ONCE, "the second burst opened connections of its own"
