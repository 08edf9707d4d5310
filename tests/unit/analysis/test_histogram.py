"""Histogram reading: which edge stands for a bound, and what is slower than it."""

from __future__ import annotations

import math

import pytest

from airollout.analysis.histogram import count_above, edge_at_or_above, edge_at_or_below, quantile
from airollout.analysis.types import Histogram

pytestmark = pytest.mark.unit

EDGES = (100.0, 200.0, 450.0, 500.0, 550.0, math.inf)


def test_a_bound_that_is_an_edge_is_its_own_edge_both_ways() -> None:
    assert edge_at_or_above(EDGES, 500.0) == 500.0
    assert edge_at_or_below(EDGES, 500.0) == 500.0


def test_a_bound_between_edges_uses_the_neighbour_on_the_safe_side_for_each_question() -> None:
    assert edge_at_or_above(EDGES, 480.0) == 500.0
    assert edge_at_or_below(EDGES, 480.0) == 450.0


def test_no_finite_edge_above_the_bound_means_no_breach_edge() -> None:
    assert edge_at_or_above(EDGES, 900.0) is None
    assert edge_at_or_below(EDGES, 50.0) is None


def test_count_above_an_edge_sums_only_the_buckets_beyond_it() -> None:
    histogram = Histogram(EDGES, (10.0, 20.0, 30.0, 4.0, 2.0, 1.0))
    assert count_above(histogram, 500.0) == 3.0
    assert count_above(histogram, 100.0) == 57.0


def test_quantile_interpolates_inside_its_bucket() -> None:
    histogram = Histogram((100.0, 200.0, math.inf), (50.0, 50.0, 0.0))
    assert quantile(histogram, 0.75) == pytest.approx(150.0)


def test_quantile_in_the_open_last_bucket_is_its_lower_edge() -> None:
    histogram = Histogram((100.0, 200.0, math.inf), (1.0, 1.0, 98.0))
    assert quantile(histogram, 0.99) == 200.0


def test_quantile_of_an_empty_histogram_is_none() -> None:
    assert quantile(Histogram(EDGES, (0.0,) * 6), 0.5) is None
