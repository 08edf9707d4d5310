"""One reconcile of one AIRollout: sense, step the pure machine, persist, then act.

The order is what makes a crash harmless (invariant 5, docs/architecture.md#safety-invariants):
1. sense (`sense.py`): inputs from what the persisted status awaits and what the cluster
   and people show;
2. step the machine with them into a new status and actions; a window that is due is
   judged here (`decide.py`) and its record held in the status (`pending_records.py`);
3. persist: the status is written with the resourceVersion it was read at, so a stale or
   concurrent reconcile loses (409) and does nothing;
4. only then act (`act.py`): traffic changes and Events. Each is keyed and level-based, so
   carrying one out again after a crash between 3 and 4 changes nothing, and whatever
   `status.awaiting` names is re-issued by the next reconcile until it is done.
   Last, the records the status holds go to the decision log under their windows' keys
   (a replay rewrites the same entry); a later status write drops them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, assert_never

from kubernetes import client
from prometheus_client import Histogram

from airollout.controller import telemetry
from airollout.controller.act import Actor, AfterWrite
from airollout.controller.decide import WindowJudge
from airollout.controller.sense import OwnerLookup, Sensor
from airollout.controller.snapshot import LoadedRollout, load
from airollout.core.resource.names import (
    ACTION_ANNOTATION,
    ACTION_BY_ANNOTATION,
    GROUP,
    PLURAL,
    VERSION,
)
from airollout.core.resource.status import TERMINAL_PHASES, AIRolloutStatus
from airollout.core.rollout.actions import (
    CreateJob,
    EmitEvent,
    JudgeWindow,
    PromoteTarget,
    RecordDecision,
    Rollback,
    RolloutAction,
    SetWeight,
    StartWindow,
)
from airollout.core.rollout.inputs import RolloutEvent, WindowJudged
from airollout.core.rollout.judge_input import judge_input
from airollout.core.rollout.machine import step

log = logging.getLogger("airollout.controller")

# From the deletion timestamp: past this, a rollback that cannot finish no longer holds the
# AIRollout in Terminating (the finalizer is released, with a Warning Event).
RELEASE_DEADLINE_S = 60.0


class Written(NamedTuple):
    over: str  # the resourceVersion read, the write's precondition
    object: Mapping[str, Any]  # the API server's answer to the last write


@dataclass
class Reconciler:
    custom: client.CustomObjectsApi
    sensor: Sensor
    judge: WindowJudge
    actor: Actor
    default_prometheus: str | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def reconcile(self, body: Any, owner_of: OwnerLookup) -> Written | None:
        """One reconcile; what it wrote over and the object its last write left (None if
        it wrote nothing), which the next tick may use while kopf's watch lags behind."""
        rollout = load(body, self.default_prometheus)
        if at_rest(rollout):
            self.actor.forget(rollout.ref.uid)
            return None
        started = time.monotonic()
        run = _Run(self, rollout, self.clock())
        sensed = self.sensor.interventions(rollout, owner_of)
        run.feed_all(sensed.inputs)
        if not run.changed:
            # Follow-ups look at the persisted state; after an intervention they wait a tick.
            # The awaited router call is made again (it is level-based); its answer is sensed.
            reply = self.actor.follow_through(rollout)
            run.feed_all(self.sensor.follow_ups(rollout, reply))
        run.flush_pending()
        written: Mapping[str, Any] | None = None
        if run.changed:
            written = self._persist(rollout, run.status)
            if written is None:
                return None  # someone wrote first: the next tick starts from what they wrote
            written_at = self.clock()
            for end in run.judged_ends:
                _observe_since(telemetry.DECISION_WRITTEN_SECONDS, end, written_at)
        self.actor.carry_out(rollout, [*sensed.refusals, *run.deferred], run.status)
        if run.changed:
            self.actor.log_waiting(rollout, run.status)  # after the status: it holds them
        if rollout.requested_action is not None:
            version = _version_of(written) if written is not None else rollout.resource_version
            written = self._clear_request(rollout, version) or written
        if run.status.phase in TERMINAL_PHASES and run.status.awaiting is None:
            self.actor.forget(rollout.ref.uid)
        telemetry.RECONCILE_SECONDS.observe(time.monotonic() - started)
        return Written(rollout.resource_version, written) if written is not None else None

    def release(self, body: Any) -> bool:
        """The AIRollout is being deleted: put traffic back on stable first; True once done.

        Always done in the end: when the target is gone there is nothing to restore (the
        canary is deleted all the same), and a rollback still unfinished `RELEASE_DEADLINE_S`
        after the deletion was asked for is given up, with a Warning Event saying so.
        """
        rollout = load(body, self.default_prometheus)
        status = rollout.status
        finished = status.phase in TERMINAL_PHASES and status.awaiting is None
        target = rollout.rollback_target()
        if finished or status.weight == 0 or target is None:
            return self._released(rollout)
        problem = self.actor.put_back_on_stable(rollout, target)
        if problem is None:
            return self._released(rollout)
        deleted_at = rollout.deleted_at or self.clock()
        if (self.clock() - deleted_at).total_seconds() < RELEASE_DEADLINE_S:
            return False
        message = (
            f"Deleted without putting traffic back on stable: after {RELEASE_DEADLINE_S:g}s "
            f"{problem}. Check Deployment {target.target} and {target.target}-canary."
        )
        timeout = EmitEvent("ReleaseTimedOut", message, key="release-timeout", warning=True)
        self.actor.carry_out(rollout, [timeout])
        return self._released(rollout)

    def _released(self, rollout: LoadedRollout) -> bool:
        self.actor.forget(rollout.ref.uid)
        return True

    def _persist(self, rollout: LoadedRollout, status: AIRolloutStatus) -> Mapping[str, Any] | None:
        """Write the status on the version read; the API server's answer (the object as
        written), None if it lost."""
        body = {
            "metadata": {"resourceVersion": rollout.resource_version},
            "status": status.model_dump(mode="json", by_alias=True),
        }
        try:
            written: Any = self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, rollout.ref.namespace, PLURAL, rollout.ref.name, body
            )
        except client.ApiException as error:
            if error.status in (404, 409):
                log.debug("%s/%s: status not written (%s)", *_names(rollout), error.reason)
                return None
            raise
        if status.phase is not rollout.status.phase:
            telemetry.PHASE_CHANGES.labels(phase=status.phase.value).inc()
        return _object(written)

    def _clear_request(
        self, rollout: LoadedRollout, version: str | None
    ) -> Mapping[str, Any] | None:
        """Remove the request just answered, only if nothing was written since: a 409 means
        the object changed (perhaps a newer request), which the next tick reads and answers.
        The object written; None when it was not."""
        annotations = {ACTION_ANNOTATION: None, ACTION_BY_ANNOTATION: None}
        patch = {"metadata": {"resourceVersion": version, "annotations": annotations}}
        try:
            written: Any = self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, rollout.ref.namespace, PLURAL, rollout.ref.name, patch
            )
        except client.ApiException as error:
            if error.status == 409:
                log.info("%s/%s: changed since read; request left for next tick", *_names(rollout))
            elif error.status != 404:
                raise
            return None
        return written if isinstance(written, Mapping) else None


