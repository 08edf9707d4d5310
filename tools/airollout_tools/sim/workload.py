"""The simulated workload: a scenario's traffic served as the metrics a real service exports.

Each version's share of the traffic comes from a `shares_source` (in the cluster, the ready
replica counts of `<target>` and `<target>-canary`), so the operator's real replica changes
move real request counts. Requests, failures and latencies follow the scenario model in
`sim/model.py`; events run on scenario time, which is wall time since the workload was
created times `time_scale`. Request rates stay per wall second, because that is what
Prometheus measures.

A version's series exist only while it has ready replicas and its metrics are not `missing`:
a Deployment without pods exports nothing, so a query about it comes back empty, as it would
for a real service.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import numpy as np
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from airollout.core.analysis.types import Version
from airollout_tools.sim.buckets import bucket_edges
from airollout_tools.sim.model import SliceStart, VersionState, lognormal_sigma, version_state
from airollout_tools.sim.scenario import Scenario

TICK_S = 0.2
POLL_S = 1.0
STATUS_OK = "200"
STATUS_ERROR = "500"
REQUESTS_METRIC = "http_requests_total"
DURATION_METRIC = "http_request_duration_seconds"
CANARY_SUFFIX = "-canary"
# The AIRollout query templates that read this workload's series, by spec field.
_SELECTOR = 'namespace="{{ namespace }}",deployment="{{ workload }}"'
_WINDOW = "[{{ window }}]"
QUERIES = {
    "errorQuery": f'sum(increase({REQUESTS_METRIC}{{{_SELECTOR},status=~"5.."}}{_WINDOW}))',
    "totalQuery": f"sum(increase({REQUESTS_METRIC}{{{_SELECTOR}}}{_WINDOW}))",
    "bucketsQuery": f"sum by (le) (increase({DURATION_METRIC}_bucket{{{_SELECTOR}}}{_WINDOW}))",
}
LABELS = ("namespace", "deployment", "version")
# With an Argo Rollout both versions are one workload's pods, told apart by this label.
HASH_LABEL = "pod_template_hash"
_MS_PER_SECOND = 1000.0


class ReadyReplicas(NamedTuple):
    """Ready pods of the stable and the canary Deployment."""

    stable: int
    canary: int

    def share(self, version: Version) -> float:
        """The fraction of traffic `version` serves; none at all while no pod is ready."""
        total = self.stable + self.canary
        if total <= 0:
            return 0.0
        return (self.canary if version is Version.CANARY else self.stable) / total

    def canary_weight(self) -> int:
        """The canary's share in whole percent, as slices and `from_weight` count it."""
        return math.floor(100.0 * self.share(Version.CANARY) + 0.5)

    def count(self, version: Version) -> int:
        return self.canary if version is Version.CANARY else self.stable


NO_PODS = ReadyReplicas(0, 0)
SharesSource = Callable[[], tuple[int, int]]
HashSource = Callable[[], Mapping[Version, str]]


@dataclass(slots=True)
class _ServedRequests:
    """What one version has served since the workload started (never reset)."""

    bucket_counts: np.ndarray  # per bucket, not cumulative
    ok: int = 0
    errors: int = 0
    latency_sum_s: float = 0.0
    visible: bool = False


@dataclass(frozen=True, slots=True)
class WorkloadSettings:
    """Who the workload pretends to be, and how fast it runs."""

    namespace: str
    target: str
    rps: float | None = None  # None: the scenario's rps
    time_scale: float = 1.0
    seed: int | None = None  # None: the scenario's seed
    tick_s: float = TICK_S
    poll_s: float = POLL_S

    def deployment(self, version: Version) -> str:
        return self.target + CANARY_SUFFIX if version is Version.CANARY else self.target


@dataclass(slots=True)
class _Traffic:
    """The mutable state behind the exported series; guarded by `Workload._lock`."""

    ready: ReadyReplicas = NO_PODS
    history: list[SliceStart] = field(default_factory=list)
    served: dict[Version, _ServedRequests] = field(default_factory=dict)
    hashes: Mapping[Version, str] = field(default_factory=dict)


