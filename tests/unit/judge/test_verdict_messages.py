"""A verdict reaches people as its one-line summary: in the status message, the Event it
posts and the one condition that explains the phase; the reasoning stays in the record."""

from __future__ import annotations

import pytest

from airollout.core.judge.types import Action, Verdict
from airollout.core.resource.status import Condition
from airollout.core.rollout.actions import EmitEvent
from airollout.core.rollout.conditions import SHORT_MESSAGE, short_message
from airollout.core.rollout.inputs import WindowJudged
from tests.support.rollout_driver import Driver, of_type

pytestmark = pytest.mark.unit

REASONING = (
    "Rollback at 10% (slice 0, window 1) because error-rate: canary error rate 0.0517 over "
    "290 requests at this slice is above 0.005 with e-value 1.34e+17 >= 100. Also: p99: ..."
)
SUMMARY = "canary error rate 5.2 % (15 of 290 requests) is above the 0.5 % bound"


def judged(driver: Driver, action: Action) -> list[EmitEvent]:
    driver.end_window()
    assert driver.status.window is not None
    verdict = Verdict(action, REASONING, (), (), summary=SUMMARY)
    return of_type(driver.send(WindowJudged(driver.status.window.key, verdict)), EmitEvent)


def conditions(driver: Driver) -> dict[str, Condition]:
    return {condition.type: condition for condition in driver.status.conditions}


def test_a_hold_shows_its_summary_once_not_the_reasoning_three_times() -> None:
    driver = Driver().start_progressing()

    events = judged(driver, Action.HOLD)

    line = f"Hold at 10 %: {SUMMARY}."
    assert driver.status.message == line
    assert [event.message for event in events] == [line]
    current = conditions(driver)
    assert current["Progressing"].message == line
    assert (current["Paused"].message, current["Completed"].message) == ("", "")
    decision = driver.status.decisions[-1]
    assert (decision["summary"], decision["reasoning"]) == (line, REASONING)


def test_a_rollback_is_explained_by_the_completed_condition() -> None:
    driver = Driver().start_progressing()

    events = judged(driver, Action.ROLLBACK)

    current = conditions(driver)
    assert current["Completed"].message.startswith(f"Rollback at 10 %: {SUMMARY}.")
    assert current["Progressing"].message == ""
    assert REASONING not in " ".join(event.message for event in events)


def test_a_proceed_event_names_the_summary_and_the_new_weight() -> None:
    driver = Driver().start_progressing()

    events = judged(driver, Action.PROCEED)

    assert [event.message for event in events] == [
        f"Proceed at 10 %: {SUMMARY}. Setting canary weight to 25 %."
    ]


def test_a_long_message_is_cut_to_one_short_line() -> None:
    long = "x" * (SHORT_MESSAGE * 2) + "\nsecond line"

    cut = short_message(long)

    assert len(cut) == SHORT_MESSAGE
    assert cut.endswith("…")
    assert short_message("first\nsecond") == "first"
