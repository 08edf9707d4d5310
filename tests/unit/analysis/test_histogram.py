"""Histogram reading: which edge stands for a bound, and what is slower than it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airollout.core.analysis.histogram import (
    count_above,
    edge_at_or_above,
    edge_at_or_below,
    quantile,
    slow_counts,
)
from airollout.core.analysis.types import Histogram

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


def test_slow_counts_count_beyond_the_edges_on_either_side_of_a_bound() -> None:
    histogram = Histogram(EDGES, (10.0, 20.0, 30.0, 4.0, 2.0, 1.0))
    assert slow_counts(histogram, 480.0) == (3.0, 7.0)
    assert slow_counts(histogram, 500.0) == (3.0, 3.0)


def test_slow_counts_without_edges_around_the_bound_cannot_show_breach_or_health() -> None:
    histogram = Histogram(EDGES, (10.0, 20.0, 30.0, 4.0, 2.0, 1.0))
    assert slow_counts(histogram, 900.0) == (0.0, 1.0)
    assert slow_counts(histogram, 50.0) == (57.0, 67.0)


def _scanned_quantile(edges: tuple[float, ...], counts: tuple[float, ...], q: float) -> float:
    """Reference: walk the buckets from the fastest until the rank is reached."""
    rank, seen = q * sum(counts), 0.0
    for index, count in enumerate(counts):
        if count > 0.0 and seen + count >= rank:
            lower = edges[index - 1] if index > 0 else 0.0
            if math.isinf(edges[index]):
                return lower
            return lower + (edges[index] - lower) * (rank - seen) / count
        seen += count
    raise AssertionError("rank never reached")


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(0, 50).map(float), min_size=6, max_size=6).filter(any),
    q=st.floats(0.01, 0.99),
)
def test_quantile_matches_a_bucket_by_bucket_walk(counts: list[float], q: float) -> None:
    assert quantile(Histogram(EDGES, tuple(counts)), q) == _scanned_quantile(
        EDGES, tuple(counts), q
    )


def test_quantile_with_a_negative_bucket_still_takes_the_first_bucket_reaching_the_rank() -> None:
    # Running totals fall at the negative bucket: bisecting them would land in bucket 4.
    counts = (4.0, 1.0, -3.0, 1.0, 97.0, 0.0)
    assert quantile(Histogram(EDGES, counts), 0.045) == 150.0  # halfway through (100, 200]
