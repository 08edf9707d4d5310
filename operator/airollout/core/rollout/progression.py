"""The phases that move traffic: a window per slice, verdicts, holds, and the final promote."""

from __future__ import annotations

from airollout.core.judge.records import decision_record, last_decision
from airollout.core.judge.types import Action, Verdict, summary_line
from airollout.core.resource.status import AIRolloutStatus, DecisionRecord, Phase
from airollout.core.rollout import keys
from airollout.core.rollout.actions import JudgeWindow, PromoteTarget, RecordDecision
from airollout.core.rollout.inputs import (
    RolloutEvent,
    TargetPromoted,
    Tick,
    TrafficApplied,
    WindowJudged,
)
from airollout.core.rollout.judge_input import decision_context
from airollout.core.rollout.machine_spec import HoldExpiry, OnHold
from airollout.core.rollout.timeline import from_rfc3339, seconds_since, to_rfc3339
from airollout.core.rollout.transitions import (
    Context,
    Transition,
    enter_slice,
    first_window_start,
    moved,
    open_window,
    pause,
    roll_back,
)

DECISIONS_KEPT = 20  # the status keeps the newest records; the decision log keeps them all


def record_traffic(ctx: Context, status: AIRolloutStatus) -> AIRolloutStatus:
    """The awaited weight is in effect: the warm-up and the slice's clock start now."""
    return status.model_copy(
        update={
            "slice_started_at": to_rfc3339(ctx.now),
            "awaiting": None,
        }
    )


def awaits_traffic(status: AIRolloutStatus, key: str) -> bool:
    return key == status.awaiting and keys.is_weight_key(key)


def on_progressing(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    match event:
        case TrafficApplied(key=key) if awaits_traffic(status, key):
            applied = record_traffic(ctx, status)
            return open_window(ctx, applied, first_window_start(ctx, applied))
        case Tick():
            return _on_tick(ctx, status)
        case WindowJudged(key=key, verdict=verdict) if status.window and key == status.window.key:
            return _on_verdict(ctx, status, verdict, key)
    return None


def on_promoting(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    match event:
        case TrafficApplied(key=key) if awaits_traffic(status, key):
            promote_key = ctx.key(keys.PROMOTE)
            applied = record_traffic(ctx, status).model_copy(update={"awaiting": promote_key})
            return applied, (PromoteTarget(key=promote_key),)
        case TargetPromoted(key=key) if key == status.awaiting:
            message = "The new version is promoted and serves all traffic."
            done = moved(status, Phase.SUCCEEDED, "Succeeded", message, awaiting=None)
            return done, (ctx.event("Succeeded", message, key),)
    return None


def expired_hold(ctx: Context, status: AIRolloutStatus) -> OnHold | None:
    """The onHold policy, once a hold has lasted past its time-out; else None."""
    on_hold = ctx.spec.on_hold
    if on_hold is None or status.hold_since is None:
        return None
    return on_hold if seconds_since(status.hold_since, ctx.now) >= on_hold.timeout_s else None


def _expire_hold(ctx: Context, status: AIRolloutStatus, on_hold: OnHold) -> Transition:
    message = (
        f"Held since {status.hold_since} without a proceed, past onHold.timeout "
        f"({on_hold.timeout_s:g}s); onHold.then is {on_hold.then.value}."
    )
    if on_hold.then is HoldExpiry.PAUSE:
        return pause(ctx, status, "HoldTimedOut", message)
    return roll_back(ctx, status, "HoldTimedOut", message)


def _on_tick(ctx: Context, status: AIRolloutStatus) -> Transition | None:
    on_hold = expired_hold(ctx, status)
    if on_hold is not None:
        return _expire_hold(ctx, status, on_hold)
    window = status.window
    if window is None or window.judging or ctx.now < from_rfc3339(window.end):
        return None
    judging = status.model_copy(update={"window": window.model_copy(update={"judging": True})})
    ask = JudgeWindow(
        key=f"{window.key}-judge", window=window.key, start=window.start, end=window.end
    )
    return judging, (ask,)


def _decision_entry(
    ctx: Context, status: AIRolloutStatus, verdict: Verdict, key: str
) -> DecisionRecord:
    context = decision_context(ctx.spec, status)  # elapsed_s is not kept in the record
    record = decision_record(verdict, context, to_rfc3339(ctx.now), key)
    if status.analysis_restarted is None:
        return record
    return record.model_copy(update={"analysis_restarted": status.analysis_restarted})


def _on_verdict(ctx: Context, status: AIRolloutStatus, verdict: Verdict, key: str) -> Transition:
    record = _decision_entry(ctx, status, verdict, key)
    entry = record.model_dump(mode="json", by_alias=True)
    judged = status.model_copy(
        update={
            "window": None,
            "windows_at_slice": status.windows_at_slice + 1,
            "decisions": [*status.decisions, entry][-DECISIONS_KEPT:],
            "last_decision": last_decision(record),
            "analysis_restarted": None,  # said once, in this record
        }
    )
    new, actions = _act_on(ctx, judged, verdict, key)
    return new, (RecordDecision(verdict=verdict, key=f"{key}-decision", record=record), *actions)


def _act_on(ctx: Context, status: AIRolloutStatus, verdict: Verdict, key: str) -> Transition:
    # Events and conditions carry the one-line summary; the record keeps the reasoning.
    message = summary_line(verdict, status.weight)
    if verdict.action is Action.ROLLBACK:
        return roll_back(ctx, status, "AnalysisRollback", message)
    if verdict.action is Action.PROCEED:
        return enter_slice(ctx, status, (status.slice or 0) + 1, "AnalysisPassed", message)
    holding = status.model_copy(update={"hold_since": status.hold_since or to_rfc3339(ctx.now)})
    on_hold = expired_hold(ctx, holding)
    if on_hold is not None:
        return _expire_hold(ctx, holding, on_hold)
    holding = moved(holding, Phase.PROGRESSING, "AnalysisHold", message)
    new, actions = open_window(ctx, holding, ctx.now)
    if status.hold_since is not None:
        return new, actions  # still holding: the Event said so when the hold began
    return new, (*actions, ctx.event("AnalysisHold", message, key))
