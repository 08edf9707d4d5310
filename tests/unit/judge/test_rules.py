"""The rules-and-statistics judge: its decisions, its record, and its safety invariants."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from airollout.core.analysis.types import (
    Histogram,
    MetricResult,
    Observation,
    Outcome,
    Sample,
    TestResult,
)
from airollout.core.judge.rules import RulesJudge, metric_finding
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout.core.resource.kinds import MetricKind
from tests.support.rules_traffic import EDGES, SETTINGS, Behaviour, window

pytestmark = pytest.mark.unit

JUDGE = RulesJudge()
HEALTHY = Behaviour()


def _context(slice_index: int, weight: int, window_index: int) -> DecisionContext:
    return DecisionContext("r", "ns", "v2", slice_index, weight, window_index, 0.0)


def _rollout(
    seed: int,
    canary: Behaviour,
    stable: Behaviour = HEALTHY,
    slices: Sequence[int] = (10, 25, 50, 100),
    rps: float = 100.0,
) -> list[Verdict]:
    """Replay a rollout: up to three windows per slice; every verdict given, in order."""
    rng = np.random.default_rng(seed)
    state: dict[str, Any] = JUDGE.initial_state(SETTINGS)
    verdicts = []
    for slice_index, weight in enumerate(slices):
        for window_index in range(1, 4):
            observations = window(
                rng, weight, canary, stable, rps=rps, start_s=60.0 * (window_index - 1)
            )
            context = _context(slice_index, weight, window_index)
            verdict, state = JUDGE.decide(SETTINGS, state, context, observations)
            verdicts.append(verdict)
            if verdict.action is not Action.HOLD:
                break
        if verdict.action is not Action.PROCEED:
            break
    return verdicts


def _final(verdicts: list[Verdict]) -> Action:
    return verdicts[-1].action


def test_the_judge_is_registered_under_the_benchmarks_name() -> None:
    assert JUDGE.name == "airollout"


def test_an_identical_canary_is_promoted_at_ample_traffic() -> None:
    assert _final(_rollout(1, HEALTHY, rps=400.0)) is Action.PROCEED


def test_identical_versions_never_roll_back_over_many_seeded_rollouts() -> None:
    finals = [_final(_rollout(seed, HEALTHY)) for seed in range(40)]
    assert Action.ROLLBACK not in finals


def test_a_canary_failing_six_percent_is_rolled_back_in_its_first_window() -> None:
    verdicts = _rollout(2, Behaviour(error_rate=0.06))
    assert [v.action for v in verdicts] == [Action.ROLLBACK]


def test_a_relative_error_regression_under_the_bound_is_caught_by_the_comparison() -> None:
    verdicts = _rollout(3, Behaviour(error_rate=0.004), rps=400.0)
    assert _final(verdicts) is Action.ROLLBACK
    errors = next(m for m in verdicts[-1].metrics if m.name == "errors")
    assert errors.comparison is not None
    assert errors.comparison.outcome is Outcome.FAIL


def test_a_p99_regression_is_rolled_back() -> None:
    assert _final(_rollout(4, Behaviour(p99_ms=650.0))) is Action.ROLLBACK


def test_a_p99_regression_that_stays_under_the_bound_is_rolled_back() -> None:
    # 2 % of canary requests take 420 ms: its p99 goes from 200 to about 420 ms, but no more
    # requests than stable's are slower than the 500 ms bound, so only stable's tail sees it.
    verdicts = _rollout(12, Behaviour(slow_share=0.02), rps=400.0)
    assert _final(verdicts) is Action.ROLLBACK
    latency = next(m for m in verdicts[-1].metrics if m.name == "latency")
    assert latency.bound is not None
    assert latency.bound.outcome is not Outcome.FAIL
    assert latency.comparison is not None
    assert latency.comparison.outcome is Outcome.FAIL


def test_a_breach_shared_with_stable_is_held_not_rolled_back() -> None:
    outage = Behaviour(error_rate=0.05)
    verdicts = _rollout(5, outage, stable=outage)
    assert [v.action for v in verdicts] == [Action.HOLD] * 3
    assert "shared" in verdicts[-1].reasoning


def test_a_canary_worse_than_a_breaching_stable_is_rolled_back() -> None:
    verdicts = _rollout(6, Behaviour(error_rate=0.2), stable=Behaviour(error_rate=0.02))
    assert _final(verdicts) is Action.ROLLBACK


def test_one_bad_request_in_a_tiny_sample_is_not_a_rollback() -> None:
    step = Observation(20.0, 40.0, {"errors": Sample(requests=3.0, errors=1.0)}, {})
    verdict, _ = JUDGE.decide(SETTINGS, JUDGE.initial_state(SETTINGS), _context(0, 10, 1), [step])
    assert verdict.action is Action.HOLD


def test_missing_canary_metrics_hold() -> None:
    assert [v.action for v in _rollout(7, Behaviour(missing=True))] == [Action.HOLD] * 3


def test_nan_and_none_samples_hold() -> None:
    nan = {"errors": Sample(requests=math.nan, errors=math.nan), "latency": Sample()}
    steps = [Observation(20.0 + 5 * i, 5.0, nan, nan) for i in range(9)]
    verdict, _ = JUDGE.decide(SETTINGS, JUDGE.initial_state(SETTINGS), _context(0, 10, 1), steps)
    assert verdict.action is Action.HOLD
    assert all(m.bound is not None and m.bound.outcome is Outcome.NO_DATA for m in verdict.metrics)


def test_a_fault_inside_the_warmup_is_ignored() -> None:
    rng = np.random.default_rng(8)
    blip = window(rng, 10, Behaviour(error_rate=0.5), HEALTHY, rps=1000.0)[:3]  # 0-10 s
    calm = window(rng, 10, HEALTHY, HEALTHY, rps=1000.0)[3:]
    verdict, _ = JUDGE.decide(
        SETTINGS, JUDGE.initial_state(SETTINGS), _context(0, 10, 1), blip + calm
    )
    assert verdict.action is Action.PROCEED


def test_too_little_traffic_is_a_hold_never_a_proceed() -> None:
    verdicts = _rollout(9, HEALTHY, rps=2.0)
    assert [v.action for v in verdicts] == [Action.HOLD] * 3


def test_the_record_carries_tests_evidence_and_a_paragraph_of_reasoning() -> None:
    verdict = _rollout(10, Behaviour(error_rate=0.06))[-1]
    errors = next(m for m in verdict.metrics if m.name == "errors")
    assert errors.bound is not None
    assert errors.bound.outcome is Outcome.FAIL
    assert errors.bound.evidence is not None
    assert errors.bound.threshold == 0.005
    assert errors.canary_n > 0
    assert verdict.reasoning.startswith("Rollback at 10%")
    assert "errors" in verdict.reasoning
    assert verdict.opinions[0].action is Action.ROLLBACK


def test_the_state_is_json_and_the_input_state_is_left_untouched() -> None:
    rng = np.random.default_rng(11)
    state = JUDGE.initial_state(SETTINGS)
    snapshot = json.dumps(state)
    _, new_state = JUDGE.decide(
        SETTINGS, state, _context(0, 10, 1), window(rng, 10, HEALTHY, HEALTHY)
    )
    assert json.dumps(state) == snapshot
    assert json.loads(json.dumps(new_state)) == new_state


def _errors_metric(comparison_evidence: float) -> MetricResult:
    passing = TestResult("bound-anytime", Outcome.PASS, 0.003, 0.005, 0.2, "below")
    comparison = TestResult("msprt-rate-ratio", Outcome.NOT_YET, 2.5, 1.1, comparison_evidence, "?")
    return MetricResult(
        "errors", MetricKind.ERROR_RATE, 0.003, 0.001, 5e3, 5e4, passing, comparison
    )


def test_a_passing_bound_does_not_proceed_while_evidence_of_a_worse_canary_builds() -> None:
    assert metric_finding(_errors_metric(8.0)).action is Action.HOLD
    assert metric_finding(_errors_metric(1.5)).action is Action.PROCEED


def _latency_step(requests: float, slow: float) -> dict[str, Sample]:
    """One version's latency over a step, `slow` of its requests beyond the 500 ms bound."""
    counts = [0.0] * len(EDGES)
    counts[0], counts[EDGES.index(550.0)] = requests - slow, slow
    return {"latency": Sample(requests, histogram=Histogram(EDGES, tuple(counts)))}


