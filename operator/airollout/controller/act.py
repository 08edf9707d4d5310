"""Acting: every change the controller makes to the cluster goes through `Actor`.

Traffic moves here (router calls), Kubernetes Events are posted here, decision records
are written here, and the rollout's Jobs are created here. Every `RolloutAction` the
machine emits is either carried out or refused with an error log and a Warning Event,
never dropped: `carry_out` matches each type, and mypy flags a new one that is not
handled (`assert_never`).

What a router call answers is not acted on here: `follow_through` hands it back as a
`RouterReply`, and sensing (`sense.py`) turns it into the machine's input.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import assert_never

from airollout.adapters.kubernetes.decision_log import DecisionLog
from airollout.adapters.kubernetes.events import EventRecorder
from airollout.adapters.kubernetes.jobs import JobError, Jobs
from airollout.adapters.traffic.router import (
    RolloutTarget,
    RouterError,
    TargetChangedError,
    TargetMissingError,
    TrafficRouter,
)
from airollout.controller import pending_records, telemetry
from airollout.controller.snapshot import LoadedRollout
from airollout.core.resource.spec import AIRolloutSpec, JobSection, Router
from airollout.core.resource.status import TERMINAL_PHASES, AIRolloutStatus, Phase
from airollout.core.rollout import keys
from airollout.core.rollout.actions import (
    CreateJob,
    EmitEvent,
    JobKind,
    PromoteTarget,
    RecordDecision,
    Rollback,
    SetWeight,
    StartWindow,
)
from airollout.core.rollout.jobs import JobRequest, inputs_env, job_kind_of, job_manifest

log = logging.getLogger("airollout.controller")

RouterCall = Callable[[TrafficRouter, RolloutTarget], bool]
BaseRevisions = Callable[[str, str], str | None]

# The actions carried out once the status that asked for them is written (invariant 5,
# docs/architecture.md#safety-invariants). `JudgeWindow` and `RecordDecision` are not among
# them: the verdict and its record belong to the status being written.
AfterWrite = SetWeight | PromoteTarget | Rollback | EmitEvent | StartWindow | CreateJob

# While a window runs nothing else touches the target; looking at it this often still finds
# a deleted or hand-edited target long before the window ends.
TARGET_CHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Answered:
    """The router call went through; `finished` once the wanted state is in effect."""

    finished: bool


@dataclass(frozen=True, slots=True)
class TargetGone:
    name: str  # the Deployment that does not exist


@dataclass(frozen=True, slots=True)
class TargetEdited:
    detail: str  # what someone else changed on the target


RouterReply = Answered | TargetGone | TargetEdited

# Where an awaited Job is run.
JOB_PHASES = frozenset({Phase.SELECTING, Phase.TESTING, Phase.EVALUATING})

# A Job runs at most this long when its spec section names no deadline of its own.
DEFAULT_JOB_DEADLINE_S = 1800


def job_request(
    rollout: LoadedRollout,
    kind: JobKind,
    key: str,
    status: AIRolloutStatus,
    base_revision: str | None = None,
) -> JobRequest | str:
    """What the Job is made of; a text saying why there is none (its spec section is gone).
    `base_revision`: the target's last promoted revision, what the change is diffed from."""
    spec = rollout.spec
    section = None if spec is None else _section(spec, kind)
    if spec is None or section is None:
        return f"no spec.{kind.value} asks for a {kind.value} Job"
    plan = status.test_plan if kind is not JobKind.SELECTION else None
    shards = len((plan or {}).get("shards") or []) if kind is JobKind.TESTS else 1
    parallelism = getattr(section, "max_parallelism", 1)
    results = status.tests if kind is JobKind.PROMOTION else None
    return JobRequest(
        kind=kind,
        key=key,
        rollout=rollout.ref.name,
        namespace=rollout.ref.namespace,
        uid=rollout.ref.uid,
        template=section.job_template,
        deadline_s=section.active_deadline_seconds or DEFAULT_JOB_DEADLINE_S,
        env=inputs_env(rollout.view.revision, base_revision, rollout.ref.name, plan, results),
        shards=shards,
        max_parallelism=parallelism,
    )


def _section(spec: AIRolloutSpec, kind: JobKind) -> JobSection | None:
    sections: dict[JobKind, JobSection | None] = {
        JobKind.SELECTION: spec.selection,
        JobKind.TESTS: spec.tests,
        JobKind.PROMOTION: spec.promotion,
    }
    return sections[kind]


