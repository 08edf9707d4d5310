"""The spec's analysis section as the analysis contract, so judges never read the raw spec."""

from __future__ import annotations

from airollout.core.analysis.types import AnalysisSettings, MetricCheck
from airollout.core.resource.spec import AnalysisSpec, Comparison, MetricSpec


def metric_check(metric: MetricSpec) -> MetricCheck:
    return MetricCheck(
        name=metric.name,
        kind=metric.kind,
        max=metric.max,
        min=metric.min,
        quantile=metric.quantile,
        compare_baseline=metric.compare is Comparison.BASELINE,
    )


def analysis_settings(analysis: AnalysisSpec) -> AnalysisSettings:
    return AnalysisSettings(
        metrics=tuple(metric_check(metric) for metric in analysis.metrics),
        warmup_s=analysis.warmup_seconds,
        alpha=analysis.alpha,
        tolerance=analysis.tolerance,
    )
