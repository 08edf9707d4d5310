"""`airollout bench operator`: many AIRollouts at once against the real local control plane.

For each size N: a namespace with N small target Deployments (kwok makes their pods Ready),
one static exporter in this process that serves steady, healthy request counters for every
target and canary (scraped by the harness Prometheus), the operator as a subprocess pinned to
one core, and N AIRollouts created at once. A watch records every analysis window's end as
it opens and every decision as it lands, so each decision's delay is measured exactly; the
operator's own `airollout_decision_delay_seconds` histogram (which also counts the judge's
Prometheus queries) is read at the end as a cross-check.

The figures are printed beside the target (p99 decision delay within 2 s, 200 rollouts on
one core), never asserted: a loaded machine is a reason to read them, not to fail.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, watch
from kubernetes import config as _config
from kubernetes.client.exceptions import ApiException
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from airollout.rollout.timeline import from_rfc3339
from airollout.sim.workload import (
    CANARY_SUFFIX,
    DURATION_METRIC,
    REQUESTS_METRIC,
    STATUS_ERROR,
    STATUS_OK,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
CRD_FILE = REPO_ROOT / "crds" / "airollout.dev_airollouts.yaml"
GROUP, VERSION, PLURAL = "airollout.dev", "v1alpha1", "airollouts"
IMAGE, NEW_IMAGE = "registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10-v2"
TARGET_P99_S = 2.0
TARGET_ROLLOUTS = 200
# The operator's own histograms the report reads, with what each row is called.
OPERATOR_HISTOGRAMS = {
    "airollout_decision_delay_seconds": "decision delay (operator's histogram)",
    "airollout_reconcile_seconds": "one reconcile (operator's histogram)",
    "airollout_prometheus_query_seconds": "one Prometheus query (operator's)",
}
config: Any = _config  # untyped package: one Any rather than an ignore per call
# Stable, canary and a surge pod during promotion, per replica of the 2-replica targets;
# each kwok node of the harness takes 110 pods.
PODS_PER_ROLLOUT, PODS_PER_NODE = 6, 110
FINISHED_PHASES = frozenset({"Succeeded", "RolledBack", "Failed"})
# Cumulative share of requests at or below each latency edge (seconds): p99 near 0.1 s,
# far inside the rollouts' 0.5 s bound, identical for stable and canary.
LATENCY_SHARES = ((0.025, 0.30), (0.05, 0.90), (0.1, 0.99), (0.25, 1.0), (math.inf, 1.0))


# ---- pure parts: statistics, /proc parsing, the operator's histogram, the report ----------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]): always a value that was really measured."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def cpu_seconds_from_stat(stat_text: str, ticks_per_second: float) -> float:
    """User plus system CPU of a process from /proc/<pid>/stat (fields 14 and 15).

    The command name (field 2) is in parentheses and may hold spaces or parentheses, so
    fields are counted from the last ')'.
    """
    after_name = stat_text[stat_text.rindex(")") + 2 :].split()
    # after_name[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(after_name[11]) + int(after_name[12])) / ticks_per_second


def peak_rss_bytes_from_status(status_text: str) -> int:
    """VmHWM (the resident set's high-water mark) from /proc/<pid>/status, in bytes."""
    match = re.search(r"^VmHWM:\s+(\d+)\s+kB$", status_text, re.MULTILINE)
    if match is None:
        raise ValueError("no VmHWM line in the process status")
    return int(match.group(1)) * 1024


def histogram_buckets(metrics_text: str, name: str) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of histogram `name` in Prometheus text, by bound."""
    pattern = re.compile(rf'^{re.escape(name)}_bucket\{{[^}}]*le="([^"]+)"[^}}]*\}} (\S+)$')
    buckets: dict[float, float] = {}
    for line in metrics_text.splitlines():
        match = pattern.match(line)
        if match:
            bound = float(match.group(1))
            buckets[bound] = buckets.get(bound, 0.0) + float(match.group(2))
    return sorted(buckets.items())


def bucket_bound_of_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float | None:
    """The smallest bucket bound that holds at least fraction q of the observations: the
    quantile is at most this. None when the histogram is empty."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    wanted = q * buckets[-1][1]
    return next(bound for bound, count in buckets if count >= wanted)


@dataclass(frozen=True)
class DelaySummary:
    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, delays: Sequence[float]) -> DelaySummary:
        peak = max(delays) if delays else math.nan
        return cls(len(delays), percentile(delays, 50), percentile(delays, 99), peak)


