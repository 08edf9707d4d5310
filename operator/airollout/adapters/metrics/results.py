"""Turning Prometheus instant-query results into the numbers analysis reads.

The input is the `data.result` of `/api/v1/query` as JSON gives it: for a vector a list of
`{"metric": {...}, "value": [time, "text"]}`, for a scalar `[time, "text"]`. Anything else,
or a value analysis could mistake for data (NaN, infinity, several series), is a
`ResultError` whose text completes the sentence "the query ...".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from airollout.core.analysis.types import Histogram


class ResultError(ValueError):
    """Why a result holds no usable value; `empty` when Prometheus found no series at all."""

    def __init__(self, cause: str, empty: bool = False) -> None:
        super().__init__(cause)
        self.empty = empty


def _is_scalar(result: Any) -> bool:
    return (
        isinstance(result, list)
        and len(result) == 2
        and isinstance(result[0], int | float)
        and isinstance(result[1], str)
    )


def _series(result: Any) -> list[dict[str, Any]]:
    if not isinstance(result, list) or not all(isinstance(item, dict) for item in result):
        raise ResultError("returned a result that is neither a vector nor a scalar")
    if not result:
        raise ResultError("returned no series (no data)", empty=True)
    if any("value" not in series for series in result):
        raise ResultError(
            "returned a range vector; wrap it in increase(), rate() or an *_over_time() function"
        )
    return result


def _number(text: Any) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ResultError(f"returned {text!r}, which is not a number") from None
    if math.isnan(value):
        raise ResultError("returned NaN (often a division by zero: no traffic)")
    if math.isinf(value):
        raise ResultError("returned an infinite value")
    return value


def scalar_value(result: Any) -> float:
    """The one finite number in `result`: a scalar, or a vector of exactly one series."""
    if _is_scalar(result):
        return _number(result[1])
    series = _series(result)
    if len(series) > 1:
        raise ResultError(
            f"returned {len(series)} series where one was expected;"
            " aggregate them, for example with sum()"
        )
    return _number(series[0]["value"][1])


def _bucket(series: dict[str, Any]) -> tuple[float, float]:
    labels = series.get("metric") or {}
    if "le" not in labels:
        raise ResultError(
            "returned a series without an `le` label; query the _bucket series, summed by (le)"
        )
    try:
        edge = float(labels["le"])
    except ValueError:
        raise ResultError(f"returned a bucket with le={labels['le']!r}") from None
    count = _number(series["value"][1])
    if count < 0:
        raise ResultError(f"returned a negative count {count} for bucket le={labels['le']}")
    return edge, count


def histogram_from_cumulative(buckets: Iterable[tuple[float, float]]) -> Histogram:
    """Per-bucket counts from Prometheus's cumulative (edge, count-at-or-below) pairs.

    Pairs may come in any order, and an edge may repeat (series the query did not sum by
    `le`): those are added up, as `sum by (le)` would. The +Inf bucket must be there, or
    requests above the last finite edge would vanish and the tail look faster than it is.
    Each bucket's increase() is extrapolated on its own, so a cumulative count can dip below
    the one before it by a rounding error; like histogram_quantile(), the running maximum
    is taken, so no bucket gets a negative count.
    """
    cumulative: defaultdict[float, float] = defaultdict(float)
    for edge, count in buckets:
        cumulative[edge] += count
    edges = sorted(cumulative)
    if not edges or edges[-1] != math.inf:
        raise ResultError('returned no +Inf bucket; keep le="+Inf" when summing by (le)')
    counts = []
    below = 0.0
    for edge in edges:
        at_or_below = max(below, cumulative[edge])
        counts.append(at_or_below - below)
        below = at_or_below
    return Histogram(edges=tuple(edges), counts=tuple(counts))


def histogram_value(result: Any) -> Histogram:
    """The histogram in a vector of cumulative bucket series, one per `le`."""
    return histogram_from_cumulative(_bucket(series) for series in _series(result))
