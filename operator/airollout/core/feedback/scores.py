"""How good past decisions were: the judge's verdicts, the promotion score's calibration,
the targeted test plans' escapes.

The probabilities scored are the promotion score's: the chance the artifact reaches
production without a regression, so the event scored is "the artifact was good".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from airollout.core.feedback.outcomes import (
    GOOD_ARTIFACTS,
    RIGHT_VERDICTS,
    Escape,
    FullRun,
    LabelledRollout,
    Outcome,
    PlanRecord,
    escapes_of,
)

CALIBRATION_BINS = 10


def _checked(probabilities: Sequence[float], events: Sequence[bool]) -> None:
    if len(probabilities) != len(events):
        raise ValueError(
            f"{len(probabilities)} probabilities but {len(events)} outcomes: "
            "each probability needs its outcome"
        )
    if not probabilities:
        raise ValueError("no probabilities to score")
    bad = next((p for p in probabilities if not 0.0 <= p <= 1.0), None)
    if bad is not None:
        raise ValueError(f"probability {bad} is outside [0, 1]")


def brier(probabilities: Sequence[float], events: Sequence[bool]) -> float:
    """Mean squared distance between each probability and what happened (1 or 0)."""
    _checked(probabilities, events)
    return sum((p - float(e)) ** 2 for p, e in zip(probabilities, events, strict=True)) / len(
        probabilities
    )


@dataclasses.dataclass(frozen=True)
class Bin:
    """One equal-width bin of the reliability diagram; empty bins have count 0."""

    lower: float
    upper: float
    count: int
    mean_probability: float | None
    observed_rate: float | None


def reliability(
    probabilities: Sequence[float], events: Sequence[bool], bins: int = CALIBRATION_BINS
) -> list[Bin]:
    """Equal-width bins over [0, 1]; a probability of exactly 1 falls in the last bin."""
    _checked(probabilities, events)
    if bins < 1:
        raise ValueError(f"bins: must be at least 1, not {bins}")
    members: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for p, e in zip(probabilities, events, strict=True):
        members[min(int(p * bins), bins - 1)].append((p, e))
    return [_bin(index, bins, inside) for index, inside in enumerate(members)]


def _bin(index: int, bins: int, inside: Sequence[tuple[float, bool]]) -> Bin:
    lower, upper = index / bins, (index + 1) / bins
    if not inside:
        return Bin(lower, upper, 0, None, None)
    count = len(inside)
    mean = sum(p for p, _ in inside) / count
    rate = sum(1 for _, e in inside if e) / count
    return Bin(lower, upper, count, mean, rate)


def expected_calibration_error(
    probabilities: Sequence[float], events: Sequence[bool], bins: int = CALIBRATION_BINS
) -> float:
    """The bins' gaps between mean probability and observed rate, weighted by count."""
    total = len(probabilities)
    return sum(
        b.count / total * abs(b.mean_probability - b.observed_rate)
        for b in reliability(probabilities, events, bins)
        if b.mean_probability is not None and b.observed_rate is not None
    )


@dataclasses.dataclass(frozen=True)
class Calibration:
    scored: int
    brier: float
    ece: float
    bins: tuple[Bin, ...]


def calibration(labelled: Sequence[LabelledRollout]) -> Calibration | None:
    """The promotion score against the outcomes; None when no labelled rollout had one."""
    pairs = [
        (item.rollout.score, item.outcome in GOOD_ARTIFACTS)
        for item in labelled
        if item.rollout.score is not None
    ]
    if not pairs:
        return None
    probabilities = [p for p, _ in pairs]
    events = [e for _, e in pairs]
    return Calibration(
        scored=len(pairs),
        brier=brier(probabilities, events),
        ece=expected_calibration_error(probabilities, events),
        bins=tuple(reliability(probabilities, events)),
    )


@dataclasses.dataclass(frozen=True)
class JudgeScores:
    """Rates are None when nothing was there to divide by."""

    labelled: int
    right: int
    accuracy: float | None
    promoted: int
    regressed: int
    regression_rate: float | None
    rolled_back: int
    false_rollbacks: int
    false_rollback_rate: float | None


def judge_scores(labelled: Sequence[LabelledRollout]) -> JudgeScores:
    """Right verdicts: a promotion that stayed healthy, a rollback of a bad artifact."""
    outcomes = [item.outcome for item in labelled]
    right = sum(1 for outcome in outcomes if outcome in RIGHT_VERDICTS)
    regressed = outcomes.count(Outcome.REGRESSED)
    promoted = regressed + outcomes.count(Outcome.HEALTHY)
    false_rollbacks = outcomes.count(Outcome.FALSE_ROLLBACK)
    rolled_back = false_rollbacks + outcomes.count(Outcome.ROLLED_BACK_BAD)
    return JudgeScores(
        labelled=len(outcomes),
        right=right,
        accuracy=_rate(right, len(outcomes)),
        promoted=promoted,
        regressed=regressed,
        regression_rate=_rate(regressed, promoted),
        rolled_back=rolled_back,
        false_rollbacks=false_rollbacks,
        false_rollback_rate=_rate(false_rollbacks, rolled_back),
    )


def _rate(count: int, total: int) -> float | None:
    return count / total if total else None


def selection_escapes(
    plans: Sequence[PlanRecord], later_full_runs: Sequence[FullRun]
) -> list[Escape]:
    """Every plan's escapes, in plan order."""
    return [escape for plan in plans for escape in escapes_of(plan, later_full_runs)]


@dataclasses.dataclass(frozen=True)
class SelectionScores:
    plans: int
    plans_with_escapes: int
    escapes: int
    escape_rate: float | None


def selection_scores(plans: Sequence[PlanRecord], escapes: Sequence[Escape]) -> SelectionScores:
    """Escape rate: the share of plans that let at least one failing test through."""
    escaped = {(escape.revision, escape.planned_at) for escape in escapes}
    with_escapes = sum(1 for plan in plans if (plan.revision, plan.planned_at) in escaped)
    return SelectionScores(
        plans=len(plans),
        plans_with_escapes=with_escapes,
        escapes=len(escapes),
        escape_rate=_rate(with_escapes, len(plans)),
    )
