"""The machine's side of the lifecycle: at rest once finished, one Event per hold, and a new
analysis for a new canary version."""

from __future__ import annotations

from dataclasses import replace

import pytest

from airollout.core.judge.types import Action
from airollout.core.resource.status import AIRolloutStatus, Phase
from airollout.core.rollout.actions import EmitEvent, RecordDecision, StartWindow
from airollout.core.rollout.inputs import InvalidSpec, PausedChanged, Start
from tests.support.rollout_driver import PLAIN_SPEC, Driver, of_type

pytestmark = pytest.mark.unit

V1 = replace(PLAIN_SPEC, template_hash="aaaa")


def reasons(actions: object) -> list[str]:
    return [event.reason for event in of_type(list(actions), EmitEvent)]  # type: ignore[arg-type]


def same_apart_from_generation(a: AIRolloutStatus, b: AIRolloutStatus) -> bool:
    """Equal but for the generation observed (which the conditions repeat)."""
    ignored = {"observed_generation", "conditions"}
    return a.model_dump(exclude=ignored) == b.model_dump(exclude=ignored)


def test_an_invalid_spec_fails_as_observed_so_the_rollout_is_at_rest() -> None:
    driver = Driver(spec=replace(V1, generation=3))
    driver.send(InvalidSpec(field="spec.traffic.slices", message="must increase"))

    assert driver.status.phase is Phase.FAILED
    assert driver.status.observed_generation == 3


def test_a_finished_rollout_acknowledges_a_new_generation_and_nothing_else() -> None:
    driver = Driver(spec=V1)
    driver.send(InvalidSpec(field="spec.x", message="bad"))
    failed = driver.status
    driver.spec = replace(V1, generation=2)

    assert driver.send(Start()) == ()
    assert driver.status.observed_generation == 2
    assert same_apart_from_generation(driver.status, failed)
    assert driver.send(InvalidSpec(field="spec.x", message="bad")) == (), "already observed"


def test_a_hold_posts_one_event_when_it_begins_not_one_per_window() -> None:
    driver = Driver(spec=V1).start_progressing()
    first = driver.judge(Action.HOLD)
    second = driver.judge(Action.HOLD)
    third = driver.judge(Action.HOLD)

    assert reasons(first) == ["AnalysisHold"]
    assert reasons(second) == reasons(third) == []
    assert of_type(second, StartWindow), "holding still opens the next window"


def evidence_gathered(driver: Driver) -> None:
    """What the controller stores after judging: the judge's state for the next window."""
    driver.status = driver.status.model_copy(update={"evidence": {"errors": {"n": 900}}})


def test_a_new_template_mid_rollout_starts_a_new_analysis_and_says_so() -> None:
    driver = Driver(spec=V1).start_progressing()
    driver.judge(Action.HOLD)
    evidence_gathered(driver)
    old_window = driver.status.window
    assert old_window is not None
    assert driver.status.windows_at_slice == 1

    driver.spec = replace(V1, generation=2, template_hash="bbbb")
    actions = driver.send(Start())

    status = driver.status
    assert status.evidence == {}
    assert (status.windows_at_slice, status.hold_since) == (0, None)
    assert status.template_hash == "bbbb"
    assert status.window is not None
    assert status.window.key != old_window.key
    assert reasons(actions) == ["AnalysisRestarted"]
    assert "spec.template changed" in of_type(actions, EmitEvent)[0].message

    judged = driver.judge(Action.HOLD)
    [record] = of_type(judged, RecordDecision)
    assert record.record.analysis_restarted is not None
    assert record.record.window == 1, "the window count starts again"
    assert driver.status.analysis_restarted is None, "said once"
    [later] = of_type(driver.judge(Action.HOLD), RecordDecision)
    assert later.record.analysis_restarted is None


def test_a_spec_change_that_keeps_the_template_keeps_the_evidence() -> None:
    driver = Driver(spec=V1).start_progressing()
    driver.judge(Action.HOLD)
    evidence_gathered(driver)
    before = driver.status

    driver.spec = replace(V1, generation=2, interval_s=30.0)
    assert driver.send(Start()) == ()
    assert driver.status.observed_generation == 2
    assert same_apart_from_generation(driver.status, before)


def test_a_new_template_while_paused_restarts_the_analysis_before_the_resume() -> None:
    driver = Driver(spec=V1).start_progressing()
    driver.judge(Action.HOLD)
    evidence_gathered(driver)
    driver.spec = replace(V1, paused=True)
    driver.send(PausedChanged(paused=True))
    assert driver.status.phase is Phase.PAUSED

    driver.spec = replace(V1, generation=2, template_hash="cccc", paused=True)
    actions = driver.send(Start())
    assert reasons(actions) == ["AnalysisRestarted"]
    assert driver.status.evidence == {}
    assert driver.status.phase is Phase.PAUSED


def test_a_status_from_before_template_hashes_adopts_the_hash_without_a_restart() -> None:
    driver = Driver(spec=V1).start_progressing()
    evidence_gathered(driver)
    driver.status = driver.status.model_copy(update={"template_hash": None})

    driver.spec = replace(V1, generation=2, template_hash="bbbb")
    assert driver.send(Start()) == ()
    assert driver.status.template_hash == "bbbb"
    assert driver.status.evidence != {}


def test_a_rollout_that_starts_remembers_its_template() -> None:
    driver = Driver(spec=V1)
    driver.send(Start())
    assert driver.status.template_hash == "aaaa"
    assert AIRolloutStatus().template_hash is None
