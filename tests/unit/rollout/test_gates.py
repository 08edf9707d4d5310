"""Before traffic moves: the test-selection Job, the promotion score and its thresholds."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from airollout.core.resource.status import Phase
from airollout.core.rollout.actions import CreateJob, JobKind, SetWeight
from airollout.core.rollout.inputs import (
    Promote,
    PromotionJobFailed,
    PromotionScored,
    Resume,
    SelectionFailed,
    SelectionFinished,
    Start,
)
from airollout.core.rollout.machine_spec import ScoreThresholds
from tests.support.rollout_driver import PLAIN_SPEC, Driver, of_type

pytestmark = pytest.mark.unit

GATED = replace(
    PLAIN_SPEC, selection=True, promotion=ScoreThresholds(auto_promote=0.9, manual_review=0.7)
)


def scored(score: float) -> Driver:
    driver = Driver(spec=replace(GATED, selection=False))
    driver.send(Start())
    driver.send(PromotionScored("g1-promotion", score))
    return driver


def test_without_gates_traffic_moves_to_the_first_slice_at_once() -> None:
    driver = Driver()
    actions = driver.send(Start())
    assert driver.status.phase is Phase.PROGRESSING
    assert of_type(actions, SetWeight) == [SetWeight(weight=10, key="g1-s0-weight")]


def test_selection_runs_first_then_the_promotion_job() -> None:
    driver = Driver(spec=GATED)
    actions = driver.send(Start())
    assert driver.status.phase is Phase.SELECTING
    assert of_type(actions, CreateJob) == [CreateJob(JobKind.SELECTION, "g1-selection")]

    actions = driver.send(SelectionFinished("g1-selection", {"suites": ["checkout-e2e"]}))
    assert driver.status.phase is Phase.EVALUATING
    assert driver.status.awaiting == "g1-promotion"
    assert of_type(actions, CreateJob) == [CreateJob(JobKind.PROMOTION, "g1-promotion")]


def test_a_job_result_under_another_key_is_ignored() -> None:
    driver = Driver(spec=GATED)
    driver.send(Start())
    before = driver.status
    assert driver.send(SelectionFinished("g0-selection", {})) == ()
    assert driver.status == before


def test_a_failed_selection_job_fails_the_rollout_with_its_reason() -> None:
    driver = Driver(spec=GATED)
    driver.send(Start())
    driver.send(SelectionFailed("g1-selection", "exit code 3"))
    assert driver.status.phase is Phase.FAILED
    assert "exit code 3" in driver.status.message


def test_a_score_at_auto_promote_starts_the_first_slice() -> None:
    driver = scored(0.9)
    assert driver.status.phase is Phase.PROGRESSING
    assert driver.status.weight == 10
    assert driver.status.reason == "AutoPromoted"
    assert "0.900" in driver.status.message


def test_a_score_in_the_review_band_waits_for_approval_and_resume_approves() -> None:
    driver = scored(0.8)
    assert driver.status.phase is Phase.AWAITING_APPROVAL
    assert driver.status.weight == 0
    assert driver.status.reason == "ManualReview"
    assert "0.800" in driver.status.message

    actions = driver.send(Resume(by="alice"))
    assert driver.status.phase is Phase.PROGRESSING
    assert of_type(actions, SetWeight) == [SetWeight(weight=10, key="g1-s0-weight")]
    assert "alice" in driver.status.message


def test_a_score_below_manual_review_blocks_and_says_both_numbers() -> None:
    driver = scored(0.5)
    assert driver.status.phase is Phase.BLOCKED
    assert "0.500" in driver.status.message
    assert "manualReview 0.7" in driver.status.message
    assert driver.status.reason == "PromotionBlocked"


def test_resume_does_not_unblock_a_low_score_but_a_person_can_promote() -> None:
    driver = scored(0.5)
    assert driver.send(Resume()) == ()
    assert driver.status.phase is Phase.BLOCKED

    actions = driver.send(Promote(by="bob"))
    assert driver.status.phase is Phase.PROMOTING
    assert of_type(actions, SetWeight) == [SetWeight(weight=100, key="g1-s3-weight")]


@pytest.mark.parametrize("score", [math.nan, -0.1, 1.5])
def test_a_score_that_is_not_a_probability_fails_the_rollout(score: float) -> None:
    driver = scored(score)
    assert driver.status.phase is Phase.FAILED
    assert driver.status.reason == "PromotionJobFailed"


def test_a_failed_promotion_job_fails_the_rollout_with_its_reason() -> None:
    driver = Driver(spec=replace(GATED, selection=False))
    driver.send(Start())
    driver.send(PromotionJobFailed("g1-promotion", "OOMKilled"))
    assert driver.status.phase is Phase.FAILED
    assert "OOMKilled" in driver.status.message
