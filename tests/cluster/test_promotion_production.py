"""The promotion score's production signal read from the harness's real Prometheus.

A test exporter serves a service's request counters and its ALERTS series. The shared
Prometheus has no rule files, so the exporter serves ALERTS as rule evaluation writes it
(`alertname`, `alertstate` labels, value 1): the query and its result are the real ones.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from airollout.cli.main import main
from localcluster.ports import free_loopback_ports

pytestmark = pytest.mark.cluster

SCRAPE_SECONDS = 30.0
REQUESTS = {"200": 996, "500": 4}


def _series_count(prometheus_url: str, promql: str) -> int:
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as response:
        return len(json.load(response)["data"]["result"])


@pytest.fixture(scope="module")
def service(cluster: Any, eventually: Any) -> Iterator[tuple[str, str]]:
    """(Prometheus URL, namespace label) once Prometheus has scraped the service's series."""
    prometheus_url = cluster.require_prometheus()
    registry = CollectorRegistry()
    requests = Counter("http_requests", "Requests.", ["status"], registry=registry)
    alerts = Gauge("ALERTS", "Alerts.", ["alertname", "alertstate"], registry=registry)
    for status, count in REQUESTS.items():
        requests.labels(status).inc(count)
    alerts.labels("HighLatency", "firing").set(1)
    alerts.labels("DiskFilling", "pending").set(1)  # pending is not firing
    server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    job = f"promotion-{secrets.token_hex(3)}"
    namespace = f"ns-{job}"
    cluster.add_scrape_target(job, [f"127.0.0.1:{server.server_port}"], {"namespace": namespace})
    try:
        scraped = f'{{namespace="{namespace}",__name__=~"ALERTS|http_requests_total"}}'
        eventually(lambda: _series_count(prometheus_url, scraped) == 4, SCRAPE_SECONDS, scraped)
        yield prometheus_url, namespace
    finally:
        cluster.remove_scrape_target(job)
        server.shutdown()
        server.server_close()


def _score(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["promotion", "score", *argv, "--json"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_error_rate_and_firing_alerts_become_the_production_signal(
    service: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    prometheus_url, namespace = service
    selector = f'namespace="{namespace}"'
    error_rate = (
        f'sum(http_requests_total{{{selector},status="500"}})'
        f" / sum(http_requests_total{{{selector}}})"
    )
    code, out, err = _score(
        capsys,
        "--prometheus", prometheus_url,
        "--error-rate-query", error_rate,
        "--max-error-rate", "0.01",
        "--alerts-selector", selector,
    )  # fmt: skip
    assert err == ""
    report = json.loads(out)
    assert report["signals"]["production"] == {
        "error_rate": pytest.approx(0.004),
        "error_rate_bound": 0.01,
        "alerts_firing": 1,
        "alerts": ["HighLatency"],
    }
    contributions = {c["feature"]: c["logit"] for c in report["contributions"]}
    assert contributions["alerts_firing"] < 0
    assert contributions["error_rate_vs_bound"] == pytest.approx(-0.4, abs=0.01)
    assert code == (1 if report["decision"] == "block" else 0)


def test_no_alerts_firing_is_a_real_zero(
    service: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    prometheus_url, namespace = service
    selector = f'{{namespace="{namespace}",alertname="NeverFires"}}'
    code, out, _ = _score(capsys, "--prometheus", prometheus_url, "--alerts-selector", selector)
    assert json.loads(out)["signals"]["production"] == {"alerts_firing": 0, "alerts": []}
    assert code == 0


def test_a_query_without_series_is_an_error_not_a_zero(
    service: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    prometheus_url, namespace = service
    absent = f'sum(http_requests_total{{namespace="{namespace}",status="503"}})'
    code, out, err = _score(capsys, "--prometheus", prometheus_url, "--error-rate-query", absent)
    assert (code, out) == (2, "")
    assert "--error-rate-query" in err
    assert "returned no series" in err
    assert "or vector(0)" in err


def test_a_rejected_query_gives_prometheus_own_error(
    service: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    prometheus_url, _ = service
    code, _, err = _score(capsys, "--prometheus", prometheus_url, "--error-rate-query", "sum(")
    assert code == 2
    assert "was rejected (HTTP 400" in err


def test_an_unreachable_prometheus_is_an_error_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    [port] = free_loopback_ports(1)
    url = f"http://127.0.0.1:{port}"
    code, _, err = _score(capsys, "--prometheus", url, "--error-rate-query", "vector(0)")
    assert code == 2
    assert f"Prometheus at {url} could not be reached" in err
