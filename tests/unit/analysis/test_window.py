"""Summing a window: warmup left out, and missing or NaN samples count as no data."""

from __future__ import annotations

import math

import pytest

from airollout.core.analysis.types import Histogram, Observation, Sample, Version
from airollout.core.analysis.window import error_totals, gauge_values, latency_totals, usable

pytestmark = pytest.mark.unit

EDGES = (100.0, 500.0, math.inf)


def _step(start_s: float, canary: Sample, stable: Sample | None = None) -> Observation:
    return Observation(start_s, 5.0, {"m": canary}, {"m": stable or Sample()})


def test_observations_inside_the_warmup_are_left_out() -> None:
    window = [_step(0.0, Sample()), _step(10.0, Sample()), _step(15.0, Sample())]
    assert [o.start_s for o in usable(window, warmup_s=15.0)] == [15.0]


def test_error_totals_skip_missing_nan_and_impossible_steps() -> None:
    window = [
        _step(0, Sample(requests=100.0, errors=1.0)),
        _step(5, Sample(requests=None, errors=1.0)),
        _step(10, Sample(requests=100.0, errors=math.nan)),
        _step(15, Sample(requests=10.0, errors=20.0)),
        _step(20, Sample(requests=0.0, errors=0.0)),
        _step(25, Sample(requests=50.0, errors=2.0)),
    ]
    totals = error_totals(window, Version.CANARY, "m")
    assert (totals.steps, totals.requests, totals.errors) == (2, 150.0, 3.0)


def test_a_version_without_the_metric_has_no_error_data() -> None:
    window = [Observation(0.0, 5.0, {}, {"m": Sample(requests=10.0, errors=0.0)})]
    assert error_totals(window, Version.CANARY, "m").steps == 0
    assert error_totals(window, Version.STABLE, "m").requests == 10.0


def test_latency_totals_add_buckets_and_drop_only_the_nan_step() -> None:
    window = [
        _step(0, Sample(histogram=Histogram(EDGES, (5.0, 3.0, 1.0)))),
        _step(5, Sample(histogram=Histogram(EDGES, (math.nan, 1.0, 0.0)))),
        _step(10, Sample(histogram=Histogram(EDGES, (1.0, 1.0, 1.0)))),
    ]
    totals = latency_totals(window, Version.CANARY, "m")
    assert totals.histogram is not None
    assert totals.histogram.counts == (6.0, 4.0, 2.0)
    assert totals.requests == 12.0


def test_latency_steps_with_other_bucket_edges_are_left_out() -> None:
    window = [
        _step(0, Sample(histogram=Histogram(EDGES, (5.0, 3.0, 1.0)))),
        _step(5, Sample(histogram=Histogram((200.0, math.inf), (7.0, 7.0)))),
    ]
    assert latency_totals(window, Version.CANARY, "m").requests == 9.0


def test_empty_histograms_are_no_latency_data() -> None:
    window = [_step(0, Sample(histogram=Histogram(EDGES, (0.0, 0.0, 0.0))))]
    assert latency_totals(window, Version.CANARY, "m").histogram is None


def test_gauge_values_keep_only_finite_readings() -> None:
    window = [_step(0, Sample(value=1.0)), _step(5, Sample(value=math.nan)), _step(10, Sample())]
    assert gauge_values(window, Version.CANARY, "m") == [1.0]
