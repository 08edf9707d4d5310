"""The phases before traffic moves: test selection, promotion score, approval.

Nothing reaches these phases yet: their spec fields (`spec.selection`, `spec.promotion`) and
the status fields that keep the test plan and the score arrive with issues 13 (test
selection) and 14 (promotion). Until then `MachineSpec.selection` is False and
`MachineSpec.promotion` None for every rollout, and the logic here is driven by its tests.
"""

from __future__ import annotations

import math

from airollout.core.resource.status import AIRolloutStatus, Phase
from airollout.core.rollout.inputs import (
    PromotionJobFailed,
    PromotionScored,
    RolloutEvent,
    SelectionFailed,
    SelectionFinished,
)
from airollout.core.rollout.machine_spec import ScoreThresholds
from airollout.core.rollout.transitions import (
    Context,
    Transition,
    after_selection,
    enter_slice,
    fail,
    moved,
)


def on_selecting(ctx: Context, status: AIRolloutStatus, event: RolloutEvent) -> Transition | None:
    match event:
        case SelectionFinished(key=key) if key == status.awaiting:
            return after_selection(ctx, status.model_copy(update={"awaiting": None}))
        case SelectionFailed(key=key, reason=reason) if key == status.awaiting:
            return fail(ctx, status, "SelectionFailed", f"The test-selection Job failed: {reason}")
    return None


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
