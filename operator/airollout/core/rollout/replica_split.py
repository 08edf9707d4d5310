"""How many pods each version gets so the canary's share of pods matches a slice's weight."""

from __future__ import annotations


def split_replicas(total: int, weight: int) -> tuple[int, int]:
    """Split `total` replicas into (stable, canary) for `weight` percent on the canary.

    The rules, in order:

    - weight 0 gives (total, 0) and weight 100 gives (0, total);
    - a Deployment scaled to zero stays at zero, (0, 0) at every weight: nothing serves, so
      there is nothing to split and no pod is started that its owner did not ask for;
    - otherwise the canary gets total * weight / 100 rounded to the nearest whole pod, a tie
      going to stable (the version known to be good): 25 % of 10 is 2, not 3;
    - above 0 % the canary has at least one pod and below 100 % stable keeps at least one, so
      every slice is observed on both versions: with 10 replicas, 1 % gives (9, 1) and 99 %
      gives (1, 9);
    - hence the pods add up to `total`, except with a single replica, where any weight
      strictly between 0 and 100 runs one pod of each: (1, 1), one pod more than asked for.
    """
    if total < 0:
        raise ValueError(f"replicas must not be negative, got {total}")
    if not 0 <= weight <= 100:
        raise ValueError(f"weight must be a percentage from 0 to 100, got {weight}")
    if weight == 0 or total == 0:
        return total, 0
    if weight == 100:
        return 0, total
    # Integer arithmetic: nearest whole pod with halves rounded down, no float error.
    nearest = (total * weight + 49) // 100
    canary = min(max(1, nearest), max(1, total - 1))
    return max(1, total - canary), canary