@dataclass(frozen=True)
class BucketSummary:
    """A histogram as the operator exports it: how many, and the bucket bounds that hold
    half and 99 % of them (each quantile is at most its bound)."""

    count: float
    p50_at_most: float | None
    p99_at_most: float | None

    @classmethod
    def of(cls, buckets: Sequence[tuple[float, float]]) -> BucketSummary:
        count = buckets[-1][1] if buckets else 0.0
        p50, p99 = bucket_bound_of_quantile(buckets, 0.5), bucket_bound_of_quantile(buckets, 0.99)
        return cls(count, p50, p99)


def operator_histograms(metrics_text: str) -> dict[str, BucketSummary]:
    return {
        name: BucketSummary.of(histogram_buckets(metrics_text, name))
        for name in OPERATOR_HISTOGRAMS
    }


@dataclass(frozen=True)
class SliceReport:
    """What one size N measured."""

    rollouts: int
    succeeded: int
    phases: Mapping[str, int]
    timed_out: bool
    wall_seconds: float  # from creating the rollouts to all of them finished (or time-out)
    recorded: DelaySummary  # window end -> the decision record's time (when judging began)
    seen: DelaySummary  # window end -> the decision seen in status by the watch
    histograms: Mapping[str, BucketSummary]  # the operator's own, read at the end
    unmatched_decisions: int  # decisions whose window the watch never saw open
    cpu_seconds: float  # operator CPU (user + system) while the rollouts ran
    peak_rss_bytes: int
    pinned_cores: tuple[int, ...]
    load_average: tuple[float, float, float]  # of the machine, when the rollouts finished

    @property
    def all_succeeded(self) -> bool:
        return self.succeeded == self.rollouts

    @property
    def met_delay_target(self) -> bool:
        return self.seen.count > 0 and self.seen.p99 <= TARGET_P99_S


def _seconds(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f} s"


def _delay_row(label: str, summary: DelaySummary) -> str:
    figures = f"p50 {_seconds(summary.p50)}  p99 {_seconds(summary.p99)}"
    return f"  {label:<36} {figures}  max {_seconds(summary.max)}  (n={summary.count})"


def render_table(report: SliceReport) -> str:
    cores = ",".join(map(str, report.pinned_cores))
    verdict = "met" if report.met_delay_target else "MISSED"
    phases = ", ".join(f"{phase} {count}" for phase, count in sorted(report.phases.items()))
    lines = [
        f"== {report.rollouts} concurrent AIRollouts (operator pinned to core {cores})",
        f"  {'all succeeded':<36} {'yes' if report.all_succeeded else 'NO'}"
        f" ({report.succeeded}/{report.rollouts}; {phases or 'no status'})"
        + ("  TIMED OUT" if report.timed_out else ""),
        f"  {'wall time to all finished':<36} {report.wall_seconds:.1f} s",
        _delay_row("decision delay, seen in status", report.seen),
        _delay_row("decision delay, record time", report.recorded),
        *(
            _bucket_row(label, report.histograms.get(name))
            for name, label in OPERATOR_HISTOGRAMS.items()
        ),
        f"  {'target: p99 within':<36} {TARGET_P99_S:g} s of the window's end: {verdict}",
        f"  {'operator CPU':<36} {report.cpu_seconds:.1f} s"
        f" ({_utilisation(report):.0%} of one core over the wall time)",
        f"  {'operator peak RSS':<36} {report.peak_rss_bytes / 2**20:.0f} MiB",
        f"  {'target: concurrent rollouts, 1 core':<36} {TARGET_ROLLOUTS}"
        + (f"  (this run: {report.rollouts})" if report.rollouts != TARGET_ROLLOUTS else ""),
        f"  {'machine load average (1/5/15 min)':<36} "
        + " ".join(f"{load:.2f}" for load in report.load_average),
    ]
    if report.unmatched_decisions:
        lines.append(f"  note: {report.unmatched_decisions} decisions had no window seen open")
    return "\n".join(lines)


def _bucket_row(label: str, summary: BucketSummary | None) -> str:
    if summary is None or summary.p99_at_most is None:
        return f"  {label:<36} -"
    bounds = f"p50 <= {summary.p50_at_most:g} s  p99 <= {summary.p99_at_most:g} s"
    return f"  {label:<36} {bounds}  (n={summary.count:.0f})"


def _utilisation(report: SliceReport) -> float:
    return report.cpu_seconds / report.wall_seconds if report.wall_seconds > 0 else 0.0


def report_json(reports: Sequence[SliceReport], settings: ScaleSettings) -> dict[str, Any]:
    def one(report: SliceReport) -> dict[str, Any]:
        fields = asdict(report)
        fields["pinned_cores"] = list(report.pinned_cores)
        fields["load_average"] = list(report.load_average)
        fields["phases"] = dict(report.phases)
        fields["all_succeeded"] = report.all_succeeded
        fields["met_delay_target"] = report.met_delay_target
        fields["cpu_utilisation"] = _utilisation(report)
        finite: dict[str, Any] = _finite(fields)
        return finite

    return {
        "benchmark": "operator-scale",
        "target": {"p99_delay_seconds": TARGET_P99_S, "rollouts_on_one_core": TARGET_ROLLOUTS},
        "settings": {
            "interval": settings.interval,
            "warmup": settings.warmup,
            "slices": list(settings.slices),
            "tick_seconds": settings.tick_seconds,
            "core": settings.core,
        },
        "results": [one(report) for report in reports],
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN: a delay never measured becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


# ---- the cluster side --------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleSettings:
    sizes: tuple[int, ...] = (50, 200)
    interval: str = "5s"
    warmup: str = "1s"
    slices: tuple[int, ...] = (10, 50, 100)
    tick_seconds: float = 1.0
    core: int = 0
    timeout_seconds: float = 600.0
    rps: float = 200.0  # per version and target
    error_ratio: float = 0.001
    log_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


class SteadyExporter(Collector):
    """`http_requests_total` and the latency histogram of every target and canary, growing
    at a steady healthy rate: counts follow the wall clock, so no thread drives them."""

    def __init__(self, settings: ScaleSettings, clock: Callable[[], float] = time.monotonic):
        self.settings, self.clock, self.started = settings, clock, clock()
        self.namespace, self.targets = "", list[str]()

    def serve(self, namespace: str, targets: Sequence[str]) -> None:
        """From now on export these targets (and their canaries) instead of the last ones."""
        self.namespace, self.targets = namespace, list(targets)

    def collect(self) -> Iterator[Metric]:
        total = self.settings.rps * (self.clock() - self.started)
        errors = total * self.settings.error_ratio
        labels = ("namespace", "deployment", "version")
        requests = CounterMetricFamily(
            REQUESTS_METRIC, "Requests served.", labels=(*labels, "status")
        )
        durations = HistogramMetricFamily(DURATION_METRIC, "Request latency.", labels=labels)
        buckets = [(_le(edge), share * total) for edge, share in LATENCY_SHARES]
        for target in self.targets:
            for deployment, version in ((target, "stable"), (target + CANARY_SUFFIX, "canary")):
                series = [self.namespace, deployment, version]
                requests.add_metric([*series, STATUS_OK], total - errors)
                requests.add_metric([*series, STATUS_ERROR], errors)
                durations.add_metric(series, buckets, 0.04 * total)
        yield requests
        yield durations


def _le(edge: float) -> str:
    return "+Inf" if math.isinf(edge) else repr(edge)


def _queries() -> dict[str, str]:
    series = 'namespace="{{ namespace }}",deployment="{{ workload }}"'
    window = "[{{ window }}]"
    return {
        "errorQuery": f'sum(increase({REQUESTS_METRIC}{{{series},status=~"5.."}}{window}))',
        "totalQuery": f"sum(increase({REQUESTS_METRIC}{{{series}}}{window}))",
        "bucketsQuery": (f"sum by (le) (increase({DURATION_METRIC}_bucket{{{series}}}{window}))"),
    }


def rollout_manifest(name: str, target: str, settings: ScaleSettings) -> dict[str, Any]:
    """An AIRollout of `target` to a new image, judged by the rules judge on errors and p99."""
    queries = _queries()
    error_rate = {
        "name": "error-rate",
        "kind": "errorRate",
        "errorQuery": queries["errorQuery"],
        "totalQuery": queries["totalQuery"],
        "max": 0.01,
    }
    latency = {"name": "p99-latency", "kind": "latency", "bucketsQuery": queries["bucketsQuery"]}
    spec = {
        "targetRef": {"name": target},
        "template": {"image": NEW_IMAGE},
        "revision": "bench",
        "traffic": {"slices": list(settings.slices)},
        "analysis": {
            "interval": settings.interval,
            "warmup": settings.warmup,
            "metrics": [error_rate, {**latency, "max": 0.5}],
        },
        "judge": {"mode": "rules"},
        "onHold": {"timeout": "60s", "then": "rollback"},
    }
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AIRollout",
        "metadata": {"name": name},
        "spec": spec,
    }


