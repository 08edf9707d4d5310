"""Folding windows into the evidence state: JSON-safe, incremental, slice-aware."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from airollout.analysis.evaluate import evaluate_window, initial_state
from airollout.analysis.types import (
    AnalysisSettings,
    Histogram,
    MetricCheck,
    MetricKind,
    Observation,
    Outcome,
    Sample,
)

pytestmark = pytest.mark.unit

EDGES = (100.0, 200.0, 500.0, math.inf)
SETTINGS = AnalysisSettings(
    metrics=(
        MetricCheck("errors", MetricKind.ERROR_RATE, max=0.005),
        MetricCheck("latency", MetricKind.LATENCY, max=500.0, quantile=0.99),
    ),
    warmup_s=15.0,
)


def _version(requests: float, errors: float, slow: float) -> dict[str, Sample]:
    fast = requests - slow
    histogram = Histogram(EDGES, (fast * 0.6, fast * 0.4, 0.0, slow))
    return {
        "errors": Sample(requests=requests, errors=errors),
        "latency": Sample(requests=requests, histogram=histogram),
    }


def _window(
    canary: dict[str, Sample], stable: dict[str, Sample], start_s: float = 20.0, steps: int = 9
) -> list[Observation]:
    return [Observation(start_s + 5.0 * i, 5.0, canary, stable) for i in range(steps)]


HEALTHY = _window(_version(100.0, 0.0, 0.0), _version(900.0, 1.0, 1.0))


def _by_name(results: tuple[Any, ...]) -> dict[str, Any]:
    return {result.name: result for result in results}


def test_state_survives_a_json_round_trip_and_resumes_identically() -> None:
    _, state = evaluate_window(SETTINGS, initial_state(), 0, HEALTHY)
    restored = json.loads(json.dumps(state))
    assert restored == state
    assert evaluate_window(SETTINGS, restored, 0, HEALTHY) == evaluate_window(
        SETTINGS, state, 0, HEALTHY
    )


def test_the_given_state_is_never_mutated() -> None:
    _, state = evaluate_window(SETTINGS, initial_state(), 0, HEALTHY)
    before = copy.deepcopy(state)
    evaluate_window(SETTINGS, state, 1, HEALTHY)
    assert state == before


def test_bound_evidence_restarts_at_a_new_slice_while_the_comparison_keeps_accumulating() -> None:
    _, state = evaluate_window(SETTINGS, initial_state(), 0, HEALTHY)
    _, state = evaluate_window(SETTINGS, state, 0, HEALTHY)
    _, state = evaluate_window(SETTINGS, state, 1, HEALTHY)
    errors = state["metrics"]["errors"]
    assert errors["canary_bound"]["n"] == 900.0
    assert errors["compare"]["canary"][1] == 2700.0


def test_a_window_of_warmup_only_is_no_data() -> None:
    warmup = _window(_version(100.0, 0.0, 0.0), _version(900.0, 0.0, 0.0), start_s=0.0, steps=3)
    results = _by_name(evaluate_window(SETTINGS, initial_state(), 0, warmup)[0])
    assert results["errors"].bound.outcome is Outcome.NO_DATA
    assert results["latency"].comparison.outcome is Outcome.NO_DATA


def test_nan_canary_counts_are_no_data_even_when_stable_reports() -> None:
    nan = {"errors": Sample(requests=math.nan, errors=0.0), "latency": Sample()}
    results = _by_name(
        evaluate_window(SETTINGS, initial_state(), 0, _window(nan, _version(900, 1, 1)))[0]
    )
    for name in ("errors", "latency"):
        assert results[name].bound.outcome is Outcome.NO_DATA
        assert results[name].comparison.outcome is Outcome.NO_DATA
        assert results[name].stable_bound.outcome is not Outcome.NO_DATA


def test_a_canary_tail_slower_than_stables_fails_the_latency_comparison() -> None:
    # 1.2 % of canary requests beyond 500 ms against 0.1 % of stable's: the p99 regressed.
    slow = _window(_version(100.0, 0.0, 1.2), _version(900.0, 1.0, 0.9))
    state = initial_state()
    for _ in range(2):
        results, state = evaluate_window(SETTINGS, state, 0, slow)
    latency = _by_name(results)["latency"]
    assert latency.comparison.outcome is Outcome.FAIL
    assert state["metrics"]["latency"]["edge"] == 500.0


def test_a_compare_only_latency_metric_compares_above_stables_own_quantile() -> None:
    settings = AnalysisSettings(metrics=(MetricCheck("latency", MetricKind.LATENCY),))
    _, state = evaluate_window(settings, initial_state(), 0, HEALTHY)
    assert state["metrics"]["latency"]["edge"] == 200.0
    assert state["metrics"]["latency"]["canary_bound"] is None


def test_gauges_are_bounded_without_a_comparison() -> None:
    settings = AnalysisSettings(metrics=(MetricCheck("queue", MetricKind.GAUGE, max=10.0),))
    high = _window({"queue": Sample(value=50.0)}, {"queue": Sample(value=1.0)})
    results, _ = evaluate_window(settings, initial_state(), 0, high)
    assert results[0].bound.outcome is Outcome.FAIL
    assert results[0].stable_bound.outcome is Outcome.PASS
    assert results[0].comparison is None
