"""The Flagger baseline halts on failed checks and rolls back at the threshold."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.core.judge.types import Action
from airollout_tools.bench.baselines.flagger_threshold import FlaggerThresholdJudge
from tests.unit.bench.peer_replay import replay

pytestmark = pytest.mark.unit


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


def test_default_threshold_is_the_codes_one_so_a_regression_can_roll_back(window: Any) -> None:
    # Flagger's GetAnalysisThreshold returns 1 when the field is left out; with the
    # tutorials' 5 a slice would end as hold after 3 failed windows, never rolling back.
    assert replay(FlaggerThresholdJudge(), [window([0.02] * 8)]) == [Action.ROLLBACK]