def test_a_shared_breach_at_low_traffic_holds_when_the_canarys_few_requests_show_it_first() -> None:
    # Both versions are slow beyond the bound. Stable's 10 slow of 360 are a breach at the
    # shared-cause level (e-value between 1/proceed_alpha and 1/alpha); the canary's 5 of 40
    # pass 1/alpha. The canary is not shown worse, so this is a shared cause: hold.
    step = Observation(20.0, 40.0, _latency_step(40.0, 5.0), _latency_step(360.0, 10.0))
    verdict, _ = JUDGE.decide(SETTINGS, JUDGE.initial_state(SETTINGS), _context(0, 10, 1), [step])
    latency = next(m for m in verdict.metrics if m.name == "latency")
    assert latency.bound is not None
    assert latency.bound.outcome is Outcome.FAIL
    assert latency.stable_bound is not None
    assert latency.stable_bound.evidence is not None
    assert 1 / SETTINGS.proceed_alpha <= latency.stable_bound.evidence < 1 / SETTINGS.alpha
    assert verdict.action is Action.HOLD
    assert "shared" in verdict.reasoning


def test_a_canary_breach_is_rolled_back_while_stable_stays_under_the_bound() -> None:
    step = Observation(20.0, 40.0, _latency_step(40.0, 5.0), _latency_step(360.0, 1.0))
    verdict, _ = JUDGE.decide(SETTINGS, JUDGE.initial_state(SETTINGS), _context(0, 10, 1), [step])
    assert verdict.action is Action.ROLLBACK
