"""`airollout bench soak`: AIRollouts created and finished continuously under one operator, to
see whether its memory stays flat.

`--concurrency` targets each always have one rollout in flight: once it ends it is deleted
(through the operator, so its finalizer and caches go) and a new one, under a new name and
to the other image, takes its place. The operator's resident set (VmRSS in /proc) is sampled
every few seconds; the report compares the first sample after the warm-up with the last
one. The figures are printed beside the target (growth under 10 %), never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import re
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes.client.exceptions import ApiException

from airollout.core.resource.crd import GROUP, PLURAL, VERSION
from airollout_tools.bench.scale.cluster import (
    BenchError,
    Cluster,
    OperatorProcess,
    _create_namespace,
    _create_targets,
    _delete_rollouts,
    local_cluster,
    nodes_for,
    serve_exporter,
)
from airollout_tools.bench.scale.settings import (
    FINISHED_PHASES,
    IMAGE,
    NEW_IMAGE,
    ScaleSettings,
)
from airollout_tools.bench.scale.workloads import rollout_manifest

TARGET_GROWTH_PERCENT = 10.0
SAMPLE_EVERY_S = 5.0


def rss_bytes_from_status(status_text: str) -> int:
    """VmRSS (the resident set now) from /proc/<pid>/status, in bytes."""
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB$", status_text, re.MULTILINE)
    if match is None:
        raise ValueError("no VmRSS line in the process status")
    return int(match.group(1)) * 1024


@dataclass
class SoakReport:
    minutes: float
    warmup_minutes: float
    started: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds in, RSS)
    warm_at: float = 0.0

    def start_rss(self) -> int:
        return next((rss for at, rss in self.samples if at >= self.warm_at), self.samples[-1][1])

    def end_rss(self) -> int:
        return self.samples[-1][1]

    def growth_percent(self) -> float:
        return 100.0 * (self.end_rss() - self.start_rss()) / self.start_rss()

    def render(self) -> str:
        mib = 1024 * 1024
        peak = max(rss for _, rss in self.samples)
        verdict = "met" if self.growth_percent() < TARGET_GROWTH_PERCENT else "MISSED"
        done = ", ".join(f"{n} {phase}" for phase, n in sorted(self.finished.items()))
        return "\n".join(
            [
                f"soak: {self.minutes:g} min, warm-up {self.warmup_minutes:g} min",
                f"  rollouts created {self.started}, finished: {done or 'none'}",
                f"  operator RSS after warm-up {self.start_rss() / mib:.1f} MiB, "
                f"at the end {self.end_rss() / mib:.1f} MiB, peak {peak / mib:.1f} MiB",
                f"  growth {self.growth_percent():+.1f} % "
                f"(target < {TARGET_GROWTH_PERCENT:g} %: {verdict})",
            ]
        )


class Churn:
    """One rollout in flight per target; a finished one is deleted and replaced."""

    def __init__(self, cluster: Cluster, namespace: str, settings: ScaleSettings) -> None:
        self.cluster, self.namespace, self.settings = cluster, namespace, settings
        self.serial = itertools.count(1)
        self.in_flight: dict[str, tuple[str, str]] = {}  # target -> (rollout, its image)
        self.running: dict[str, str] = {}  # target -> the image it runs
        self.started, self.finished = 0, dict[str, int]()

    def launch(self, target: str) -> None:
        """A new rollout of `target` to the image it does not run."""
        name = f"{target}-r{next(self.serial)}"
        image = IMAGE if self.running.get(target, IMAGE) == NEW_IMAGE else NEW_IMAGE
        manifest = rollout_manifest(name, target, self.settings)
        manifest["spec"]["template"]["image"] = image
        manifest["spec"]["revision"] = f"soak-{name}"
        self.cluster.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, manifest
        )
        self.in_flight[target] = (name, image)
        self.started += 1

    def step(self) -> None:
        """Replace every rollout that has ended (a failed one too: the soak goes on)."""
        listing = self.cluster.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL
        )
        phases = {
            item["metadata"]["name"]: (item.get("status") or {}).get("phase")
            for item in listing.get("items", [])
        }
        for target, (name, image) in list(self.in_flight.items()):
            phase = phases.get(name)
            if phase not in FINISHED_PHASES:
                continue
            self.finished[phase] = self.finished.get(phase, 0) + 1
            if phase == "Succeeded":
                self.running[target] = image
            with contextlib.suppress(ApiException):
                self.cluster.custom.delete_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, PLURAL, name
                )
            self.launch(target)


def soak(settings: ScaleSettings, concurrency: int, minutes: float, warmup: float) -> SoakReport:
    with (
        tempfile.TemporaryDirectory(prefix="airollout-bench-soak-") as state,
        local_cluster(Path(state), nodes_for(concurrency)) as cluster,
    ):
        cluster.install_crd()
        exporter = serve_exporter(cluster, settings)
        namespace = "soak"
        targets = [f"web-{index}" for index in range(concurrency)]
        _create_namespace(cluster, namespace)
        _create_targets(cluster, namespace, targets)
        exporter.serve(namespace, targets)
        time.sleep(10)  # a few scrapes of every series before the first window
        operator = OperatorProcess.start(
            cluster.kubeconfig, namespace, cluster.prometheus_url, settings
        )
        try:
            operator.wait_serving(60)
            return _run(cluster, operator, namespace, targets, settings, minutes, warmup)
        finally:
            _delete_rollouts(cluster, namespace)
            operator.stop()


def _run(
    cluster: Cluster,
    operator: OperatorProcess,
    namespace: str,
    targets: Sequence[str],
    settings: ScaleSettings,
    minutes: float,
    warmup: float,
) -> SoakReport:
    churn = Churn(cluster, namespace, settings)
    report = SoakReport(minutes, warmup, warm_at=warmup * 60)
    for target in targets:
        churn.launch(target)
    started = next_sample = time.monotonic()
    while (now := time.monotonic()) - started < minutes * 60:
        if operator.proc.poll() is not None:
            raise BenchError(f"the operator exited: {operator.log_tail()}")
        if now >= next_sample:
            status = Path(f"/proc/{operator.proc.pid}/status").read_text()
            report.samples.append((now - started, rss_bytes_from_status(status)))
            next_sample += SAMPLE_EVERY_S
        churn.step()
        time.sleep(1.0)
    status = Path(f"/proc/{operator.proc.pid}/status").read_text()
    report.samples.append((time.monotonic() - started, rss_bytes_from_status(status)))
    report.started, report.finished = churn.started, churn.finished
    return report


def register(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`airollout bench soak`, under the `bench` command's subparsers."""
    parser = kinds.add_parser(
        "soak",
        help="AIRollouts created and finished for MINUTES under one operator: RSS growth",
        description="Start the local cluster and keep --concurrency rollouts in flight under "
        "one operator for --minutes; print its RSS after the warm-up and at the end.",
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to churn (30)")
    parser.add_argument(
        "--warmup-minutes", type=float, help="RSS is compared from here (default: a tenth, ≤ 3)"
    )
    parser.add_argument("--concurrency", type=int, default=10, help="rollouts in flight (10)")
    parser.add_argument("--interval", default="5s", help="analysis window (5s)")
    parser.add_argument("--tick", type=float, default=1.0, help="operator reconcile tick (1.0)")
    parser.add_argument("--core", type=int, default=0, help="core to pin the operator to (0)")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    if args.minutes <= 0 or args.concurrency < 1:
        print("airollout bench soak: --minutes and --concurrency must be positive", file=sys.stderr)
        return 2
    warmup = args.warmup_minutes
    warmup = min(args.minutes / 10, 3.0) if warmup is None else warmup
    log_dir = Path(tempfile.mkdtemp(prefix="airollout-bench-soak-logs-"))
    settings = ScaleSettings(
        interval=args.interval, tick_seconds=args.tick, core=args.core, log_dir=log_dir
    )
    print(f"operator logs in {log_dir}", file=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        report = soak(settings, args.concurrency, args.minutes, warmup)
    except (BenchError, ApiException, OSError) as error:
        print(f"airollout bench soak: {error}", file=sys.stderr)
        return 1
    print(report.render())
    return 0
