"""Outcome labels: each of the four, the observation period, reverts, retries, escapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airollout.core.feedback.outcomes import (
    FinishedRollout,
    FullRun,
    Outcome,
    PlanRecord,
    escapes_of,
    label,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def rollout(
    result: str = "promoted",
    *,
    at: datetime = T0,
    revision: str = "r2",
    template: str = "h2",
    previous: str | None = "h1",
    target: str = "checkout",
    name: str = "checkout-r2",
) -> FinishedRollout:
    return FinishedRollout(
        name=name,
        namespace="shop",
        target=target,
        revision=revision,
        template_hash=template,
        result=result,
        finished_at=at,
        score=0.9,
        decision="auto-promote",
        previous_template_hash=previous,
    )


def test_no_label_while_the_observation_period_runs() -> None:
    assert label(rollout(), [], breached=False, observation=DAY, now=T0 + DAY / 2) is None


def test_a_promotion_without_breach_is_healthy_once_the_period_is_over() -> None:
    assert label(rollout(), [], breached=False, observation=DAY, now=T0 + DAY) == "healthy"


def test_a_promotion_whose_bounds_were_breached_regressed() -> None:
    assert label(rollout(), [], breached=True, observation=DAY, now=T0 + 2 * DAY) == (
        Outcome.REGRESSED
    )


def test_an_unknown_breach_leaves_a_promotion_unlabelled() -> None:
    assert label(rollout(), [], breached=None, observation=DAY, now=T0 + 2 * DAY) is None


def test_a_promotion_reverted_to_its_predecessor_within_the_period_regressed() -> None:
    revert = rollout(at=T0 + DAY / 4, revision="r1", template="h1", previous="h2")
    outcome = label(rollout(), [revert], breached=None, observation=DAY, now=T0 + DAY)
    assert outcome == Outcome.REGRESSED


def test_going_back_to_an_old_template_after_another_version_is_no_revert() -> None:
    newer = rollout(at=T0 + DAY / 4, revision="r3", template="h3", previous="h2")
    back = rollout(at=T0 + DAY / 2, revision="r1", template="h1", previous="h3")
    outcome = label(rollout(), [back, newer], breached=False, observation=DAY, now=T0 + DAY)
    assert outcome == Outcome.HEALTHY


def test_a_revert_of_another_target_does_not_count() -> None:
    other = rollout(at=T0 + DAY / 4, template="h1", previous="h2", target="cart")
    outcome = label(rollout(), [other], breached=False, observation=DAY, now=T0 + DAY)
    assert outcome == Outcome.HEALTHY


def test_a_rollback_never_retried_was_a_rollback_of_a_bad_artifact() -> None:
    fixed = rollout(at=T0 + DAY / 2, revision="r3", template="h3")
    outcome = label(rollout("rolled-back"), [fixed], None, observation=DAY, now=T0 + DAY)
    assert outcome == Outcome.ROLLED_BACK_BAD


def test_a_rollback_whose_unchanged_revision_later_succeeded_was_false() -> None:
    retried = rollout(at=T0 + DAY / 2, name="checkout-r2-retry")
    outcome = label(rollout("rolled-back"), [retried], None, observation=DAY, now=T0 + DAY)
    assert outcome == Outcome.FALSE_ROLLBACK


def test_a_retry_with_a_changed_template_does_not_make_the_rollback_false() -> None:
    changed = rollout(at=T0 + DAY / 2, template="h2-tuned")
    outcome = label(rollout("failed"), [changed], None, observation=DAY, now=T0 + DAY)
    assert outcome == Outcome.ROLLED_BACK_BAD


def test_a_bad_result_or_score_names_the_field() -> None:
    with pytest.raises(ValueError, match="result: must be one of"):
        rollout("aborted")
    with pytest.raises(ValueError, match="score: must be in"):
        FinishedRollout("a", "b", "c", "r", "h", "promoted", T0, score=1.5)


def plan(tests: set[str], *, full_suite: bool = False) -> PlanRecord:
    return PlanRecord("r2", frozenset(tests), ("shop/cart.py",), T0, full_suite=full_suite)


def test_a_test_failing_in_a_later_full_run_but_not_planned_escaped() -> None:
    runs = [
        FullRun("r2", frozenset({"t_cart", "t_pay"}), T0 + DAY),
        FullRun("r2", frozenset({"t_pay"}), T0 + 2 * DAY),
        FullRun("r1", frozenset({"t_tax"}), T0 + DAY),
        FullRun("r2", frozenset({"t_old"}), T0 - DAY),
    ]
    found = escapes_of(plan({"t_cart"}), runs)
    assert [(e.test, e.found_at, e.changed_paths) for e in found] == [
        ("t_pay", T0 + DAY, ("shop/cart.py",))
    ]


def test_a_full_suite_plan_has_no_escapes() -> None:
    runs = [FullRun("r2", frozenset({"t_pay"}), T0 + DAY)]
    assert escapes_of(plan(set(), full_suite=True), runs) == []