class _Run:
    """The machine stepped through one reconcile's inputs; due windows are judged inline."""

    def __init__(self, reconciler: Reconciler, rollout: LoadedRollout, now: datetime) -> None:
        self.reconciler, self.rollout, self.now = reconciler, rollout, now
        self.status = rollout.status
        self.deferred: list[AfterWrite] = []
        self.judged_ends: list[datetime] = []  # the windows judged, for the written delay

    @property
    def changed(self) -> bool:
        return self.status != self.rollout.status

    def feed_all(self, inputs: Iterable[RolloutEvent]) -> None:
        for event in inputs:
            self.feed(event)

    def feed(self, event: RolloutEvent) -> None:
        self.status, actions = step(self.rollout.view, self.status, event, self.now)
        for action in actions:
            self._take(action)

    def _take(self, action: RolloutAction) -> None:
        match action:
            case JudgeWindow():
                self._judge(action)
            case RecordDecision():
                self.status = self.reconciler.actor.record(self.rollout, self.status, action)
            case (
                SetWeight()
                | PromoteTarget()
                | Rollback()
                | EmitEvent()
                | StartWindow()
                | CreateJob()
            ):
                self.deferred.append(action)  # once the status that asks for it is written
            case _:
                assert_never(action)

    def flush_pending(self) -> None:
        if self.status.pending_records:
            self.status = self.reconciler.actor.flush_records(self.rollout, self.status)

    def _judge(self, action: JudgeWindow) -> None:
        rollout = self.rollout
        if rollout.spec is None:  # the spec is invalid: the machine fails the rollout instead
            return
        workloads = self.reconciler.sensor.workloads(rollout)
        window = judge_input(
            rollout.spec, rollout.view, self.status, action, workloads, rollout.created_at
        )
        verdict, evidence = self.reconciler.judge.judge(window)
        _observe_since(telemetry.DECISION_DELAY_SECONDS, window.end, self.reconciler.clock())
        self.judged_ends.append(window.end)
        self.feed(WindowJudged(key=action.window, verdict=verdict))
        self.status = self.status.model_copy(update={"evidence": evidence})


def at_rest(rollout: LoadedRollout) -> bool:
    """Finished, and nothing left to carry out, answer or observe: no reason to look again
    until the spec or the annotations change (the timer's filter asks this too)."""
    status = rollout.status
    return (
        status.phase in TERMINAL_PHASES
        and status.awaiting is None
        and rollout.requested_action is None
        and status.observed_generation == rollout.view.generation
        and not status.pending_records
    )


def _observe_since(histogram: Histogram, window_end: datetime, now: datetime) -> None:
    """The time since a window's end into `histogram`, never below zero."""
    histogram.observe(max((now - window_end).total_seconds(), 0.0))


def _object(answer: Any) -> Mapping[str, Any]:
    """A write's answer: the object as written (at least its metadata.resourceVersion)."""
    if not isinstance(answer, Mapping):
        raise TypeError(f"the API server answered a write with {type(answer).__name__}")
    return answer


def _version_of(written: Mapping[str, Any]) -> str:
    return str(written["metadata"]["resourceVersion"])


def _names(rollout: LoadedRollout) -> tuple[str, str]:
    return rollout.ref.namespace, rollout.ref.name
