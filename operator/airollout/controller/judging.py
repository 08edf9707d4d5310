"""One analysis window judged: read both versions from the metric source, ask the judge.

The judge's evidence between windows lives in `status.evidence` (invariant 5), so this
module keeps nothing between calls. The LLM's API key is read from its Secret for each
window and handed only to the LLM client (invariant 6).
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kubernetes import client

from airollout.analysis.types import Observation, Version
from airollout.api.settings import analysis_settings
from airollout.api.spec import AIRolloutSpec, AnalysisSpec, JudgeMode
from airollout.judge.combined import CombinedJudge
from airollout.judge.llm import LLMJudge, LLMSettings
from airollout.judge.prompt import PastDecision
from airollout.judge.rules import RulesJudge
from airollout.judge.types import DecisionContext, Judge, Opinion, Verdict
from airollout.metrics.provider import MetricsProvider, WindowData, WindowQuery

ProviderFactory = Callable[[AnalysisSpec], MetricsProvider | None]


@dataclasses.dataclass(frozen=True)
class WindowToJudge:
    namespace: str
    rollout: str
    spec: AIRolloutSpec
    workloads: Mapping[Version, str]
    start: datetime
    end: datetime
    slice_started_at: datetime
    context: DecisionContext
    evidence: Mapping[str, Any]  # the judge's state after the previous window; {} at first


class UnusableLLM:
    """Stands in for the LLM when it cannot even be asked (its Secret is missing)."""

    def __init__(self, error: str) -> None:
        self.error = error

    def opinion(
        self, context: DecisionContext, rules: Verdict, history: Sequence[PastDecision] = ()
    ) -> Opinion:
        return Opinion(judge="llm", action=None, reasoning="", error=self.error)


class WindowJudge:
    def __init__(self, core: client.CoreV1Api, providers: ProviderFactory) -> None:
        self.core, self.providers = core, providers

    def judge(self, window: WindowToJudge) -> tuple[Verdict, dict[str, Any]]:
        settings = analysis_settings(window.spec.analysis)
        judge = self._judge_for(window.namespace, window.spec)
        state = dict(window.evidence) or judge.initial_state(settings)
        data = self._read(window)
        context = window.context
        if data.problems:
            notes = {f"metrics.problem.{i + 1}": text for i, text in enumerate(data.problems)}
            context = dataclasses.replace(context, labels={**context.labels, **notes})
        verdict, new_state = judge.decide(settings, state, context, [data.observation])
        if data.problems:
            reasoning = f"{verdict.reasoning} Metric source: {' '.join(data.problems)}"
            verdict = dataclasses.replace(verdict, reasoning=reasoning)
        return verdict, new_state

    def _read(self, window: WindowToJudge) -> WindowData:
        metrics = window.spec.analysis.metrics
        empty = Observation(
            start_s=(window.start - window.slice_started_at).total_seconds(),
            duration_s=(window.end - window.start).total_seconds(),
            canary={},
            stable={},
        )
        if not metrics:
            return WindowData(empty)
        provider = self.providers(window.spec.analysis)
        if provider is None:  # validation refuses this; kept safe if it slips through
            return WindowData(empty, ("no Prometheus address is configured",))
        query = WindowQuery(
            namespace=window.namespace,
            workloads=window.workloads,
            metrics=metrics,
            start=window.start,
            end=window.end,
            slice_started_at=window.slice_started_at,
            rollout=window.rollout,
        )
        return provider.read_window(query)

    def _judge_for(self, namespace: str, spec: AIRolloutSpec) -> Judge:
        rules = RulesJudge()
        mode = spec.judge.mode
        if mode is JudgeMode.RULES or spec.judge.llm is None:
            return rules
        llm_spec = spec.judge.llm
        api_key, error = "", None
        if llm_spec.api_key_secret_ref is not None:
            api_key, error = self._secret_value(
                namespace, llm_spec.api_key_secret_ref.name, llm_spec.api_key_secret_ref.key
            )
        if error is not None:
            return CombinedJudge(rules, UnusableLLM(error), mode)
        return CombinedJudge(rules, LLMJudge(LLMSettings.from_spec(llm_spec, api_key)), mode)

    def _secret_value(self, namespace: str, name: str, key: str) -> tuple[str, str | None]:
        try:
            secret = self.core.read_namespaced_secret(name, namespace)
        except client.ApiException as error:
            return "", f"cannot read Secret {namespace}/{name}: HTTP {error.status}"
        encoded = (secret.data or {}).get(key)
        if encoded is None:
            return "", f"Secret {namespace}/{name} has no key {key!r}"
        return base64.b64decode(encoded).decode(), None
