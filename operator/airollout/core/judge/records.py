"""A verdict as the decision record the status and the decision log keep (the audit trail)."""

from __future__ import annotations

import math

from airollout.core.analysis.types import MetricResult, TestResult
from airollout.core.judge.types import DecisionContext, Opinion, Verdict, summary_line
from airollout.core.resource.status import CheckRecord, DecisionRecord, MetricRecord, OpinionRecord


def decision_record(
    verdict: Verdict, context: DecisionContext, time: str, key: str | None = None
) -> DecisionRecord:
    """Everything a person needs to audit one verdict; `time` is RFC 3339."""
    return DecisionRecord(
        time=time,
        key=key,
        action=verdict.action.value,
        summary=summary_line(verdict, context.weight),
        reasoning=verdict.reasoning,
        revision=context.revision or None,
        slice=context.slice_index,
        weight=context.weight,
        window=context.window_index,
        metrics=[_metric_record(result) for result in verdict.metrics],
        opinions=[_opinion_record(opinion) for opinion in verdict.opinions],
        overrides=list(verdict.overrides),
    )


def last_decision(record: DecisionRecord, width: int = 80) -> str:
    """The record in one line for `kubectl get air`: its summary (which names the action)."""
    if record.summary:
        line = record.summary
    else:  # a record written before summaries: its action and the reasoning's first line
        first_line = record.reasoning.strip().splitlines()[0] if record.reasoning.strip() else ""
        line = f"{record.action}: {first_line}" if first_line else record.action
    return line if len(line) <= width else line[: width - 1] + "…"


def _finite(value: float | None) -> float | None:
    """JSON and the apiserver have no NaN or infinity; a missing value reads as missing."""
    return value if value is not None and math.isfinite(value) else None


def _check_record(result: TestResult | None) -> CheckRecord | None:
    if result is None:
        return None
    return CheckRecord(
        test=result.test,
        outcome=result.outcome.value,
        statistic=_finite(result.statistic),
        threshold=_finite(result.threshold),
        evidence=_finite(result.evidence),
        message=result.message,
    )


def _metric_record(result: MetricResult) -> MetricRecord:
    return MetricRecord(
        name=result.name,
        kind=result.kind.value,
        canary_value=_finite(result.canary_value),
        stable_value=_finite(result.stable_value),
        canary_n=_finite(result.canary_n) or 0.0,
        stable_n=_finite(result.stable_n) or 0.0,
        bound=_check_record(result.bound),
        comparison=_check_record(result.comparison),
    )


def _opinion_record(opinion: Opinion) -> OpinionRecord:
    return OpinionRecord(
        judge=opinion.judge,
        action=opinion.action.value if opinion.action is not None else None,
        reasoning=opinion.reasoning,
        model=opinion.model,
        latency_seconds=opinion.latency_s,
        prompt_tokens=opinion.prompt_tokens,
        completion_tokens=opinion.completion_tokens,
        error=opinion.error,
        response_format=opinion.response_format,
    )
