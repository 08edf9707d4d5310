"""Moving traffic: a window per slice, verdicts, holds and their time-out, the final promote."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from airollout.core.judge.types import Action
from airollout.core.resource.status import DecisionRecord, Phase
from airollout.core.rollout.actions import (
    EmitEvent,
    JudgeWindow,
    PromoteTarget,
    RecordDecision,
    Rollback,
    SetWeight,
    StartWindow,
)
from airollout.core.rollout.inputs import (
    RollbackDone,
    Start,
    TargetPromoted,
    Tick,
    TrafficApplied,
    WindowJudged,
)
from airollout.core.rollout.machine_spec import HoldExpiry, OnHold
from airollout.core.rollout.progression import DECISIONS_KEPT
from airollout.core.rollout.timeline import from_rfc3339, to_rfc3339
from tests.support.rollout_driver import PLAIN_SPEC, Driver, of_type, verdict

pytestmark = pytest.mark.unit


def test_the_first_window_opens_after_the_warmup_and_lasts_one_interval() -> None:
    driver = Driver()
    driver.send(Start())
    actions = driver.ack_traffic()
    opened = of_type(actions, StartWindow)
    assert len(opened) == 1
    start, end = from_rfc3339(opened[0].start), from_rfc3339(opened[0].end)
    assert start == driver.now + timedelta(seconds=PLAIN_SPEC.warmup_s)
    assert end - start == timedelta(seconds=PLAIN_SPEC.interval_s)
    assert driver.status.slice_started_at == to_rfc3339(driver.now)
    assert driver.status.weight == PLAIN_SPEC.slices[0]
    assert driver.status.awaiting is None


def test_the_window_is_judged_once_its_end_has_passed_and_only_once() -> None:
    driver = Driver().start_progressing()
    assert driver.send(Tick(), after_s=5) == ()
    actions = driver.end_window()
    assert of_type(actions, JudgeWindow) == [
        JudgeWindow(
            key="g1-s0-w1-judge",
            window="g1-s0-w1",
            start=driver.status.window.start,
            end=driver.status.window.end,
        )
    ]
    assert driver.send(Tick(), after_s=30) == ()


def test_proceed_moves_to_the_next_slice_and_records_the_decision() -> None:
    driver = Driver().start_progressing()
    actions = driver.judge(Action.PROCEED, "all healthy")
    assert of_type(actions, SetWeight) == [SetWeight(weight=25, key="g1-s1-weight")]
    assert [record.key for record in of_type(actions, RecordDecision)] == ["g1-s0-w1-decision"]
    assert driver.status.slice == 1
    assert driver.status.weight == 25
    assert driver.status.last_decision == "Proceed at 10 %: all healthy."
    assert driver.status.decisions[-1]["action"] == "proceed"
    assert driver.status.decisions[-1]["weight"] == 10
    [event] = of_type(actions, EmitEvent)
    assert event.reason == "AnalysisPassed"
    assert "all healthy" in event.message, "the Event carries the verdict's reasoning"


def test_the_decision_record_names_the_revision_window_and_key() -> None:
    spec = replace(PLAIN_SPEC, name="checkout-4f2a1c", namespace="shop", revision="4f2a1c")
    driver = Driver(spec=spec).start_progressing()
    driver.judge(Action.HOLD, "too few requests")
    actions = driver.judge(Action.ROLLBACK, "errors\nmore detail")
    [recorded] = of_type(actions, RecordDecision)
    stored = DecisionRecord.model_validate(driver.status.decisions[-1])
    assert stored == recorded.record
    assert (stored.revision, stored.key, stored.window) == ("4f2a1c", "g1-s0-w2", 2)
    assert (stored.weight, stored.slice, stored.action) == (10, 0, "rollback")
    assert driver.status.last_decision == "Rollback at 10 %: errors."


def test_the_whole_way_to_success_moves_through_every_slice_then_promotes() -> None:
    driver = Driver().start_progressing()
    weights = [driver.status.weight]
    for _ in range(2):
        driver.judge(Action.PROCEED)
        driver.ack_traffic()
        weights.append(driver.status.weight)
    actions = driver.judge(Action.PROCEED)
    assert driver.status.phase is Phase.PROMOTING
    assert of_type(actions, SetWeight) == [SetWeight(weight=100, key="g1-s3-weight")]
    assert weights == [10, 25, 50]

    actions = driver.ack_traffic()
    assert of_type(actions, PromoteTarget) == [PromoteTarget(key="g1-promote")]
    driver.send(TargetPromoted("g1-promote"))
    assert driver.status.phase is Phase.SUCCEEDED
    assert driver.status.weight == 100


def test_a_single_full_slice_goes_straight_to_promoting() -> None:
    driver = Driver(spec=replace(PLAIN_SPEC, slices=(100,)))
    actions = driver.send(Start())
    assert driver.status.phase is Phase.PROMOTING
    assert of_type(actions, SetWeight) == [SetWeight(weight=100, key="g1-s0-weight")]


def test_hold_stays_at_the_weight_counts_windows_and_opens_the_next_at_once() -> None:
    driver = Driver().start_progressing()
    actions = driver.judge(Action.HOLD, "too few requests")
    first_hold = driver.status.hold_since
    assert driver.status.weight == 10
    assert driver.status.windows_at_slice == 1
    assert first_hold == to_rfc3339(driver.now)
    assert of_type(actions, SetWeight) == []
    [opened] = of_type(actions, StartWindow)
    assert from_rfc3339(opened.start) == driver.now

    driver.judge(Action.HOLD)
    assert driver.status.windows_at_slice == 2
    assert driver.status.hold_since == first_hold

    driver.judge(Action.PROCEED)
    assert driver.status.hold_since is None
    assert driver.status.weight == 25


def test_a_hold_past_its_timeout_rolls_back_on_the_next_tick() -> None:
    driver = Driver().start_progressing()
    driver.judge(Action.HOLD)
    early = driver.send(Tick(), after_s=299)
    assert of_type(early, Rollback) == []
    assert driver.status.phase is Phase.PROGRESSING
    actions = driver.send(Tick(), after_s=1)
    assert driver.status.phase is Phase.ROLLED_BACK
    assert driver.status.reason == "HoldTimedOut"
    assert driver.status.weight == 0
    assert of_type(actions, Rollback) == [Rollback(key="g1-rollback")]


def test_a_hold_past_its_timeout_pauses_when_then_is_pause() -> None:
    spec = replace(PLAIN_SPEC, on_hold=OnHold(timeout_s=300.0, then=HoldExpiry.PAUSE))
    driver = Driver(spec=spec).start_progressing()
    driver.judge(Action.HOLD)
    driver.send(Tick(), after_s=300)
    assert driver.status.phase is Phase.PAUSED
    assert driver.status.paused_from is Phase.PROGRESSING
    assert driver.status.weight == 10


def test_a_hold_verdict_arriving_after_the_timeout_applies_the_timeout_at_once() -> None:
    driver = Driver().start_progressing()
    driver.judge(Action.HOLD)
    driver.send(Tick(), after_s=PLAIN_SPEC.interval_s)
    window = driver.status.window
    assert window is not None
    driver.send(WindowJudged(window.key, verdict(Action.HOLD)), after_s=400)
    assert driver.status.phase is Phase.ROLLED_BACK


def test_without_on_hold_a_hold_waits_however_long() -> None:
    driver = Driver(spec=replace(PLAIN_SPEC, on_hold=None)).start_progressing()
    driver.judge(Action.HOLD)
    driver.send(Tick(), after_s=86_400)
    assert driver.status.phase is Phase.PROGRESSING
    assert driver.status.weight == 10


def test_rollback_puts_traffic_back_and_its_acknowledgement_keeps_the_phase() -> None:
    driver = Driver().start_progressing()
    driver.judge(Action.PROCEED)
    driver.ack_traffic()
    actions = driver.judge(Action.ROLLBACK, "error rate 4x stable")
    assert driver.status.phase is Phase.ROLLED_BACK
    assert driver.status.weight == 0
    assert of_type(actions, Rollback) == [Rollback(key="g1-rollback")]
    assert "error rate 4x stable" in driver.status.message
    assert driver.status.awaiting == "g1-rollback"

    assert driver.send(RollbackDone("g1-rollback")) == ()
    assert driver.status.phase is Phase.ROLLED_BACK
    assert driver.status.awaiting is None


def test_a_verdict_for_a_window_already_judged_is_ignored() -> None:
    driver = Driver().start_progressing()
    driver.judge(Action.HOLD)
    before = driver.status
    assert driver.send(WindowJudged("g1-s0-w1", verdict(Action.ROLLBACK))) == ()
    assert driver.status == before


def test_a_stale_traffic_acknowledgement_is_ignored() -> None:
    driver = Driver().start_progressing()
    driver.judge(Action.PROCEED)
    before = driver.status
    assert driver.send(TrafficApplied("g1-s0-weight")) == ()
    assert driver.status == before


def test_the_status_keeps_only_the_newest_decisions() -> None:
    driver = Driver(spec=replace(PLAIN_SPEC, on_hold=None)).start_progressing()
    for index in range(DECISIONS_KEPT + 5):
        driver.judge(Action.HOLD, f"hold number {index}")
    assert len(driver.status.decisions) == DECISIONS_KEPT
    assert driver.status.decisions[-1]["reasoning"] == f"hold number {DECISIONS_KEPT + 4}"
    assert driver.status.decisions[0]["reasoning"] == "hold number 5"
