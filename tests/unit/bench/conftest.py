"""Crafted windows for the baseline tests: exact counts, no randomness."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from airollout.core.analysis.types import Histogram, Observation, Sample
from airollout_tools.sim.buckets import bucket_edges
from airollout_tools.sim.simulator import ERROR_RATE_METRIC, LATENCY_METRIC

EDGES = bucket_edges()
WindowBuilder = Callable[..., tuple[Observation, ...]]


def version_samples(
    requests: float, error_rate: float | None, latency_ms: float
) -> dict[str, Sample]:
    """Every request in the bucket holding `latency_ms`; error_rate None means no metrics."""
    if error_rate is None:
        return {ERROR_RATE_METRIC: Sample(), LATENCY_METRIC: Sample()}
    bucket = next(index for index, edge in enumerate(EDGES) if latency_ms <= edge)
    counts = tuple(requests if index == bucket else 0.0 for index in range(len(EDGES)))
    return {
        ERROR_RATE_METRIC: Sample(requests=requests, errors=round(requests * error_rate)),
        LATENCY_METRIC: Sample(requests=requests, histogram=Histogram(EDGES, counts)),
    }


def build_window(
    canary_rates: Sequence[float | None],
    stable_rates: Sequence[float | None] | None = None,
    *,
    canary_latency_ms: float = 40.0,
    stable_latency_ms: float = 40.0,
    requests: float = 1000.0,
    first_start_s: float = 20.0,
    step_s: float = 5.0,
) -> tuple[Observation, ...]:
    """One observation per entry of `canary_rates`, starting after the default warmup."""
    stable = stable_rates if stable_rates is not None else [0.001] * len(canary_rates)
    return tuple(
        Observation(
            start_s=first_start_s + index * step_s,
            duration_s=step_s,
            canary=version_samples(requests, canary_rate, canary_latency_ms),
            stable=version_samples(requests, stable_rate, stable_latency_ms),
        )
        for index, (canary_rate, stable_rate) in enumerate(zip(canary_rates, stable, strict=True))
    )


@pytest.fixture
def window() -> WindowBuilder:
    return build_window
