"""The cluster's Prometheus scrapes targets the tests add, every second."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytestmark = [pytest.mark.cluster, pytest.mark.harness]

SCRAPE_SECONDS = 30.0


class _GaugeServer(ThreadingHTTPServer):
    value = 42.5


class _MetricsHandler(BaseHTTPRequestHandler):
    server: _GaugeServer

    def do_GET(self) -> None:
        body = (
            f"# TYPE airollout_harness_probe gauge\nairollout_harness_probe {self.server.value}\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every second would flood the test output."""


@pytest.fixture
def gauge_server() -> Iterator[_GaugeServer]:
    server = _GaugeServer(("127.0.0.1", 0), _MetricsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _query(prometheus_url: str, promql: str) -> list[float]:
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as response:
        result = json.load(response)["data"]["result"]
    return [float(sample["value"][1]) for sample in result]


def test_prometheus_scrapes_an_added_target_and_follows_its_value(
    cluster: Any, gauge_server: _GaugeServer, eventually: Any
) -> None:
    prometheus_url = cluster.require_prometheus()
    job = f"probe-{secrets.token_hex(3)}"
    cluster.add_scrape_target(job, [f"127.0.0.1:{gauge_server.server_address[1]}"])
    promql = f'airollout_harness_probe{{job="{job}"}}'
    try:
        first = eventually(lambda: _query(prometheus_url, promql), SCRAPE_SECONDS, promql)
        assert first == [42.5]

        gauge_server.value = 7.0
        eventually(lambda: _query(prometheus_url, promql) == [7.0], SCRAPE_SECONDS, "7.0")
    finally:
        cluster.remove_scrape_target(job)
