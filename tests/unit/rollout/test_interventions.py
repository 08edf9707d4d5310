"""People, spec changes and the cluster: pause, resume, promote, abort, conflicts, bad specs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from airollout.core.judge.types import Action
from airollout.core.resource.status import Phase
from airollout.core.rollout.actions import CreateJob, JobKind, Rollback, SetWeight, StartWindow
from airollout.core.rollout.inputs import (
    Abort,
    Conflict,
    ConflictCleared,
    InvalidSpec,
    PausedChanged,
    Promote,
    PromotionScored,
    Resume,
    SelectionFinished,
    Start,
    TargetChanged,
    TargetMissing,
    Tick,
    TrafficApplied,
    WindowJudged,
)
from airollout.core.rollout.machine_spec import HoldExpiry, OnHold, ScoreThresholds
from airollout.core.rollout.timeline import to_rfc3339
from tests.support.rollout_driver import PLAIN_SPEC, Driver, of_type, verdict

pytestmark = pytest.mark.unit


def test_a_rollout_created_paused_waits_and_starts_when_unpaused() -> None:
    driver = Driver(spec=replace(PLAIN_SPEC, paused=True))
    assert of_type(driver.send(Start()), SetWeight) == []
    assert driver.status.phase is Phase.PAUSED
    assert driver.status.paused_from is Phase.PENDING

    driver.spec = PLAIN_SPEC
    actions = driver.send(PausedChanged(paused=False))
    assert driver.status.phase is Phase.PROGRESSING
    assert of_type(actions, SetWeight) == [SetWeight(weight=10, key="g1-s0-weight")]


def test_pausing_abandons_the_open_window_and_resuming_opens_a_fresh_one() -> None:
    driver = Driver().start_progressing()
    abandoned = driver.status.window
    assert abandoned is not None
    driver.send(PausedChanged(paused=True))
    assert driver.status.phase is Phase.PAUSED
    assert driver.send(WindowJudged(abandoned.key, verdict(Action.PROCEED))) == ()
    assert driver.status.weight == 10

    actions = driver.send(PausedChanged(paused=False))
    assert driver.status.phase is Phase.PROGRESSING
    [opened] = of_type(actions, StartWindow)
    assert opened.key != abandoned.key


def test_a_traffic_change_under_way_is_recorded_while_paused() -> None:
    driver = Driver()
    [asked] = of_type(driver.send(Start()), SetWeight)
    driver.send(PausedChanged(paused=True))
    driver.send(TrafficApplied(asked.key))
    assert driver.status.slice_started_at == to_rfc3339(driver.now)
    assert driver.status.awaiting is None
    actions = driver.send(PausedChanged(paused=False))
    assert len(of_type(actions, StartWindow)) == 1
    assert of_type(actions, SetWeight) == []


def test_resuming_before_the_traffic_change_is_acknowledged_asks_for_it_again() -> None:
    driver = Driver()
    driver.send(Start())
    driver.send(PausedChanged(paused=True))
    actions = driver.send(PausedChanged(paused=False))
    assert of_type(actions, SetWeight) == [SetWeight(weight=10, key="g1-s0-weight")]


def test_a_job_result_while_paused_is_asked_for_again_under_the_same_key() -> None:
    driver = Driver(spec=replace(PLAIN_SPEC, selection=True))
    driver.send(Start())
    driver.send(PausedChanged(paused=True))
    assert driver.send(SelectionFinished("g1-selection", {})) == ()
    actions = driver.send(PausedChanged(paused=False))
    assert of_type(actions, CreateJob) == [CreateJob(JobKind.SELECTION, "g1-selection")]
    driver.send(SelectionFinished("g1-selection", {}))
    assert driver.status.phase is Phase.PROGRESSING


def test_resuming_a_paused_approval_waits_for_approval_again() -> None:
    driver = Driver(spec=replace(PLAIN_SPEC, promotion=ScoreThresholds(0.9, 0.7)))
    driver.send(Start())
    driver.send(PromotionScored("g1-promotion", 0.8))
    driver.send(PausedChanged(paused=True))
    driver.send(PausedChanged(paused=False))
    assert driver.status.phase is Phase.AWAITING_APPROVAL
    assert driver.status.reason == "ManualReview"
    assert driver.status.weight == 0
    driver.send(Resume())
    assert driver.status.phase is Phase.PROGRESSING


def test_a_person_cannot_resume_while_spec_paused_is_true() -> None:
    driver = Driver().start_progressing()
    driver.send(PausedChanged(paused=True))
    driver.spec = replace(PLAIN_SPEC, paused=True)
    assert driver.send(Resume()) == ()
    assert driver.status.phase is Phase.PAUSED


def test_a_person_resumes_a_pause_that_a_hold_timeout_caused() -> None:
    spec = replace(PLAIN_SPEC, on_hold=OnHold(timeout_s=60.0, then=HoldExpiry.PAUSE))
    driver = Driver(spec=spec).start_progressing()
    driver.judge(Action.HOLD)
    driver.send(Tick(), after_s=60)
    assert driver.status.reason == "HoldTimedOut"
    actions = driver.send(Resume(by="carol"))
    assert driver.status.phase is Phase.PROGRESSING
    assert len(of_type(actions, StartWindow)) == 1
    assert "carol" in driver.status.message
    assert driver.status.hold_since is None


def test_pausing_is_ignored_while_promoting() -> None:
    driver = Driver().start_progressing()
    driver.send(Promote())
    assert driver.send(PausedChanged(paused=True)) == ()
    assert driver.status.phase is Phase.PROMOTING


def test_a_person_promote_skips_the_remaining_slices() -> None:
    driver = Driver().start_progressing()
    actions = driver.send(Promote(by="dave"))
    assert driver.status.phase is Phase.PROMOTING
    assert driver.status.weight == 100
    assert of_type(actions, SetWeight) == [SetWeight(weight=100, key="g1-s3-weight")]
    assert driver.send(Promote(by="dave")) == ()


def test_abort_after_traffic_moved_rolls_back() -> None:
    driver = Driver().start_progressing()
    actions = driver.send(Abort(by="erin"))
    assert driver.status.phase is Phase.ROLLED_BACK
    assert driver.status.reason == "Aborted"
    assert of_type(actions, Rollback) == [Rollback(key="g1-rollback")]
    assert "erin" in driver.status.message


def test_abort_before_any_traffic_moved_needs_no_rollback() -> None:
    driver = Driver(spec=replace(PLAIN_SPEC, selection=True))
    driver.send(Start())
    actions = driver.send(Abort())
    assert driver.status.phase is Phase.ROLLED_BACK
    assert of_type(actions, Rollback) == []


def test_a_conflict_before_traffic_blocks_with_the_other_name_until_cleared() -> None:
    driver = Driver(spec=replace(PLAIN_SPEC, selection=True))
    driver.send(Start())
    driver.send(Conflict(other="checkout-9b1e"))
    assert driver.status.phase is Phase.BLOCKED
    assert driver.status.blocked_by == "checkout-9b1e"
    assert "checkout-9b1e" in driver.status.message
    assert driver.send(Conflict(other="checkout-9b1e")) == ()

    actions = driver.send(ConflictCleared())
    assert driver.status.phase is Phase.SELECTING
    assert driver.status.blocked_by is None
    assert of_type(actions, CreateJob) == [CreateJob(JobKind.SELECTION, "g1-selection")]


def test_a_conflict_after_traffic_moved_is_noted_but_does_not_stop_the_rollout() -> None:
    driver = Driver().start_progressing()
    driver.send(Conflict(other="checkout-9b1e"))
    assert driver.status.phase is Phase.PROGRESSING
    assert driver.status.blocked_by == "checkout-9b1e"


def test_an_invalid_spec_fails_with_a_message_naming_the_field() -> None:
    driver = Driver()
    driver.send(InvalidSpec(field="spec.traffic.slices[2]", message="must be above 25"))
    assert driver.status.phase is Phase.FAILED
    assert driver.status.message == "spec.traffic.slices[2]: must be above 25"


def test_an_invalid_spec_mid_rollout_puts_traffic_back() -> None:
    driver = Driver().start_progressing()
    actions = driver.send(InvalidSpec(field="spec.onHold.timeout", message="not a duration"))
    assert driver.status.phase is Phase.FAILED
    assert driver.status.weight == 0
    assert of_type(actions, Rollback) == [Rollback(key="g1-rollback")]


def test_a_missing_target_keeps_a_new_rollout_pending_and_says_so_once() -> None:
    driver = Driver()
    first = driver.send(TargetMissing(target="Deployment checkout"))
    assert driver.status.phase is Phase.PENDING
    assert "Deployment checkout" in driver.status.message
    assert first
    assert driver.send(TargetMissing(target="Deployment checkout")) == ()
    driver.send(Start())
    assert driver.status.phase is Phase.PROGRESSING


def test_a_target_that_disappears_mid_rollout_fails_it() -> None:
    driver = Driver().start_progressing()
    driver.send(TargetMissing(target="Deployment checkout"))
    assert driver.status.phase is Phase.FAILED
    assert "Deployment checkout" in driver.status.message


def test_a_target_changed_by_someone_else_fails_the_rollout_and_pulls_the_canary() -> None:
    driver = Driver().start_progressing()
    detail = "Deployment checkout's image changed to checkout:hotfix outside the rollout."
    actions = driver.send(TargetChanged(detail=detail))
    assert driver.status.phase is Phase.FAILED
    assert driver.status.reason == "TargetChanged"
    assert detail in driver.status.message
    assert of_type(actions, Rollback) == [Rollback(key="g1-rollback")]


def test_a_new_generation_mid_rollout_is_observed_without_restarting() -> None:
    driver = Driver().start_progressing()
    driver.spec = replace(PLAIN_SPEC, generation=2)
    assert driver.send(Start()) == ()
    assert driver.status.observed_generation == 2
    assert driver.status.weight == 10
    assert driver.status.phase is Phase.PROGRESSING
