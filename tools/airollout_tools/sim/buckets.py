"""Latency histogram bucket edges shared by the window simulator and the simulated workload.

Dense around the usual bounds (a p99 of a few hundred ms) so a quantile read from the buckets
lands close to the true one; a scenario's own bound is always an edge, so "above the bound"
is a count of whole buckets, never an interpolation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

DEFAULT_EDGES_MS: tuple[float, ...] = (
    5,
    10,
    25,
    50,
    75,
    100,
    150,
    200,
    250,
    300,
    350,
    400,
    450,
    500,
    550,
    600,
    700,
    800,
    1000,
    1500,
    2000,
    3000,
    5000,
    math.inf,
)


def bucket_edges(extra_edges_ms: Iterable[float] = ()) -> tuple[float, ...]:
    """The default edges plus extra ones (e.g. a scenario's latency bound), sorted, last +inf."""
    edges = set(DEFAULT_EDGES_MS)
    edges.update(edge for edge in extra_edges_ms if edge > 0 and math.isfinite(edge))
    return tuple(sorted(edges))
