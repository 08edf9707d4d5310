"""Whether a promoted version breached its rollout's bounds in the observation period.

The same bounds the judge held the canary to (spec.analysis.metrics min and max), now read
for the whole period on the promoted version; a firing alert counts as a breach too.
Unknown stays unknown: a metric with no data makes the answer None unless another one
already breached, so an unreachable Prometheus never labels a rollout healthy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from airollout.core.analysis.histogram import quantile
from airollout.core.analysis.types import Sample
from airollout.core.resource.kinds import MetricKind
from airollout.core.resource.spec import MetricSpec


def bounded(metrics: Sequence[MetricSpec]) -> list[MetricSpec]:
    return [metric for metric in metrics if metric.min is not None or metric.max is not None]


def measured(metric: MetricSpec, sample: Sample) -> float | None:
    """The metric's value over the period: error share, latency quantile or gauge value."""
    if metric.kind is MetricKind.ERROR_RATE:
        if sample.errors is None or not sample.requests:
            return None
        value: float | None = sample.errors / sample.requests
    elif metric.kind is MetricKind.LATENCY:
        value = quantile(sample.histogram, metric.quantile) if sample.histogram else None
    else:
        value = sample.value
    return value if value is not None and math.isfinite(value) else None


def metric_breached(metric: MetricSpec, sample: Sample) -> bool | None:
    value = measured(metric, sample)
    if value is None:
        return None
    too_high = metric.max is not None and value > metric.max
    too_low = metric.min is not None and value < metric.min
    return too_high or too_low


def breached(
    metrics: Sequence[MetricSpec], samples: Mapping[str, Sample], alerts_fired: bool | None
) -> bool | None:
    """True on any breach or alert; None if any answer is missing and none breached."""
    answers = [metric_breached(m, samples.get(m.name, Sample())) for m in bounded(metrics)]
    answers.append(alerts_fired)
    if any(answer is True for answer in answers):
        return True
    if any(answer is None for answer in answers):
        return None
    return False
