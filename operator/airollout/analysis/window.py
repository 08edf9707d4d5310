"""Summing one window's usable observations per version: warmup and gaps left out.

A step counts only when its sample is present and finite; a missing, None or NaN field
means no data for that step, never zero errors or a healthy value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from airollout.analysis.types import Histogram, Observation, Sample, Version


@dataclass(frozen=True, slots=True)
class ErrorTotals:
    steps: int
    requests: float
    errors: float


@dataclass(frozen=True, slots=True)
class LatencyTotals:
    steps: int
    histogram: Histogram | None  # the window's bucket counts summed over usable steps

    @property
    def requests(self) -> float:
        return sum(self.histogram.counts) if self.histogram is not None else 0.0


def usable(window: Sequence[Observation], warmup_s: float) -> list[Observation]:
    """The observations after the warmup that follows each traffic change."""
    return [observation for observation in window if observation.start_s >= warmup_s]


def _samples(window: Sequence[Observation], version: Version, metric: str) -> list[Sample]:
    found = []
    for observation in window:
        by_metric = observation.canary if version is Version.CANARY else observation.stable
        sample = by_metric.get(metric)
        if sample is not None:
            found.append(sample)
    return found


def error_totals(window: Sequence[Observation], version: Version, metric: str) -> ErrorTotals:
    steps, requests, errors = 0, 0.0, 0.0
    for sample in _samples(window, version, metric):
        n, x = sample.requests, sample.errors
        if n is None or x is None or not (math.isfinite(n) and math.isfinite(x)):
            continue
        if n <= 0.0 or x < 0.0 or x > n:
            continue
        steps, requests, errors = steps + 1, requests + n, errors + x
    return ErrorTotals(steps, requests, errors)


def latency_totals(window: Sequence[Observation], version: Version, metric: str) -> LatencyTotals:
    histograms: list[Histogram] = []
    for sample in _samples(window, version, metric):
        histogram = sample.histogram
        if histogram is None or len(histogram.counts) != len(histogram.edges):
            continue
        total = sum(histogram.counts)
        # Buckets with other edges cannot be summed with the first; a scrape with a
        # different layout is left out rather than guessed at.
        if not math.isfinite(total) or total <= 0.0 or min(histogram.counts) < 0.0:
            continue
        if histograms and histogram.edges != histograms[0].edges:
            continue
        histograms.append(histogram)
    if not histograms:
        return LatencyTotals(0, None)
    counts = tuple(sum(column) for column in zip(*(h.counts for h in histograms), strict=True))
    return LatencyTotals(len(histograms), Histogram(histograms[0].edges, counts))


def gauge_values(window: Sequence[Observation], version: Version, metric: str) -> list[float]:
    return [
        sample.value
        for sample in _samples(window, version, metric)
        if sample.value is not None and math.isfinite(sample.value)
    ]
