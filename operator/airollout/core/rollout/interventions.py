"""Events that can arrive in any phase that is not over: people, spec changes, the cluster."""

from __future__ import annotations

from airollout.core.resource.status import AIRolloutStatus, Phase
from airollout.core.rollout.actions import CreateJob, JobKind, SetWeight
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
    RolloutEvent,
    Start,
    TargetChanged,
    TargetMissing,
)
from airollout.core.rollout.review import approve, reject
from airollout.core.rollout.timeline import to_rfc3339
from airollout.core.rollout.transitions import (
    Context,
    Transition,
    begin,
    enter_promoting,
    fail,
    first_window_start,
    moved,
    open_window,
    pause,
    restart_analysis,
    roll_back,
)

INTERVENTIONS = (
    Start,
    InvalidSpec,
    TargetMissing,
    TargetChanged,
    Abort,
    Promote,
    PausedChanged,
    Resume,
    Approve,
    Reject,
    Conflict,
    ConflictCleared,
)


def on_intervention(
    ctx: Context, status: AIRolloutStatus, event: RolloutEvent
) -> Transition | None:
    match event:
        case Start():
            return _on_start(ctx, status)
        case InvalidSpec(field=field, message=message):
            # Observed, so the failed rollout is at rest until its spec changes again.
            observed = status.model_copy(update={"observed_generation": ctx.generation})
            return fail(ctx, observed, "InvalidSpec", f"{field}: {message}")
        case TargetMissing(target=target):
            return _on_target_missing(ctx, status, target)
        case TargetChanged(detail=detail):
            return fail(ctx, status, "TargetChanged", detail)
        case Abort(by=by):
            return roll_back(ctx, status, "Aborted", f"Aborted by {by}.")
        case Promote(by=by) if status.phase is not Phase.PROMOTING:
            cleared = status.model_copy(update={"blocked_by": None})
            message = f"Promoted by {by}: the remaining slices are skipped."
            return enter_promoting(ctx, cleared, "PromotedByPerson", message)
        case PausedChanged(paused=True) if status.phase not in UNPAUSABLE:
            return pause(ctx, status, "PausedBySpec", "spec.paused is true: nothing moves.")
        case PausedChanged(paused=False) if status.phase is Phase.PAUSED:
            return resume(ctx, status, "Resumed", "spec.paused is false: the rollout goes on.")
        case Resume(by=by):
            return _on_resume(ctx, status, by)
        case Approve(by=by):
            return approve(ctx, status, by)
        case Reject(by=by):
            return reject(ctx, status, by)
        case Conflict(other=other) if other != status.blocked_by:
            return _on_conflict(ctx, status, other)
        case ConflictCleared() if status.blocked_by is not None:
            return _on_conflict_cleared(ctx, status)
    return None


# Promoting is the commit of a rollout already judged healthy: stopping half-way through
# leaves the target in a state no one chose. Abort still works there.
UNPAUSABLE = frozenset({Phase.PAUSED, Phase.PROMOTING})


def _on_start(ctx: Context, status: AIRolloutStatus) -> Transition | None:
    observed = status.model_copy(
        update={"observed_generation": ctx.generation, "template_hash": ctx.spec.template_hash}
    )
    if status.phase is Phase.PENDING:
        if ctx.spec.paused:
            return pause(ctx, observed, "PausedBySpec", "Created paused: nothing moves yet.")
        return begin(ctx, observed)
    if status.observed_generation == ctx.generation:
        return None
    if status.template_hash not in (None, ctx.spec.template_hash) and status.phase in ANALYSING:
        return restart_analysis(ctx, observed)
    # Any other spec change mid-rollout takes effect at the next step; nothing restarts.
    return observed, ()


# Where evidence about the canary is being gathered; later, in Promoting, it has been judged.
ANALYSING = frozenset({Phase.PROGRESSING, Phase.PAUSED})


