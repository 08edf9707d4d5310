"""Reading latency histograms: bucket edges near a bound, counts above an edge, quantiles.

The q-quantile exceeds B exactly when more than (1 - q) of requests are slower than B, so a
quantile bound becomes a count question on whole buckets; no interpolation enters a test.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from airollout.core.analysis.types import Histogram


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
    return _sum_from(histogram.counts, bisect_right(histogram.edges, edge))


def slow_counts(histogram: Histogram, bound: float) -> tuple[float, float]:
    """(requests slower than the edge at or above `bound`, slower than the edge at or below it).

    With no finite edge above, a breach cannot be shown (0 counted); with none below, health
    cannot (every request counted as slow). Same sums as `count_above` at those two edges,
    found from the bisection indices directly.
    """
    edges, counts = histogram.edges, histogram.counts
    above = bisect_left(edges, bound)
    has_edge_above = above < len(edges) and math.isfinite(edges[above])
    breach_events = _sum_from(counts, above + 1) if has_edge_above else 0.0
    return breach_events, _sum_from(counts, bisect_right(edges, bound))


def _sum_from(counts: tuple[float, ...], start: int) -> float:
    # A loop rather than sum(counts[start:]): no slice is built, and a compiled build keeps
    # the running total a plain double.
    total = 0.0
    for index in range(start, len(counts)):
        total += counts[index]
    return total


def quantile(histogram: Histogram, q: float) -> float | None:
    """The q-quantile, interpolated inside its bucket the way Prometheus does; for display.

    The rank is counted over non-empty buckets only, and a bucket with a negative count (a
    counter reset seen mid-window) never holds it.
    """
    counts, edges = histogram.counts, histogram.edges
    total = 0.0
    for count in counts:
        total += count
    if total <= 0.0:
        return None
    rank = q * total
    before = 0.0
    for index, count in enumerate(counts):
        reached = before + count
        if count > 0.0 and reached >= rank:
            lower = edges[index - 1] if index > 0 else 0.0
            if not math.isfinite(edges[index]):
                return lower
            return lower + (edges[index] - lower) * (rank - before) / count
        before = reached
    return edges[-2] if len(edges) > 1 else None
