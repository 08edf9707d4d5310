"""The Kayenta baseline classifies with a Mann-Whitney interval and scores like NetflixACAJudge."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airollout.core.judge.types import Action, DecisionContext
from airollout_tools.bench.baselines.kayenta_mwu import (
    Classification,
    KayentaMwuJudge,
    action_for_score,
    classify,
    score,
    shift_interval,
)
from airollout_tools.sim.scenario import parse_scenario
from airollout_tools.sim.simulator import analysis_settings

pytestmark = pytest.mark.unit

SETTINGS = analysis_settings(parse_scenario({"expect": "proceed"}, source="t", default_name="t"))
CONTEXT = DecisionContext("r", "ns", "rev", 0, 10, 1, 60.0)
VARIED = [0.001, 0.002, 0.0, 0.001, 0.003, 0.002, 0.001, 0.0]


def decide(window: Any, state: dict[str, Any] | None = None) -> tuple[Action, dict[str, Any]]:
    judge = KayentaMwuJudge()
    verdict, new_state = judge.decide(
        SETTINGS, state or judge.initial_state(SETTINGS), CONTEXT, window
    )
    return verdict.action, new_state


def test_interval_brackets_the_hodges_lehmann_estimate_of_a_known_shift() -> None:
    rng = np.random.default_rng(3)
    baseline = rng.normal(10, 1, 40).tolist()
    canary = (rng.normal(10, 1, 40) + 2).tolist()
    interval = shift_interval(canary, baseline, 0.98)
    assert interval.lower < interval.estimate < interval.upper
    assert interval.lower < 2 < interval.upper
    assert 1 < interval.estimate < 3


def test_identical_data_passes_and_missing_data_is_nodata() -> None:
    assert classify(VARIED, VARIED) is Classification.PASS
    assert classify([], VARIED) is Classification.NODATA
    assert classify(VARIED, []) is Classification.NODATA


def test_a_clear_increase_is_high_and_a_decrease_passes_for_direction_increase() -> None:
    higher = [value + 0.05 for value in VARIED]
    lower = [value / 10 for value in VARIED]
    assert classify(higher, VARIED) is Classification.HIGH
    assert classify(lower, VARIED) is Classification.PASS


def test_overlapping_noise_passes() -> None:
    rng = np.random.default_rng(5)
    assert classify(rng.normal(5, 1, 9).tolist(), rng.normal(5, 1, 9).tolist()) is (
        Classification.PASS
    )


def test_score_counts_passes_over_classified_and_zeroes_half_nodata() -> None:
    assert score([Classification.PASS, Classification.PASS]) == 100
    assert score([Classification.PASS, Classification.HIGH]) == 50
    assert score([Classification.PASS, Classification.NODATA]) == 0
    assert score([Classification.PASS] * 3 + [Classification.NODATA]) == 100


@pytest.mark.parametrize(
    ("value", "action"),
    [
        (100, Action.PROCEED),
        (95, Action.PROCEED),
        (80, Action.HOLD),
        (75, Action.HOLD),
        (74.9, Action.ROLLBACK),
    ],
)
def test_pass_95_and_marginal_75_map_to_proceed_hold_rollback(value: float, action: Action) -> None:
    assert action_for_score(value) is action


def test_one_failing_metric_of_two_rolls_back(window: Any) -> None:
    assert decide(window([0.05] * 8))[0] is Action.ROLLBACK
    assert decide(window([0.001] * 8))[0] is Action.PROCEED


def test_canary_without_metrics_scores_zero(window: Any) -> None:
    assert decide(window([None] * 8))[0] is Action.ROLLBACK


def test_a_baseline_without_traffic_is_replaced_by_the_last_one_seen(window: Any) -> None:
    _, state = decide(window([0.001] * 8))
    no_baseline = window([0.05] * 8, [None] * 8)
    assert decide(no_baseline, state)[0] is Action.ROLLBACK
    assert decide(no_baseline)[0] is Action.ROLLBACK  # no baseline ever: Nodata scores 0
    assert decide(window([0.001] * 8, [None] * 8), state)[0] is Action.PROCEED
