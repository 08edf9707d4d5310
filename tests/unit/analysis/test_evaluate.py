"""Folding windows into the evidence state: JSON-safe, incremental, slice-aware."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from airollout.core.analysis import comparison, sequential
from airollout.core.analysis.evaluate import evaluate_window, initial_state
from airollout.core.analysis.types import (
    AnalysisSettings,
    Histogram,
    MetricCheck,
    Observation,
    Outcome,
    Sample,
)
from airollout.core.resource.kinds import MetricKind

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


def test_a_gauge_with_compare_none_is_bounded_without_a_comparison() -> None:
    check = MetricCheck("queue", MetricKind.GAUGE, max=10.0, compare_baseline=False)
    settings = AnalysisSettings(metrics=(check,))
    high = _window({"queue": Sample(value=50.0)}, {"queue": Sample(value=1.0)})
    results, _ = evaluate_window(settings, initial_state(), 0, high)
    assert results[0].bound.outcome is Outcome.FAIL
    assert results[0].stable_bound.outcome is Outcome.PASS
    assert results[0].comparison is None


# Latency with stable's p99 at 200 ms and buckets fine enough to see a tail under the bound.
TAIL_EDGES = (100.0, 200.0, 250.0, 300.0, 400.0, 450.0, 500.0, math.inf)
LATENCY_ONLY = AnalysisSettings(
    metrics=(MetricCheck("latency", MetricKind.LATENCY, max=500.0, quantile=0.99),)
)


def _latency_window(canary: tuple[float, ...], stable: tuple[float, ...]) -> list[Observation]:
    def sample(counts: tuple[float, ...]) -> dict[str, Sample]:
        return {"latency": Sample(sum(counts), histogram=Histogram(TAIL_EDGES, counts))}

    return _window(sample(canary), sample(stable), steps=1)


# Stable: 1 % of requests slower than 200 ms, none slower than 250 ms, so its p99 is 200 ms.
STABLE_P99_200 = (5400.0, 3510.0, 90.0, 0.0, 0.0, 0.0, 0.0, 0.0)
# Canary: 2 % more at 400-450 ms, so its p99 is about 450 ms, still none slower than 500 ms.
CANARY_P99_450 = (600.0, 375.0, 5.0, 0.0, 0.0, 20.0, 0.0, 0.0)


def test_a_p99_regression_under_the_bound_fails_the_comparison_at_stables_tail() -> None:
    state = initial_state()
    slow = _latency_window(CANARY_P99_450, STABLE_P99_200)
    outcomes = []
    for _ in range(4):
        results, state = evaluate_window(LATENCY_ONLY, state, 0, slow)
        outcomes.append(results[0].comparison.outcome)
    latency = results[0]
    assert outcomes[-1] is Outcome.FAIL
    assert latency.bound.outcome is Outcome.PASS  # nothing slower than the bound's edge
    assert latency.comparison.test == comparison.MEAN_RATIO_TEST
    assert "slower than 500" in latency.comparison.message
    assert "slower than 200" in latency.comparison.message
    assert "mean e-value" in latency.comparison.message


def test_the_tail_edge_is_chosen_from_an_earlier_window_than_the_ones_it_tests() -> None:
    _, state = evaluate_window(
        LATENCY_ONLY, initial_state(), 0, _latency_window(CANARY_P99_450, STABLE_P99_200)
    )
    assert state["metrics"]["latency"]["tail_edge"] == 200.0
    assert state["metrics"]["latency"]["tail_compare"] is None  # window 1 chose, not tested
    # Stable's tail moves to 300 ms in window 2: the edge stays, window 2 is the first tested.
    slower_stable = (5400.0, 3420.0, 90.0, 90.0, 0.0, 0.0, 0.0, 0.0)
    _, state = evaluate_window(
        LATENCY_ONLY, state, 0, _latency_window(CANARY_P99_450, slower_stable)
    )
    assert state["metrics"]["latency"]["tail_edge"] == 200.0
    assert state["metrics"]["latency"]["tail_compare"]["canary"] == [25.0, 1000.0]
    assert state["metrics"]["latency"]["compare"]["canary"][1] == 2000.0


def test_the_comparison_evidence_is_the_mean_of_both_edges_e_values() -> None:
    state = initial_state()
    canary = (600.0, 386.0, 11.0, 1.0, 0.0, 0.0, 1.0, 1.0)
    window = _latency_window(canary, (5400.0, 3480.0, 100.0, 10.0, 0.0, 0.0, 5.0, 5.0))
    for _ in range(2):
        results, state = evaluate_window(LATENCY_ONLY, state, 0, window)
    metric = state["metrics"]["latency"]
    assert results[0].comparison.outcome is Outcome.NOT_YET
    parts = [sequential.evalue(metric[key]["worse"]) for key in ("compare", "tail_compare")]
    assert parts[0] != parts[1]
    assert results[0].comparison.evidence == pytest.approx(sum(parts) / 2)


def _identical_rollout(rng: np.random.Generator, settings: AnalysisSettings) -> bool:
    """Whether the latency comparison ever fails over 12 windows of two identical versions."""
    probabilities = (0.55, 0.43, 0.011, 0.005, 0.002, 0.001, 0.0005, 0.0005)
    state = initial_state()
    for index in range(12):
        share = (0.1, 0.25, 0.5)[index // 4]
        canary, stable = (
            tuple(map(float, rng.multinomial(rng.poisson(n), probabilities)))
            for n in (2000 * share, 2000 * (1 - share))
        )
        results, state = evaluate_window(
            settings, state, index // 4, _latency_window(canary, stable)
        )
        if results[0].comparison.outcome is Outcome.FAIL:
            return True
    return False


def test_identical_versions_keep_the_combined_comparisons_false_alarms_under_alpha() -> None:
    settings = replace(LATENCY_ONLY, alpha=0.05)
    rng = np.random.default_rng(41)
    runs = 300
    false_alarms = sum(_identical_rollout(rng, settings) for _ in range(runs))
    assert false_alarms <= settings.alpha * runs


def test_stables_breach_is_shown_at_the_shared_cause_level_and_the_canarys_at_alpha() -> None:
    # The same 1.4 % error rate over the same 1000 requests for both versions (bound 0.5 %):
    # an e-value between 1/proceed_alpha and 1/alpha, enough for stable only.
    same = {"errors": Sample(requests=1000.0, errors=14.0)}
    settings = AnalysisSettings(metrics=(SETTINGS.metrics[0],))
    results, _ = evaluate_window(settings, initial_state(), 0, _window(same, same, steps=1))
    canary, stable = results[0].bound, results[0].stable_bound
    assert canary.evidence == pytest.approx(stable.evidence)
    assert 1 / settings.proceed_alpha <= stable.evidence < 1 / settings.alpha
    assert canary.outcome is Outcome.NOT_YET
    assert stable.outcome is Outcome.FAIL
    assert f">= {1 / settings.proceed_alpha:.3g}" in stable.message
