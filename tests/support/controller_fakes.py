"""In-memory stand-ins for the Kubernetes APIs and the router the reconciler calls.

Every call lands in one shared `calls` list, so a test can check what happened in which
order (the status write must come before any traffic change: invariant 5 in
docs/architecture.md#safety-invariants).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes.client import ApiException

from airollout.adapters.kubernetes.events import EventRecorder
from airollout.adapters.metrics.source import WindowData, WindowQuery
from airollout.adapters.traffic.router import RolloutTarget
from airollout.controller.act import Actor
from airollout.controller.decide import WindowJudge
from airollout.controller.reconcile import Reconciler
from airollout.controller.sense import Sensor
from airollout.core.analysis.types import Observation, Sample, Version

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Calls(list[tuple[str, Any]]):
    def names(self) -> list[str]:
        return [name for name, _ in self]


class FakeCustom:
    def __init__(self, calls: Calls, conflict: bool = False) -> None:
        self.calls, self.conflict = calls, conflict
        self.status: dict[str, Any] | None = None

    def patch_namespaced_custom_object_status(self, *args: Any) -> dict[str, Any]:
        body = args[-1]
        self.calls.append(("write-status", body))
        if self.conflict:
            raise ApiException(status=409, reason="Conflict")
        self.status = body["status"]
        return {"metadata": {"resourceVersion": str(int(body["metadata"]["resourceVersion"]) + 1)}}

    def patch_namespaced_custom_object(self, *args: Any) -> None:
        self.calls.append(("patch-object", args[-1]))


class FakeApps:
    def __init__(self, calls: Calls, target_exists: bool = True) -> None:
        self.calls, self.target_exists = calls, target_exists

    def read_namespaced_deployment(self, name: str, namespace: str) -> object:
        self.calls.append(("read-deployment", name))
        if not self.target_exists:
            raise ApiException(status=404, reason="Not Found")
        return object()


class FakeRouter:
    def __init__(self, calls: Calls, ready: bool = True) -> None:
        self.calls, self.ready = calls, ready

    def set_weight(self, target: RolloutTarget, weight: int) -> bool:
        self.calls.append(("set-weight", weight))
        return self.ready

    def promote(self, target: RolloutTarget) -> bool:
        self.calls.append(("promote", None))
        return True

    def rollback(self, target: RolloutTarget) -> bool:
        self.calls.append(("rollback", None))
        return True

    def workloads(self, target: RolloutTarget) -> dict[Version, str]:
        return {Version.CANARY: f"{target.target}-canary", Version.STABLE: target.target}


class FakeEvents(EventRecorder):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def emit(
        self, ref: Any, key: str, reason: str, message: str, warning: bool, repeated: bool = False
    ) -> None:
        self.calls.append(("event", reason))

    def forget(self, uid: str) -> None:
        """Memory only, no API call: nothing to record."""


class FakeLog:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.entries: dict[str, Any] = {}

    def write(self, ref: Any, key: str, record: Any) -> None:
        self.calls.append(("log-decision", key))
        self.entries[key] = record


class SteadyMetrics:
    """Both versions healthy and busy: every window has plenty of clean requests."""

    def read_window(self, query: WindowQuery) -> WindowData:
        healthy = Sample(requests=50_000.0, errors=0.0)
        samples = {metric.name: healthy for metric in query.metrics}
        duration = (query.end - query.start).total_seconds()
        start = (query.start - query.slice_started_at).total_seconds()
        return WindowData(Observation(start, duration, dict(samples), dict(samples)))


class Harness:
    """A reconciler over fakes, and a clock the test moves."""

    def __init__(self, *, conflict: bool = False, target_exists: bool = True) -> None:
        self.calls = Calls()
        self.now = START
        self.custom = FakeCustom(self.calls, conflict)
        self.router = FakeRouter(self.calls)
        self.log = FakeLog(self.calls)
        self.reconciler = Reconciler(
            custom=self.custom,  # type: ignore[arg-type]
            sensor=Sensor(FakeApps(self.calls, target_exists), lambda k: self.router),  # type: ignore[arg-type]
            judge=WindowJudge(None, lambda spec: SteadyMetrics()),  # type: ignore[arg-type]
            actor=Actor(lambda k: self.router, FakeEvents(self.calls), self.log),  # type: ignore[arg-type]
            default_prometheus="http://prometheus:9090",
            clock=lambda: self.now,
        )
        self.body = rollout_body()

    def reconcile(self, owner: str | None = None) -> None:
        self.calls.clear()
        self.reconciler.reconcile(copy.deepcopy(self.body), lambda ns, target: owner)
        if self.custom.status is not None:
            self.body["status"] = self.custom.status
            version = int(self.body["metadata"]["resourceVersion"]) + 1
            self.body["metadata"]["resourceVersion"] = str(version)
            self.custom.status = None

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def rollout_body(**spec: Any) -> dict[str, Any]:
    metric = {"name": "errors", "kind": "errorRate", "errorQuery": "e", "totalQuery": "t"}
    return {
        "metadata": {
            "name": "web-v2",
            "namespace": "shop",
            "uid": "uid-1",
            "generation": 1,
            "resourceVersion": "1",
            "creationTimestamp": "2026-11-25T11:59:00Z",
        },
        "spec": {
            "targetRef": {"name": "web"},
            "template": {"image": "web:v2"},
            "analysis": {"interval": "10s", "warmup": "0s", "metrics": [{**metric, "max": 0.05}]},
            **spec,
        },
    }