def target_deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": IMAGE}]},
            },
        },
    }


@dataclass
class DecisionWatch:
    """Window ends as windows open, and decisions as they land, from AIRollout statuses."""

    window_ends: dict[tuple[str, str], datetime] = field(default_factory=dict)
    decided: dict[tuple[str, str], tuple[datetime, datetime]] = field(default_factory=dict)
    phases: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, rollout: Mapping[str, Any], seen: datetime) -> None:
        name = rollout["metadata"]["name"]
        status = rollout.get("status") or {}
        with self.lock:
            if status.get("phase"):
                self.phases[name] = status["phase"]
            window = status.get("window") or {}
            if window.get("key") and window.get("end"):
                self.window_ends.setdefault((name, window["key"]), from_rfc3339(window["end"]))
            for decision in status.get("decisions") or []:
                if decision.get("key") and decision.get("time"):
                    record_time = from_rfc3339(decision["time"])
                    self.decided.setdefault((name, decision["key"]), (record_time, seen))

    def delays(self) -> tuple[list[float], list[float], int]:
        """(window end -> record time, window end -> seen) per decision, and how many
        decisions had no window end to measure from."""
        recorded, seen, unmatched = [], [], 0
        with self.lock:
            for key, (record_time, seen_at) in self.decided.items():
                end = self.window_ends.get(key)
                if end is None:
                    unmatched += 1
                    continue
                recorded.append((record_time - end).total_seconds())
                seen.append((seen_at - end).total_seconds())
        return recorded, seen, unmatched

    def finished(self, names: Iterable[str]) -> bool:
        with self.lock:
            return all(self.phases.get(name) in FINISHED_PHASES for name in names)

    def phase_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for phase in self.phases.values():
                counts[phase] = counts.get(phase, 0) + 1
        return counts


def watch_rollouts(custom: Any, namespace: str, into: DecisionWatch, stop: threading.Event) -> None:
    """List, then watch from that resourceVersion; list again when the watch ends or
    expires (410), so nothing is missed for long. Runs until `stop` is set, noticed at the
    next event (the rollouts' deletion brings plenty) or the watch's end."""
    while not stop.is_set():
        try:
            listing = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
            now = datetime.now(UTC)
            for item in listing.get("items", []):
                into.observe(item, now)
            stream = watch.Watch().stream(  # type: ignore[no-untyped-call]
                custom.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                resource_version=listing["metadata"]["resourceVersion"],
                timeout_seconds=60,
            )
            for event in stream:
                if event["type"] in ("ADDED", "MODIFIED"):
                    into.observe(event["object"], datetime.now(UTC))
                if stop.is_set():
                    break
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            print(f"  (watch restarted: {error})", file=sys.stderr)
            stop.wait(0.5)


