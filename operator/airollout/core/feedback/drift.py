"""Drift: a rate over a sliding window that has passed its target, said as a sentence.

Events are the outcome labels (`healthy`, `regressed`, `rolled-back-bad`,
`false-rollback`) and `escape` (a test the targeted plan missed), each at its time. A
target caps either a count ("at most 1 escape") or a share of other events ("at most 5 %
of promotions regressed"). At or below its target a rate says nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from airollout.core.feedback.outcomes import Escape, LabelledRollout, Outcome

ESCAPE = "escape"
WINDOW = timedelta(days=30)
PROMOTIONS = (Outcome.HEALTHY.value, Outcome.REGRESSED.value)
ROLLBACKS = (Outcome.ROLLED_BACK_BAD.value, Outcome.FALSE_ROLLBACK.value)

# What a count of each kind is called, singular then plural.
NOUNS = {
    ESCAPE: (
        "regression escaped the targeted test plan",
        "regressions escaped the targeted test plan",
    ),
    Outcome.REGRESSED.value: ("promoted rollout regressed", "promoted rollouts regressed"),
    Outcome.FALSE_ROLLBACK.value: (
        "rollback was false (the same revision later succeeded)",
        "rollbacks were false (the same revision later succeeded)",
    ),
    Outcome.ROLLED_BACK_BAD.value: ("rollout was rolled back", "rollouts were rolled back"),
}


@dataclasses.dataclass(frozen=True)
class Event:
    kind: str
    at: datetime


@dataclasses.dataclass(frozen=True)
class Target:
    """At most `at_most` events of `kind`; with `of`, at most that share of those kinds."""

    kind: str
    at_most: float
    of: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in NOUNS:
            raise ValueError(f"target.kind: must be one of {', '.join(NOUNS)}, not {self.kind!r}")
        if self.at_most < 0 or (self.of and self.at_most > 1):
            raise ValueError(
                f"target {self.kind}: at_most: must be a count >= 0, or a share in [0, 1] "
                f"with 'of', not {self.at_most}"
            )


DEFAULT_TARGETS = (
    Target(ESCAPE, 1),
    Target(Outcome.REGRESSED.value, 0.05, of=PROMOTIONS),
    Target(Outcome.FALSE_ROLLBACK.value, 0.10, of=ROLLBACKS),
)


@dataclasses.dataclass(frozen=True)
class Finding:
    kind: str
    count: int
    total: int | None
    target: Target
    window: timedelta
    sentence: str


def events_from(labelled: Iterable[LabelledRollout], escapes: Iterable[Escape]) -> list[Event]:
    """Outcomes at the rollout's finish, escapes when the full run found them."""
    return [Event(item.outcome.value, item.rollout.finished_at) for item in labelled] + [
        Event(ESCAPE, escape.found_at) for escape in escapes
    ]


def findings(
    events: Iterable[Event],
    now: datetime,
    window: timedelta = WINDOW,
    targets: Sequence[Target] = DEFAULT_TARGETS,
) -> list[Finding]:
    """One finding for each target the window's events pass, in the targets' order."""
    recent = [event.kind for event in events if now - window < event.at <= now]
    found = (_finding(recent, target, window) for target in targets)
    return [finding for finding in found if finding is not None]


def _finding(kinds: Sequence[str], target: Target, window: timedelta) -> Finding | None:
    count = kinds.count(target.kind)
    if not target.of:
        if count <= target.at_most:
            return None
        sentence = (
            f"{_counted(count, target.kind)} in the last {_duration(window)} "
            f"(target: at most {target.at_most:g})"
        )
        return Finding(target.kind, count, None, target, window, sentence)
    total = sum(kinds.count(kind) for kind in target.of)
    if not total or count / total <= target.at_most:
        return None
    sentence = (
        f"{count} of {_counted(total, target.kind)} in the last {_duration(window)} "
        f"({_percent(count / total)}; target: at most {_percent(target.at_most)})"
    )
    return Finding(target.kind, count, total, target, window, sentence)


def _counted(count: int, kind: str) -> str:
    singular, plural = NOUNS[kind]
    return f"{count} {singular if count == 1 else plural}"


def _duration(window: timedelta) -> str:
    if window % timedelta(days=1) == timedelta(0):
        days = window.days
        return "day" if days == 1 else f"{days} days"
    hours = window / timedelta(hours=1)
    return "hour" if hours == 1 else f"{hours:g} hours"


def _percent(share: float) -> str:
    return f"{share * 100:.3g} %"