def _on_target_missing(ctx: Context, status: AIRolloutStatus, target: str) -> Transition | None:
    if status.phase is not Phase.PENDING:
        return fail(ctx, status, "TargetMissing", f"{target} disappeared during the rollout.")
    message = f"{target} was not found; the rollout starts once it exists."
    if status.reason == "TargetMissing" and status.message == message:
        return None
    waiting = moved(status, Phase.PENDING, "TargetMissing", message)
    return waiting, (ctx.event("TargetMissing", message),)


def _on_resume(ctx: Context, status: AIRolloutStatus, by: str) -> Transition | None:
    if status.phase is Phase.AWAITING_APPROVAL:
        return approve(ctx, status, by)
    if status.phase is Phase.PAUSED and not ctx.spec.paused:
        return resume(ctx, status, "Resumed", f"Resumed by {by}.")
    return None


def resume(ctx: Context, status: AIRolloutStatus, reason: str, message: str) -> Transition:
    """Back to the phase the pause interrupted, re-issuing what it was waiting for.

    Re-issued actions keep their keys, so the controller does not repeat work already done;
    it answers again instead (a finished Job is reported again). The hold clock restarts:
    the person who resumed has seen the hold.
    """
    target = status.paused_from or Phase.PENDING
    back = moved(status, target, reason, message, paused_from=None, hold_since=None)
    notice = ctx.event(reason, message)
    if target is Phase.PENDING:
        return begin(ctx, back)
    if target in JOB_KINDS and back.awaiting:
        return back, (CreateJob(kind=JOB_KINDS[target], key=back.awaiting), notice)
    if target in JOB_KINDS:
        return begin(ctx, back)
    if target is Phase.PROGRESSING and back.awaiting:
        return back, (SetWeight(weight=back.weight, key=back.awaiting), notice)
    if target is Phase.PROGRESSING:
        new, actions = open_window(ctx, back, first_window_start(ctx, back))
        return new, (*actions, notice)
    return _waiting_again(ctx, back, message)


def _waiting_again(ctx: Context, status: AIRolloutStatus, message: str) -> Transition:
    """Back in a phase that waits for a person: say again what it waits for. A review's
    clock restarts: the person who resumed has seen it waiting."""
    if status.phase is Phase.AWAITING_APPROVAL:
        reason, hint = "ManualReview", "approve or reject it."
        status = status.model_copy(update={"review_since": to_rfc3339(ctx.now)})
    elif status.blocked_by is not None:
        reason, hint = "Conflict", f"waiting for AIRollout {status.blocked_by} to finish."
    else:
        reason, hint = "PromotionBlocked", "promote to override, or abort."
    text = f"{message} Back to {status.phase.value}: {hint}"
    return moved(status, status.phase, reason, text), (ctx.event("Resumed", text),)


JOB_KINDS = {
    Phase.SELECTING: JobKind.SELECTION,
    Phase.TESTING: JobKind.TESTS,
    Phase.EVALUATING: JobKind.PROMOTION,
}


def _on_conflict(ctx: Context, status: AIRolloutStatus, other: str) -> Transition:
    message = f"AIRollout {other} already rolls out the same target; this one waits for it."
    if status.weight > 0:
        # Traffic already moved here, so this rollout came first: it keeps going, and says so.
        noted = status.model_copy(update={"blocked_by": other})
        return noted, (ctx.event("Conflict", f"AIRollout {other} targets the same workload."),)
    if status.phase is Phase.PAUSED:
        parked = status.model_copy(
            update={"blocked_by": other, "paused_from": Phase.BLOCKED, "awaiting": None}
        )
        return parked, (ctx.event("Conflict", message),)
    blocked = moved(status, Phase.BLOCKED, "Conflict", message, blocked_by=other, awaiting=None)
    return blocked, (ctx.event("Conflict", message),)


def _on_conflict_cleared(ctx: Context, status: AIRolloutStatus) -> Transition:
    """Start over from Pending: Job keys are deterministic, so finished Jobs are reused."""
    cleared = status.model_copy(update={"blocked_by": None})
    if status.phase is Phase.BLOCKED:
        return begin(ctx, cleared)
    if status.phase is Phase.PAUSED and status.paused_from is Phase.BLOCKED:
        return cleared.model_copy(update={"paused_from": Phase.PENDING}), ()
    return cleared, ()