@dataclass
class OperatorProcess:
    """`airollout operator` for one namespace, pinned to one core, its log in a file."""

    proc: subprocess.Popen[bytes]
    metrics_url: str
    log_path: Path

    @classmethod
    def start(
        cls, kubeconfig: Path, namespace: str, prometheus_url: str, settings: ScaleSettings
    ) -> OperatorProcess:
        port = _free_port()
        argv = [sys.executable, "-m", "airollout.cli", "operator", "--kubeconfig", str(kubeconfig)]
        argv += ["--namespace", namespace, "--prometheus-url", prometheus_url]
        argv += ["--metrics-port", str(port), "--metrics-address", "127.0.0.1"]
        argv += ["--tick", str(settings.tick_seconds)]
        log_path = settings.log_dir / f"operator-{namespace}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        # Popen returns once the child has exec'd, before the interpreter starts any thread;
        # threads inherit the mask, so the whole operator stays on this core.
        os.sched_setaffinity(proc.pid, {settings.core})
        return cls(proc, f"http://127.0.0.1:{port}/metrics", log_path)

    def wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the operator exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                self.metrics_text()
                return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"the operator's /metrics did not answer in {timeout:.0f} s")

    def metrics_text(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as answer:
            return str(answer.read().decode())

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        return cpu_seconds_from_stat(stat, os.sysconf("SC_CLK_TCK"))

    def peak_rss_bytes(self) -> int:
        return peak_rss_bytes_from_status(Path(f"/proc/{self.proc.pid}/status").read_text())

    def pinned_cores(self) -> tuple[int, ...]:
        """The cores any of the operator's threads may run on, as the kernel reports them."""
        cores: set[int] = set()
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError, FileNotFoundError):
                cores |= os.sched_getaffinity(int(task.name))
        return tuple(sorted(cores))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class BenchError(RuntimeError):
    """The benchmark could not run (cluster, operator or API failure): exit non-zero."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """What the benchmark needs of a running cluster: its API, Prometheus and file_sd dir."""

    kubeconfig: Path
    prometheus_url: str
    scrape_targets: Path
    api: Any
    add_scrape_target: Callable[[Path, str, Sequence[str]], Any]

    @property
    def core(self) -> Any:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> Any:
        return client.AppsV1Api(self.api)

    @property
    def custom(self) -> Any:
        return client.CustomObjectsApi(self.api)

    def install_crd(self) -> None:
        import yaml  # only here: the rest of the benchmark reads no YAML

        extensions = client.ApiextensionsV1Api(self.api)
        document = yaml.safe_load(CRD_FILE.read_text())
        try:
            extensions.create_custom_resource_definition(document)
        except ApiException as error:
            if error.status != 409:
                raise
        name = document["metadata"]["name"]

        def established() -> bool:
            crd = extensions.read_custom_resource_definition(name)
            return any(
                c.type == "Established" and c.status == "True"
                for c in (crd.status and crd.status.conditions) or []
            )

        _wait_for(established, 30, "the AIRollout CRD to be established")

    def prometheus_count(self, query: str) -> float:
        url = f"{self.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": query})
        with urllib.request.urlopen(url, timeout=5) as answer:
            result = json.load(answer)["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0


@contextlib.contextmanager
def local_cluster(state_dir: Path, node_count: int) -> Iterator[Cluster]:
    """The harness's local control plane (hack/localcluster), stopped on the way out."""
    sys.path.insert(0, str(REPO_ROOT / "hack"))  # a tool beside the package, not installed
    import localcluster
    from localcluster.layout import bin_dir_from_env

    try:
        info = localcluster.up(
            state_dir, bin_dir_from_env(), node_count=node_count, die_with_parent=True
        )
    except localcluster.ClusterError as error:
        raise BenchError(f"the local cluster did not start: {error}") from error
    api = None
    try:
        api = config.new_client_from_config(config_file=str(info.kubeconfig))
        yield Cluster(
            info.kubeconfig,
            info.prometheus_url,
            info.scrape_targets,
            api,
            localcluster.write_scrape_target,
        )
    finally:
        if api is not None:
            api.close()
        localcluster.down(state_dir)


