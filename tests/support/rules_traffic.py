"""A small seeded traffic generator for the rules judge tests (not the simulator)."""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from airollout.core.analysis.types import (
    AnalysisSettings,
    Histogram,
    MetricCheck,
    Observation,
    Sample,
)
from airollout.core.resource.kinds import MetricKind

EDGES = (50.0, 100.0, 200.0, 300.0, 400.0, 450.0, 500.0, 550.0, 600.0, 1000.0, math.inf)
SETTINGS = AnalysisSettings(
    metrics=(
        MetricCheck("errors", MetricKind.ERROR_RATE, max=0.005),
        MetricCheck("latency", MetricKind.LATENCY, max=500.0, quantile=0.99),
    ),
    warmup_s=15.0,
)


@dataclass(frozen=True)
class Behaviour:
    error_rate: float = 0.001
    p50_ms: float = 40.0
    p99_ms: float = 200.0
    missing: bool = False
    # A share of requests taken out of the log-normal and put at one latency: a slow path
    # (a cache miss, a retry) that moves the p99 without a log-normal's long tail.
    slow_share: float = 0.0
    slow_ms: float = 420.0


def _bucket_probabilities(behaviour: Behaviour) -> list[float]:
    sigma = (math.log(behaviour.p99_ms) - math.log(behaviour.p50_ms)) / 2.3263
    below = [float(ndtr(math.log(edge / behaviour.p50_ms) / sigma)) for edge in EDGES[:-1]]
    cumulative = [*below, 1.0]
    usual = 1.0 - behaviour.slow_share
    probabilities = [
        usual * (high - low) for low, high in zip([0.0, *cumulative[:-1]], cumulative, strict=True)
    ]
    probabilities[bisect_left(EDGES, behaviour.slow_ms)] += behaviour.slow_share
    return probabilities


def _sample(rng: np.random.Generator, behaviour: Behaviour, mean: float) -> dict[str, Sample]:
    if behaviour.missing:
        return {}
    requests = int(rng.poisson(mean))
    errors = int(rng.binomial(requests, behaviour.error_rate))
    counts = rng.multinomial(requests, _bucket_probabilities(behaviour))
    return {
        "errors": Sample(requests=float(requests), errors=float(errors)),
        "latency": Sample(
            requests=float(requests), histogram=Histogram(EDGES, tuple(map(float, counts)))
        ),
    }


def window(
    rng: np.random.Generator,
    weight: int,
    canary: Behaviour,
    stable: Behaviour,
    rps: float = 100.0,
    start_s: float = 0.0,
) -> tuple[Observation, ...]:
    """Twelve 5-second steps of a 60-second window at `weight` percent canary traffic."""
    share = weight / 100.0
    return tuple(
        Observation(
            start_s + 5.0 * step,
            5.0,
            _sample(rng, canary, rps * share * 5.0),
            _sample(rng, stable, rps * (1.0 - share) * 5.0),
        )
        for step in range(12)
    )
