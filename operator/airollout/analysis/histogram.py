"""Reading latency histograms: bucket edges near a bound, counts above an edge, quantiles.

The q-quantile exceeds B exactly when more than (1 - q) of requests are slower than B, so a
quantile bound becomes a count question on whole buckets; no interpolation enters a test.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from airollout.analysis.types import Histogram


def edge_at_or_above(edges: Sequence[float], bound: float) -> float | None:
    """The smallest finite edge >= bound: more than (1-q) slower than it proves p_q > bound."""
    index = bisect_left(edges, bound)
    if index >= len(edges) or not math.isfinite(edges[index]):
        return None
    return edges[index]


def edge_at_or_below(edges: Sequence[float], bound: float) -> float | None:
    """The largest edge <= bound: at most (1-q) slower than it proves p_q <= bound."""
    index = bisect_right(edges, bound) - 1
    return edges[index] if index >= 0 else None


def count_above(histogram: Histogram, edge: float) -> float:
    """Requests slower than `edge`, which must be one of the histogram's edges."""
    return sum(histogram.counts[bisect_right(histogram.edges, edge) :])


def quantile(histogram: Histogram, q: float) -> float | None:
    """The q-quantile, interpolated inside its bucket the way Prometheus does; for display."""
    total = sum(histogram.counts)
    if total <= 0.0:
        return None
    rank = q * total
    cumulative = 0.0
    for index, (edge, count) in enumerate(zip(histogram.edges, histogram.counts, strict=True)):
        if count > 0.0 and cumulative + count >= rank:
            lower = histogram.edges[index - 1] if index > 0 else 0.0
            if not math.isfinite(edge):
                return lower
            return lower + (edge - lower) * (rank - cumulative) / count
        cumulative += count
    return histogram.edges[-2] if len(histogram.edges) > 1 else None
