"""The Argo Rollouts baseline follows the AnalysisTemplate run semantics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from airollout.core.analysis.types import Observation
from airollout.core.judge.types import Action, DecisionContext
from airollout_tools.bench.baselines.argo_threshold import ArgoThresholdJudge
from airollout_tools.sim.scenario import parse_scenario
from airollout_tools.sim.simulator import analysis_settings

pytestmark = pytest.mark.unit

SETTINGS = analysis_settings(parse_scenario({"expect": "proceed"}, source="t", default_name="t"))
CONTEXT = DecisionContext("r", "ns", "rev", 0, 10, 1, 60.0)
HEALTHY = [0.001] * 8
FAILING = [0.02] * 8  # 2% errors against the 0.5% bound
NO_DATA: list[float | None] = [None] * 8


def replay(judge: ArgoThresholdJudge, windows: Sequence[Sequence[Observation]]) -> list[Action]:
    state: dict[str, Any] = judge.initial_state(SETTINGS)
    actions = []
    for window in windows:
        verdict, state = judge.decide(SETTINGS, state, CONTEXT, window)
        actions.append(verdict.action)
    return actions


def test_one_failed_measurement_with_failure_limit_zero_aborts(window: Any) -> None:
    assert replay(ArgoThresholdJudge(), [window(HEALTHY), window(FAILING)]) == [
        Action.PROCEED,
        Action.ROLLBACK,
    ]


def test_failure_limit_one_tolerates_one_failure_and_aborts_on_the_second(window: Any) -> None:
    judge = ArgoThresholdJudge(failure_limit=1)
    actions = replay(judge, [window(FAILING), window(HEALTHY), window(FAILING)])
    assert actions == [Action.PROCEED, Action.PROCEED, Action.ROLLBACK]


def test_latency_above_its_bound_fails_the_run(window: Any) -> None:
    assert replay(ArgoThresholdJudge(), [window(HEALTHY, canary_latency_ms=650)]) == [
        Action.ROLLBACK
    ]


def test_empty_results_are_errors_that_hold_until_the_fifth_in_a_row(window: Any) -> None:
    actions = replay(ArgoThresholdJudge(), [window(NO_DATA)] * 5)
    assert actions == [Action.HOLD] * 4 + [Action.ROLLBACK]


def test_a_successful_measurement_resets_the_consecutive_errors(window: Any) -> None:
    windows = [window(NO_DATA)] * 4 + [window(HEALTHY)] + [window(NO_DATA)] * 4
    assert Action.ROLLBACK not in replay(ArgoThresholdJudge(), windows)


def test_warmup_steps_are_not_measured(window: Any) -> None:
    early = window([0.5] * 3, first_start_s=0.0)  # 0, 5, 10 s: inside the 15 s warmup
    late = window(HEALTHY, first_start_s=15.0)
    assert replay(ArgoThresholdJudge(), [early + late]) == [Action.PROCEED]


def test_stable_breaching_the_bound_too_does_not_save_the_canary(window: Any) -> None:
    shared_outage = window(FAILING, FAILING)
    assert replay(ArgoThresholdJudge(), [shared_outage]) == [Action.ROLLBACK]
