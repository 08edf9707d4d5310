"""Many windows' queries at once keep their connections to Prometheus: the next burst reuses
them instead of opening (and throwing away) one per query beyond requests' default ten."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airollout.adapters.metrics.prometheus import PrometheusProvider

pytestmark = pytest.mark.unit

AT_ONCE = 30  # more than requests' default pool of 10, as hundreds of windows ending are


class _Prometheus(ThreadingHTTPServer):
    """Keep-alive answers after a pause, counting the connections clients opened."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Prometheus answers
    server: _Prometheus

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_GET(self) -> None:
        time.sleep(0.2)  # every query of a burst is in flight at once
        result = [{"metric": {}, "value": [0, "1"]}]
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@pytest.fixture
def prometheus() -> Iterator[_Prometheus]:
    server = _Prometheus()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_a_second_burst_of_queries_reuses_the_first_bursts_connections(
    prometheus: _Prometheus,
) -> None:
    provider = PrometheusProvider(prometheus.url)
    with ThreadPoolExecutor(max_workers=AT_ONCE) as callers:
        for _ in range(2):
            answers = list(callers.map(lambda _: provider.instant_query("up", 0.0), range(AT_ONCE)))
            assert all(answer == [{"metric": {}, "value": [0, "1"]}] for answer in answers)
    assert prometheus.connections <= AT_ONCE, "the second burst opened connections of its own"
