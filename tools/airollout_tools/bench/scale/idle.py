"""`airollout bench idle`: what finished AIRollouts cost an operator that only watches them.

N AIRollouts that end at rest are created (valid by the schema, but with a query the
operator refuses: Failed (InvalidSpec) after one reconcile each, no Deployment needed).
Once every one shows its generation observed, the operator (pinned to one core) is left
alone for `--seconds`; its CPU seconds over that span (from /proc), its peak RSS and the
reconcile ticks it ran are printed. At rest means idle: the ticks should stay at 0. The
figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes.client.exceptions import ApiException

from airollout.core.resource.crd import GROUP, PLURAL, VERSION
from airollout_tools.bench.scale.cluster import (
    BenchError,
    Cluster,
    OperatorProcess,
    _create_namespace,
    _delete_rollouts,
    _wait_for,
    local_cluster,
)
from airollout_tools.bench.scale.settings import ScaleSettings
from airollout_tools.bench.scale.workloads import rollout_manifest

SETTLE_SECONDS = 5.0  # after the last status write: its watch event stops the last timers
TICKS_METRIC = "airollout_reconcile_ticks_total"
# Valid by the schema, refused by the operator (the query names a variable no window has):
# Failed (InvalidSpec) at once.
REFUSED_METRIC = {
    "name": "refused",
    "kind": "gauge",
    "query": 'up{job="{{ no_such_variable }}"}',
    "max": 1,
}


@dataclass(frozen=True)
class IdleReport:
    rollouts: int
    seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    ticks: float

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.cpu_seconds / self.seconds

    def render(self) -> str:
        return (
            f"{self.rollouts} AIRollouts at rest, operator watched for {self.seconds:g} s: "
            f"CPU {self.cpu_percent:.2f} % of a core ({self.cpu_seconds:.2f} s), "
            f"peak RSS {self.peak_rss_bytes / 2**20:.0f} MiB, {self.ticks:g} reconcile ticks"
        )


def register(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = kinds.add_parser(
        "idle",
        help="N finished AIRollouts on the local cluster: the operator's CPU and RSS at rest",
        description="Start the local cluster, create N AIRollouts that end at rest, then "
        "measure the operator's CPU over --seconds while nothing changes.",
    )
    parser.add_argument("--rollouts", type=int, default=1000, help="AIRollouts (1000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="span measured (60)")
    parser.add_argument("--tick", type=float, default=1.0, help="operator reconcile tick (1.0)")
    parser.add_argument("--core", type=int, default=0, help="core to pin the operator to (0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    if args.rollouts < 1 or args.seconds <= 0:
        print("airollout bench idle: --rollouts and --seconds must be positive", file=sys.stderr)
        return 2
    log_dir = Path(tempfile.mkdtemp(prefix="airollout-bench-idle-logs-"))
    print(f"operator logs in {log_dir}", file=sys.stderr)
    settings = ScaleSettings(tick_seconds=args.tick, core=args.core, log_dir=log_dir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        report = run_idle(args.rollouts, args.seconds, settings)
    except (BenchError, ApiException, OSError) as error:
        print(f"airollout bench idle: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**report.__dict__, "cpu_percent": report.cpu_percent}))
    else:
        print(report.render())
    return 0


def run_idle(rollouts: int, seconds: float, settings: ScaleSettings) -> IdleReport:
    with (
        tempfile.TemporaryDirectory(prefix="airollout-bench-idle-") as state,
        local_cluster(Path(state), 1) as cluster,
    ):
        cluster.install_crd()
        namespace = "bench-idle"
        _create_namespace(cluster, namespace)
        operator = OperatorProcess.start(
            cluster.kubeconfig, namespace, cluster.prometheus_url, settings
        )
        try:
            operator.wait_serving(60)
            _create_at_rest(cluster, namespace, rollouts, settings)
            _wait_for(
                lambda: _observed(cluster, namespace) >= rollouts,
                120 + rollouts * settings.tick_seconds,
                f"{rollouts} AIRollouts to be seen and at rest",
            )
            time.sleep(SETTLE_SECONDS)
            return _measure(operator, rollouts, seconds)
        finally:
            _delete_rollouts(cluster, namespace)
            operator.stop()


def _create_at_rest(
    cluster: Cluster, namespace: str, rollouts: int, settings: ScaleSettings
) -> None:
    def create(index: int) -> None:
        manifest = rollout_manifest(f"idle-{index}", f"web-{index}", settings)
        manifest["spec"]["analysis"]["metrics"] = [REFUSED_METRIC]
        cluster.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(rollouts)))


def _observed(cluster: Cluster, namespace: str) -> int:
    """AIRollouts finished with their current generation observed: at rest."""
    listing: dict[str, Any] = cluster.custom.list_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL
    )
    return sum(
        1
        for item in listing.get("items", [])
        if (item.get("status") or {}).get("phase") == "Failed"
        and item["status"].get("observedGeneration") == item["metadata"].get("generation")
    )


def _measure(operator: OperatorProcess, rollouts: int, seconds: float) -> IdleReport:
    ticks_before, cpu_before = _ticks(operator), operator.cpu_seconds()
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    return IdleReport(
        rollouts=rollouts,
        seconds=elapsed,
        cpu_seconds=operator.cpu_seconds() - cpu_before,
        peak_rss_bytes=operator.peak_rss_bytes(),
        ticks=_ticks(operator) - ticks_before,
    )


def _ticks(operator: OperatorProcess) -> float:
    for line in operator.metrics_text().splitlines():
        if line.startswith(f"{TICKS_METRIC} "):
            return float(line.split()[-1])
    return 0.0
