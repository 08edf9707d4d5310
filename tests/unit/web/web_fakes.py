"""Fakes for the analysis endpoint's tests: a metric source, an evidence store, a log."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from airollout.adapters.kubernetes.events import InvolvedRollout
from airollout.adapters.metrics.source import WindowData, WindowQuery
from airollout.core.analysis.types import Observation, Sample
from airollout.core.judge.rules import RulesJudge
from airollout.core.resource.status import DecisionRecord
from airollout.web.analyze import AnalysisService
from airollout.web.evidence import Evidence, EvidenceConflictError

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def body(**overrides: Any) -> dict[str, Any]:
    """A valid request: one errorRate metric bounded at 5 %."""
    metric = {
        "name": "errors",
        "kind": "errorRate",
        "errorQuery": 'sum(increase(e{hash="{{ podTemplateHash }}"}[{{ window }}]))',
        "totalQuery": 'sum(increase(t{hash="{{ podTemplateHash }}"}[{{ window }}]))',
        "max": 0.05,
    }
    analysis = {"interval": "30s", "warmup": "0s", "metrics": [metric]}
    base = {
        "namespace": "shop",
        "rollout": "web",
        "canaryHash": "6f9c7d8b5",
        "stableHash": "57d4b9c8f",
        "analysis": analysis,
    }
    return {**base, **overrides}


class Source:
    """Serves each window the counts given per version; records every query."""

    def __init__(self, canary: tuple[float, float] | None, stable=(100_000.0, 100.0)) -> None:
        self.canary, self.stable = canary, stable
        self.queries: list[WindowQuery] = []

    def read_window(self, query: WindowQuery) -> WindowData:
        self.queries.append(query)

        def sample(counts: tuple[float, float] | None) -> dict[str, Sample]:
            return {} if counts is None else {"errors": Sample(counts[0], counts[1])}

        observation = Observation(
            start_s=(query.start - query.slice_started_at).total_seconds(),
            duration_s=(query.end - query.start).total_seconds(),
            canary=sample(self.canary),
            stable=sample(self.stable),
        )
        problems = () if self.canary is not None else ("Metric 'errors' for canary: empty.",)
        return WindowData(observation, problems)


class Store:
    """Evidence in a dict, with the resourceVersion check the ConfigMap store makes."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str, str], Evidence] = {}
        self.writes = 0

    def load(self, namespace: str, rollout: str, canary_hash: str) -> Evidence | None:
        return self.saved.get((namespace, rollout, canary_hash))

    def save(self, namespace: str, rollout: str, canary_hash: str, evidence: Evidence) -> None:
        key = (namespace, rollout, canary_hash)
        current = self.saved.get(key)
        if (current.version if current else None) != evidence.version:
            raise EvidenceConflictError(f"{key} changed")
        self.writes += 1
        self.saved[key] = dataclasses.replace(evidence, version=str(self.writes))


class Log:
    def __init__(self) -> None:
        self.records: list[tuple[InvolvedRollout, str, DecisionRecord]] = []

    def write(self, ref: InvolvedRollout, key: str, record: DecisionRecord) -> None:
        self.records.append((ref, key, record))


class RecordingJudge:
    """The real rules judge, remembering the state it was handed at each window."""

    name = "rules"

    def __init__(self) -> None:
        self.rules = RulesJudge()
        self.states: list[dict[str, Any]] = []

    def initial_state(self, settings: Any) -> dict[str, Any]:
        return self.rules.initial_state(settings)

    def decide(self, settings, state, context, window):  # type: ignore[no-untyped-def]
        self.states.append(dict(state))
        return self.rules.decide(settings, state, context, window)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def service(source: Source, store: Store | None = None, judge: Any = None):  # type: ignore[no-untyped-def]
    """An AnalysisService over fakes; returns it with its store, log and clock."""
    store = store if store is not None else Store()
    log, clock = Log(), Clock()
    chosen = judge if judge is not None else RulesJudge()
    made = AnalysisService(store, lambda spec: source, lambda request: chosen, log, clock)
    return made, store, log, clock
