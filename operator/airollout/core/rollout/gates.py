"""The phases before traffic moves: test selection, the selected tests, promotion score,
approval.

`spec.selection` and `spec.tests` reach Selecting and Testing; `spec.promotion` arrives
with issue 14, so until then `MachineSpec.promotion` is None for every rollout and
Evaluating is driven by its tests.
"""

from __future__ import annotations

import math

from airollout.core.resource.status import AIRolloutStatus, Phase
from airollout.core.rollout.actions import JobKind
from airollout.core.rollout.inputs import (
    PromotionJobFailed,
    PromotionScored,
    RolloutEvent,
    SelectionFailed,
    SelectionFinished,
    ShardsFinished,
    ShardsJobFailed,
)
from airollout.core.rollout.machine_spec import ScoreThresholds
from airollout.core.rollout.transitions import (
    Context,
    Transition,
    after_selection,
    enter_slice,
    fail,
    moved,
    run_job,
)

FAILING_NAMED = 10  # the message names this many failing tests; status.tests has them all


def on_selecting(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    match event:
        case SelectionFinished(key=key, test_plan=plan) if key == status.awaiting:
            planned = status.model_copy(update={"awaiting": None, "test_plan": dict(plan)})
            if ctx.spec.tests and plan.get("shards"):
                return run_job(ctx, planned, JobKind.TESTS)
            return after_selection(ctx, planned)
        case SelectionFailed(key=key, reason=reason) if key == status.awaiting:
            return fail(ctx, status, "SelectionFailed", f"The test-selection Job failed: {reason}")
    return None


def on_testing(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    match event:
        case ShardsFinished(key=key) if key == status.awaiting:
            totals = shard_totals(event)
            done = status.model_copy(update={"awaiting": None, "tests": totals})
            if event.failed:
                return fail(ctx, done, "TestsFailed", failing_tests_message(event))
            return after_selection(ctx, done)
        case ShardsJobFailed(key=key, reason=reason) if key == status.awaiting:
            return fail(ctx, status, "TestsJobFailed", f"The tests Job failed: {reason}")
    return None


def shard_totals(result: ShardsFinished) -> dict[str, object]:
    return {
        "passed": result.passed,
        "failed": result.failed,
        "skipped": result.skipped,
        "failing": list(result.failing),
    }


def failing_tests_message(result: ShardsFinished) -> str:
    named = ", ".join(result.failing[:FAILING_NAMED]) or "not named by the shards"
    more = len(result.failing) - FAILING_NAMED
    rest = f" and {more} more" if more > 0 else ""
    return (
        f"{result.failed} of {result.passed + result.failed} selected tests failed, "
        f"before any traffic moved: {named}{rest}."
    )


def on_evaluating(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    match event:
        case PromotionScored(key=key, score=score) if key == status.awaiting:
            return _judge_score(ctx, status.model_copy(update={"awaiting": None}), score)
        case PromotionJobFailed(key=key, reason=reason) if key == status.awaiting:
            return fail(ctx, status, "PromotionJobFailed", f"The promotion Job failed: {reason}")
    return None


def promotion_decision(score: float, thresholds: ScoreThresholds) -> str:
    if score >= thresholds.auto_promote:
        return "auto-promote"
    if score >= thresholds.manual_review:
        return "manual-review"
    return "block"


def _judge_score(ctx: Context, status: AIRolloutStatus, score: float) -> Transition:
    thresholds = ctx.spec.promotion
    if thresholds is None:  # spec.promotion was removed while the Job ran
        return enter_slice(ctx, status, 0, "Started", "Promotion is no longer configured.")
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        return fail(
            ctx, status, "PromotionJobFailed", f"The promotion score {score} is not in [0, 1]."
        )
    decision = promotion_decision(score, thresholds)
    if decision == "auto-promote":
        message = f"Promotion score {score:.3f} reaches autoPromote {thresholds.auto_promote}."
        return enter_slice(ctx, status, 0, "AutoPromoted", message)
    if decision == "manual-review":
        message = (
            f"Promotion score {score:.3f} is in the manual review band "
            f"[{thresholds.manual_review}, {thresholds.auto_promote}): "
            "resume to approve, or abort."
        )
        waiting = moved(status, Phase.AWAITING_APPROVAL, "ManualReview", message)
        return waiting, (ctx.event("ManualReview", message),)
    message = (
        f"Promotion score {score:.3f} is below manualReview {thresholds.manual_review}: "
        "blocked; promote to override, or abort."
    )
    blocked = moved(status, Phase.BLOCKED, "PromotionBlocked", message)
    return blocked, (ctx.event("PromotionBlocked", message),)
