"""Idempotency keys: deterministic names for every action, built from where the rollout is.

The controller records the keys it has carried out, so an action replayed after a crash
(safety invariant 5) is recognised and skipped rather than applied twice.
"""

from __future__ import annotations


def generation_key(generation: int, purpose: str) -> str:
    return f"g{generation}-{purpose}"


def slice_key(generation: int, slice_index: int, purpose: str) -> str:
    return f"g{generation}-s{slice_index}-{purpose}"


def weight_key(generation: int, slice_index: int) -> str:
    return slice_key(generation, slice_index, "weight")


def window_key(generation: int, slice_index: int, window_seq: int) -> str:
    return slice_key(generation, slice_index, f"w{window_seq}")


PROMOTE = "promote"
ROLLBACK = "rollback"


def is_weight_key(key: str) -> bool:
    return key.endswith("-weight")


def is_promote_key(key: str) -> bool:
    return key.endswith(f"-{PROMOTE}")


def is_rollback_key(key: str) -> bool:
    return key.endswith(f"-{ROLLBACK}")
