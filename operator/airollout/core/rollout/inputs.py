"""What can happen to a rollout: the inputs of the state machine.

Events that answer an action carry that action's key, so an answer to an action that is no
longer awaited (a duplicate, or one from before a restart) is recognised and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airollout.core.judge.types import Verdict


@dataclass(frozen=True, slots=True)
class Start:
    """A reconcile: the resource was created, or its spec has a new generation."""


@dataclass(frozen=True, slots=True)
class SelectionFinished:
    key: str
    test_plan: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SelectionFailed:
    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class ShardsFinished:
    """Every shard reported (or the Job ended): the totals, failing node ids named."""

    key: str
    passed: int
    failed: int
    skipped: int
    failing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShardsJobFailed:
    """The tests Job ended without the shards' reports (a crash, the deadline)."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class PromotionScored:
    """The promotion Job's report: its score and decision, and what they rest on."""

    key: str
    score: float
    decision: str = ""  # auto-promote, manual-review or block; "": the thresholds alone decide
    blocks: tuple[str, ...] = ()  # hard blocks, in words: any one blocks whatever the score
    signals: Mapping[str, Any] = field(default_factory=dict)  # signals format v1
    contributions: tuple[Mapping[str, Any], ...] = ()  # {"feature", "logit", ...}
    model: str = ""


@dataclass(frozen=True, slots=True)
class PromotionJobFailed:
    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class WindowJudged:
    key: str  # the window's key, as given in StartWindow
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class TrafficApplied:
    key: str  # the SetWeight key now in effect


@dataclass(frozen=True, slots=True)
class TargetPromoted:
    key: str


@dataclass(frozen=True, slots=True)
class RollbackDone:
    key: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: windows may have ended and holds may have timed out."""


@dataclass(frozen=True, slots=True)
class PausedChanged:
    paused: bool  # the new value of spec.paused


@dataclass(frozen=True, slots=True)
class Resume:
    """A person resumes a paused rollout or approves one awaiting approval."""

    by: str = "a person"


@dataclass(frozen=True, slots=True)
class Approve:
    """A person approves a rollout awaiting review: traffic starts at the first slice."""

    by: str = "a person"


@dataclass(frozen=True, slots=True)
class Reject:
    """A person rejects a rollout awaiting review: it fails before any traffic moves."""

    by: str = "a person"


@dataclass(frozen=True, slots=True)
class Promote:
    """A person skips the remaining slices: 100 % now, then promote."""

    by: str = "a person"


@dataclass(frozen=True, slots=True)
class Abort:
    by: str = "a person"


@dataclass(frozen=True, slots=True)
class TargetMissing:
    target: str  # e.g. "Deployment checkout"


@dataclass(frozen=True, slots=True)
class TargetChanged:
    """Someone else changed the target mid-rollout: the baseline is no longer what we compare."""

    detail: str  # what changed, naming the Deployment


@dataclass(frozen=True, slots=True)
class Conflict:
    other: str  # the AIRollout that already owns the target


@dataclass(frozen=True, slots=True)
class ConflictCleared:
    pass


@dataclass(frozen=True, slots=True)
class InvalidSpec:
    field: str  # the field path, e.g. "spec.traffic.slices[2]"
    message: str


RolloutEvent = (
    Start
    | SelectionFinished
    | SelectionFailed
    | ShardsFinished
    | ShardsJobFailed
    | PromotionScored
    | PromotionJobFailed
    | WindowJudged
    | TrafficApplied
    | TargetPromoted
    | RollbackDone
    | Tick
    | PausedChanged
    | Resume
    | Approve
    | Reject
    | Promote
    | Abort
    | TargetMissing
    | TargetChanged
    | Conflict
    | ConflictCleared
    | InvalidSpec
)