class Actor:
    def __init__(
        self,
        routers: Callable[[Router], TrafficRouter],
        events: EventRecorder,
        decisions: DecisionLog,
        jobs: Jobs | None = None,
        base_revisions: BaseRevisions | None = None,
    ) -> None:
        self.routers, self.events, self.decisions = routers, events, decisions
        self.jobs = jobs
        # The revision last promoted onto a target (namespace, name): what a change is
        # diffed from; read from the cluster, so the default knows none.
        self.base_revisions = base_revisions or (lambda namespace, name: None)
        self._checked_at: dict[str, float] = {}  # only spares API calls; losing it is harmless
        self._logged: dict[str, set[str]] = {}  # uid -> waiting records the log has; ditto
        self._log_refused: set[str] = set()  # uids whose log refused a record this reconcile

    def router_of(self, rollout: LoadedRollout) -> TrafficRouter:
        return self.routers(rollout.router_kind)

    def carry_out(
        self,
        rollout: LoadedRollout,
        actions: Sequence[AfterWrite],
        written: AIRolloutStatus | None = None,
    ) -> None:
        """`written`: the status just persisted, which asked for the actions; a Job is made
        from it (the promotion Job needs the tests' totals the same step recorded)."""
        for action in actions:
            self._carry_out(rollout, action, written or rollout.status)

    def _carry_out(
        self, rollout: LoadedRollout, action: AfterWrite, status: AIRolloutStatus
    ) -> None:
        match action:
            case SetWeight(weight=weight):
                self._route(rollout, lambda router, target: router.set_weight(target, weight))
            case Rollback():
                self._route(rollout, lambda router, target: router.rollback(target))
            case PromoteTarget():
                self._route(rollout, lambda router, target: router.promote(target))
            case EmitEvent(reason=reason, message=message, key=key, warning=warning):
                self.events.emit(rollout.ref, key, reason, message, warning, action.repeated)
            case StartWindow():
                # Nothing to do outside: the window is `status.window`, just written, and the
                # machine asks for its verdict (JudgeWindow) once a tick finds it ended.
                pass
            case CreateJob(kind=kind, key=key):
                self._create_job(rollout, kind, key, status)
            case _:
                assert_never(action)

    def _create_job(
        self, rollout: LoadedRollout, kind: JobKind, key: str, status: AIRolloutStatus
    ) -> None:
        """Create the Job the key names (level-based: one already there is kept)."""
        request = job_request(rollout, kind, key, status, self._base_revision(rollout))
        if isinstance(request, str) or self.jobs is None:
            refusal = request if isinstance(request, str) else "this operator runs no Jobs"
            message = (
                f"Action CreateJob ({kind.value} Job, key {key}) refused: {refusal}. "
                "The rollout waits in its phase."
            )
            log.error("%s/%s: %s", rollout.ref.namespace, rollout.ref.name, message)
            self.events.emit(rollout.ref, f"{key}-refused", "ActionRefused", message, True)
            return
        if request.kind is JobKind.TESTS and request.shards == 0:
            return  # the plan is in the status being written: the next follow-up creates it
        try:
            self.jobs.ensure(job_manifest(request))
        except JobError as error:
            log.warning("%s/%s: %s", rollout.ref.namespace, rollout.ref.name, error)
            self.events.emit(rollout.ref, f"{key}-error", "JobError", str(error), True, True)

    def _base_revision(self, rollout: LoadedRollout) -> str | None:
        """None when unknown or unreadable: the Job then gets an empty
        AIROLLOUT_BASE_REVISION and chooses its own base."""
        target = rollout.target
        if target is None:
            return None
        try:
            return self.base_revisions(target.namespace, target.target)
        except RouterError as error:
            log.warning("%s/%s: no base revision: %s", target.namespace, target.rollout, error)
            return None

    def record(
        self, rollout: LoadedRollout, status: AIRolloutStatus, action: RecordDecision
    ) -> AIRolloutStatus:
        """The status holding the verdict's record, filed under the window it judged (as
        status.decisions names it): `log_waiting` writes it to the log once that is saved."""
        key, record = action.record.key or action.key, action.record
        telemetry.DECISIONS.labels(action=record.action).inc()
        return pending_records.hold(status, key, record, rollout.ref)

    def flush_records(self, rollout: LoadedRollout, status: AIRolloutStatus) -> AIRolloutStatus:
        """Write the waiting records the log lacks, but those held by this very step (they
        follow its status); drop the logged ones when this status is written anyway."""
        held = {str(entry.get("key")) for entry in rollout.status.pending_records}
        new = {str(entry.get("key")) for entry in status.pending_records} - held
        writing = status != rollout.status or status.phase in TERMINAL_PHASES
        logged = self._logged.setdefault(rollout.ref.uid, set())
        flushed, refused = pending_records.flush(
            self.decisions, rollout.ref, status, logged, new, writing
        )
        if refused:
            self._log_refused.add(rollout.ref.uid)
        return flushed

    def log_waiting(self, rollout: LoadedRollout, written: AIRolloutStatus) -> None:
        """The status just saved holds records the log lacks: write them now, unless the
        log refused one in this reconcile already (a later one tries again)."""
        if rollout.ref.uid in self._log_refused:
            self._log_refused.discard(rollout.ref.uid)
            return
        logged = self._logged.setdefault(rollout.ref.uid, set())
        pending_records.write_waiting(self.decisions, rollout.ref, written, logged)

    def follow_through(self, rollout: LoadedRollout) -> RouterReply | None:
        """Call the router again for what the persisted status awaits (each call is
        level-based), or re-assert the split now and then, which finds a deleted or
        hand-edited target and heals drift. What the router said; None if not asked."""
        status = rollout.status
        if status.phase in TERMINAL_PHASES and status.awaiting is None:
            return None
        awaited, weight = status.awaiting, status.weight
        kind = job_kind_of(awaited)
        if awaited and kind is not None and status.phase in JOB_PHASES:
            self._create_job(rollout, kind, awaited, status)  # sensing reads what it did
            return None
        if awaited and keys.is_weight_key(awaited):
            return self._call(rollout, rollout.target, lambda r, t: r.set_weight(t, weight))
        if awaited and keys.is_promote_key(awaited):
            return self._call(rollout, rollout.target, lambda r, t: r.promote(t))
        if awaited and keys.is_rollback_key(awaited):
            return self._call(rollout, rollout.rollback_target(), lambda r, t: r.rollback(t))
        if weight > 0 and self._check_due(rollout):
            return self._call(rollout, rollout.target, lambda r, t: r.set_weight(t, weight))
        return None

    def put_back_on_stable(self, rollout: LoadedRollout, target: RolloutTarget) -> str | None:
        """The rollback of a deleted AIRollout: None once done or nothing is left to
        restore, else what stands in its way."""
        try:
            if self.router_of(rollout).rollback(target):
                return None
            return "the rollback is not finished"
        except TargetMissingError:
            return None  # rollback() deleted the canary before raising
        except (TargetChangedError, RouterError) as error:
            return str(error)

    def emit(self, rollout: LoadedRollout, event: EmitEvent) -> None:
        self._carry_out(rollout, event, rollout.status)

    def forget(self, uid: str) -> None:
        """The rollout is gone or at rest: what was remembered for it only takes memory."""
        self._checked_at.pop(uid, None)
        self._logged.pop(uid, None)
        self._log_refused.discard(uid)
        self.events.forget(uid)

    def _route(self, rollout: LoadedRollout, call: RouterCall) -> None:
        """Carry out a traffic change; what fails here is met again by the next follow-up."""
        target = rollout.rollback_target()
        if target is None:
            return  # no target named at all: the machine fails the rollout, nothing to move
        try:
            call(self.router_of(rollout), target)
        except (TargetMissingError, TargetChangedError, RouterError) as error:
            log.info("%s/%s: %s", rollout.ref.namespace, rollout.ref.name, error)

    def _call(
        self, rollout: LoadedRollout, target: RolloutTarget | None, call: RouterCall
    ) -> RouterReply | None:
        if target is None:
            return None
        try:
            return Answered(call(self.router_of(rollout), target))
        except TargetMissingError as error:
            return TargetGone(error.name)
        except TargetChangedError as error:
            return TargetEdited(str(error))
        except RouterError as error:
            self._report(rollout, error)
            return None

    def _report(self, rollout: LoadedRollout, error: RouterError) -> None:
        message = f"Traffic router: {error}"
        log.warning("%s/%s: %s", rollout.ref.namespace, rollout.ref.name, message)
        digest = hashlib.sha256(message.encode()).hexdigest()[:12]
        key = f"router-{digest}"
        self.events.emit(rollout.ref, key, "RouterError", message, warning=True, repeated=True)

    def _check_due(self, rollout: LoadedRollout) -> bool:
        now = time.monotonic()
        last = self._checked_at.get(rollout.ref.uid)
        if last is not None and now - last < TARGET_CHECK_SECONDS:
            return False
        self._checked_at[rollout.ref.uid] = now
        return True
