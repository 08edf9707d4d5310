"""Properties of the calibration scores over any forecasts: bounds and bin bookkeeping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airollout.core.feedback.scores import brier, expected_calibration_error, reliability

pytestmark = pytest.mark.unit

forecasts = st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=200).map(
    lambda pairs: ([p for p, _ in pairs], [e for _, e in pairs])
)


@given(forecasts)
def test_scores_stay_in_zero_to_one(forecast: tuple[list[float], list[bool]]) -> None:
    probabilities, events = forecast
    assert 0.0 <= brier(probabilities, events) <= 1.0
    assert 0.0 <= expected_calibration_error(probabilities, events) <= 1.0


@given(forecasts)
def test_every_forecast_lands_in_the_bin_that_holds_it(
    forecast: tuple[list[float], list[bool]],
) -> None:
    probabilities, events = forecast
    bins = reliability(probabilities, events)
    assert sum(b.count for b in bins) == len(probabilities)
    for b in bins:
        if b.mean_probability is not None:
            assert b.lower <= b.mean_probability <= b.upper


@given(forecasts)
def test_a_forecast_of_what_happened_scores_perfectly(
    forecast: tuple[list[float], list[bool]],
) -> None:
    _, events = forecast
    certain = [1.0 if e else 0.0 for e in events]
    assert brier(certain, events) == 0.0
    assert expected_calibration_error(certain, events) == 0.0