def nodes_for(rollouts: int) -> int:
    """kwok nodes enough for every pod of `rollouts` rollouts at their peak, plus one."""
    return math.ceil(rollouts * PODS_PER_ROLLOUT / PODS_PER_NODE) + 1


def _wait_for(check: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def run_size(
    cluster: Cluster, exporter: SteadyExporter, rollouts: int, settings: ScaleSettings
) -> SliceReport:
    """One size: N targets and N AIRollouts in a namespace of their own, one operator."""
    namespace = f"bench-{rollouts}-{os.getpid()}"
    targets = [f"web-{index}" for index in range(rollouts)]
    _create_namespace(cluster, namespace)
    try:
        _create_targets(cluster, namespace, targets)
        exporter.serve(namespace, targets)
        _wait_for(
            lambda: (
                cluster.prometheus_count(
                    f'count(count_over_time({REQUESTS_METRIC}{{namespace="{namespace}"}}[10s]) > 2)'
                )
                >= 4 * rollouts
            ),
            60,
            "Prometheus to hold a few samples of every target's series",
        )
        operator = OperatorProcess.start(
            cluster.kubeconfig, namespace, cluster.prometheus_url, settings
        )
        try:
            operator.wait_serving(60)
            time.sleep(2)  # kopf lists and starts watching after /metrics is up
            return _measure(cluster, operator, namespace, targets, settings)
        finally:
            _delete_rollouts(cluster, namespace)  # while the operator runs to drop its finalizers
            operator.stop()
    finally:
        _delete_namespace(cluster, namespace)


def _measure(
    cluster: Cluster,
    operator: OperatorProcess,
    namespace: str,
    targets: Sequence[str],
    settings: ScaleSettings,
) -> SliceReport:
    seen, stop = DecisionWatch(), threading.Event()
    watcher = threading.Thread(
        target=watch_rollouts, args=(cluster.custom, namespace, seen, stop), daemon=True
    )
    watcher.start()
    names = [f"{target}-bench" for target in targets]
    cpu_before, started = operator.cpu_seconds(), time.monotonic()
    try:
        for name, target in zip(names, targets, strict=True):
            cluster.custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, rollout_manifest(name, target, settings)
            )
        deadline = started + settings.timeout_seconds
        while not seen.finished(names) and time.monotonic() < deadline:
            if operator.proc.poll() is not None:
                raise BenchError(f"the operator exited: {operator.log_tail()}")
            time.sleep(0.5)
        wall = time.monotonic() - started
        cpu = operator.cpu_seconds() - cpu_before
        peak_rss, cores = operator.peak_rss_bytes(), operator.pinned_cores()
        histograms = operator_histograms(operator.metrics_text())
    finally:
        stop.set()
        watcher.join(10)
    recorded, seen_delays, unmatched = seen.delays()
    phases = seen.phase_counts()
    return SliceReport(
        rollouts=len(names),
        succeeded=phases.get("Succeeded", 0),
        phases=phases,
        timed_out=not seen.finished(names),
        wall_seconds=wall,
        recorded=DelaySummary.of(recorded),
        seen=DelaySummary.of(seen_delays),
        histograms=histograms,
        unmatched_decisions=unmatched,
        cpu_seconds=cpu,
        peak_rss_bytes=peak_rss,
        pinned_cores=cores,
        load_average=os.getloadavg(),
    )


def _create_namespace(cluster: Cluster, namespace: str) -> None:
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    _wait_for(
        lambda: (
            cluster.core.list_namespaced_service_account(
                namespace, field_selector="metadata.name=default"
            ).items
        ),
        30,
        f"the default ServiceAccount of {namespace}",
    )


def _delete_rollouts(cluster: Cluster, namespace: str) -> None:
    with contextlib.suppress(ApiException):
        cluster.custom.delete_collection_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)

    def gone() -> bool:
        listing = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        return not listing.get("items")

    with contextlib.suppress(BenchError, ApiException):
        _wait_for(gone, 120, f"the AIRollouts of {namespace} to be deleted")


