"""What a threshold-per-interval tool measures from one window: one value per metric.

Argo Rollouts and Flagger both run one query per interval and compare its single result
with a bound; here that query's result is the window's pooled value after the warmup.
"""

from __future__ import annotations

from collections.abc import Sequence

from airollout.core.analysis.histogram import quantile
from airollout.core.analysis.types import AnalysisSettings, MetricCheck, Observation, Version
from airollout.core.analysis.window import error_totals, latency_totals, usable
from airollout.core.resource.kinds import MetricKind


def window_value(
    check: MetricCheck, window: Sequence[Observation], warmup_s: float, version: Version
) -> float | None:
    """The metric's value over the window's steps after the warmup; None when no data came."""
    steps = usable(window, warmup_s)
    if check.kind is MetricKind.ERROR_RATE:
        errors = error_totals(steps, version, check.name)
        return errors.errors / errors.requests if errors.requests > 0 else None
    if check.kind is MetricKind.LATENCY:
        latency = latency_totals(steps, version, check.name)
        if latency.histogram is None:
            return None
        return quantile(latency.histogram, check.quantile)
    return None


def within_bounds(check: MetricCheck, value: float) -> bool:
    """The success condition: `min <= result <= max` for whichever bounds are set."""
    if check.max is not None and not value <= check.max:
        return False
    return check.min is None or value >= check.min


def step_values(
    check: MetricCheck, window: Sequence[Observation], warmup_s: float, version: Version
) -> list[float]:
    """One value per step after the warmup, steps without data left out: a time series."""
    values = (window_value(check, [step], warmup_s, version) for step in window)
    return [value for value in values if value is not None]


def window_requests(
    check: MetricCheck, window: Sequence[Observation], warmup_s: float, version: Version
) -> float:
    """How many requests the metric's value over the window rests on (0 without data)."""
    steps = usable(window, warmup_s)
    if check.kind is MetricKind.ERROR_RATE:
        return error_totals(steps, version, check.name).requests
    if check.kind is MetricKind.LATENCY:
        return latency_totals(steps, version, check.name).requests
    return 0.0


def bounded(settings: AnalysisSettings) -> list[MetricCheck]:
    """The metrics a threshold tool has a condition for: those with a bound."""
    return [check for check in settings.metrics if check.max is not None or check.min is not None]


def bound_of(check: MetricCheck) -> float:
    """The bound a relative condition's slack is a share of (max, else min)."""
    bound = check.max if check.max is not None else check.min
    return abs(bound) if bound is not None else 0.0
