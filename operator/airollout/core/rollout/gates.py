"""The phases before traffic moves: test selection, the selected tests, the promotion
score (Evaluating). What the score's tier leads to, a person's review, is in `review.py`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from airollout.core.judge.records import last_decision
from airollout.core.promotion.tiers import Decision, decide, more_cautious
from airollout.core.resource.status import AIRolloutStatus, DecisionRecord, Phase
from airollout.core.rollout.actions import JobKind, RecordDecision
from airollout.core.rollout.inputs import (
    PromotionJobFailed,
    PromotionScored,
    RolloutEvent,
    SelectionFailed,
    SelectionFinished,
    ShardsFinished,
    ShardsJobFailed,
)
from airollout.core.rollout.jobs import PROMOTION_DECISIONS
from airollout.core.rollout.machine_spec import ScoreThresholds
from airollout.core.rollout.progression import DECISIONS_KEPT
from airollout.core.rollout.timeline import to_rfc3339
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
        case PromotionScored(key=key) if key == status.awaiting:
            return _judge_score(ctx, status.model_copy(update={"awaiting": None}), event)
        case PromotionJobFailed(key=key, reason=reason) if key == status.awaiting:
            return fail(ctx, status, "PromotionJobFailed", f"The promotion Job failed: {reason}")
    return None


# From the boldest to the most cautious: of two decisions the later one stands.
DECISIONS = PROMOTION_DECISIONS
CONTRIBUTIONS_KEPT = 5  # the largest in the status; the decision log has the Job's report


def _judge_score(ctx: Context, status: AIRolloutStatus, result: PromotionScored) -> Transition:
    thresholds = ctx.spec.promotion
    if thresholds is None:  # spec.promotion was removed while the Job ran
        return enter_slice(ctx, status, 0, "Started", "Promotion is no longer configured.")
    score = result.score
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        return fail(
            ctx, status, "PromotionJobFailed", f"The promotion score {score} is not in [0, 1]."
        )
    if result.decision and result.decision not in DECISIONS:
        problem = f"The promotion Job's decision {result.decision!r} is not one of {DECISIONS}."
        return fail(ctx, status, "PromotionJobFailed", problem)
    by_score = decide(score, (), thresholds)
    job_said = Decision(result.decision) if result.decision else by_score
    decision = (Decision.BLOCK if result.blocks else more_cautious(by_score, job_said)).value
    message = tier_message(result, decision, by_score.value, thresholds)
    record = _record(ctx, result, decision, message)
    scored = status.model_copy(
        update={
            "promotion": _verdict(result, decision, thresholds),
            "decisions": [*status.decisions, record.model_dump(mode="json", by_alias=True)][
                -DECISIONS_KEPT:
            ],
            "last_decision": last_decision(record),
        }
    )
    new, actions = _enter_tier(ctx, scored, decision, message)
    logged = RecordDecision(verdict=None, key=f"{result.key}-decision", record=record)
    return new, (logged, *actions)


def tier_message(
    result: PromotionScored, decision: str, by_score: str, thresholds: ScoreThresholds
) -> str:
    """Why the rollout takes this tier, naming the score, the threshold and any block."""
    score = f"Promotion score {result.score:.3f}"
    if result.blocks:
        return f"{score}, but blocked: {'; '.join(result.blocks)}."
    if decision != by_score:
        return f"{score} (by the thresholds: {by_score}), but the promotion Job decided {decision}."
    if decision == "auto-promote":
        return f"{score} reaches autoPromote {thresholds.auto_promote}."
    if decision == "manual-review":
        return (
            f"{score} is in the manual review band "
            f"[{thresholds.manual_review}, {thresholds.auto_promote})."
        )
    return f"{score} is below manualReview {thresholds.manual_review}."


def _enter_tier(ctx: Context, status: AIRolloutStatus, decision: str, message: str) -> Transition:
    if decision == "auto-promote":
        return enter_slice(ctx, status, 0, "AutoPromoted", message)
    if decision == "manual-review":
        text = f"{message} Waiting for a person: `airollout approve` or `airollout reject`."
        if ctx.spec.review_timeout is not None:
            review = ctx.spec.review_timeout
            text += f" After {review.timeout_s:g}s without an answer: {review.then.value}."
        since = to_rfc3339(ctx.now)
        waiting = moved(status, Phase.AWAITING_APPROVAL, "ManualReview", text, review_since=since)
        return waiting, (ctx.event("ManualReview", text),)
    text = f"{message} Blocked: `airollout promote` overrides, `airollout abort` ends it."
    blocked = moved(status, Phase.BLOCKED, "PromotionBlocked", text)
    return blocked, (ctx.event("PromotionBlocked", text),)


def _verdict(result: PromotionScored, decision: str, thresholds: ScoreThresholds) -> dict[str, Any]:
    """status.promotion: what `airollout status` and `kubectl get` show of the verdict."""
    largest = sorted(result.contributions, key=_size, reverse=True)[:CONTRIBUTIONS_KEPT]
    tiers = {"autoPromote": thresholds.auto_promote, "manualReview": thresholds.manual_review}
    return {**_facts(result, decision, largest), "thresholds": tiers}


def _facts(
    result: PromotionScored, decision: str, contributions: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    return {
        "score": result.score,
        "decision": decision,
        "jobDecision": result.decision or None,
        "blocks": list(result.blocks),
        "signals": dict(result.signals),
        "contributions": [dict(item) for item in contributions],
        "model": result.model or None,
    }


def _size(contribution: Mapping[str, Any]) -> float:
    logit = contribution.get("logit")
    return abs(logit) if isinstance(logit, int | float) and math.isfinite(logit) else 0.0


def _record(ctx: Context, result: PromotionScored, decision: str, message: str) -> DecisionRecord:
    """The promotion verdict in the audit trail, beside the windows' verdicts, so the
    feedback loop reads each rollout's score and decision from the decision log."""
    shown = ", ".join(
        f"{item.get('feature')} {item.get('logit'):+.2f}"
        for item in sorted(result.contributions, key=_size, reverse=True)
        if isinstance(item.get("logit"), int | float)
    )
    reasoning = f"{message} Contributions (logit): {shown or 'none reported'}."
    return DecisionRecord(
        time=to_rfc3339(ctx.now),
        action=decision,
        key=result.key,
        summary=f"{decision}: {message}",
        reasoning=reasoning,
        revision=ctx.spec.revision or None,
        promotion=_facts(result, decision, result.contributions),
    )
