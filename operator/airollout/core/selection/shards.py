"""Shards balanced by recorded durations: longest processing time first, onto the least
loaded shard, which is within 4/3 of the best balance and is what CI runners need."""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence


def shard_count(total_seconds: float, tests: int, target_seconds: float, max_parallel: int) -> int:
    """Enough shards to finish near the target wall time, never more than the parallelism
    allows or than there are tests to share."""
    if tests == 0:
        return 0
    wanted = math.ceil(total_seconds / target_seconds) if target_seconds > 0 else max_parallel
    return max(1, min(wanted, max_parallel, tests))


def balance(order: Sequence[str], seconds: Mapping[str, float], count: int) -> list[list[str]]:
    """`count` shards of the tests; each shard keeps the order of `order` (likeliest to
    fail first), so a failing shard fails early."""
    if count <= 0:
        return []
    loads = [(0.0, shard) for shard in range(count)]
    chosen: dict[str, int] = {}
    for test in sorted(order, key=lambda test: (-seconds[test], test)):
        load, shard = heapq.heappop(loads)
        chosen[test] = shard
        heapq.heappush(loads, (load + seconds[test], shard))
    shards: list[list[str]] = [[] for _ in range(count)]
    for test in order:
        shards[chosen[test]].append(test)
    return shards
