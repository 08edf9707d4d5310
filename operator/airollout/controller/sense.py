"""What the cluster and people say about a rollout, as events for the state machine.

`interventions` come first: a bad spec, a new generation, a missing target or a rival
rollout, a person's request, `spec.paused`. `follow_ups` then answer what the persisted
status awaits (re-issuing it: every router call is idempotent) and let time pass.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from kubernetes import client

from airollout.adapters.kubernetes.events import EventRecorder
from airollout.adapters.traffic.router import (
    RolloutTarget,
    RouterError,
    TargetChangedError,
    TargetMissingError,
    TrafficRouter,
)
from airollout.controller.snapshot import LoadedRollout
from airollout.core.resource.names import ACTION_ANNOTATION, ACTIONS
from airollout.core.resource.spec import Router
from airollout.core.resource.status import TERMINAL_PHASES, Phase
from airollout.core.rollout import keys
from airollout.core.rollout.inputs import (
    Abort,
    Conflict,
    ConflictCleared,
    InvalidSpec,
    PausedChanged,
    Promote,
    Resume,
    RollbackDone,
    RolloutEvent,
    Start,
    TargetChanged,
    TargetMissing,
    TargetPromoted,
    Tick,
    TrafficApplied,
)

log = logging.getLogger("airollout.controller")

OwnerLookup = Callable[[str, str], str | None]  # (namespace, Deployment) -> owning AIRollout
RouterAct = Callable[[TrafficRouter, RolloutTarget], bool]
T = TypeVar("T")

# While a window runs nothing else touches the target; looking at it this often still finds
# a deleted or hand-edited target long before the window ends.
TARGET_CHECK_SECONDS = 5.0
NO_PAUSE = frozenset({Phase.PAUSED, Phase.PROMOTING}) | TERMINAL_PHASES


class Observer:
    def __init__(
        self,
        apps: client.AppsV1Api,
        routers: Callable[[Router], TrafficRouter],
        events: EventRecorder,
    ) -> None:
        self.apps, self.routers, self.events = apps, routers, events
        self._checked_at: dict[str, float] = {}  # only spares API calls; losing it is harmless

    def interventions(
        self, rollout: LoadedRollout, owner_of: OwnerLookup
    ) -> Iterator[RolloutEvent]:
        if rollout.errors:
            first = rollout.errors[0]
            more = f" (and {len(rollout.errors) - 1} more)" if len(rollout.errors) > 1 else ""
            yield InvalidSpec(field=first.path, message=first.message + more)
            if rollout.status.phase in TERMINAL_PHASES:
                yield from self._requested(rollout)  # answered, though nothing can be done
            return
        yield from self._lifecycle(rollout, owner_of)
        yield from self._requested(rollout)
        yield from _pause_change(rollout)

    def _lifecycle(self, rollout: LoadedRollout, owner_of: OwnerLookup) -> Iterator[RolloutEvent]:
        assert rollout.spec is not None
        status, target = rollout.status, rollout.spec.target_ref.name
        owner = owner_of(rollout.ref.namespace, target)
        if status.phase is Phase.PENDING:
            if owner is not None and owner != rollout.ref.name:
                yield Conflict(other=owner)
            elif not self._target_exists(rollout.ref.namespace, target):
                yield TargetMissing(target=f"Deployment {target}")
            else:
                yield Start()
            return
        if status.observed_generation != rollout.view.generation:
            yield Start()
        if status.blocked_by is not None and owner in (None, rollout.ref.name):
            yield ConflictCleared()

    def follow_ups(self, rollout: LoadedRollout) -> Iterator[RolloutEvent]:
        status = rollout.status
        if status.phase in TERMINAL_PHASES and status.awaiting is None:
            return
        awaited, weight = status.awaiting, status.weight
        if awaited and keys.is_weight_key(awaited):
            yield from self._router_step(
                rollout, lambda r, t: r.set_weight(t, weight), TrafficApplied(awaited)
            )
        elif awaited and keys.is_promote_key(awaited):
            yield from self._router_step(
                rollout, lambda r, t: r.promote(t), TargetPromoted(awaited)
            )
        elif awaited and keys.is_rollback_key(awaited):
            yield from self._router_step(
                rollout, lambda r, t: r.rollback(t), RollbackDone(awaited), rolling_back=True
            )
        elif weight > 0 and self._check_due(rollout):
            # Re-asserting the split finds a deleted or hand-edited target, and heals drift.
            yield from self._router_step(rollout, lambda r, t: r.set_weight(t, weight), None)
        yield Tick()

    def _router_step(
        self,
        rollout: LoadedRollout,
        act: RouterAct,
        done: RolloutEvent | None,
        *,
        rolling_back: bool = False,
    ) -> Iterator[RolloutEvent]:
        target = rollout.rollback_target() if rolling_back else rollout.target
        if target is None:
            return
        try:
            finished = act(self.router_of(rollout), target)
        except TargetMissingError as error:
            if rolling_back and done is not None:
                yield done  # the canary is gone and there is no stable left to restore
            else:
                yield TargetMissing(target=f"Deployment {error.name}")
            return
        except TargetChangedError as error:
            yield TargetChanged(detail=str(error))
            return
        except RouterError as error:
            self.report(rollout, error)
            return
        if finished and done is not None:
            yield done

    def router_of(self, rollout: LoadedRollout) -> TrafficRouter:
        return self.routers(rollout.router_kind)

    def guarded(self, rollout: LoadedRollout, act: Callable[[], T]) -> T | None:
        """Carry out a router action; what fails here is met again by the next follow-up."""
        try:
            return act()
        except (TargetMissingError, TargetChangedError, RouterError) as error:
            log.info("%s/%s: %s", rollout.ref.namespace, rollout.ref.name, error)
            return None

    def report(self, rollout: LoadedRollout, error: Exception) -> None:
        message = f"Traffic router: {error}"
        log.warning("%s/%s: %s", rollout.ref.namespace, rollout.ref.name, message)
        digest = hashlib.sha256(message.encode()).hexdigest()[:12]
        key = f"router-{digest}"
        self.events.emit(rollout.ref, key, "RouterError", message, warning=True, repeated=True)

    def forget(self, uid: str) -> None:
        """The rollout is gone or at rest: what was remembered for it only takes memory."""
        self._checked_at.pop(uid, None)
        self.events.forget(uid)

    def _requested(self, rollout: LoadedRollout) -> Iterator[RolloutEvent]:
        request = rollout.requested_action
        if request is None:
            return
        action, by = request
        who = by or "a person (annotation)"
        if rollout.status.phase in TERMINAL_PHASES and action in ACTIONS:
            message = (
                f"{ACTION_ANNOTATION}={action} refused: the rollout is over "
                f"({rollout.status.phase.value}). It was removed."
            )
            key = f"refused-{action}"
            self.events.emit(rollout.ref, key, "RequestRefused", message, True, repeated=True)
        elif action == "resume":
            yield Resume(by=who)
        elif action == "promote":
            yield Promote(by=who)
        elif action == "abort":
            yield Abort(by=who)
        else:
            message = (
                f"{ACTION_ANNOTATION}={action!r} is not an action; "
                f"use one of {', '.join(ACTIONS)}. It was removed."
            )
            key = f"request-{action}"
            self.events.emit(rollout.ref, key, "UnknownAction", message, True, repeated=True)

    def _target_exists(self, namespace: str, name: str) -> bool:
        try:
            self.apps.read_namespaced_deployment(name, namespace)
        except client.ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    def _check_due(self, rollout: LoadedRollout) -> bool:
        now = time.monotonic()
        last = self._checked_at.get(rollout.ref.uid)
        if last is not None and now - last < TARGET_CHECK_SECONDS:
            return False
        self._checked_at[rollout.ref.uid] = now
        return True


def _pause_change(rollout: LoadedRollout) -> Iterator[RolloutEvent]:
    status, paused = rollout.status, rollout.view.paused
    if paused and status.phase not in NO_PAUSE:
        yield PausedChanged(paused=True)
    elif not paused and status.phase is Phase.PAUSED and status.reason == "PausedBySpec":
        yield PausedChanged(paused=False)
