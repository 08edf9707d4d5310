"""Hard bounds need confidence: a breach is never one noisy estimate at a tiny sample."""

from __future__ import annotations

import pytest

from airollout.core.analysis import bounds, types
from airollout.core.analysis.types import AnalysisSettings, Outcome

pytestmark = pytest.mark.unit

SETTINGS = AnalysisSettings(metrics=(), alpha=0.01, proceed_alpha=0.2)
BOUND = 0.005


def _after(*windows: tuple[float, float]) -> types.TestResult:
    state = bounds.start_rate()
    for requests, errors in windows:
        state = bounds.fold_rate(state, requests, (errors, errors), BOUND)
    return bounds.rate_result(state, BOUND, SETTINGS, "canary error rate")


def test_one_error_in_a_handful_of_requests_is_not_a_breach() -> None:
    result = _after((10.0, 1.0))  # a 10 % estimate, twenty times the bound
    assert result.outcome is Outcome.NOT_YET


def test_a_sustained_breach_fails_with_its_evidence_recorded() -> None:
    result = _after((1000.0, 30.0), (1000.0, 25.0))
    assert result.outcome is Outcome.FAIL
    assert result.evidence is not None
    assert result.evidence >= 1 / SETTINGS.alpha
    assert result.statistic == pytest.approx(55.0 / 2000.0)
    assert result.threshold == BOUND


def test_a_rate_well_under_the_bound_with_enough_requests_passes() -> None:
    assert _after((3000.0, 3.0)).outcome is Outcome.PASS


def test_a_clean_but_small_sample_is_not_yet_healthy() -> None:
    assert _after((100.0, 0.0)).outcome is Outcome.NOT_YET


def test_a_rate_just_under_the_bound_is_not_yet_healthy() -> None:
    assert _after((2000.0, 9.0)).outcome is Outcome.NOT_YET


def test_no_requests_is_no_data() -> None:
    assert _after((0.0, 0.0)).outcome is Outcome.NO_DATA


def test_gauge_fails_only_on_a_persistent_breach() -> None:
    spike = bounds.gauge_result([1.0, 9.0, 1.0, 1.0], None, 5.0, "queue depth")
    persistent = bounds.gauge_result([6.0, 7.0, 8.0, 1.0], None, 5.0, "queue depth")
    assert spike.outcome is Outcome.PASS
    assert persistent.outcome is Outcome.FAIL


def test_gauge_checks_a_lower_bound_too() -> None:
    result = bounds.gauge_result([0.1, 0.2, 0.1], 0.5, None, "ready ratio")
    assert result.outcome is Outcome.FAIL
    assert result.threshold == 0.5


def test_gauge_with_too_few_readings_is_not_yet_and_none_is_no_data() -> None:
    assert bounds.gauge_result([1.0], None, 5.0, "g").outcome is Outcome.NOT_YET
    assert bounds.gauge_result([], None, 5.0, "g").outcome is Outcome.NO_DATA


def test_a_breach_level_given_for_one_reading_replaces_alpha() -> None:
    state = bounds.fold_rate(bounds.start_rate(), 1000.0, (14.0, 14.0), BOUND)
    at_alpha = bounds.rate_result(state, BOUND, SETTINGS, "x")
    looser = bounds.rate_result(state, BOUND, SETTINGS, "x", breach_alpha=0.2)
    assert at_alpha.evidence == looser.evidence
    assert at_alpha.outcome is Outcome.NOT_YET
    assert looser.outcome is Outcome.FAIL
