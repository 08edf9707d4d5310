"""Prometheus query results to numbers: buckets, scalars, and every shape that is no data."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airollout.adapters.metrics.results import (
    ResultError,
    histogram_from_cumulative,
    histogram_value,
    scalar_value,
)
from airollout.core.analysis.types import Histogram

pytestmark = pytest.mark.unit

INF = math.inf


def _vector(*values: tuple[dict[str, str], str]) -> list[dict[str, Any]]:
    return [{"metric": labels, "value": [1700000000.0, text]} for labels, text in values]


def _buckets(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return _vector(*(({"le": le}, count) for le, count in pairs))


def test_cumulative_buckets_become_per_bucket_counts() -> None:
    histogram = histogram_from_cumulative([(0.1, 5.0), (0.5, 8.0), (1.0, 9.0), (INF, 10.0)])
    assert histogram == Histogram(edges=(0.1, 0.5, 1.0, INF), counts=(5.0, 3.0, 1.0, 1.0))


def test_buckets_in_any_order_are_sorted_by_edge() -> None:
    histogram = histogram_from_cumulative([(INF, 10.0), (0.5, 8.0), (0.1, 5.0)])
    assert histogram.edges == (0.1, 0.5, INF)
    assert histogram.counts == (5.0, 3.0, 2.0)


def test_without_the_inf_bucket_there_is_no_histogram() -> None:
    with pytest.raises(ResultError, match=r"\+Inf"):
        histogram_from_cumulative([(0.1, 5.0), (0.5, 8.0)])


def test_no_buckets_at_all_is_no_histogram() -> None:
    with pytest.raises(ResultError, match=r"\+Inf"):
        histogram_from_cumulative([])


def test_a_cumulative_dip_from_extrapolation_gives_no_negative_bucket() -> None:
    histogram = histogram_from_cumulative([(0.1, 5.0), (0.5, 4.999), (INF, 6.0)])
    assert histogram.counts == (5.0, 0.0, 1.0)


def test_series_sharing_an_edge_are_added_as_sum_by_le_would() -> None:
    histogram = histogram_from_cumulative([(0.1, 1.0), (INF, 2.0), (0.1, 3.0), (INF, 4.0)])
    assert histogram == Histogram(edges=(0.1, INF), counts=(4.0, 2.0))


@settings(max_examples=50)
@given(
    st.lists(
        st.tuples(st.floats(0.001, 100.0), st.integers(0, 1000)),
        min_size=1,
        max_size=12,
        unique_by=lambda pair: pair[0],
    )
)
def test_the_per_bucket_counts_add_up_to_the_inf_count(pairs: list[tuple[float, int]]) -> None:
    # Cumulative counts grow with the edge, as Prometheus's buckets do.
    ordered = sorted(pairs)
    running, cumulative = 0.0, []
    for edge, increment in ordered:
        running += increment
        cumulative.append((edge, running))
    total = running + 7.0
    histogram = histogram_from_cumulative([*reversed(cumulative), (INF, total)])
    assert sum(histogram.counts) == pytest.approx(total)
    assert all(count >= 0 for count in histogram.counts)
    assert list(histogram.edges) == sorted(histogram.edges)


def test_a_bucket_vector_from_prometheus_becomes_a_histogram() -> None:
    result = _buckets(("+Inf", "12"), ("0.25", "10"), ("0.1", "4"))
    assert histogram_value(result) == Histogram(edges=(0.1, 0.25, INF), counts=(4.0, 6.0, 2.0))


def test_a_series_without_le_is_not_a_bucket() -> None:
    with pytest.raises(ResultError, match="`le`"):
        histogram_value(_vector(({"deployment": "x"}, "3")))


def test_an_empty_bucket_vector_is_empty() -> None:
    with pytest.raises(ResultError) as raised:
        histogram_value([])
    assert raised.value.empty


def test_a_nan_bucket_is_no_histogram() -> None:
    with pytest.raises(ResultError, match="NaN"):
        histogram_value(_buckets(("0.1", "NaN"), ("+Inf", "3")))


def test_one_series_gives_its_value() -> None:
    assert scalar_value(_vector(({}, "41.5"))) == 41.5


def test_a_prometheus_scalar_gives_its_value() -> None:
    assert scalar_value([1700000000.5, "3"]) == 3.0


def test_an_empty_vector_is_marked_empty() -> None:
    with pytest.raises(ResultError, match="no series") as raised:
        scalar_value([])
    assert raised.value.empty


@pytest.mark.parametrize(
    ("text", "cause"), [("NaN", "NaN"), ("+Inf", "infinite"), ("-Inf", "infinite")]
)
def test_a_value_that_is_not_finite_is_no_data(text: str, cause: str) -> None:
    with pytest.raises(ResultError, match=cause) as raised:
        scalar_value(_vector(({}, text)))
    assert not raised.value.empty


def test_several_series_ask_the_user_to_aggregate() -> None:
    result = _vector(({"pod": "a"}, "1"), ({"pod": "b"}, "2"))
    with pytest.raises(ResultError, match=r"2 series.*sum\(\)"):
        scalar_value(result)


def test_a_range_vector_asks_for_a_function_over_it() -> None:
    result = [{"metric": {}, "values": [[1.0, "1"], [2.0, "2"]]}]
    with pytest.raises(ResultError, match="range vector"):
        scalar_value(result)


@pytest.mark.parametrize("result", [None, "text", [1.0, 2.0, 3.0], {"metric": {}}])
def test_a_result_of_an_unexpected_shape_is_an_error_not_a_crash(result: Any) -> None:
    with pytest.raises(ResultError):
        scalar_value(result)
