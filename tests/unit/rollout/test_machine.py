"""Properties of `step` over random event sequences (hypothesis).

Each sequence is a list of moves; a move is resolved against the status at that point
(an acknowledgement names the key the status awaits, a verdict names the open window), so
the sequences reach every phase instead of bouncing off stale keys. Some moves are stale on
purpose. The resolved events are kept, so they can be replayed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airollout.core.judge.types import Action
from airollout.core.resource.status import TERMINAL_PHASES, AIRolloutStatus, Phase
from airollout.core.rollout import step
from airollout.core.rollout.actions import (
    EmitEvent,
    PromoteTarget,
    RecordDecision,
    Rollback,
    RolloutAction,
    SetWeight,
)
from airollout.core.rollout.inputs import (
    Abort,
    Conflict,
    ConflictCleared,
    InvalidSpec,
    PausedChanged,
    Promote,
    PromotionJobFailed,
    PromotionScored,
    Resume,
    RollbackDone,
    RolloutEvent,
    SelectionFailed,
    SelectionFinished,
    Start,
    TargetMissing,
    TargetPromoted,
    Tick,
    TrafficApplied,
    WindowJudged,
)
from airollout.core.rollout.machine_spec import HoldExpiry, MachineSpec, OnHold, ScoreThresholds
from tests.support.rollout_driver import T0, verdict

pytestmark = pytest.mark.unit

SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def specs(draw: st.DrawFn) -> MachineSpec:
    on_hold = draw(
        st.none() | st.builds(OnHold, st.sampled_from([60.0, 600.0]), st.sampled_from(HoldExpiry))
    )
    promotion = draw(st.none() | st.just(ScoreThresholds(auto_promote=0.9, manual_review=0.7)))
    return MachineSpec(
        generation=draw(st.integers(1, 3)),
        slices=draw(st.sampled_from([(10, 25, 50, 100), (5, 100), (100,), (20, 40, 60, 80)])),
        interval_s=60.0,
        warmup_s=10.0,
        on_hold=on_hold,
        selection=draw(st.booleans()),
        promotion=promotion,
        paused=False,
    )


MOVES = st.one_of(
    st.tuples(st.just("advance"), st.sampled_from(Action)),
    st.tuples(st.just("advance"), st.sampled_from(Action)),
    st.tuples(st.just("advance"), st.sampled_from(Action)),
    st.tuples(st.just("tick"), st.sampled_from([1.0, 30.0, 90.0, 700.0])),
    st.tuples(st.just("score"), st.sampled_from([0.95, 0.8, 0.3])),
    st.tuples(st.just("stale"), st.sampled_from(Action)),
    st.tuples(st.just("pause"), st.booleans()),
    st.sampled_from(
        [
            ("resume",),
            ("promote",),
            ("abort",),
            ("conflict",),
            ("cleared",),
            ("invalid",),
            ("missing",),
            ("start",),
            ("job_failed",),
        ]
    ),
)


# The verdict a move carries also picks the promotion score: auto-promote, review or block.
SCORE_FOR = {Action.PROCEED: 0.95, Action.HOLD: 0.8, Action.ROLLBACK: 0.3}


def advance(status: AIRolloutStatus, action: Action) -> RolloutEvent:
    """The answer the rollout is waiting for where it stands."""
    awaiting = status.awaiting or "nothing-awaited"
    if status.phase is Phase.SELECTING:
        return SelectionFinished(awaiting, {"suites": ["smoke"]})
    if status.phase is Phase.EVALUATING:
        return PromotionScored(awaiting, SCORE_FOR[action])
    if status.phase in TERMINAL_PHASES:
        return RollbackDone(awaiting)
    if status.phase is Phase.PROMOTING and awaiting.endswith("-promote"):
        return TargetPromoted(awaiting)
    if status.awaiting is not None:
        return TrafficApplied(awaiting)
    if status.window is not None:
        return WindowJudged(status.window.key, verdict(action))
    return {
        Phase.PENDING: Start(),
        Phase.AWAITING_APPROVAL: Resume(),
        Phase.PAUSED: PausedChanged(paused=False),
        Phase.BLOCKED: ConflictCleared(),
    }.get(status.phase, Tick())


def resolve(status: AIRolloutStatus, move: tuple[object, ...]) -> tuple[RolloutEvent, float]:
    """The concrete event for a move, and the seconds that pass before it."""
    kind = move[0]
    if kind == "advance":
        assert isinstance(move[1], Action)
        return advance(status, move[1]), 1.0
    if kind == "tick":
        assert isinstance(move[1], float)
        return Tick(), move[1]
    awaiting = status.awaiting or "nothing-awaited"
    fixed: dict[object, RolloutEvent] = {
        "score": PromotionScored(awaiting, float(move[-1]))  # type: ignore[arg-type]
        if kind == "score"
        else Tick(),
        "stale": WindowJudged("g0-s0-w0", verdict(Action.PROCEED)),
        "pause": PausedChanged(paused=bool(move[-1])),
        "resume": Resume(),
        "promote": Promote(),
        "abort": Abort(),
        "conflict": Conflict(other="other-rollout"),
        "cleared": ConflictCleared(),
        "invalid": InvalidSpec(field="spec.traffic.slices[1]", message="must increase"),
        "missing": TargetMissing(target="Deployment checkout"),
        "start": Start(),
        "job_failed": SelectionFailed(awaiting, "exit 1")
        if status.phase is Phase.SELECTING
        else PromotionJobFailed(awaiting, "exit 1"),
    }
    return fixed[kind], 1.0


@dataclass
class Run:
    """Every step of one sequence: the status before, the event, the status after, actions."""

    spec: MachineSpec
    steps: list[
        tuple[AIRolloutStatus, RolloutEvent, AIRolloutStatus, tuple[RolloutAction, ...]]
    ] = field(default_factory=list)
    final: AIRolloutStatus = field(default_factory=AIRolloutStatus)


def run(spec: MachineSpec, moves: list[tuple[object, ...]]) -> Run:
    result = Run(spec=spec)
    status, now = AIRolloutStatus(), T0
    reports: dict[str, PromotionScored] = {}
    for move in moves:
        event, after_s = resolve(status, move)
        if isinstance(event, PromotionScored):
            # A Job is named from its key and a finished Job's report never changes: a
            # rollout that starts over after a conflict reads the same score again.
            event = reports.setdefault(event.key, event)
        now += timedelta(seconds=after_s)
        new, actions = step(spec, status, event, now)
        result.steps.append((status, event, new, actions))
        status = new
    result.final = status
    return result


sequences = st.lists(MOVES, min_size=1, max_size=40)


@SETTINGS
@given(specs(), sequences)
def test_terminal_phases_are_absorbing_and_act_no_more(
    spec: MachineSpec, moves: list[tuple[object, ...]]
) -> None:
    for before, _event, after, actions in run(spec, moves).steps:
        if before.phase in TERMINAL_PHASES:
            assert after.phase is before.phase
            assert actions == ()


@SETTINGS
@given(specs(), sequences)
def test_weight_never_rises_after_a_rollback(
    spec: MachineSpec, moves: list[tuple[object, ...]]
) -> None:
    rolled_back = False
    for _before, _event, after, actions in run(spec, moves).steps:
        if rolled_back:
            assert after.weight == 0
            assert not any(isinstance(a, SetWeight | PromoteTarget) for a in actions)
        rolled_back = rolled_back or any(isinstance(a, Rollback) for a in actions)


def raises_exposure(
    before: AIRolloutStatus, after: AIRolloutStatus, actions: tuple[RolloutAction, ...]
) -> bool:
    """More canary traffic than before, or the final 100 % step, was asked for."""
    higher = any(isinstance(a, SetWeight) and a.weight > before.weight for a in actions)
    promoting = after.phase is Phase.PROMOTING and before.phase is not Phase.PROMOTING
    return higher or promoting


def starts_traffic(before: AIRolloutStatus, spec: MachineSpec) -> bool:
    """The first slice is reached from the gates, not from a verdict."""
    return before.weight == 0 and spec.slices[0] < 100


@SETTINGS
@given(specs(), sequences)
def test_only_proceed_or_a_person_promote_raises_the_weight(
    spec: MachineSpec, moves: list[tuple[object, ...]]
) -> None:
    for before, event, after, actions in run(spec, moves).steps:
        if not raises_exposure(before, after, actions) or starts_traffic(before, spec):
            continue
        proceeded = isinstance(event, WindowJudged) and event.verdict.action is Action.PROCEED
        single_slice = spec.slices == (100,) and before.weight == 0
        assert proceeded or isinstance(event, Promote) or single_slice, event


@SETTINGS
@given(specs(), sequences)
def test_hold_and_rollback_verdicts_never_move_traffic_up(
    spec: MachineSpec, moves: list[tuple[object, ...]]
) -> None:
    for before, event, after, actions in run(spec, moves).steps:
        if isinstance(event, WindowJudged) and event.verdict.action is not Action.PROCEED:
            assert after.weight <= before.weight
            assert not any(isinstance(a, SetWeight | PromoteTarget) for a in actions)


@SETTINGS
@given(specs(), sequences)
def test_every_action_is_keyed_and_a_key_always_names_the_same_action(
    spec: MachineSpec, moves: list[tuple[object, ...]]
) -> None:
    seen: dict[str, RolloutAction] = {}
    for _before, _event, _after, actions in run(spec, moves).steps:
        for action in actions:
            assert action.key
            if not isinstance(action, EmitEvent):
                assert _untimed(seen.setdefault(action.key, action)) == _untimed(action)


def _untimed(action: RolloutAction) -> RolloutAction:
    """A decision made again under its key (the promotion verdict after a rollout starts
    over) is logged once, at its first time; only the time may differ."""
    if isinstance(action, RecordDecision):
        return replace(action, record=action.record.model_copy(update={"time": ""}))
    return action


@SETTINGS
@given(specs(), sequences)
def test_the_same_event_delivered_twice_acts_once(
    spec: MachineSpec, moves: list[tuple[object, ...]]
) -> None:
    result = run(spec, moves)
    now = T0
    for _before, event, after, _actions in result.steps:
        now += timedelta(seconds=1)
        assert step(spec, after, event, now)[1] == ()


ANSWERS = (
    Start,
    SelectionFinished,
    SelectionFailed,
    PromotionScored,
    PromotionJobFailed,
    WindowJudged,
    TrafficApplied,
    TargetPromoted,
    RollbackDone,
)


@SETTINGS
@given(specs(), sequences, st.data())
def test_replaying_a_prefix_of_answers_produces_no_new_action_keys(
    spec: MachineSpec, moves: list[tuple[object, ...]], data: st.DataObject
) -> None:
    """After a crash the controller may hear old answers again: they must add no new work.

    An answer the machine set aside when it came (a promotion score that lands while the
    rollout is paused) is not old: the controller reads the Job again after the resume and
    acting on it then is the design, so only answers that changed the status are replayed.
    """
    result = run(spec, moves)
    prefix = data.draw(st.integers(0, len(result.steps)))
    emitted = {a.key for _b, _e, _a, actions in result.steps for a in actions}
    status, now = result.final, T0 + timedelta(days=1)
    for before, event, after, _actions in result.steps[:prefix]:
        if not isinstance(event, ANSWERS) or before == after:
            continue
        status, actions = step(spec, status, event, now)
        assert {a.key for a in actions if not isinstance(a, EmitEvent)} <= emitted


@SETTINGS
@given(specs(), sequences)
def test_status_round_trips_through_json_by_alias(
    spec: MachineSpec, moves: list[tuple[object, ...]]
) -> None:
    for _before, _event, after, _actions in run(spec, moves).steps:
        wire = after.model_dump_json(by_alias=True)
        assert AIRolloutStatus.model_validate_json(wire) == after
        assert "pausedFrom" in wire


@settings(max_examples=40, deadline=None)
@given(specs(), sequences)
def test_the_same_events_give_the_same_statuses_and_actions(
    spec: MachineSpec, moves: list[tuple[object, ...]]
) -> None:
    assert run(spec, moves).steps == run(spec, moves).steps
