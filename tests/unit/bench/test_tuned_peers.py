"""The fixed Kayenta interval and the tuned peers: relative conditions, traffic guard, lookback."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.core.judge.types import Action
from airollout_tools.bench.baselines.argo_tuned import ArgoTunedJudge
from airollout_tools.bench.baselines.flagger_tuned import FlaggerTunedJudge
from airollout_tools.bench.baselines.kayenta_mwu import (
    Classification,
    KayentaMwuJudge,
    classify,
    shift_interval,
)
from airollout_tools.bench.baselines.kayenta_tuned import KayentaTunedJudge
from tests.unit.bench.peer_replay import replay

pytestmark = pytest.mark.unit


def test_kayenta_interval_with_few_points_is_the_data_range_not_unbounded() -> None:
    canary, baseline = [0.05, 0.06, 0.07, 0.08], [0.001, 0.002, 0.001, 0.002]
    interval = shift_interval(canary, baseline, 0.98)
    assert (interval.lower, interval.upper) == pytest.approx((0.048, 0.079))
    # Before the fix the interval was (-inf, inf) here, so 4 points could never be High.
    assert classify(canary, baseline) is Classification.HIGH


def test_kayenta_rolls_back_a_clear_regression_seen_in_four_steps(window: Any) -> None:
    four_steps = window([0.05, 0.06, 0.07, 0.08], [0.001, 0.002, 0.001, 0.002])
    assert replay(KayentaMwuJudge(), [four_steps]) == [Action.ROLLBACK]


def test_argo_tuned_fails_a_canary_worse_than_stable_though_within_the_bound(window: Any) -> None:
    # 0.4 % is under the 0.5 % bound but above 2 x stable's 0.1 % + 0.1 %: failureLimit 1.
    worse = window([0.004] * 8, [0.001] * 8)
    assert replay(ArgoTunedJudge(), [worse, worse]) == [Action.PROCEED, Action.ROLLBACK]


def test_argo_tuned_guards_low_traffic_as_an_error_that_waits(window: Any) -> None:
    few = window([0.1] * 8, requests=10.0)  # 80 canary requests: the guarded query is empty
    assert replay(ArgoTunedJudge(), [few] * 3) == [Action.HOLD] * 3


def test_argo_tuned_pauses_when_the_canary_breaks_the_bound_only_as_stable_does(
    window: Any,
) -> None:
    outage, healthy = window([0.05] * 8, [0.05] * 8), window([0.001] * 8)
    # Inconclusive: the run ends and the rollout waits for a person, even once healthy again.
    assert replay(ArgoTunedJudge(), [outage, healthy]) == [Action.HOLD, Action.HOLD]


def test_flagger_tuned_ratio_halts_then_rolls_back_at_two_failed_checks(window: Any) -> None:
    # 0.45 % passes the bound, but is over 2 x the primary's floored 0.2 %.
    worse = window([0.0045] * 8, [0.0005] * 8, requests=10_000.0)
    fine = window([0.001] * 8)
    assert replay(FlaggerTunedJudge(), [worse, fine, worse]) == [
        Action.HOLD,
        Action.PROCEED,
        Action.ROLLBACK,
    ]


def test_flagger_tuned_passes_a_canary_no_worse_than_its_primary(window: Any) -> None:
    assert replay(FlaggerTunedJudge(), [window([0.002] * 8, [0.002] * 8)]) == [Action.PROCEED]


def test_kayenta_tuned_lookback_sees_a_shift_one_window_cannot_show(window: Any) -> None:
    # Two series 1..8 (per mille) apart by 3: 8 points per side leave the interval's lower
    # end below 0 (Pass); with the previous window as well, 16 points put it above the band.
    shifted = window([(k + 3) / 1000 for k in range(1, 9)], [k / 1000 for k in range(1, 9)])
    assert replay(KayentaMwuJudge(), [shifted, shifted]) == [Action.PROCEED, Action.PROCEED]
    assert replay(KayentaTunedJudge(), [shifted, shifted]) == [Action.PROCEED, Action.ROLLBACK]
