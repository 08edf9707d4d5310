"""What the benchmark asks the operator to roll out: targets, manifests, and one exporter
that serves steady, healthy traffic for every target and canary."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from airollout.core.resource.crd import GROUP, VERSION
from airollout_tools.bench.scale.settings import IMAGE, LATENCY_SHARES, NEW_IMAGE, ScaleSettings
from airollout_tools.sim.workload import (
    CANARY_SUFFIX,
    DURATION_METRIC,
    QUERIES,
    REQUESTS_METRIC,
    STATUS_ERROR,
    STATUS_OK,
)


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


def rollout_manifest(name: str, target: str, settings: ScaleSettings) -> dict[str, Any]:
    """An AIRollout of `target` to a new image, judged by the rules judge on errors and p99."""
    error_rate = {
        "name": "error-rate",
        "kind": "errorRate",
        "errorQuery": QUERIES["errorQuery"],
        "totalQuery": QUERIES["totalQuery"],
        "max": 0.01,
    }
    latency = {"name": "p99-latency", "kind": "latency", "bucketsQuery": QUERIES["bucketsQuery"]}
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


def pause_deployment(name: str, replicas: int, image: str = IMAGE) -> dict[str, Any]:
    """A Deployment of `replicas` pods labelled `app: <name>` with one container, `main`;
    kwok makes its pods Running and Ready. The tests build their targets with it too."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }
