"""The window simulator follows the scenario model and is deterministic per seed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from airollout.core.analysis.types import AnalysisSettings, Observation, Sample
from airollout.core.judge.types import Action, DecisionContext, Verdict
from airollout_tools.sim.model import SliceStart
from airollout_tools.sim.scenario import Scenario, parse_scenario
from airollout_tools.sim.simulator import (
    ERROR_RATE_METRIC,
    LATENCY_METRIC,
    analysis_settings,
    run_scenario,
    simulate_window,
)

pytestmark = pytest.mark.unit


def scenario(**fields: Any) -> Scenario:
    document = {"expect": "proceed", **fields}
    return parse_scenario(document, source="test.yaml", default_name="test")


@dataclass
class ScriptedJudge:
    """Answers from a script (the last answer repeats) and records what it was shown."""

    answers: Sequence[Action] = (Action.PROCEED,)
    name: str = "scripted"
    seen: list[tuple[DecisionContext, tuple[Observation, ...]]] = field(default_factory=list)

    def initial_state(self, settings: AnalysisSettings) -> dict[str, Any]:
        return {"calls": 0}

    def decide(
        self,
        settings: AnalysisSettings,
        state: Mapping[str, Any],
        context: DecisionContext,
        window: Sequence[Observation],
    ) -> tuple[Verdict, dict[str, Any]]:
        self.seen.append((context, tuple(window)))
        calls = int(state["calls"])
        action = self.answers[min(calls, len(self.answers) - 1)]
        return Verdict(action, "scripted", (), ()), {"calls": calls + 1}


def one_long_window(sc: Scenario, weight: int = 10) -> tuple[Observation, ...]:
    return simulate_window(sc, [SliceStart(0.0, weight)], 1, 0.0).observations


def test_same_seed_gives_identical_observations_and_another_seed_does_not() -> None:
    first = run_scenario(scenario(seed=7), recorder := ScriptedJudge())
    second = run_scenario(scenario(seed=7), again := ScriptedJudge())
    other = run_scenario(scenario(seed=8), different := ScriptedJudge())
    assert recorder.seen == again.seen
    assert replace(first, judge_wall_s=0) == replace(second, judge_wall_s=0)
    assert recorder.seen != different.seen
    assert other.outcome is Action.PROCEED


def test_request_counts_are_poisson_with_the_model_mean() -> None:
    sc = scenario(rps=100, window_s=6000, step_s=5)
    steps = one_long_window(sc, weight=10)
    canary = [obs.canary[ERROR_RATE_METRIC].requests or 0.0 for obs in steps]
    stable = [obs.stable[ERROR_RATE_METRIC].requests or 0.0 for obs in steps]
    assert len(steps) == 1200
    mean_canary = sum(canary) / len(canary)
    variance = sum((count - mean_canary) ** 2 for count in canary) / (len(canary) - 1)
    # Mean 100 x 10% x 5 s = 50 per step; Poisson, so the variance matches the mean.
    assert abs(mean_canary - 50) < 4 * math.sqrt(50 / 1200)
    assert 40 < variance < 60
    assert abs(sum(stable) / len(stable) - 450) < 4 * math.sqrt(450 / 1200)


def test_error_fraction_follows_the_error_rate() -> None:
    sc = scenario(canary={"error_rate": 0.05}, rps=100, window_s=6000)
    steps = one_long_window(sc, weight=10)
    requests = sum(obs.canary[ERROR_RATE_METRIC].requests or 0.0 for obs in steps)
    errors = sum(obs.canary[ERROR_RATE_METRIC].errors or 0.0 for obs in steps)
    assert abs(errors / requests - 0.05) < 4 * math.sqrt(0.05 * 0.95 / requests)


def test_latency_buckets_follow_the_log_normal_median_and_p99() -> None:
    sc = scenario(canary={"latency_p50_ms": 100, "latency_p99_ms": 500}, window_s=6000)
    steps = one_long_window(sc, weight=50)
    histograms = [obs.canary[LATENCY_METRIC].histogram for obs in steps]
    assert all(h is not None for h in histograms)
    edges = histograms[0].edges if histograms[0] else ()
    totals = [sum(h.counts[i] for h in histograms if h) for i in range(len(edges))]
    n = sum(totals)
    up_to_median = sum(totals[: edges.index(100) + 1]) / n
    above_p99 = sum(totals[edges.index(500) + 1 :]) / n
    assert abs(up_to_median - 0.5) < 4 * math.sqrt(0.25 / n)
    assert abs(above_p99 - 0.01) < 4 * math.sqrt(0.0099 / n)
    assert n == sum(obs.canary[LATENCY_METRIC].requests or 0.0 for obs in steps)


def test_a_bound_between_default_edges_becomes_a_bucket_edge() -> None:
    sc = scenario(bounds={"latency_p99_ms": 475})
    histogram = one_long_window(sc)[0].canary[LATENCY_METRIC].histogram
    assert histogram is not None
    assert 475 in histogram.edges
    assert histogram.edges[-1] == math.inf


def test_missing_metrics_become_empty_samples_while_the_other_version_reports() -> None:
    sc = scenario(events=[{"version": "canary", "from_s": 0, "missing": True}])
    for obs in one_long_window(sc):
        assert obs.canary == {ERROR_RATE_METRIC: Sample(), LATENCY_METRIC: Sample()}
        assert (obs.stable[ERROR_RATE_METRIC].requests or 0) > 0


def test_from_weight_event_starts_when_the_canary_reaches_that_slice() -> None:
    sc = scenario(events=[{"version": "canary", "from_weight": 50, "set": {"error_rate": 1.0}}])
    judge = ScriptedJudge()
    run_scenario(sc, judge)
    by_weight = {context.weight: window for context, window in judge.seen}
    for weight, failing in [(10, False), (25, False), (50, True), (100, True)]:
        samples = [obs.canary[ERROR_RATE_METRIC] for obs in by_weight[weight]]
        all_failed = all(s.errors == s.requests for s in samples)
        assert all_failed is failing, weight


def test_observation_times_count_from_the_slice_traffic_change() -> None:
    judge = ScriptedJudge(answers=(Action.PROCEED, Action.HOLD, Action.PROCEED))
    run_scenario(scenario(window_s=60, step_s=5), judge)
    starts = [[obs.start_s for obs in window] for _, window in judge.seen]
    assert starts[0] == [5.0 * i for i in range(12)]
    assert starts[1] == starts[0]  # a new slice restarts the clock
    assert starts[2] == [60 + 5.0 * i for i in range(12)]  # the held slice's second window
    assert [context.window_index for context, _ in judge.seen][:3] == [1, 1, 2]


def test_holds_are_capped_at_three_windows_then_the_outcome_is_hold() -> None:
    judge = ScriptedJudge(answers=(Action.HOLD,))
    result = run_scenario(scenario(expect="hold"), judge)
    assert result.outcome is Action.HOLD
    assert result.right
    assert result.decisions == 3
    assert {context.slice_index for context, _ in judge.seen} == {0}
    assert result.end_s == 180


def test_rollback_ends_the_rollout_at_once_and_counts_harm_and_detection() -> None:
    sc = scenario(expect="rollback", canary={"error_rate": 1.0, "latency_p99_ms": 200})
    judge = ScriptedJudge(answers=(Action.PROCEED, Action.ROLLBACK))
    result = run_scenario(sc, judge)
    served = sum(
        obs.canary[ERROR_RATE_METRIC].requests or 0.0 for _, window in judge.seen for obs in window
    )
    assert result.outcome is Action.ROLLBACK
    assert result.decisions == 2
    assert result.harm == served > 0  # every canary request failed, all count as harm
    assert (result.fault_s, result.detect_s) == (0.0, 120.0)


def test_proceed_at_the_last_slice_promotes() -> None:
    result = run_scenario(scenario(), ScriptedJudge())
    assert result.outcome is Action.PROCEED
    assert [v.weight for v in result.verdicts] == [10, 25, 50, 100]
    assert result.fault_s is None
    assert result.detect_s is None


@pytest.mark.parametrize(
    ("slices", "continues"),
    [
        ((10, 25, 50, 100), [True, True, False, False]),
        ((5, 100), [False, False]),
        ((10, 50, 75, 100), [True, True, False, False]),
    ],
)
def test_the_judge_is_told_while_a_later_slice_still_compares_with_stable(
    slices: tuple[int, ...], continues: list[bool]
) -> None:
    judge = ScriptedJudge()
    run_scenario(scenario(slices=list(slices)), judge)

    # As in the operator: the proceed into 100 % (stable serves nothing) is the last
    # chance for a comparison that leans worse to settle.
    assert [context.comparison_continues for context, _ in judge.seen] == continues
    assert [context.promotes for context, _ in judge.seen][-1] is True


def test_first_fault_is_the_first_worsening_canary_event_reached() -> None:
    sc = scenario(
        expect="rollback",
        events=[
            {"version": "stable", "from_s": 10, "set": {"error_rate": 0.5}},
            {"version": "canary", "from_s": 100, "set": {"latency_p50_ms": 20}},
            {"version": "both", "from_s": 130, "ramp": {"latency_p99_ms": 10}},
        ],
    )
    result = run_scenario(sc, ScriptedJudge(answers=(Action.PROCEED,) * 3 + (Action.ROLLBACK,)))
    assert result.fault_s == 130
    assert result.detect_s == 240 - 130


def test_ramp_grows_per_minute_since_the_event_started() -> None:
    sc = scenario(
        events=[{"version": "canary", "from_s": 0, "ramp": {"error_rate": 0.6}}],
        window_s=100,
        step_s=100,
    )
    judge = ScriptedJudge(answers=(Action.PROCEED,))
    run_scenario(sc, judge)
    # Step midpoints at 50 s and 150 s: 0.001 + 0.6 x 50/60 ~ 0.5, then capped at 1.
    first = judge.seen[0][1][0].canary[ERROR_RATE_METRIC]
    second = judge.seen[1][1][0].canary[ERROR_RATE_METRIC]
    assert first.requests
    assert second.requests
    assert 0.35 < (first.errors or 0) / first.requests < 0.65
    assert second.errors == second.requests


def test_every_judge_gets_the_scenario_bounds_and_warmup() -> None:
    settings = analysis_settings(scenario(bounds={"error_rate": 0.02}, warmup_s=30))
    by_name = {check.name: check for check in settings.metrics}
    assert by_name[ERROR_RATE_METRIC].max == 0.02
    assert by_name[LATENCY_METRIC].max == 500
    assert by_name[LATENCY_METRIC].quantile == 0.99
    assert all(check.compare_baseline for check in settings.metrics)
    assert settings.warmup_s == 30
