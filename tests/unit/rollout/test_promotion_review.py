"""The promotion verdict in the machine: the Job's report, the more cautious of its decision
and the thresholds, hard blocks, a person's review and its timeout, the audit record."""

from __future__ import annotations

from dataclasses import replace

import pytest

from airollout.core.resource.status import Phase
from airollout.core.rollout.actions import EmitEvent, RecordDecision, SetWeight
from airollout.core.rollout.inputs import (
    Abort,
    Approve,
    PausedChanged,
    PromotionScored,
    Reject,
    Resume,
    Start,
    Tick,
)
from airollout.core.rollout.machine_spec import ReviewExpiry, ReviewTimeout, ScoreThresholds
from tests.support.rollout_driver import PLAIN_SPEC, Driver, of_type

pytestmark = pytest.mark.unit

SCORED = replace(
    PLAIN_SPEC,
    promotion=ScoreThresholds(auto_promote=0.92, manual_review=0.75),
    revision="abc123",
)
KEY = "g1-promotion"
SIGNALS = {"tests": {"total": 40, "failed": 0}}
CONTRIBUTIONS = tuple(
    {"feature": name, "logit": logit}
    for name, logit in [("a", 0.1), ("b", -2.0), ("c", 0.5), ("d", 1.0), ("e", -0.2), ("f", 0.3)]
)


def report(score: float, decision: str, blocks: tuple[str, ...] = ()) -> PromotionScored:
    return PromotionScored(KEY, score, decision, blocks, SIGNALS, CONTRIBUTIONS, model="default-v1")


def evaluated(
    score: float, decision: str, blocks: tuple[str, ...] = (), **spec: object
) -> tuple[Driver, tuple[object, ...]]:
    driver = Driver(spec=replace(SCORED, **spec))  # type: ignore[arg-type]
    driver.send(Start())
    assert driver.status.phase is Phase.EVALUATING
    return driver, driver.send(report(score, decision, blocks))


def test_auto_promote_moves_traffic_to_the_first_slice_and_keeps_the_verdict() -> None:
    driver, actions = evaluated(0.953, "auto-promote")
    assert driver.status.phase is Phase.PROGRESSING
    assert of_type(actions, SetWeight) == [SetWeight(weight=10, key="g1-s0-weight")]
    verdict = driver.status.promotion
    assert verdict is not None
    assert (verdict["score"], verdict["decision"], verdict["model"]) == (
        0.953,
        "auto-promote",
        "default-v1",
    )
    assert verdict["signals"] == SIGNALS
    assert [c["feature"] for c in verdict["contributions"]] == ["b", "d", "c", "f", "e"]


def test_the_verdict_is_recorded_in_the_decision_log_with_score_and_decision() -> None:
    driver, actions = evaluated(0.8, "manual-review")
    [logged] = of_type(actions, RecordDecision)
    assert logged.verdict is None
    assert logged.record.key == KEY
    assert logged.record.action == "manual-review"
    assert logged.record.revision == "abc123"
    assert logged.record.promotion is not None
    assert logged.record.promotion["score"] == 0.8
    assert logged.record.promotion["signals"] == SIGNALS
    assert "b -2.00" in logged.record.reasoning
    assert driver.status.decisions[-1]["promotion"]["decision"] == "manual-review"
    assert driver.status.last_decision is not None
    assert driver.status.last_decision.startswith("manual-review")


def test_review_waits_for_a_person_then_approve_starts_the_first_slice() -> None:
    driver, actions = evaluated(0.8, "manual-review")
    assert (driver.status.phase, driver.status.reason) == (Phase.AWAITING_APPROVAL, "ManualReview")
    assert driver.status.weight == 0
    assert "airollout approve" in driver.status.message
    assert driver.status.review_since is not None
    assert driver.send(Tick(), after_s=86400) == (), "no timeout configured: it waits"

    actions = driver.send(Approve(by="alice"))
    assert (driver.status.phase, driver.status.reason) == (Phase.PROGRESSING, "Approved")
    assert of_type(actions, SetWeight) == [SetWeight(weight=10, key="g1-s0-weight")]
    assert [e.reason for e in of_type(actions, EmitEvent)] == ["Approved"]
    assert "alice" in driver.status.message
    assert driver.status.review_since is None


def test_reject_fails_the_rollout_before_any_traffic_moves() -> None:
    driver, _ = evaluated(0.8, "manual-review")
    actions = driver.send(Reject(by="bob"))
    assert (driver.status.phase, driver.status.reason) == (Phase.FAILED, "Rejected")
    assert driver.status.weight == 0
    assert not of_type(actions, SetWeight)
    [event] = of_type(actions, EmitEvent)
    assert (event.reason, event.warning) == ("Rejected", True)
    assert "bob" in event.message


