"""The seam between the controller and a metric source: one `MetricsProvider` per kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from airollout.core.analysis.types import Observation, Version
from airollout.core.resource.spec import MetricSpec


@dataclass(frozen=True, slots=True)
class WindowQuery:
    """One analysis window to read: both versions, every metric, between `start` and `end`."""

    namespace: str
    workloads: Mapping[Version, str]  # {{ workload }} of each version
    metrics: Sequence[MetricSpec]
    start: datetime
    end: datetime
    slice_started_at: datetime  # when the current weight took effect; warm-up counts from here
    rollout: str | None = None  # {{ rollout }}, the AIRollout's name; a query using it needs it
    # {{ podTemplateHash }} of each version: an Argo Rollout's rollouts-pod-template-hash
    pod_template_hashes: Mapping[Version, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WindowData:
    """What the source gave; anything it could not read is missing in `observation`.

    `problems` says in words why (Prometheus unreachable, empty result, NaN), for the
    decision record. Reading never raises: missing data is a hold, not a crash (invariant 2).
    """

    observation: Observation
    problems: tuple[str, ...] = field(default=())


class MetricsProvider(Protocol):
    def read_window(self, query: WindowQuery) -> WindowData: ...
