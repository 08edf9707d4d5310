"""AwaitingApproval: a promotion score in the review band waits for a person.

`airollout approve` starts traffic at the first slice (its analysis still judges every
slice); `airollout reject` fails the rollout before any traffic moves. With
`spec.promotion.reviewTimeout` an unanswered review ends by `onReviewTimeout` (reject
unless the spec says approve): time alone adds no evidence, so rejecting is the default.
"""

from __future__ import annotations

from airollout.core.resource.status import AIRolloutStatus, Phase
from airollout.core.rollout.inputs import RolloutEvent, Tick
from airollout.core.rollout.machine_spec import ReviewExpiry, ReviewTimeout
from airollout.core.rollout.timeline import seconds_since
from airollout.core.rollout.transitions import Context, Transition, enter_slice, fail


def on_awaiting_approval(
    ctx: Context, status: AIRolloutStatus, event: RolloutEvent
) -> Transition | None:
    match event:
        case Tick():
            review = expired_review(ctx, status)
            return _expire_review(ctx, status, review) if review is not None else None
    return None


def approve(ctx: Context, status: AIRolloutStatus, by: str) -> Transition | None:
    if status.phase is not Phase.AWAITING_APPROVAL:
        return None
    return enter_slice(ctx, _reviewed(status), 0, "Approved", f"Approved by {by}.")


def reject(ctx: Context, status: AIRolloutStatus, by: str) -> Transition | None:
    if status.phase is not Phase.AWAITING_APPROVAL:
        return None
    message = f"Rejected by {by} in review; no traffic moved to the new version."
    return fail(ctx, _reviewed(status), "Rejected", message)


def expired_review(ctx: Context, status: AIRolloutStatus) -> ReviewTimeout | None:
    """The review policy, once the wait has lasted past reviewTimeout; else None."""
    review = ctx.spec.review_timeout
    if review is None or status.review_since is None:
        return None
    return review if seconds_since(status.review_since, ctx.now) >= review.timeout_s else None


def _expire_review(ctx: Context, status: AIRolloutStatus, review: ReviewTimeout) -> Transition:
    waited = (
        f"No review since {status.review_since}, past spec.promotion.reviewTimeout "
        f"({review.timeout_s:g}s); onReviewTimeout is {review.then.value}"
    )
    if review.then is ReviewExpiry.APPROVE:
        return enter_slice(ctx, _reviewed(status), 0, "ReviewTimedOut", f"{waited}: approved.")
    message = f"{waited}: rejected, no traffic moved."
    return fail(ctx, _reviewed(status), "ReviewTimedOut", message)


def _reviewed(status: AIRolloutStatus) -> AIRolloutStatus:
    return status.model_copy(update={"review_since": None})
