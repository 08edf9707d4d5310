"""Idempotency keys: deterministic names for every action, built from where the rollout is.

The controller keeps no record of the keys it carried out. A step replayed after a crash
(invariant 5, docs/architecture.md#safety-invariants) emits the same actions under the same
keys: the Event or decision record a key names is written once, a router call is level-based
so repeating it changes nothing, and `status.awaiting` holds the key of the change still to
be confirmed, which each reconcile asks for again until the router says it is done.
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