class Workload:
    """Generates a scenario's requests tick by tick and serves them on `/metrics`.

    Tests drive `poll_shares()` and `tick()` by hand with an injected clock; `start()` runs
    both on a background thread and serves HTTP until `stop()`.
    """

    def __init__(
        self,
        scenario: Scenario,
        shares_source: SharesSource,
        settings: WorkloadSettings,
        clock: Callable[[], float] = time.monotonic,
        hash_source: HashSource | None = None,
    ) -> None:
        """`hash_source`, read after each share poll, gives each version's pod template
        hash for the HASH_LABEL of its series; without one the series have no such label."""
        self.scenario = scenario
        self._hash_source = hash_source
        self.settings = settings
        self._shares_source = shares_source
        self._clock = clock
        self._rng = np.random.default_rng(scenario.seed if settings.seed is None else settings.seed)
        self._edges_ms = bucket_edges([scenario.bounds.latency_p99_ms])
        self._rps = scenario.rps if settings.rps is None else settings.rps
        self._lock = threading.Lock()
        self._traffic = _Traffic(
            served={
                version: _ServedRequests(np.zeros(len(self._edges_ms), dtype=np.int64))
                for version in Version
            }
        )
        self._origin = self._last_tick = clock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_WorkloadCollector(self))

    def scenario_time_s(self) -> float:
        return (self._clock() - self._origin) * self.settings.time_scale

    def poll_shares(self) -> None:
        """Read the ready replicas once; a failed read keeps the shares last seen."""
        try:
            stable, canary = self._shares_source()
        except Exception as error:  # any failure of the source must not stop traffic
            print(f"workload: cannot read ready replicas: {error}", file=sys.stderr, flush=True)
            return
        ready = ReadyReplicas(max(int(stable), 0), max(int(canary), 0))
        hashes = dict(self._hash_source()) if self._hash_source is not None else {}
        with self._lock:
            self._traffic.ready = ready
            self._traffic.hashes = hashes
            history = self._traffic.history
            if not history or history[-1].weight != ready.canary_weight():
                history.append(SliceStart(self.scenario_time_s(), ready.canary_weight()))

    def tick(self) -> None:
        """Serve the requests that arrived since the last tick, at the current shares."""
        now = self._clock()
        elapsed_s, self._last_tick = max(now - self._last_tick, 0.0), now
        at_s = (now - self._origin) * self.settings.time_scale
        with self._lock:
            for version in (Version.STABLE, Version.CANARY):
                state = version_state(self.scenario, version, at_s, self._traffic.history)
                mean_requests = self._rps * self._traffic.ready.share(version) * elapsed_s
                served = self._traffic.served[version]
                self._serve(served, state, mean_requests)
                served.visible = self._traffic.ready.count(version) > 0 and not state.missing

    def _serve(self, served: _ServedRequests, state: VersionState, mean_requests: float) -> None:
        behaviour = state.behaviour
        requests = int(self._rng.poisson(mean_requests))
        errors = int(self._rng.binomial(requests, behaviour.error_rate))
        latencies_ms = self._rng.lognormal(
            math.log(behaviour.latency_p50_ms), lognormal_sigma(behaviour), requests
        )
        # `le` buckets count requests at or below the edge: searchsorted's left side.
        buckets = np.searchsorted(np.asarray(self._edges_ms), latencies_ms, side="left")
        served.bucket_counts += np.bincount(buckets, minlength=len(self._edges_ms))
        served.ok += requests - errors
        served.errors += errors
        served.latency_sum_s += float(latencies_ms.sum()) / _MS_PER_SECOND

    def metric_families(self) -> Iterator[Metric]:
        """The series Prometheus scrapes now: counters and histogram of the visible versions."""
        names = (*LABELS, HASH_LABEL) if self._hash_source is not None else LABELS
        requests = CounterMetricFamily(
            REQUESTS_METRIC, "Requests served, by version and status.", labels=(*names, "status")
        )
        durations = HistogramMetricFamily(
            DURATION_METRIC, "Request latency in seconds, by version.", labels=names
        )
        with self._lock:
            for version, served in self._traffic.served.items():
                if not served.visible:
                    continue
                labels = [self.settings.namespace, self.settings.deployment(version), version.value]
                if self._hash_source is not None:
                    labels.append(self._traffic.hashes.get(version, ""))
                requests.add_metric([*labels, STATUS_OK], served.ok)
                requests.add_metric([*labels, STATUS_ERROR], served.errors)
                durations.add_metric(labels, self._cumulative_buckets(served), served.latency_sum_s)
        yield requests
        yield durations

    def _cumulative_buckets(self, served: _ServedRequests) -> list[tuple[str, float]]:
        totals = np.cumsum(served.bucket_counts)
        return [
            (_le_label(edge), float(total))
            for edge, total in zip(self._edges_ms, totals, strict=True)
        ]

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the workload is not serving; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Read the shares, then serve HTTP and generate traffic in the background."""
        self.poll_shares()
        self._last_tick = self._clock()
        self._server = _MetricsServer((host, port), self.registry)
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="workload-http", daemon=True),
            threading.Thread(target=self._run_traffic, name="workload-traffic", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self.url

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run_traffic(self) -> None:
        last_poll = self._clock()
        while not self._stopping.wait(self.settings.tick_s):
            if self._clock() - last_poll >= self.settings.poll_s:
                last_poll = self._clock()
                self.poll_shares()
            self.tick()


def _le_label(edge_ms: float) -> str:
    """An edge in ms as Prometheus writes `le` in seconds: shortest decimal, `+Inf` last."""
    return "+Inf" if math.isinf(edge_ms) else repr(edge_ms / _MS_PER_SECOND)


class _WorkloadCollector(Collector):
    def __init__(self, workload: Workload) -> None:
        self._workload = workload

    def collect(self) -> Iterable[Metric]:
        return self._workload.metric_families()


class _MetricsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], registry: CollectorRegistry) -> None:
        self.registry = registry
        super().__init__(address, _MetricsHandler)


class _MetricsHandler(BaseHTTPRequestHandler):
    server: _MetricsServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._answer(200, CONTENT_TYPE_LATEST, generate_latest(self.server.registry))
        elif path == "/healthz":
            self._answer(200, "text/plain; charset=utf-8", b"ok\n")
        else:
            self._answer(404, "text/plain; charset=utf-8", b"not found\n")

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Prometheus scrapes every second; a line per scrape would bury real messages."""
