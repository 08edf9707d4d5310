"""What the state machine reads from the spec, and nothing more.

The controller builds a `MachineSpec` from the full resource, so the machine stays independent
of how the spec models are laid out and is easy to drive from tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from airollout.core.resource.spec import HoldExpiry, ReviewExpiry

__all__ = [
    "HoldExpiry",
    "MachineSpec",
    "OnHold",
    "ReviewExpiry",
    "ReviewTimeout",
    "ScoreThresholds",
]


@dataclass(frozen=True, slots=True)
class OnHold:
    timeout_s: float
    then: HoldExpiry = HoldExpiry.ROLLBACK


@dataclass(frozen=True, slots=True)
class ScoreThresholds:
    """Scores at or above `auto_promote` go ahead; below `manual_review` they are blocked."""

    auto_promote: float
    manual_review: float


@dataclass(frozen=True, slots=True)
class ReviewTimeout:
    """How long a manual review may wait, and what the rollout does when nobody answered."""

    timeout_s: float
    then: ReviewExpiry = ReviewExpiry.REJECT


@dataclass(frozen=True, slots=True)
class MachineSpec:
    generation: int
    slices: tuple[int, ...]  # traffic weights in percent, increasing, normally ending at 100
    interval_s: float = 120.0  # length of one analysis window
    warmup_s: float = 30.0  # ignored after each traffic change before a window opens
    on_hold: OnHold | None = None  # None: a hold waits for a person however long it takes
    selection: bool = False  # spec.selection: a test-selection Job runs before traffic moves
    tests: bool = False  # spec.tests: an Indexed Job runs the selected tests' shards
    promotion: ScoreThresholds | None = None  # spec.promotion: a promotion-score Job runs
    review_timeout: ReviewTimeout | None = None  # None: a review waits however long it takes
    paused: bool = False
    template_hash: str = ""  # of spec.template: a new one is a new canary version
    # Only for the audit trail: which rollout and change a decision record belongs to.
    name: str = ""
    namespace: str = ""
    revision: str = ""
