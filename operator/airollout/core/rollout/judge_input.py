"""Everything the judge gets for one window, assembled in this one place.

The controller calls `judge_input` once per due window (`JudgeWindow`) and hands the result
to the judge; nothing else derives judge input from the spec or status. The machine uses
`decision_context` here too, for the record it keeps of each verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airollout.core.analysis.types import AnalysisSettings, MetricCheck, Version
from airollout.core.judge.types import DecisionContext
from airollout.core.resource.spec import (
    AIRolloutSpec,
    AnalysisSpec,
    Comparison,
    JudgeSpec,
    MetricSpec,
)
from airollout.core.resource.status import AIRolloutStatus
from airollout.core.rollout.actions import JudgeWindow
from airollout.core.rollout.machine_spec import MachineSpec
from airollout.core.rollout.timeline import from_rfc3339


@dataclass(frozen=True, slots=True)
class JudgeInput:
    namespace: str
    rollout: str
    start: datetime  # the window's bounds
    end: datetime
    slice_started_at: datetime  # the slice's traffic change: warm-up is measured from here
    workloads: Mapping[Version, str]  # each version's workload, as the queries name it
    analysis: AnalysisSpec  # the metrics to read and the Prometheus to read them from
    settings: AnalysisSettings  # the analysis section as the judges read it
    judge: JudgeSpec  # the judge mode, and the LLM endpoint and its Secret if any
    context: DecisionContext
    evidence: Mapping[str, Any]  # the judge's state after the previous window; {} at first

    @property
    def start_s(self) -> float:
        """Where the window starts, in seconds since the slice's traffic change."""
        return (self.start - self.slice_started_at).total_seconds()

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


def judge_input(
    spec: AIRolloutSpec,
    machine: MachineSpec,
    status: AIRolloutStatus,
    window: JudgeWindow,
    workloads: Mapping[Version, str],
    created_at: datetime | None,
) -> JudgeInput:
    """The input for the window `window` names, the rollout standing at `status`."""
    start, end = from_rfc3339(window.start), from_rfc3339(window.end)
    slice_started = from_rfc3339(status.slice_started_at) if status.slice_started_at else start
    elapsed_s = max((end - (created_at or start)).total_seconds(), 0.0)
    return JudgeInput(
        namespace=machine.namespace,
        rollout=machine.name,
        start=start,
        end=end,
        slice_started_at=slice_started,
        workloads=workloads,
        analysis=spec.analysis,
        settings=analysis_settings(spec.analysis),
        judge=spec.judge,
        context=decision_context(machine, status, elapsed_s),
        evidence=status.evidence,
    )


def decision_context(
    machine: MachineSpec, status: AIRolloutStatus, elapsed_s: float = 0.0
) -> DecisionContext:
    """Where the rollout stands for the window now judged: what the judge and record see."""
    promotes = _next_slice_promotes(machine, status)
    return DecisionContext(
        rollout=machine.name,
        namespace=machine.namespace,
        revision=machine.revision,
        slice_index=status.slice or 0,
        weight=status.weight,
        window_index=status.windows_at_slice + 1,
        elapsed_s=elapsed_s,
        promotes=promotes,
        # A proceed that does not promote steps to a slice below 100 %, judged again there.
        comparison_continues=not promotes,
    )


def _next_slice_promotes(machine: MachineSpec, status: AIRolloutStatus) -> bool:
    """A proceed here promotes: the next slice is the last, which is never judged."""
    following = (status.slice or 0) + 1
    return following >= len(machine.slices) or machine.slices[following] >= 100


def analysis_settings(analysis: AnalysisSpec) -> AnalysisSettings:
    """The spec's analysis section as the analysis contract, so judges never read the spec."""
    return AnalysisSettings(
        metrics=tuple(metric_check(metric) for metric in analysis.metrics),
        warmup_s=analysis.warmup_seconds,
        alpha=analysis.alpha,
        tolerance=analysis.tolerance,
    )


def metric_check(metric: MetricSpec) -> MetricCheck:
    return MetricCheck(
        name=metric.name,
        kind=metric.kind,
        max=metric.max,
        min=metric.min,
        quantile=metric.quantile,
        compare_baseline=metric.compare is Comparison.BASELINE,
    )
