"""Reading latency histograms: bucket edges near a bound, counts above an edge, quantiles.

The q-quantile exceeds B exactly when more than (1 - q) of requests are slower than B, so a
quantile bound becomes a count question on whole buckets; no interpolation enters a test.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate

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


def slow_counts(histogram: Histogram, bound: float) -> tuple[float, float]:
    """(requests slower than the edge at or above `bound`, slower than the edge at or below it).

    With no finite edge above, a breach cannot be shown (0 counted); with none below, health
    cannot (every request counted as slow). Same sums as `count_above` at those two edges,
    found from the bisection indices directly.
    """
    edges, counts = histogram.edges, histogram.counts
    above = bisect_left(edges, bound)
    has_edge_above = above < len(edges) and math.isfinite(edges[above])
    breach_events = sum(counts[above + 1 :]) if has_edge_above else 0.0
    return breach_events, sum(counts[bisect_right(edges, bound) :])


def quantile(histogram: Histogram, q: float) -> float | None:
    """The q-quantile, interpolated inside its bucket the way Prometheus does; for display."""
    counts, edges = histogram.counts, histogram.edges
    running = list(accumulate(counts))
    total = running[-1] if running else 0.0
    if total <= 0.0:
        return None
    rank = q * total
    index = _bucket_reaching(counts, running, rank)
    if index is None:
        return edges[-2] if len(edges) > 1 else None
    lower = edges[index - 1] if index > 0 else 0.0
    if not math.isfinite(edges[index]):
        return lower
    before = running[index - 1] if index > 0 else 0.0
    return lower + (edges[index] - lower) * (rank - before) / counts[index]


def _bucket_reaching(counts: Sequence[float], running: Sequence[float], rank: float) -> int | None:
    """The first non-empty bucket whose running total reaches `rank`; None when none does."""
    if rank > 0.0 and running[-1] < math.inf and min(counts) >= 0.0:
        # Running totals never fall here, so bisection finds the first one to reach the rank,
        # and a positive rank makes its bucket non-empty.
        index = bisect_left(running, rank)
        return index if index < len(counts) else None
    for index, (count, reached) in enumerate(zip(counts, running, strict=True)):
        if count > 0.0 and reached >= rank:
            return index
    return None
