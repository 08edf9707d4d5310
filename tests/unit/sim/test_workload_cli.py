"""`airollout workload` and the ready replicas it reads, against a loopback fake API server.

The fake answers only the two reads the workload makes (a Deployment's status), so these
tests pin down the request paths and the handling of a missing canary without a cluster.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from airollout_tools.sim.cluster_shares import ClusterShares
from airollout_tools.sim.workload import ReadyReplicas
from airollout_tools.sim.workload_cli import main, register, run_workload

pytestmark = pytest.mark.unit

STATUS_PATH = "/apis/apps/v1/namespaces/shop/deployments/{name}/status"


_MINIMAL_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"spec": {"containers": [{"name": "main"}]}},
    },
}


class FakeApiServer(ThreadingHTTPServer):
    """Deployment statuses by name; a name mapped to None does not exist, an int is its
    readyReplicas, and `fail_with` makes every read answer that HTTP status."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _DeploymentStatusHandler)
        self.ready: dict[str, int | None] = {}
        self.fail_with: int | None = None
        self.paths: list[str] = []


class _DeploymentStatusHandler(BaseHTTPRequestHandler):
    server: FakeApiServer

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        found = {STATUS_PATH.format(name=name): ready for name, ready in self.server.ready.items()}
        ready = found.get(self.path.split("?")[0])
        if self.server.fail_with is not None:
            self._answer(self.server.fail_with, {"kind": "Status", "code": self.server.fail_with})
        elif ready is None:
            self._answer(404, {"kind": "Status", "reason": "NotFound", "code": 404})
        else:
            status = {"readyReplicas": ready} if ready else {}
            self._answer(200, {**_MINIMAL_DEPLOYMENT, "status": status})

    def _answer(self, code: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the workload polls every second."""


@pytest.fixture
def api_server() -> Iterator[FakeApiServer]:
    server = FakeApiServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def kubeconfig(api_server: FakeApiServer, tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    server = f"http://127.0.0.1:{api_server.server_address[1]}"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": {"server": server}}],
                "users": [{"name": "nobody", "user": {}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "nobody"}}],
                "current-context": "fake",
            }
        )
    )
    return path


def test_ready_replicas_of_stable_and_canary_with_no_canary_counted_as_zero(
    api_server: FakeApiServer, kubeconfig: Path
) -> None:
    shares = ClusterShares("shop", "web", str(kubeconfig))
    api_server.ready = {"web": 9}
    assert shares() == ReadyReplicas(stable=9, canary=0)
    api_server.ready = {"web": 9, "web-canary": 1}
    assert shares() == ReadyReplicas(stable=9, canary=1)
    api_server.ready = {"web": 0, "web-canary": 3}
    assert shares() == ReadyReplicas(stable=0, canary=3), "no readyReplicas field means none"
    assert STATUS_PATH.format(name="web-canary") in api_server.paths


def test_an_api_error_other_than_not_found_is_raised_not_read_as_zero(
    api_server: FakeApiServer, kubeconfig: Path
) -> None:
    shares = ClusterShares("shop", "web", str(kubeconfig))
    api_server.fail_with = 503
    with pytest.raises(client.ApiException):
        shares()


def _scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "canary-fails.yaml"
    path.write_text("expect: rollback\ncanary: {error_rate: 0.5}\n")
    return path


def _metrics(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        f"{sample.labels.get('deployment')}/{sample.labels.get('status')}": sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "http_requests"
        for sample in family.samples
    }


def test_command_prints_its_url_and_serves_the_clusters_split_until_terminated(
    api_server: FakeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    api_server.ready = {"web": 1, "web-canary": 1}
    command = [sys.executable, "-m", "airollout_tools.sim.workload_cli"]
    options = ["--namespace", "shop", "--target", "web", "--rps", "400", "--seed", "3"]
    process = subprocess.Popen(
        [
            *command,
            "--scenario",
            str(_scenario_file(tmp_path)),
            "--kubeconfig",
            str(kubeconfig),
            *options,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.removeprefix("listening on ")
        deadline = time.monotonic() + 20
        series = _metrics(url)
        while series.get("web-canary/500", 0) < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
            series = _metrics(url)
        assert series["web-canary/500"] >= 20, "the canary fails half its requests"
        assert series["web/500"] < series["web-canary/500"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_invalid_scenario_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("expect: maybe\n")
    assert main(["--scenario", str(broken), "--namespace", "shop", "--target", "web"]) == 2
    assert "broken.yaml: expect" in capsys.readouterr().err


def test_an_unusable_kubeconfig_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--namespace", "shop", "--target", "web"]
    absent = str(tmp_path / "no-kubeconfig")
    scenario = str(_scenario_file(tmp_path))
    assert main(["--scenario", scenario, "--kubeconfig", absent, *options]) == 2
    assert "cannot use the kubeconfig" in capsys.readouterr().err


def test_register_adds_the_workload_subcommand_with_its_defaults() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["workload", "--scenario", "s.yaml", "--namespace", "n", "--target", "web"]
    )
    assert args.handler is run_workload
    assert (args.host, args.port, args.rps, args.time_scale, args.seed) == (
        "127.0.0.1",
        0,
        None,
        1.0,
        None,
    )
