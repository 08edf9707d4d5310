"""Conditions follow the phase, and their transition time moves only when they flip."""

from __future__ import annotations

import pytest

from airollout.core.judge.types import Action
from airollout.core.resource.status import Condition, Phase
from airollout.core.rollout.inputs import Abort, PausedChanged, Start
from airollout.core.rollout.timeline import to_rfc3339
from tests.support.rollout_driver import Driver

pytestmark = pytest.mark.unit


def conditions(driver: Driver) -> dict[str, Condition]:
    return {condition.type: condition for condition in driver.status.conditions}


def test_a_moving_rollout_is_progressing_and_neither_paused_nor_completed() -> None:
    driver = Driver()
    driver.send(Start())
    current = conditions(driver)
    assert current["Progressing"].status == "True"
    assert current["Paused"].status == "False"
    assert current["Completed"].status == "False"
    assert current["Progressing"].observed_generation == 1
    assert current["Progressing"].message == driver.status.message


def test_a_paused_rollout_says_why_in_its_paused_condition() -> None:
    driver = Driver().start_progressing()
    driver.send(PausedChanged(paused=True))
    current = conditions(driver)
    assert current["Paused"].status == "True"
    assert current["Paused"].reason == "PausedBySpec"
    assert current["Progressing"].status == "False"


def test_a_finished_rollout_is_completed_with_its_phase_as_reason() -> None:
    driver = Driver().start_progressing()
    driver.send(Abort())
    current = conditions(driver)
    assert driver.status.phase is Phase.ROLLED_BACK
    assert current["Completed"].status == "True"
    assert current["Completed"].reason == "RolledBack"


def test_transition_time_moves_only_when_a_condition_flips() -> None:
    driver = Driver()
    driver.send(Start())
    started = to_rfc3339(driver.now)
    driver.ack_traffic()
    driver.judge(Action.PROCEED)
    assert conditions(driver)["Progressing"].last_transition_time == started

    driver.send(PausedChanged(paused=True))
    assert conditions(driver)["Progressing"].last_transition_time == to_rfc3339(driver.now)
    assert conditions(driver)["Completed"].last_transition_time == started
