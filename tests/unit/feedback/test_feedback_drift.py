"""Drift findings: counts and shares over a sliding window against their targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airollout.core.feedback.drift import (
    ESCAPE,
    PROMOTIONS,
    Event,
    Target,
    events_from,
    findings,
)
from airollout.core.feedback.outcomes import (
    Escape,
    FinishedRollout,
    LabelledRollout,
    Outcome,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 4, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def escapes(*days_ago: int) -> list[Event]:
    return [Event(ESCAPE, NOW - day * DAY) for day in days_ago]


def test_escapes_above_their_target_are_a_sentence_naming_count_window_and_target() -> None:
    [finding] = findings(escapes(1, 5, 29), NOW)
    assert finding.sentence == (
        "3 regressions escaped the targeted test plan in the last 30 days (target: at most 1)"
    )
    assert finding.count == 3


def test_events_outside_the_window_do_not_count() -> None:
    assert findings(escapes(1, 30, 45), NOW) == []


def test_a_count_at_its_target_is_no_finding() -> None:
    assert findings(escapes(2), NOW) == []


def test_a_share_above_its_target_names_both_counts_and_the_share() -> None:
    events = [Event("regressed", NOW - DAY)] * 2 + [Event("healthy", NOW - DAY)] * 3
    window = timedelta(days=7)
    [finding] = findings(events, NOW, window, [Target("regressed", 0.05, of=PROMOTIONS)])
    assert finding.sentence == (
        "2 of 5 promoted rollouts regressed in the last 7 days (40 %; target: at most 5 %)"
    )
    assert (finding.count, finding.total) == (2, 5)


def test_a_share_at_or_below_target_or_with_nothing_to_divide_is_no_finding() -> None:
    target = Target("false-rollback", 0.25, of=("rolled-back-bad", "false-rollback"))
    at_target = [Event("false-rollback", NOW)] + [Event("rolled-back-bad", NOW)] * 3
    assert findings(at_target, NOW, targets=[target]) == []
    assert findings([], NOW, targets=[target]) == []
    [above] = findings([*at_target, Event("false-rollback", NOW)], NOW, targets=[target])
    assert above.sentence.startswith("2 of 5 rollbacks were false")


def test_a_window_in_hours_is_said_in_hours() -> None:
    events = escapes(0, 0)
    [finding] = findings(events, NOW, timedelta(hours=12))
    assert "in the last 12 hours" in finding.sentence


def test_events_come_from_outcomes_and_escapes_at_their_times() -> None:
    rollout = FinishedRollout("n", "ns", "t", "r", "h", "promoted", NOW - DAY)
    escape = Escape("t_pay", "r", ("a.py",), NOW - 3 * DAY, NOW - 2 * DAY)
    events = events_from([LabelledRollout(rollout, Outcome.REGRESSED)], [escape])
    assert events == [Event("regressed", NOW - DAY), Event(ESCAPE, NOW - 2 * DAY)]


def test_a_bad_target_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"target\.kind"):
        Target("outage", 1)
    with pytest.raises(ValueError, match="at_most"):
        Target("regressed", 5, of=PROMOTIONS)