def test_approve_or_reject_outside_a_review_changes_nothing() -> None:
    driver, _ = evaluated(0.95, "auto-promote")
    before = driver.status
    assert driver.send(Approve()) == ()
    assert driver.send(Reject()) == ()
    assert driver.status == before


@pytest.mark.parametrize(
    ("then", "phase", "weight"),
    [(ReviewExpiry.REJECT, Phase.FAILED, 0), (ReviewExpiry.APPROVE, Phase.PROGRESSING, 10)],
)
def test_an_unanswered_review_ends_by_on_review_timeout(
    then: ReviewExpiry, phase: Phase, weight: int
) -> None:
    driver, _ = evaluated(0.8, "manual-review", review_timeout=ReviewTimeout(600.0, then))
    assert "After 600s without an answer" in driver.status.message
    assert driver.send(Tick(), after_s=598) == (), "not yet"
    actions = driver.send(Tick(), after_s=2)
    assert (driver.status.phase, driver.status.reason) == (phase, "ReviewTimedOut")
    assert driver.status.weight == weight
    assert "reviewTimeout (600s)" in driver.status.message
    assert [e.reason for e in of_type(actions, EmitEvent)] == ["ReviewTimedOut"]


def test_a_pause_and_resume_restart_the_review_clock() -> None:
    review = ReviewTimeout(600.0, ReviewExpiry.REJECT)
    driver, _ = evaluated(0.8, "manual-review", review_timeout=review)
    driver.send(PausedChanged(paused=True), after_s=500)
    assert driver.status.phase is Phase.PAUSED
    driver.send(PausedChanged(paused=False), after_s=10)
    assert driver.status.phase is Phase.AWAITING_APPROVAL
    assert driver.send(Tick(), after_s=300) == (), "the clock started again at the resume"
    driver.send(Tick(), after_s=300)
    assert driver.status.phase is Phase.FAILED


def test_a_hard_block_blocks_whatever_the_score_says_naming_the_reasons() -> None:
    blocks = ("2 tests failed", "critical CVE-2026-1 has a fix")
    driver, actions = evaluated(0.99, "auto-promote", blocks)
    assert (driver.status.phase, driver.status.reason) == (Phase.BLOCKED, "PromotionBlocked")
    assert "2 tests failed; critical CVE-2026-1 has a fix" in driver.status.message
    assert driver.status.promotion is not None
    assert driver.status.promotion["decision"] == "block"
    assert driver.status.promotion["blocks"] == list(blocks)
    assert not of_type(actions, SetWeight)


@pytest.mark.parametrize(
    ("score", "job_says", "taken", "phase"),
    [
        (0.95, "manual-review", "manual-review", Phase.AWAITING_APPROVAL),  # the Job is stricter
        (0.95, "block", "block", Phase.BLOCKED),
        (0.80, "auto-promote", "manual-review", Phase.AWAITING_APPROVAL),  # thresholds stricter
        (0.50, "auto-promote", "block", Phase.BLOCKED),
        (0.80, "block", "block", Phase.BLOCKED),
    ],
)
def test_the_more_cautious_of_the_job_and_the_thresholds_stands(
    score: float, job_says: str, taken: str, phase: Phase
) -> None:
    driver, _ = evaluated(score, job_says)
    assert driver.status.phase is phase
    assert driver.status.promotion is not None
    assert driver.status.promotion["decision"] == taken
    assert driver.status.promotion["jobDecision"] == job_says


def test_the_spec_thresholds_decide_not_the_defaults() -> None:
    driver, _ = evaluated(0.85, "auto-promote", promotion=ScoreThresholds(0.8, 0.5))
    assert driver.status.phase is Phase.PROGRESSING


def test_a_decision_that_is_not_a_tier_fails_the_rollout() -> None:
    driver, _ = evaluated(0.95, "ship-it")
    assert (driver.status.phase, driver.status.reason) == (Phase.FAILED, "PromotionJobFailed")
    assert "ship-it" in driver.status.message


def test_blocked_can_be_aborted_and_resume_is_not_an_approval() -> None:
    driver, _ = evaluated(0.5, "block")
    assert driver.send(Resume()) == ()
    assert driver.send(Approve()) == ()
    driver.send(Abort(by="carol"))
    assert (driver.status.phase, driver.status.reason) == (Phase.ROLLED_BACK, "Aborted")
