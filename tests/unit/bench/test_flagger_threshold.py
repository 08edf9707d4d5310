"""The Flagger baseline halts on failed checks and rolls back at the threshold."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.bench.baselines.flagger_threshold import FlaggerThresholdJudge
from airollout.judge.types import Action, DecisionContext
from airollout.sim.scenario import parse_scenario
from airollout.sim.simulator import analysis_settings

pytestmark = pytest.mark.unit

SETTINGS = analysis_settings(parse_scenario({"expect": "proceed"}, source="t", default_name="t"))
CONTEXT = DecisionContext("r", "ns", "rev", 0, 10, 1, 60.0)


def replay(judge: FlaggerThresholdJudge, windows: list[Any]) -> list[Action]:
    state = judge.initial_state(SETTINGS)
    actions = []
    for observations in windows:
        verdict, state = judge.decide(SETTINGS, state, CONTEXT, observations)
        actions.append(verdict.action)
    return actions


def test_healthy_checks_advance(window: Any) -> None:
    assert replay(FlaggerThresholdJudge(), [window([0.001] * 8)]) == [Action.PROCEED]


def test_failed_checks_halt_until_the_threshold_then_roll_back(window: Any) -> None:
    actions = replay(FlaggerThresholdJudge(threshold=3), [window([0.02] * 8)] * 3)
    assert actions == [Action.HOLD, Action.HOLD, Action.ROLLBACK]


def test_no_values_found_counts_as_a_failed_check(window: Any) -> None:
    actions = replay(FlaggerThresholdJudge(threshold=2), [window([None] * 8)] * 2)
    assert actions == [Action.HOLD, Action.ROLLBACK]


def test_failed_checks_accumulate_across_passing_intervals(window: Any) -> None:
    bad, good = window([0.02] * 8), window([0.001] * 8)
    actions = replay(FlaggerThresholdJudge(threshold=2), [bad, good, bad])
    assert actions == [Action.HOLD, Action.PROCEED, Action.ROLLBACK]


def test_two_failing_metrics_in_one_interval_count_once(window: Any) -> None:
    both_bad = window([0.02] * 8, canary_latency_ms=900)
    actions = replay(FlaggerThresholdJudge(threshold=2), [both_bad])
    assert actions == [Action.HOLD]


def test_default_threshold_is_the_tutorials_five(window: Any) -> None:
    actions = replay(FlaggerThresholdJudge(), [window([0.02] * 8)] * 5)
    assert actions == [Action.HOLD] * 4 + [Action.ROLLBACK]
