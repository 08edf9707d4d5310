"""Kubernetes Events on the AIRollout: one per state change, repeats aggregated into `count`.

An Event's name is derived from its key. A state change has a key of its own (the action it
reports), so posting it again after a crash finds it already there (409) and adds nothing.
A condition that recurs (a router error every tick, the same bad request again) is emitted
with `repeated=True` under a key naming what recurs: its first occurrence creates the Event
and later ones bump its `count` and `lastTimestamp`, as kubectl shows them ("x12 over 3m").
Bumps are written at most once per `AGGREGATE_SECONDS` per Event, carrying every occurrence
counted meanwhile, so a condition met on every tick costs one write per interval, not one
per tick.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kubernetes import client

from airollout.core.resource.names import API_VERSION, KIND

COMPONENT = "airollout-operator"
MESSAGE_LIMIT = 1024  # the apiserver refuses longer event messages
AGGREGATE_SECONDS = 30.0


@dataclass(frozen=True)
class InvolvedRollout:
    """The AIRollout an Event is about (its involvedObject); the uid keeps a re-created
    rollout of the same name apart from the one before it."""

    namespace: str
    name: str
    uid: str


def event_name(ref: InvolvedRollout, key: str) -> str:
    digest = hashlib.sha256(f"{ref.uid}/{key}".encode()).hexdigest()[:16]
    return f"{ref.name[:200]}.{digest}"


@dataclass
class _Tally:
    """Occurrences of a repeated Event not yet written, and when it was last written."""

    uid: str
    unwritten: int
    written_at: float


class EventRecorder:
    def __init__(self, core: client.CoreV1Api, clock: Callable[[], float] = time.monotonic):
        self.core, self.clock = core, clock
        self._tallies: dict[str, _Tally] = {}  # by Event name; pruned by `forget`

    def emit(
        self,
        ref: InvolvedRollout,
        key: str,
        reason: str,
        message: str,
        warning: bool,
        repeated: bool = False,
    ) -> None:
        name = event_name(ref, key)
        if repeated and self._tally(ref, name):
            return  # counted; written with the next bump
        try:
            self.core.create_namespaced_event(
                ref.namespace, _event(ref, name, reason, message, warning)
            )
        except client.ApiException as error:
            if error.status != 409:
                raise
            if repeated:  # posted before (by an earlier run, or a restart ago): count it
                self._bump(ref.namespace, name)

    def forget(self, uid: str) -> None:
        """The rollout is gone or at rest: drop what is remembered for its Events."""
        for name in [name for name, tally in self._tallies.items() if tally.uid == uid]:
            del self._tallies[name]

    def _tally(self, ref: InvolvedRollout, name: str) -> bool:
        """Count one occurrence; True when it waits for a later bump instead of a write now."""
        now, tally = self.clock(), self._tallies.get(name)
        if tally is None:
            self._tallies[name] = _Tally(ref.uid, 0, now)
            return False
        tally.unwritten += 1
        if now - tally.written_at < AGGREGATE_SECONDS:
            return True
        self._bump(ref.namespace, name)
        return True

    def _bump(self, namespace: str, name: str) -> None:
        tally = self._tallies.get(name)
        occurrences = max(tally.unwritten if tally else 1, 1)
        try:
            event = self.core.read_namespaced_event(name, namespace)
            patch = {
                "count": (event.count or 1) + occurrences,
                "lastTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "metadata": {"resourceVersion": event.metadata.resource_version},
            }
            self.core.patch_namespaced_event(name, namespace, patch)
        except client.ApiException as error:
            if error.status not in (404, 409):  # gone, or bumped meanwhile: next time
                raise
            return
        if tally is not None:
            tally.unwritten, tally.written_at = 0, self.clock()


def _event(
    ref: InvolvedRollout, name: str, reason: str, message: str, warning: bool
) -> client.CoreV1Event:
    now = datetime.now(UTC)
    return client.CoreV1Event(
        metadata=client.V1ObjectMeta(name=name, namespace=ref.namespace),
        involved_object=client.V1ObjectReference(
            api_version=API_VERSION, kind=KIND, name=ref.name, namespace=ref.namespace, uid=ref.uid
        ),
        reason=reason,
        message=message[:MESSAGE_LIMIT],
        type="Warning" if warning else "Normal",
        source=client.V1EventSource(component=COMPONENT),
        reporting_component=COMPONENT,
        first_timestamp=now,
        last_timestamp=now,
        count=1,
    )
