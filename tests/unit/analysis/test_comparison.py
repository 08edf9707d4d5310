"""Canary against stable: the rate-ratio comparison's outcomes and its bookkeeping."""

from __future__ import annotations

import math
from typing import Any

import pytest

from airollout.core.analysis import comparison
from airollout.core.analysis.types import AnalysisSettings, Outcome

pytestmark = pytest.mark.unit

SETTINGS = AnalysisSettings(metrics=(), alpha=0.01, tolerance=0.1, proceed_alpha=0.2)


def _after(*windows: tuple[tuple[float, float], tuple[float, float]]) -> dict[str, Any]:
    state = comparison.start()
    for canary, stable in windows:
        state = comparison.fold(state, SETTINGS.tolerance, canary, stable)
    return state


def test_canary_failing_three_times_as_often_is_worse() -> None:
    state = _after(*[((30.0, 1000.0), (90.0, 9000.0))] * 3)
    result = comparison.result(state, SETTINGS, "error rates")
    assert result.outcome is Outcome.FAIL
    assert result.statistic == pytest.approx(3.0)
    assert result.threshold == pytest.approx(1.1)


def test_canary_failing_far_less_often_is_not_worse() -> None:
    state = _after(*[((5.0, 5000.0), (100.0, 5000.0))] * 2)
    assert comparison.result(state, SETTINGS, "error rates").outcome is Outcome.PASS


def test_equal_rates_on_few_events_are_not_yet_decided() -> None:
    state = _after(((1.0, 1000.0), (9.0, 9000.0)))
    assert comparison.result(state, SETTINGS, "error rates").outcome is Outcome.NOT_YET


def test_a_window_where_stable_served_nothing_changes_nothing() -> None:
    before = _after(((3.0, 1000.0), (9.0, 9000.0)))
    after = comparison.fold(before, SETTINGS.tolerance, (50.0, 1000.0), (0.0, 0.0))
    assert after == before


def test_nothing_compared_yet_is_no_data() -> None:
    assert comparison.result(comparison.start(), SETTINGS, "x").outcome is Outcome.NO_DATA


def test_estimated_ratio_handles_zero_stable_events() -> None:
    assert comparison.estimated_ratio(_after(((2.0, 10.0), (0.0, 10.0)))) == math.inf
    assert comparison.estimated_ratio(_after(((0.0, 10.0), (0.0, 10.0)))) is None
