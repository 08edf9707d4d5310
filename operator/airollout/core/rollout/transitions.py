"""The moves every phase shares: entering a phase with the actions it needs.

Each function takes the rollout where it stands and returns a `Transition`: the new status
and the actions that carry it out. Phase handlers compose these; none of them reads a clock.
(The machine's `step` makes one such transition per input.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airollout.core.resource.status import AIRolloutStatus, AnalysisWindow, Phase
from airollout.core.rollout import keys
from airollout.core.rollout.actions import (
    CreateJob,
    EmitEvent,
    JobKind,
    Rollback,
    RolloutAction,
    SetWeight,
    StartWindow,
)
from airollout.core.rollout.machine_spec import MachineSpec
from airollout.core.rollout.timeline import from_rfc3339, later, to_rfc3339

Transition = tuple[AIRolloutStatus, tuple[RolloutAction, ...]]


@dataclass(frozen=True, slots=True)
class Context:
    spec: MachineSpec
    now: datetime

    @property
    def generation(self) -> int:
        return self.spec.generation

    def key(self, purpose: str) -> str:
        return keys.generation_key(self.generation, purpose)

    def event(self, reason: str, message: str, basis: str | None = None) -> EmitEvent:
        """An event keyed by the action it reports, or by the moment when it reports none."""
        key = f"{basis}-event" if basis else self.key(f"{reason}-{to_rfc3339(self.now)}")
        return EmitEvent(reason=reason, message=message, key=key, warning=reason in WARNINGS)


WARNINGS = frozenset(
    {
        "AnalysisRollback",
        "Aborted",
        "InvalidSpec",
        "SelectionFailed",
        "TestsFailed",
        "TestsJobFailed",
        "PromotionJobFailed",
        "PromotionBlocked",
        "Rejected",
        "ReviewTimedOut",
        "TargetMissing",
        "TargetChanged",
        "Conflict",
        "HoldTimedOut",
    }
)


def moved(
    status: AIRolloutStatus, phase: Phase, reason: str, message: str, **updates: Any
) -> AIRolloutStatus:
    return status.model_copy(
        update={"phase": phase, "reason": reason, "message": message, **updates}
    )


def begin(ctx: Context, status: AIRolloutStatus) -> Transition:
    """From Pending: the first gate the spec asks for, or traffic straight away."""
    if ctx.spec.selection:
        return run_job(ctx, status, JobKind.SELECTION)
    return after_selection(ctx, status)


def after_selection(ctx: Context, status: AIRolloutStatus) -> Transition:
    if ctx.spec.promotion is not None:
        return run_job(ctx, status, JobKind.PROMOTION)
    return enter_slice(ctx, status, 0, "Started", "Traffic starts moving to the new version.")


JOB_PHASES = {
    JobKind.SELECTION: Phase.SELECTING,
    JobKind.TESTS: Phase.TESTING,
    JobKind.PROMOTION: Phase.EVALUATING,
}
JOB_MESSAGES = {
    JobKind.SELECTION: "The test-selection Job is choosing the suites this change needs.",
    JobKind.TESTS: "The tests Job runs the selected tests, one pod per shard.",
    JobKind.PROMOTION: "The promotion Job is scoring the confidence in this artifact.",
}


def run_job(ctx: Context, status: AIRolloutStatus, kind: JobKind) -> Transition:
    key = ctx.key(kind.value)
    phase = JOB_PHASES[kind]
    new = moved(status, phase, phase.value, JOB_MESSAGES[kind], awaiting=key)
    return new, (CreateJob(kind=kind, key=key),)


def enter_slice(
    ctx: Context, status: AIRolloutStatus, index: int, reason: str, message: str
) -> Transition:
    """Move traffic to slice `index`; the last slice (100 %) is promotion, not analysis."""
    if index >= len(ctx.spec.slices) or ctx.spec.slices[index] >= 100:
        return enter_promoting(ctx, status, reason, message)
    return _move_traffic(ctx, status, Phase.PROGRESSING, index, reason, message)


def enter_promoting(ctx: Context, status: AIRolloutStatus, reason: str, message: str) -> Transition:
    last = max(len(ctx.spec.slices) - 1, 0)
    return _move_traffic(ctx, status, Phase.PROMOTING, last, reason, message)


def _move_traffic(
    ctx: Context, status: AIRolloutStatus, phase: Phase, index: int, reason: str, message: str
) -> Transition:
    """Ask for the slice's weight (100 % when promoting) and await its acknowledgement."""
    weight = 100 if phase is Phase.PROMOTING else ctx.spec.slices[index]
    # Promotion from a last slice below 100 % (a spec validation refuses, yet the machine
    # must stay sound on it) is a second weight at that index: it gets a key of its own.
    below_full = bool(ctx.spec.slices) and ctx.spec.slices[index] < weight
    key = keys.weight_key(ctx.generation, len(ctx.spec.slices) if below_full else index)
    new = moved(
        status,
        phase,
        reason,
        f"{message} Setting canary weight to {weight} %.",
        slice=index,
        weight=weight,
        windows_at_slice=0,
        awaiting=key,
        window=None,
        hold_since=None,
        paused_from=None,
    )
    return new, (SetWeight(weight=weight, key=key), ctx.event(reason, new.message, key))


