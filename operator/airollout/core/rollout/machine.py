"""`step`: one input in, the new status and the actions to carry out (a `Transition`).

Pure: no I/O and no clock (time comes in as `now`), so the controller can replay a step
after a crash and get the same actions with the same keys (invariant 5 in
docs/architecture.md#safety-invariants). An input that does not apply where the rollout
stands (a duplicate, a stale key, a verdict for a window already judged) returns the status
unchanged and no action.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from airollout.core.resource.status import TERMINAL_PHASES, AIRolloutStatus, Phase
from airollout.core.rollout.actions import RolloutAction
from airollout.core.rollout.conditions import refresh_conditions
from airollout.core.rollout.gates import on_evaluating, on_selecting, on_testing
from airollout.core.rollout.inputs import (
    InvalidSpec,
    RollbackDone,
    RolloutEvent,
    Start,
    TrafficApplied,
)
from airollout.core.rollout.interventions import INTERVENTIONS, on_intervention
from airollout.core.rollout.machine_spec import MachineSpec
from airollout.core.rollout.progression import (
    awaits_traffic,
    on_progressing,
    on_promoting,
    record_traffic,
)
from airollout.core.rollout.review import on_awaiting_approval
from airollout.core.rollout.transitions import Context, Transition

PhaseHandler = Callable[[Context, AIRolloutStatus, RolloutEvent], Transition | None]


def step(
    spec: MachineSpec, status: AIRolloutStatus, event: RolloutEvent, now: datetime
) -> tuple[AIRolloutStatus, tuple[RolloutAction, ...]]:
    ctx = Context(spec=spec, now=now)
    outcome = _decide(ctx, status, event)
    if outcome is None:
        return status, ()
    new_status, actions = outcome
    return refresh_conditions(new_status, now), actions


def _decide(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    if status.phase in TERMINAL_PHASES:
        return _on_finished(ctx, status, event)
    if isinstance(event, INTERVENTIONS):
        return on_intervention(ctx, status, event)
    handler = PHASE_HANDLERS.get(status.phase)
    return handler(ctx, status, event) if handler else None


def _on_finished(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    """Terminal phases never change; the closing rollback is still acknowledged, and so is
    a new generation, so that the rollout counts as at rest again (nothing to look at)."""
    if isinstance(event, RollbackDone) and event.key == status.awaiting:
        restored = f"{status.message} Traffic is back on the stable version."
        return status.model_copy(update={"awaiting": None, "message": restored}), ()
    if isinstance(event, Start | InvalidSpec) and status.observed_generation != ctx.generation:
        return status.model_copy(update={"observed_generation": ctx.generation}), ()
    return None


def _on_paused(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    """Nothing is decided while paused, but a traffic change already under way is recorded.

    Job results and verdicts are ignored here: resuming re-issues the Job under the same
    key (the controller reports its result again) and opens a fresh window.
    """
    if isinstance(event, TrafficApplied) and awaits_traffic(status, event.key):
        return record_traffic(ctx, status), ()
    return None


PHASE_HANDLERS: dict[Phase, PhaseHandler] = {
    Phase.SELECTING: on_selecting,
    Phase.TESTING: on_testing,
    Phase.EVALUATING: on_evaluating,
    Phase.AWAITING_APPROVAL: on_awaiting_approval,
    Phase.PROGRESSING: on_progressing,
    Phase.PROMOTING: on_promoting,
    Phase.PAUSED: _on_paused,
}
