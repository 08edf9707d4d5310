"""Summing one window's usable observations per version: warmup and gaps left out.

A step counts only when its sample is present and finite; a missing, None or NaN field
means no data for that step, never zero errors or a healthy value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, final

from airollout.core.analysis.types import Histogram, Observation, Sample, Version

# The totals are plain classes with final attributes: several are built per decision and,
# compiled (hack/compile.sh), such a class is built and read natively; a named tuple or a
# dataclass would go through Python-level constructors.


@final
class ErrorTotals:
    def __init__(self, steps: int, requests: float, errors: float) -> None:
        self.steps: Final = steps
        self.requests: Final = requests
        self.errors: Final = errors


@final
class LatencyTotals:
    def __init__(self, steps: int, histogram: Histogram | None, requests: float = 0.0) -> None:
        self.steps: Final = steps
        self.histogram: Final = histogram  # the window's bucket counts over usable steps
        self.requests: Final = requests  # the histogram's total


def usable(window: Sequence[Observation], warmup_s: float) -> list[Observation]:
    """The observations after the warmup that follows each traffic change."""
    return [observation for observation in window if observation.start_s >= warmup_s]


def _samples(window: Sequence[Observation], version: Version, metric: str) -> list[Sample]:
    if version is Version.CANARY:
        return [sample for step in window if (sample := step.canary.get(metric)) is not None]
    return [sample for step in window if (sample := step.stable.get(metric)) is not None]


def error_totals(window: Sequence[Observation], version: Version, metric: str) -> ErrorTotals:
    steps, requests, errors = 0, 0.0, 0.0
    canary = version is Version.CANARY
    for step in window:
        sample = (step.canary if canary else step.stable).get(metric)
        if sample is None:
            continue
        n, x = sample.requests, sample.errors
        # NaN fails every comparison, so these also drop NaN and infinite counts.
        if n is None or x is None or not (0.0 < n < math.inf and 0.0 <= x <= n):
            continue
        steps += 1
        requests += n
        errors += x
    return ErrorTotals(steps, requests, errors)


def latency_totals(window: Sequence[Observation], version: Version, metric: str) -> LatencyTotals:
    histograms = _histograms(window, version, metric)
    if not histograms:
        return LatencyTotals(0, None)
    edges = histograms[0].edges
    width = len(edges)
    # Buckets with other edges cannot be added to the first: left out, not guessed at. Steps
    # usually share one edges tuple, so the identity test spares comparing every edge.
    rows = [
        h.counts
        for h in histograms
        if (h.edges is edges or h.edges == edges) and len(h.counts) == width
    ]
    summed = _column_sums(rows)
    requests = sum(summed)
    if not 0.0 <= requests < math.inf:
        # Some step had a NaN or infinite bucket: drop those steps only (the slow path).
        rows = [counts for counts in rows if 0.0 <= sum(counts) < math.inf]
        summed = _column_sums(rows)
        requests = sum(summed)
    if requests <= 0.0:
        return LatencyTotals(0, None)
    return LatencyTotals(len(rows), Histogram(edges, summed), requests)


def _column_sums(rows: list[tuple[float, ...]]) -> tuple[float, ...]:
    # Every row has the layout's width (checked when it was kept). Column by column, so a
    # compiled build keeps each running sum as a plain double.
    if not rows:
        return ()
    sums: list[float] = []
    for column in range(len(rows[0])):
        total = 0.0
        for row in rows:
            total += row[column]
        sums.append(total)
    return tuple(sums)


def _histograms(window: Sequence[Observation], version: Version, metric: str) -> list[Histogram]:
    """The version's histograms of the metric, one per step that has one, in one pass."""
    if version is Version.CANARY:
        return [
            histogram
            for step in window
            if (sample := step.canary.get(metric)) is not None
            and (histogram := sample.histogram) is not None
        ]
    return [
        histogram
        for step in window
        if (sample := step.stable.get(metric)) is not None
        and (histogram := sample.histogram) is not None
    ]


def gauge_values(window: Sequence[Observation], version: Version, metric: str) -> list[float]:
    return [
        sample.value
        for sample in _samples(window, version, metric)
        if sample.value is not None and math.isfinite(sample.value)
    ]


def gauge_pairs(window: Sequence[Observation], metric: str) -> list[tuple[float, float]]:
    """(canary, stable) readings of the steps where both versions read a finite value."""
    pairs = []
    for step in window:
        canary, stable = step.canary.get(metric), step.stable.get(metric)
        if canary is None or stable is None or canary.value is None or stable.value is None:
            continue
        if math.isfinite(canary.value) and math.isfinite(stable.value):
            pairs.append((canary.value, stable.value))
    return pairs
