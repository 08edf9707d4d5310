"""Outcome labels for finished rollouts, and escapes of the targeted test plan.

A label is given only once the observation period after the rollout is over, so that the
evidence a label rests on (a breach, a revert, a retry that succeeded) had time to appear.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

PROMOTED, ROLLED_BACK, FAILED = "promoted", "rolled-back", "failed"
RESULTS = (PROMOTED, ROLLED_BACK, FAILED)


class Outcome(StrEnum):
    HEALTHY = "healthy"
    REGRESSED = "regressed"
    ROLLED_BACK_BAD = "rolled-back-bad"
    FALSE_ROLLBACK = "false-rollback"


# The verdicts that turned out right: a promotion that held, a rollback of a bad artifact.
RIGHT_VERDICTS = frozenset({Outcome.HEALTHY, Outcome.ROLLED_BACK_BAD})
# The artifact was good, whatever the verdict: what the promotion score predicts.
GOOD_ARTIFACTS = frozenset({Outcome.HEALTHY, Outcome.FALSE_ROLLBACK})


@dataclasses.dataclass(frozen=True)
class FinishedRollout:
    """One rollout that finished; `previous_template_hash` is the template it replaced."""

    name: str
    namespace: str
    target: str
    revision: str
    template_hash: str
    result: str
    finished_at: datetime
    score: float | None = None
    decision: str | None = None
    previous_template_hash: str | None = None

    def __post_init__(self) -> None:
        if self.result not in RESULTS:
            raise ValueError(
                f"rollout {self.namespace}/{self.name}: result: must be one of "
                f"{', '.join(RESULTS)}, not {self.result!r}"
            )
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(
                f"rollout {self.namespace}/{self.name}: score: must be in [0, 1], not {self.score}"
            )

    @property
    def promoted(self) -> bool:
        return self.result == PROMOTED

    def same_target(self, other: FinishedRollout) -> bool:
        return (self.namespace, self.target) == (other.namespace, other.target)


@dataclasses.dataclass(frozen=True)
class LabelledRollout:
    rollout: FinishedRollout
    outcome: Outcome


def label(
    rollout: FinishedRollout,
    later: Sequence[FinishedRollout],
    breached: bool | None,
    observation: timedelta,
    now: datetime,
) -> Outcome | None:
    """The rollout's outcome, or None while the observation period runs or evidence lacks.

    `breached`: the target's bounds were breached or an alert fired in the observation
    period (the app asks Prometheus). It matters only for a promotion: a rolled-back
    canary served no traffic afterwards. A revert settles a promotion without it.
    """
    if now < rollout.finished_at + observation:
        return None
    after = sorted(
        (other for other in later if rollout.same_target(other)),
        key=lambda other: other.finished_at,
    )
    after = [other for other in after if other.finished_at > rollout.finished_at]
    if not rollout.promoted:
        retried = any(_unchanged_success(rollout, other) for other in after)
        return Outcome.FALSE_ROLLBACK if retried else Outcome.ROLLED_BACK_BAD
    if _reverted(rollout, after, observation):
        return Outcome.REGRESSED
    if breached is None:
        return None
    return Outcome.REGRESSED if breached else Outcome.HEALTHY


def _unchanged_success(rollout: FinishedRollout, other: FinishedRollout) -> bool:
    return (
        other.promoted
        and other.revision == rollout.revision
        and other.template_hash == rollout.template_hash
    )


def _reverted(
    rollout: FinishedRollout, after: Sequence[FinishedRollout], observation: timedelta
) -> bool:
    """The next promotion of the target, within the period, put the predecessor back.

    Only the next one: once another version was promoted in between, going back to an old
    template is a new change, not a revert of this rollout.
    """
    if rollout.previous_template_hash is None:
        return False
    deadline = rollout.finished_at + observation
    following = next((other for other in after if other.promoted), None)
    return (
        following is not None
        and following.finished_at <= deadline
        and following.template_hash == rollout.previous_template_hash
    )


@dataclasses.dataclass(frozen=True)
class PlanRecord:
    """A targeted test plan as it ran: the tests it chose for a change at `revision`."""

    revision: str
    tests: frozenset[str]
    changed_paths: tuple[str, ...]
    planned_at: datetime
    full_suite: bool = False


@dataclasses.dataclass(frozen=True)
class FullRun:
    """A later run of the whole suite at `revision`, and the tests that failed in it."""

    revision: str
    failed: frozenset[str]
    finished_at: datetime


@dataclasses.dataclass(frozen=True)
class Escape:
    """A test that failed in a full run of the plan's revision but was not in the plan."""

    test: str
    revision: str
    changed_paths: tuple[str, ...]
    planned_at: datetime
    found_at: datetime


def escapes_of(plan: PlanRecord, later_full_runs: Sequence[FullRun]) -> list[Escape]:
    """The plan's escapes: a full-suite plan has none, it ran everything."""
    if plan.full_suite:
        return []
    found: dict[str, datetime] = {}
    for run in sorted(later_full_runs, key=lambda run: run.finished_at):
        if run.revision != plan.revision or run.finished_at < plan.planned_at:
            continue
        for test in run.failed - plan.tests:
            found.setdefault(test, run.finished_at)
    return [
        Escape(test, plan.revision, plan.changed_paths, plan.planned_at, at)
        for test, at in sorted(found.items())
    ]
