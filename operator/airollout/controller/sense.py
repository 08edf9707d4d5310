"""Sensing: what the cluster and people say about a rollout, as the state machine's inputs.

Only reads. `interventions` come first: a bad spec, a new generation, a missing target or a
rival rollout, a person's request, `spec.paused`; a request that cannot be answered comes
back as a Warning Event for acting to post. `follow_ups` then turn what the router answered
for the awaited change (`Actor.follow_through`) into its acknowledgement, what an awaited
Job's pods said into its result, and let time pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from kubernetes import client

from airollout.adapters.kubernetes.deployment_cache import DeploymentCache
from airollout.adapters.kubernetes.jobs import JobError, Jobs
from airollout.adapters.traffic.router import TrafficRouter
from airollout.controller.act import (
    JOB_PHASES,
    Answered,
    RouterReply,
    TargetEdited,
    TargetGone,
)
from airollout.controller.snapshot import LoadedRollout
from airollout.core.analysis.types import Version
from airollout.core.resource.names import ACTION_ANNOTATION, ACTIONS, REVIEW_ACTIONS
from airollout.core.resource.spec import Router
from airollout.core.resource.status import TERMINAL_PHASES, Phase
from airollout.core.rollout import keys
from airollout.core.rollout.actions import EmitEvent
from airollout.core.rollout.inputs import (
    Abort,
    Approve,
    Conflict,
    ConflictCleared,
    InvalidSpec,
    PausedChanged,
    Promote,
    Reject,
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
from airollout.core.rollout.jobs import job_kind_of, job_name, outcome

log = logging.getLogger("airollout.controller")

OwnerLookup = Callable[[str, str], str | None]  # (namespace, Deployment) -> owning AIRollout

NO_PAUSE = frozenset({Phase.PAUSED, Phase.PROMOTING}) | TERMINAL_PHASES


@dataclass(frozen=True, slots=True)
class Interventions:
    inputs: tuple[RolloutEvent, ...]
    refusals: tuple[EmitEvent, ...]  # requests that cannot be answered, said in an Event


class Sensor:
    def __init__(
        self,
        apps: client.AppsV1Api,
        routers: Callable[[Router], TrafficRouter],
        jobs: Jobs | None = None,
        deployments: DeploymentCache | None = None,
    ) -> None:
        self.apps, self.routers, self.jobs = apps, routers, jobs
        self.deployments = deployments  # watch-backed: whether a Pending target exists

    def interventions(self, rollout: LoadedRollout, owner_of: OwnerLookup) -> Interventions:
        inputs: list[RolloutEvent] = []
        refusals: list[EmitEvent] = []
        for sensed in self._interventions(rollout, owner_of):
            if isinstance(sensed, EmitEvent):
                refusals.append(sensed)
            else:
                inputs.append(sensed)
        return Interventions(tuple(inputs), tuple(refusals))

    def _interventions(
        self, rollout: LoadedRollout, owner_of: OwnerLookup
    ) -> Iterator[RolloutEvent | EmitEvent]:
        if rollout.errors:
            first = rollout.errors[0]
            more = f" (and {len(rollout.errors) - 1} more)" if len(rollout.errors) > 1 else ""
            yield InvalidSpec(field=first.path, message=first.message + more)
            if rollout.status.phase in TERMINAL_PHASES:
                yield from _requested(rollout)  # answered, though nothing can be done
            return
        yield from self._lifecycle(rollout, owner_of)
        yield from _requested(rollout)
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

    def follow_ups(
        self, rollout: LoadedRollout, reply: RouterReply | None
    ) -> Iterator[RolloutEvent]:
        """`reply`: what the router said when called again for the awaited change."""
        status = rollout.status
        if status.phase in TERMINAL_PHASES and status.awaiting is None:
            return
        awaited = status.awaiting
        match reply:
            case Answered(finished=True) if awaited:
                done = _acknowledgement(awaited)
                if done is not None:
                    yield done
            case TargetGone(name=name):
                if awaited and keys.is_rollback_key(awaited):
                    yield RollbackDone(awaited)  # the canary is gone, no stable left to restore
                else:
                    yield TargetMissing(target=f"Deployment {name}")
            case TargetEdited(detail=detail):
                yield TargetChanged(detail=detail)
        finished = self._job_result(rollout)
        if finished is not None:
            yield finished
        yield Tick()

    def _job_result(self, rollout: LoadedRollout) -> RolloutEvent | None:
        """What the awaited Job's pods said once it ended; None while it runs (or is not
        there yet: acting creates it)."""
        awaited, kind = rollout.status.awaiting, job_kind_of(rollout.status.awaiting)
        if self.jobs is None or not awaited or kind is None:
            return None
        if rollout.status.phase not in JOB_PHASES:
            return None
        name = job_name(rollout.ref.name, awaited)
        try:
            view = self.jobs.view(rollout.ref.namespace, name)
        except JobError as error:
            log.warning("%s/%s: %s", rollout.ref.namespace, rollout.ref.name, error)
            return None
        return outcome(kind, awaited, view) if view is not None else None

    def workloads(self, rollout: LoadedRollout) -> Mapping[Version, str]:
        """The workload name of each version, as the metric queries name them."""
        target = rollout.target
        assert target is not None  # judged only when the spec is valid
        return self.routers(rollout.router_kind).workloads(target)

    def _target_exists(self, namespace: str, name: str) -> bool:
        if self.deployments is not None and self.deployments.lookup(namespace, name)[1]:
            return True  # a miss is asked again: the target may be newer than the watch
        try:
            self.apps.read_namespaced_deployment(name, namespace)
        except client.ApiException as error:
            if error.status == 404:
                return False
            raise
        return True


def _acknowledgement(awaited: str) -> RolloutEvent | None:
    """The input saying the awaited router change is in effect; None for a re-asserted split."""
    if keys.is_weight_key(awaited):
        return TrafficApplied(awaited)
    if keys.is_promote_key(awaited):
        return TargetPromoted(awaited)
    if keys.is_rollback_key(awaited):
        return RollbackDone(awaited)
    return None


def _requested(rollout: LoadedRollout) -> Iterator[RolloutEvent | EmitEvent]:
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
        yield _refusal(f"refused-{action}", "RequestRefused", message)
    elif action in REVIEW_ACTIONS and rollout.status.phase is not Phase.AWAITING_APPROVAL:
        message = (
            f"{ACTION_ANNOTATION}={action} refused: the rollout is {rollout.status.phase.value}, "
            "not AwaitingApproval. It was removed."
        )
        yield _refusal(f"refused-{action}", "RequestRefused", message)
    elif action == "approve":
        yield Approve(by=who)
    elif action == "reject":
        yield Reject(by=who)
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
        yield _refusal(f"request-{action}", "UnknownAction", message)


def _refusal(key: str, reason: str, message: str) -> EmitEvent:
    # The same request may come again: its Event counts the repeats instead of adding one.
    return EmitEvent(reason=reason, message=message, key=key, warning=True, repeated=True)


def _pause_change(rollout: LoadedRollout) -> Iterator[RolloutEvent]:
    status, paused = rollout.status, rollout.view.paused
    if paused and status.phase not in NO_PAUSE:
        yield PausedChanged(paused=True)
    elif not paused and status.phase is Phase.PAUSED and status.reason == "PausedBySpec":
        yield PausedChanged(paused=False)