def _delete_namespace(cluster: Cluster, namespace: str) -> None:
    """Delete and wait (a while) until it is gone, so its pods load no later size."""
    with contextlib.suppress(ApiException):
        cluster.core.delete_namespace(namespace)

    def gone() -> bool:
        try:
            cluster.core.read_namespace(namespace)
        except ApiException as error:
            return bool(error.status == 404)
        return False

    with contextlib.suppress(BenchError):
        _wait_for(gone, 180, f"namespace {namespace} to be deleted")


def _create_targets(cluster: Cluster, namespace: str, targets: Sequence[str]) -> None:
    for target in targets:
        cluster.apps.create_namespaced_deployment(namespace, target_deployment(target))

    def all_ready() -> bool:
        deployments = cluster.apps.list_namespaced_deployment(namespace).items
        ready = [d for d in deployments if (d.status.ready_replicas or 0) >= d.spec.replicas]
        return len(ready) >= len(targets)

    _wait_for(all_ready, 120 + len(targets), f"{len(targets)} target Deployments to be ready")


def run_benchmark(
    settings: ScaleSettings, progress: Callable[[SliceReport], None] = lambda _: None
) -> list[SliceReport]:
    """Every size in turn on one local cluster; `progress` sees each report as it is made."""
    reports: list[SliceReport] = []
    with (
        tempfile.TemporaryDirectory(prefix="airollout-bench-operator-") as state,
        local_cluster(Path(state), nodes_for(max(settings.sizes))) as cluster,
    ):
        cluster.install_crd()
        exporter = SteadyExporter(settings)
        registry = CollectorRegistry()
        registry.register(exporter)
        port = _free_port()
        start_http_server(port, addr="127.0.0.1", registry=registry)
        cluster.add_scrape_target(cluster.scrape_targets, "bench-exporter", [f"127.0.0.1:{port}"])
        for size in settings.sizes:
            report = run_size(cluster, exporter, size, settings)
            progress(report)
            reports.append(report)
    return reports


# ---- the command ------------------------------------------------------------------------


def register(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`airollout bench operator`, under the `bench` command's subparsers."""
    parser = kinds.add_parser(
        "operator",
        help="many concurrent AIRollouts on the local cluster: decision delay, CPU, RSS",
        description="Start the local cluster, then for each N run N AIRollouts at once "
        "under one operator pinned to one core; print decision delays, CPU and peak RSS.",
    )
    parser.add_argument(
        "--rollouts", type=_sizes, default=(50, 200), help="comma-separated sizes (50,200)"
    )
    parser.add_argument("--interval", default="5s", help="analysis window (5s)")
    parser.add_argument("--warmup", default="1s", help="warm-up after each traffic change (1s)")
    parser.add_argument(
        "--slices", type=_sizes, default=(10, 50, 100), help="canary weights (10,50,100)"
    )
    parser.add_argument("--tick", type=float, default=1.0, help="operator reconcile tick (1.0)")
    parser.add_argument("--core", type=int, default=0, help="core to pin the operator to (0)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait per size for all to finish"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.set_defaults(handler=run_command)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected positive integers")
    return sizes


def run_command(args: argparse.Namespace) -> int:
    log_dir = Path(tempfile.mkdtemp(prefix="airollout-bench-operator-logs-"))
    settings = ScaleSettings(
        sizes=args.rollouts,
        interval=args.interval,
        warmup=args.warmup,
        slices=args.slices,
        tick_seconds=args.tick,
        core=args.core,
        timeout_seconds=args.timeout,
        log_dir=log_dir,
    )
    print(f"operator logs in {log_dir}", file=sys.stderr)
    # SIGTERM unwinds like an error, so the operator and the cluster are stopped on the way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def show(report: SliceReport) -> None:
        print(render_table(report), file=sys.stderr if args.json else sys.stdout, flush=True)

    try:
        reports = run_benchmark(settings, show)
    except (BenchError, ApiException, OSError) as error:
        print(f"airollout bench operator: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report_json(reports, settings)))
    return 0
