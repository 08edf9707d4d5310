"""The object as our own last write left it, for ticks that kopf's watch has not caught up on.

kopf hands a tick the object as its watch last showed it. At hundreds of rollouts the watch
shows our own status write seconds late, and a tick in between would reconcile the past: it
judges the same window again (six queries and two pod lists), calls the router for a state
already left behind, and its status write loses (409). The write's answer is the object at
the version it made, so such a tick reconciles that instead.

Only a version we wrote over is replaced, never one we did not see: if someone else wrote
after us, kopf's view is not one of ours and is used as it is; if they wrote between our
write and the next tick, that tick's write carries our version and loses (409), as any
stale read does. Nothing is lost by forgetting: the next tick then uses kopf's view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Versions one rollout's chain of writes remembers as older than its newest write: a tick
# a second and a watch a few seconds late make a handful; more is a watch that is stuck.
VERSIONS_KEPT = 16


class OwnWrites:
    """Per rollout (uid): the object our newest write returned, and the versions it replaced."""

    def __init__(self, versions_kept: int = VERSIONS_KEPT) -> None:
        self.versions_kept = versions_kept
        self._newest: dict[str, tuple[tuple[str, ...], Mapping[str, Any]]] = {}

    def freshest(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """Our written object when `body` (kopf's view) is a version it replaced, else `body`."""
        uid, version = _identity(body)
        replaced, written = self._newest.get(uid, ((), body))
        if version in replaced:
            return written
        self._newest.pop(uid, None)  # kopf shows our write, or one of someone else's
        return body

    def wrote(self, over: str, written: Mapping[str, Any] | None) -> None:
        """A reconcile wrote `written` (the API server's answer; None: no write) on version
        `over`, the one it read and made its write's precondition. Not the version kopf's
        view shows after the reconcile: that view changes as its watch goes on."""
        if written is None or "spec" not in written:
            return  # no write, or an answer that is not the whole object: kopf's view serves
        uid, version = _identity(written)
        if version == over:
            return  # a write that changed nothing: kopf's view is already current
        replaced: tuple[str, ...] = ()
        previous = self._newest.get(uid)
        if previous is not None and _identity(previous[1])[1] == over:
            replaced = previous[0]  # written on our newest write: the older ones stay older
        self._newest[uid] = ((*replaced, over)[-self.versions_kept :], written)

    def forget(self, uid: str) -> None:
        self._newest.pop(uid, None)

    def __len__(self) -> int:
        return len(self._newest)


def _identity(body: Mapping[str, Any]) -> tuple[str, str]:
    """The object's uid and resourceVersion."""
    meta = body.get("metadata") or {}
    return str(meta.get("uid")), str(meta.get("resourceVersion"))