def open_window(ctx: Context, status: AIRolloutStatus, start: datetime) -> Transition:
    seq = status.window_seq + 1
    key = keys.window_key(ctx.generation, status.slice or 0, seq)
    window = AnalysisWindow(
        key=key, start=to_rfc3339(start), end=to_rfc3339(later(start, ctx.spec.interval_s))
    )
    new = status.model_copy(update={"window": window, "window_seq": seq})
    return new, (StartWindow(key=key, start=window.start, end=window.end),)


def first_window_start(ctx: Context, status: AIRolloutStatus) -> datetime:
    """Windows open once the warm-up after the last traffic change is over."""
    if status.slice_started_at is None:
        return later(ctx.now, ctx.spec.warmup_s)
    return max(ctx.now, later(from_rfc3339(status.slice_started_at), ctx.spec.warmup_s))


def finish(
    ctx: Context, status: AIRolloutStatus, phase: Phase, reason: str, message: str
) -> Transition:
    """End the rollout; traffic that reached the canary goes back to stable at once."""
    rollback_key = ctx.key(keys.ROLLBACK) if status.weight > 0 else None
    new = moved(
        status,
        phase,
        reason,
        message,
        weight=0,
        awaiting=rollback_key,
        window=None,
        paused_from=None,
    )
    rollback: tuple[RolloutAction, ...] = (Rollback(key=rollback_key),) if rollback_key else ()
    return new, (*rollback, ctx.event(reason, message, rollback_key))


def roll_back(ctx: Context, status: AIRolloutStatus, reason: str, message: str) -> Transition:
    return finish(ctx, status, Phase.ROLLED_BACK, reason, message)


def fail(ctx: Context, status: AIRolloutStatus, reason: str, message: str) -> Transition:
    return finish(ctx, status, Phase.FAILED, reason, message)


def restart_analysis(ctx: Context, status: AIRolloutStatus) -> Transition:
    """spec.template changed: the canary now runs another version, so what was learnt about
    the previous one says nothing about it. Its evidence goes, the slice's clock and window
    count restart (after a fresh warm-up), and the next decision record says why."""
    note = (
        f"spec.template changed (generation {ctx.generation}): the canary runs a new version, "
        "so its analysis starts again and the evidence of earlier windows is dropped."
    )
    fresh = status.model_copy(
        update={
            "evidence": {},
            "windows_at_slice": 0,
            "hold_since": None,
            "slice_started_at": to_rfc3339(ctx.now),
            "window": None,
            "analysis_restarted": note,
        }
    )
    notice = ctx.event("AnalysisRestarted", note)
    if status.window is None or status.phase is not Phase.PROGRESSING:
        return fresh, (notice,)  # a window opens once the awaited traffic change or resume is in
    new, actions = open_window(ctx, fresh, first_window_start(ctx, fresh))
    return new, (*actions, notice)


def pause(ctx: Context, status: AIRolloutStatus, reason: str, message: str) -> Transition:
    """Stop deciding; the open window is abandoned and a fresh one opens on resume."""
    new = moved(status, Phase.PAUSED, reason, message, paused_from=status.phase, window=None)
    return new, (ctx.event(reason, message),)
